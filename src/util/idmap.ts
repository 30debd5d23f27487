/**
 * util/idmap: user-namespace ID maps as the OCI spec writes them
 * ({containerID, hostID, size} ranges) and the pure arithmetic on them, plus
 * the parser of /etc/subuid and /etc/subgid lines. Never reads files or
 * touches the system itself.
 */

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface IdMap {
  uids: IdMapping[];
  gids: IdMapping[];
}

/** A subordinate range from /etc/subuid or /etc/subgid: `owner:start:count`. */
export interface SubordinateRange {
  /** A user/group name or a numeric id, as written. */
  owner: string;
  start: number;
  count: number;
}

export function parseSubordinateFile(text: string): SubordinateRange[] {
  const out: SubordinateRange[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [owner, start, count] = line.split(':');
    const s = Number(start);
    const c = Number(count);
    if (!owner || !Number.isInteger(s) || !Number.isInteger(c) || s < 0 || c <= 0) continue;
    out.push({ owner, start: s, count: c });
  }
  return out;
}

/** The ranges of one owner (by name or by numeric id), sorted by start. */
export function rangesOf(ranges: readonly SubordinateRange[], name: string, id: number): SubordinateRange[] {
  return ranges.filter((r) => r.owner === name || r.owner === String(id)).sort((a, b) => a.start - b.start);
}

/** Docker's createIDMap: ranges laid end to end from container ID 0. */
export function toMappings(ranges: readonly SubordinateRange[]): IdMapping[] {
  let next = 0;
  return ranges.map((r) => {
    const m = { containerID: next, hostID: r.start, size: r.count };
    next += r.count;
    return m;
  });
}

/** The host ID of container ID `id`, or null when the map does not cover it. */
export function toHost(map: readonly IdMapping[], id: number): number | null {
  for (const m of map) if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + (id - m.containerID);
  return null;
}

/** The container ID of host ID `id`, or null when the map does not cover it. */
export function toContainer(map: readonly IdMapping[], id: number): number | null {
  for (const m of map) if (id >= m.hostID && id < m.hostID + m.size) return m.containerID + (id - m.hostID);
  return null;
}

/** The first free start at or above `min` after every existing range (Docker's findNextRangeStart). */
export function nextFreeStart(ranges: readonly SubordinateRange[], min = 100_000): number {
  let start = min;
  for (const r of ranges) start = Math.max(start, r.start + r.count);
  return start;
}

export function sameIdMap(a: IdMap, b: IdMap): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
