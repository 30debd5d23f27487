/**
 * registry/uploads: blob upload sessions (POST → PATCH… → PUT). Each session
 * is a data file `<root>/uploads/<uuid>.data` plus `<uuid>.json` naming its
 * repository; bytes are hashed as they are written, so finishing costs no
 * re-read. A chunk is all-or-nothing when the request completes (a bad chunk
 * is truncated away and the hash rewound); when the client disconnects
 * mid-chunk the bytes received are kept, and the status GET reports the new
 * offset so the client can resume from there. After a registry restart a
 * session is resumed by re-hashing its file once. Sessions nobody touches
 * for UPLOAD_IDLE_MS are removed.
 * Never makes a blob visible: that is the caller's transaction (blobStore.installSync).
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyedLock } from '../util/keyedLock.js';
import type { Digest } from '../util/digest.js';
import { RegistryError, digestInvalid, uploadUnknown } from './errors.js';
import { noteSocketGarbage } from './gcNudge.js';
import { UPLOAD_IDLE_MS, UPLOAD_INFLIGHT_BYTES, UPLOAD_WRITE_BATCH } from './limits.js';

export interface UploadSession {
  readonly id: string;
  readonly repo: string;
  readonly dataPath: string;
  readonly metaPath: string;
  size: number;
  touched: number;
  fh: FileHandle | undefined;
  /** Running sha256 of bytes [0, size); undefined until (re)computed after a restart. */
  hash: Hash | undefined;
  done: boolean;
}

/** The client went away mid-body: bytes received so far are kept. */
class Disconnected extends Error {}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class UploadManager {
  private readonly sessions = new Map<string, UploadSession>();
  private readonly lock = new KeyedLock();

  constructor(private readonly dir: string) {}

  /** Loads sessions left by a previous run; removes temp files that belong to none. */
  async load(): Promise<void> {
    const names = await readdir(this.dir);
    const metas = new Set(names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)));
    for (const name of names) {
      const id = name.replace(/\.(json|data)$/, '');
      if (name.endsWith('.tmp') || !UUID_RE.test(id) || !metas.has(id)) {
        await rm(join(this.dir, name), { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const meta = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as { repo?: unknown };
        if (typeof meta.repo !== 'string') throw new Error('no repo');
        const dataPath = join(this.dir, `${id}.data`);
        const st = await stat(dataPath);
        this.sessions.set(id, {
          id,
          repo: meta.repo,
          dataPath,
          metaPath: join(this.dir, name),
          size: st.size,
          touched: st.mtimeMs,
          fh: undefined,
          hash: undefined,
          done: false,
        });
      } catch {
        await rm(join(this.dir, name), { force: true });
        await rm(join(this.dir, `${id}.data`), { force: true });
      }
    }
  }

  get count(): number {
    return this.sessions.size;
  }

  async create(repo: string): Promise<UploadSession> {
    const id = randomUUID();
    const s: UploadSession = {
      id,
      repo,
      dataPath: join(this.dir, `${id}.data`),
      metaPath: join(this.dir, `${id}.json`),
      size: 0,
      touched: Date.now(),
      fh: undefined,
      hash: createHash('sha256'),
      done: false,
    };
    s.fh = await open(s.dataPath, 'wx+', 0o644);
    await writeFile(s.metaPath, JSON.stringify({ repo, started: new Date().toISOString() }));
    this.sessions.set(id, s);
    return s;
  }

  /** The session `id` of `repo`, else BLOB_UPLOAD_UNKNOWN (404). */
  get(repo: string, id: string): UploadSession {
    const s = this.sessions.get(id);
    if (s === undefined || s.repo !== repo || s.done) throw uploadUnknown(id);
    return s;
  }

  /** Serialises the requests of one session (two PATCHes never interleave). */
  async exclusive<T>(s: UploadSession, fn: () => Promise<T>): Promise<T> {
    return this.lock.run(s.id, async () => {
      if (s.done) throw uploadUnknown(s.id);
      s.touched = Date.now();
      return fn();
    });
  }

  private async ready(s: UploadSession): Promise<{ fh: FileHandle; hash: Hash }> {
    if (s.fh === undefined) s.fh = await open(s.dataPath, 'r+');
    if (s.hash === undefined) {
      // Resumed after a restart: the running hash died with the old process.
      const h = createHash('sha256');
      if (s.size > 0)
        for await (const chunk of createReadStream(s.dataPath, { end: s.size - 1, highWaterMark: UPLOAD_WRITE_BATCH })) {
        h.update(chunk as Buffer);
      }
      s.hash = h;
    }
    return { fh: s.fh, hash: s.hash };
  }

  /**
   * Appends a request body. `declared`, when known (Content-Range or
   * Content-Length), must equal the bytes that arrive, else SIZE_INVALID and
   * the chunk is undone. Call inside exclusive().
   */
  async append(s: UploadSession, body: AsyncIterable<Buffer>, declared: number | undefined): Promise<void> {
    const { fh, hash } = await this.ready(s);
    const startSize = s.size;
    const startHash = hash.copy();
    // Bytes are hashed as they arrive and written in batches at their offsets, several writes in
    // flight at once (up to UPLOAD_INFLIGHT_BYTES): a write waits for a thread-pool thread, and
    // on a busy machine that wait, not the disk, is what would otherwise pace the upload. Every
    // byte hashed is written before append returns (or is rolled back with the hash).
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let pos = startSize;
    const writes: { done: Promise<void>; bytes: number }[] = [];
    let inflightBytes = 0;
    let writeError: unknown;
    const writeAll = async (bufs: Buffer[], at: number, total: number): Promise<void> => {
      const r = await fh.writev(bufs, at);
      let written = r.bytesWritten;
      if (written === total) return;
      // Short write: finish buffer by buffer.
      let skip = written;
      for (const b of bufs) {
        if (skip >= b.length) {
          skip -= b.length;
          continue;
        }
        let off = skip;
        skip = 0;
        while (off < b.length) {
          const w = await fh.write(b, off, b.length - off, at + written);
          off += w.bytesWritten;
          written += w.bytesWritten;
        }
      }
    };
    /** Starts writing what is pending; then waits for the oldest writes until at most `keep` bytes are in flight. */
    const flush = async (keep: number): Promise<void> => {
      if (pendingBytes > 0) {
        const done = writeAll(pending, pos, pendingBytes).catch((e: unknown) => {
          writeError ??= e;
        });
        writes.push({ done, bytes: pendingBytes });
        inflightBytes += pendingBytes;
        pos += pendingBytes;
        pending = [];
        pendingBytes = 0;
      }
      while (writes.length > 0 && inflightBytes > keep) {
        const w = writes.shift() as { done: Promise<void>; bytes: number };
        await w.done;
        inflightBytes -= w.bytes;
      }
      if (writeError !== undefined) throw writeError;
    };
    try {
      try {
        for await (const chunk of body) {
          hash.update(chunk);
          noteSocketGarbage(chunk.length);
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (declared !== undefined && pos + pendingBytes - startSize > declared) {
            throw new RegistryError('SIZE_INVALID', 400, `chunk larger than the ${declared} bytes declared`);
          }
          if (pendingBytes >= UPLOAD_WRITE_BATCH) await flush(UPLOAD_INFLIGHT_BYTES);
        }
      } catch (e) {
        if (e instanceof RegistryError || e === writeError) throw e;
        throw new Disconnected((e as Error).message);
      }
      await flush(0);
      if (declared !== undefined && pos - startSize !== declared) {
        throw new RegistryError('SIZE_INVALID', 400, `chunk is ${pos - startSize} bytes, ${declared} declared`);
      }
      s.size = pos;
    } catch (e) {
      if (e instanceof Disconnected) {
        // Keep what arrived (it is all hashed), so a status GET tells the client where to resume.
        try {
          await flush(0);
          s.size = pos;
          throw e;
        } catch (writeErr) {
          if (writeErr === e) throw e;
        }
      }
      await Promise.all(writes.map((w) => w.done));
      await fh.truncate(startSize);
      s.size = startSize;
      s.hash = startHash;
      throw e;
    }
    s.touched = Date.now();
  }

  /**
   * Ends the session if its bytes hash to `expected`: returns the fsynced,
   * closed data file for the caller to install, and forgets the session
   * (call `discard` once installed). On a mismatch the session is cancelled
   * (nothing is stored) and DIGEST_INVALID thrown. Call inside exclusive().
   */
  async finish(s: UploadSession, expected: Digest): Promise<{ path: string; size: number }> {
    const { fh, hash } = await this.ready(s);
    const actual = `sha256:${hash.copy().digest('hex')}`;
    if (actual !== expected) {
      await this.cancel(s);
      throw digestInvalid(`provided digest ${expected} does not match uploaded content ${actual}`, expected);
    }
    await fh.sync();
    await fh.close();
    s.fh = undefined;
    s.done = true;
    this.sessions.delete(s.id);
    return { path: s.dataPath, size: s.size };
  }

  /** Removes what is left of a finished session (its meta file; the data file was renamed away). */
  async discard(s: UploadSession): Promise<void> {
    await rm(s.metaPath, { force: true });
    await rm(s.dataPath, { force: true });
  }

  async cancel(s: UploadSession): Promise<void> {
    s.done = true;
    this.sessions.delete(s.id);
    await s.fh?.close().catch(() => undefined);
    s.fh = undefined;
    await rm(s.dataPath, { force: true });
    await rm(s.metaPath, { force: true });
  }

  /** Cancels sessions idle for longer than `idleMs`; returns how many. */
  async sweep(now = Date.now(), idleMs = UPLOAD_IDLE_MS): Promise<number> {
    let n = 0;
    for (const s of [...this.sessions.values()]) {
      if (now - s.touched > idleMs) {
        await this.lock.run(s.id, () => this.cancel(s));
        n++;
      }
    }
    return n;
  }

  /** Closes open files (shutdown); sessions stay on disk for the next run. */
  async close(): Promise<void> {
    for (const s of this.sessions.values()) {
      await s.fh?.close().catch(() => undefined);
      s.fh = undefined;
    }
  }
}

export function isDisconnect(e: unknown): boolean {
  return e instanceof Disconnected;
}
