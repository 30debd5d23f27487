/**
 * build/cacheKey: the key a build step's result is cached under — a sha256
 * over the image the step starts from, the step as expanded (what it will do,
 * not how it was spelled with variables), the build-arg/env values it used,
 * and a fingerprint of every file it copies: path, type, content digest (or
 * link target), mode and owner as they will be in the image — never mtimes,
 * so another checkout of the same sources hits. Pure.
 */
import { createHash } from 'node:crypto';

/** One file a step copies, as it will be in the image. */
export interface FileFingerprint {
  /** Path relative to the copy's source root (or the destination), '/'-separated. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  /** sha256 hex of a file's content, a symlink's target; '' otherwise. */
  content: string;
}

export interface CacheKeyInput {
  /** Image the step starts from ('' for scratch). */
  parent: string;
  /** os/arch[/variant]: matters when the parent is scratch. */
  platform: string;
  /** The step as it will run, variables already expanded (e.g. `RUN |1 A=1 /bin/sh -c make`). */
  step: string;
  /** Values the step's expansion or command used (build args and env). */
  vars?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  /** Fingerprints of what the step copies, one digest per source (see `fingerprint`). */
  sources?: readonly string[];
  /** Anything else the result depends on (e.g. "cmdSet" for ENTRYPOINT). */
  extra?: Readonly<Record<string, string | boolean | number>>;
}

const KEY_VERSION = 'berth-build-cache-v1';

function sortedEntries(v: ReadonlyMap<string, string> | Readonly<Record<string, string>> | undefined): Array<[string, string]> {
  if (!v) return [];
  const list: Array<[string, string]> = v instanceof Map ? [...(v as ReadonlyMap<string, string>)] : Object.entries(v);
  return list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** A digest of a set of files, order-independent (sorted by path), mtimes excluded by construction. */
export function fingerprint(files: Iterable<FileFingerprint>): string {
  const lines: string[] = [];
  for (const f of files) {
    lines.push(JSON.stringify([f.path, f.type, f.mode & 0o7777, f.uid, f.gid, f.content]));
  }
  lines.sort();
  const h = createHash('sha256');
  for (const l of lines) h.update(`${l}\n`);
  return h.digest('hex');
}

/** The cache key of one step. */
export function cacheKey(input: CacheKeyInput): string {
  const doc = {
    v: KEY_VERSION,
    parent: input.parent,
    platform: input.platform,
    step: input.step,
    vars: sortedEntries(input.vars),
    sources: input.sources ?? [],
    extra: sortedEntries(
      input.extra ? Object.fromEntries(Object.entries(input.extra).map(([k, v]) => [k, String(v)])) : undefined,
    ),
  };
  return `sha256:${createHash('sha256').update(JSON.stringify(doc)).digest('hex')}`;
}
