/**
 * runtime/logs: reads the k8s-file log conmon writes for a container:
 *   <RFC3339Nano timestamp> <stdout|stderr> <F|P> <text>\n
 * (P = partial: the line went on in the next record of the same stream.)
 * Entries come out joined: P pieces + the following F of the same stream make one
 * entry ending in "\n"; a partial still open at the end (non-follow, or follow that
 * was stopped) comes out as is, without "\n". The entry's time is its first piece's.
 *
 * `tail` reads the file backwards in chunks, so big logs cost only what is shown.
 * Order of filters, as Docker: tail first, then since/until (until also ends a follow).
 * Rotated files (<path>.1 newest … <path>.N oldest, see containers/logRotator.ts) are
 * read before the live file, seamlessly: an entry split across a rotation is joined.
 * Follow survives truncation and replacement of the file (rotation). Never writes the log.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  stream: LogStream;
  /** Millisecond precision; see timeNano for the original. */
  time: Date;
  /** The record's timestamp as written (RFC3339 with nanoseconds and offset). */
  timeNano: string;
  data: Buffer;
}

export interface ReadLogsOptions {
  follow?: boolean;
  /** Number of entries from the end; -1 or undefined = all. */
  tail?: number;
  /** Only entries at or after this time (a bigint: nanoseconds since the epoch). */
  since?: Date | bigint;
  /** Only entries at or before this time; reading stops at the first later entry. */
  until?: Date | bigint;
  /** Ends the iteration at once (no error). */
  signal?: AbortSignal;
  /** Follow mode: when this settles (the container exited), read what is left, then end. */
  stopFollowing?: Promise<unknown>;
  /** Follow mode fallback poll, for changes fs.watch misses. Default 250 ms. */
  pollMs?: number;
}

const CHUNK = 64 * 1024;
const NL = 0x0a;

interface LogRecord {
  stream: LogStream;
  partial: boolean;
  ts: string;
  ns: bigint;
  text: Buffer;
}

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** RFC3339(Nano) → nanoseconds since the epoch; null if malformed. */
export function parseTimestampNs(ts: string): bigint | null {
  const m = TS_RE.exec(ts);
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) return null;
  let offsetMin = 0;
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    offsetMin = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  }
  const fracNs = BigInt((frac ?? '').padEnd(9, '0') || '0');
  return (BigInt(ms) - BigInt(offsetMin) * 60_000n) * 1_000_000n + fracNs;
}

/** One k8s-file line (without "\n") → record, or null if it is not one. */
export function parseLogLine(line: Buffer): LogRecord | null {
  const s1 = line.indexOf(0x20);
  if (s1 <= 0) return null;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return null;
  const streamName = line.toString('latin1', s1 + 1, s2);
  if (streamName !== 'stdout' && streamName !== 'stderr') return null;
  const tag = line[s2 + 1];
  if (tag !== 0x46 /* F */ && tag !== 0x50 /* P */) return null;
  const after = line[s2 + 2];
  if (after !== undefined && after !== 0x20) return null;
  const ts = line.toString('latin1', 0, s1);
  const ns = parseTimestampNs(ts);
  if (ns === null) return null;
  const text = after === undefined ? Buffer.alloc(0) : line.subarray(s2 + 3);
  return { stream: streamName, partial: tag === 0x50, ts, ns, text };
}

/** Joins P records with the following F of the same stream. */
class Joiner {
  private readonly open = new Map<LogStream, { first: LogRecord; parts: Buffer[] }>();

  push(r: LogRecord): LogEntry | null {
    const cur = this.open.get(r.stream);
    if (r.partial) {
      // Copy: the record's bytes live in the reader's buffer, which the next read reuses.
      const piece = Buffer.from(r.text);
      if (cur === undefined) this.open.set(r.stream, { first: { ...r, text: piece }, parts: [piece] });
      else cur.parts.push(piece);
      return null;
    }
    this.open.delete(r.stream);
    const first = cur?.first ?? r;
    const parts = cur === undefined ? [r.text] : [...cur.parts, r.text];
    parts.push(Buffer.from('\n'));
    return entryOf(first, Buffer.concat(parts));
  }

  /** Partial entries still open, oldest first. */
  flush(): LogEntry[] {
    const out = [...this.open.values()]
      .sort((a, b) => (a.first.ns < b.first.ns ? -1 : a.first.ns > b.first.ns ? 1 : 0))
      .map((o) => entryOf(o.first, Buffer.concat(o.parts)));
    this.open.clear();
    return out;
  }
}

function entryOf(first: LogRecord, data: Buffer): LogEntry {
  return { stream: first.stream, time: new Date(Number(first.ns / 1_000_000n)), timeNano: first.ts, data };
}

/** Splits a byte stream into lines; keeps the unterminated rest. */
class LineSplitter {
  private rest: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    const data = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    const lines: Buffer[] = [];
    let start = 0;
    for (let i = data.indexOf(NL); i >= 0; i = data.indexOf(NL, start)) {
      lines.push(data.subarray(start, i));
      start = i + 1;
    }
    // Copy: the caller's read buffer is reused.
    this.rest = Buffer.from(data.subarray(start));
    return lines;
  }

  reset(): void {
    this.rest = Buffer.alloc(0);
  }
}

/**
 * Byte offset from which the last `n` entries can be read in full. Reads backwards in
 * CHUNK-sized pieces. Entries are counted by their end (an F record, or the last P of a
 * stream that has no F yet), then earlier P pieces of the counted entries are included.
 */
export async function findTailOffset(fh: FileHandle, end: number, n: number): Promise<number> {
  if (n <= 0) return end;
  let count = 0;
  let start = end;
  const state = new Map<LogStream, 'open' | 'closed'>();
  const anyOpen = (): boolean => [...state.values()].includes('open');
  for await (const { line, offset } of reverseLines(fh, end)) {
    const r = parseLogLine(line);
    if (r === null) continue;
    const st = state.get(r.stream);
    if (count < n) {
      if (!r.partial || st === undefined) count++;
      state.set(r.stream, 'open');
      start = offset;
    } else if (st === 'open') {
      if (r.partial) start = offset;
      else state.set(r.stream, 'closed');
    }
    if (count >= n && !anyOpen()) break;
  }
  return start;
}

/** Complete lines of fh[0, end) from last to first, with their start offsets. An unterminated last fragment is skipped. */
async function* reverseLines(fh: FileHandle, end: number): AsyncGenerator<{ line: Buffer; offset: number }> {
  let pos = end;
  let carry: Buffer = Buffer.alloc(0);
  let lineEndKnown = false;
  while (pos > 0) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    const chunk = Buffer.alloc(len);
    const { bytesRead } = await fh.read(chunk, 0, len, pos);
    const data = Buffer.concat([chunk.subarray(0, bytesRead), carry]);
    let lineEnd = data.length;
    for (let i = data.length - 1; i >= 0; i--) {
      if (data[i] !== NL) continue;
      if (lineEndKnown) yield { line: data.subarray(i + 1, lineEnd), offset: pos + i + 1 };
      lineEndKnown = true;
      lineEnd = i;
    }
    carry = lineEndKnown ? Buffer.from(data.subarray(0, lineEnd)) : Buffer.alloc(0);
  }
  if (lineEndKnown) yield { line: carry, offset: 0 };
}

/** Rotated files of `path` that exist, oldest first (<path>.N … <path>.1). */
export async function rotatedFiles(path: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 1; i < 1000; i++) {
    try {
      await stat(`${path}.${i}`);
    } catch {
      break;
    }
    out.push(`${path}.${i}`);
  }
  return out.reverse();
}

/**
 * The file written after the one with inode `ino`: the next newer rotated file, or the live
 * one. A file already shifted out of the set (deleted) is followed by the oldest one kept.
 */
async function successorOf(path: string, ino: number, deleted: boolean): Promise<string> {
  const rotated = await rotatedFiles(path);
  for (let i = 0; i < rotated.length; i++) {
    const st = await stat(rotated[i] as string).catch(() => null);
    if (st?.ino === ino) return rotated[i + 1] ?? path;
  }
  return deleted && rotated.length > 0 ? (rotated[0] as string) : path;
}

/** Entries whose end lies in fh[start, end): F records plus streams left open by a trailing P. */
async function countEntries(fh: FileHandle, start: number, end: number): Promise<number> {
  let n = 0;
  const open = new Set<LogStream>();
  const split = new LineSplitter();
  const buf = Buffer.alloc(CHUNK);
  for (let off = start; off < end; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, end - off), off);
    if (bytesRead === 0) break;
    off += bytesRead;
    for (const line of split.push(buf.subarray(0, bytesRead))) {
      const r = parseLogLine(line);
      if (r === null) continue;
      if (r.partial) open.add(r.stream);
      else {
        open.delete(r.stream);
        n++;
      }
    }
  }
  return n + open.size;
}

/** Keeps the newest `n` items. */
class Ring<T> {
  private readonly items: T[] = [];
  constructor(private readonly n: number) {}
  push(x: T): void {
    this.items.push(x);
    if (this.items.length > this.n) this.items.shift();
  }
  drain(): T[] {
    return this.items.splice(0);
  }
}

/**
 * Reads a container log. See ReadLogsOptions. In follow mode a missing file is waited
 * for; otherwise a missing file yields nothing.
 */
export async function* readLogs(path: string, opts: ReadLogsOptions = {}): AsyncGenerator<LogEntry> {
  const follow = opts.follow === true;
  const signal = opts.signal;
  const toNs = (t: Date | bigint): bigint => (typeof t === 'bigint' ? t : BigInt(t.getTime()) * 1_000_000n);
  const sinceNs = opts.since !== undefined ? toNs(opts.since) : undefined;
  const untilNs = opts.until !== undefined ? toNs(opts.until) : undefined;
  const tail = opts.tail !== undefined && opts.tail >= 0 ? opts.tail : -1;

  let stopped = false;
  let wake: (() => void) | undefined;
  const kick = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  void opts.stopFollowing?.then(
    () => {
      stopped = true;
      kick();
    },
    () => {
      stopped = true;
      kick();
    },
  );
  const onAbort = (): void => kick();
  signal?.addEventListener('abort', onAbort);

  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let fh: FileHandle | undefined;
  const waitForChange = async (): Promise<void> => {
    if (isAborted(signal) || stopped) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(kick, opts.pollMs ?? 250);
    });
    if (timer !== undefined) clearTimeout(timer);
  };
  /** true: the entry passes; false: skip it; null: past `until`, stop. */
  const keep = (e: LogEntry): boolean | null => {
    const ns = parseTimestampNs(e.timeNano) ?? 0n;
    if (untilNs !== undefined && ns > untilNs) return null;
    return sinceNs === undefined || ns >= sinceNs;
  };

  try {
    // Open (waiting for the file in follow mode).
    for (;;) {
      if (isAborted(signal)) return;
      try {
        fh = await open(path, 'r');
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return;
        if (!follow || stopped) {
          // No live file (rotated away after the container exited): the rotated ones still count.
          if ((await rotatedFiles(path)).length === 0) return;
          fh = await open('/dev/null', 'r');
          break;
        }
        await waitForChange();
      }
    }
    if (follow) {
      try {
        // The directory, not the file: a rotation replaces the file, and the new one must wake us too.
        const name = basename(path);
        watcher = watch(dirname(path), { persistent: false }, (_ev, f) => {
          if (f === null || f.startsWith(name)) kick();
        });
        watcher.on('error', () => undefined);
      } catch {
        // polling only
      }
    }

    let st = await fh.stat();
    let ino = st.ino;
    const initialEnd = st.size;
    let offset = tail >= 0 ? await findTailOffset(fh, initialEnd, tail) : 0;
    const split = new LineSplitter();
    const joiner = new Joiner();
    const ring = tail >= 0 ? new Ring<LogEntry>(tail) : undefined;
    const buf = Buffer.alloc(CHUNK);

    // Older entries from rotated files: all of them, or as many as the tail still needs.
    const older: Array<{ file: string; start: number }> = [];
    const rotated = await rotatedFiles(path);
    if (tail < 0) {
      for (const f of rotated) older.push({ file: f, start: 0 });
    } else if (tail > 0 && rotated.length > 0) {
      let have = await countEntries(fh, offset, initialEnd);
      for (let i = rotated.length - 1; i >= 0 && have < tail; i--) {
        const f = rotated[i] as string;
        let rfh: FileHandle | undefined;
        try {
          rfh = await open(f, 'r');
          const size = (await rfh.stat()).size;
          const start = await findTailOffset(rfh, size, tail - have);
          have += await countEntries(rfh, start, size);
          older.unshift({ file: f, start });
        } catch {
          // rotated away meanwhile: what is left still reads in order
        } finally {
          await rfh?.close();
        }
      }
    }
    const olderEntries: LogEntry[] = [];
    for (const o of older) {
      let rfh: FileHandle | undefined;
      try {
        rfh = await open(o.file, 'r');
        const size = (await rfh.stat()).size;
        const rsplit = new LineSplitter();
        for (let off = o.start; off < size; ) {
          const { bytesRead } = await rfh.read(buf, 0, Math.min(CHUNK, size - off), off);
          if (bytesRead === 0) break;
          off += bytesRead;
          for (const line of rsplit.push(buf.subarray(0, bytesRead))) {
            const r = parseLogLine(line);
            if (r === null) continue;
            const e = joiner.push(r);
            if (e !== null) {
              if (ring !== undefined) ring.push(e);
              else olderEntries.push(e);
            }
          }
        }
      } catch {
        // gone meanwhile
      } finally {
        await rfh?.close();
      }
      if (isAborted(signal)) return;
      // Without a tail, stream the older files out as they are read (they may be large).
      if (ring === undefined) {
        for (const e of olderEntries.splice(0)) {
          const k = keep(e);
          if (k === null) return;
          if (k) yield e;
        }
      }
    }

    /** Reads fh from offset up to `limit` (or EOF), returning joined entries. */
    const readSome = async (limit: number): Promise<LogEntry[]> => {
      const out: LogEntry[] = [];
      while (offset < limit) {
        const want = Math.min(CHUNK, limit - offset);
        const { bytesRead } = await (fh as FileHandle).read(buf, 0, want, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        for (const line of split.push(buf.subarray(0, bytesRead))) {
          const r = parseLogLine(line);
          if (r === null) continue;
          const e = joiner.push(r);
          if (e !== null) out.push(e);
        }
      }
      return out;
    };

    // Initial pass: what is in the file now (tail applies here only).
    let initial = await readSome(initialEnd);
    if (!follow) initial.push(...joiner.flush());
    if (ring !== undefined) {
      for (const e of initial) ring.push(e);
      initial = ring.drain();
    }
    for (const e of initial) {
      if (isAborted(signal)) return;
      const k = keep(e);
      if (k === null) return;
      if (k) yield e;
    }
    if (!follow) return;

    for (;;) {
      if (isAborted(signal)) return;
      const wasStopped = stopped;
      st = await fh.stat();
      let replaced = false;
      try {
        const cur = await stat(path);
        replaced = cur.ino !== ino;
      } catch {
        replaced = false; // removed: keep reading the open file
      }
      if (st.size < offset) {
        // Truncated in place: start over.
        offset = 0;
        split.reset();
      }
      const entries = await readSome(Number.MAX_SAFE_INTEGER);
      if (replaced) {
        // Rotated: the old file is read to its end above (it gets no more writes once a newer
        // file exists); continue with the file that came after it, which is not necessarily the
        // live one when several rotations happened since the last look.
        const deleted = (await fh.stat()).nlink === 0;
        await fh.close();
        fh = undefined;
        // The set may be shifting under us (a rotation renames files one by one): look again on ENOENT.
        for (let attempt = 0; fh === undefined; attempt++) {
          const next = await successorOf(path, ino, deleted);
          try {
            fh = await open(next, 'r');
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 20) throw e;
            await new Promise((r) => setTimeout(r, 5));
          }
        }
        ino = (await fh.stat()).ino;
        offset = 0;
        split.reset();
      }
      if (wasStopped && !replaced) entries.push(...joiner.flush());
      for (const e of entries) {
        if (isAborted(signal)) return;
        const k = keep(e);
        if (k === null) return;
        if (k) yield e;
      }
      if (wasStopped && !replaced) return;
      if (entries.length === 0 && !replaced) await waitForChange();
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (timer !== undefined) clearTimeout(timer);
    watcher?.close();
    await fh?.close();
  }
}

/** A function, so TypeScript does not narrow `signal.aborted` across awaits. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
