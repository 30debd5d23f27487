/**
 * build/buildContext: the build context a client sent — a tar (plain, gzip,
 * bzip2, xz or zstd) read once, as it streams in: every entry's name is
 * normalised with the layer applier's safe-path rule (absolute names, `..`
 * climbing out and entries under a symlink are refused), file bodies are
 * hashed on the way (sha256 of the content: mtimes never matter) and kept in
 * memory up to a budget, the rest spooled to one file under the build's own
 * directory in the data-root, and the whole stays under a size limit. The result is an in-memory index: lookups,
 * in-scope symlink resolution, `.dockerignore` matching and reads by offset.
 * Nothing is ever extracted to disk, so no entry can land anywhere; the spool
 * goes with `close()`.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import dockerignore, { type Ignore } from '@balena/dockerignore';
import { InvalidArgumentError } from '../errdefs/errors.js';
import { normalizeTarPath } from '../archive/applyLayer.js';
import { decompressStream } from '../util/tar/decompress.js';
import { readTar } from '../util/tar/reader.js';
import { readableChunks } from '../util/readableChunks.js';
import { MAX_CONTEXT_IN_MEMORY, MAX_DOCKERFILE_BYTES, MAX_DOCKERIGNORE_BYTES } from './limits.js';
import { escapesRoot, resolveInScope } from './scopedPath.js';

export type ContextEntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface ContextEntry {
  /** Normalised path relative to the context root ('' is the root). */
  path: string;
  type: ContextEntryType;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  size: number;
  /** Where the body starts in the spool (files). */
  offset: number;
  /** Symlink target, as stored. */
  linkname: string;
  /** sha256 hex of the content (files); '' for others. */
  sha256: string;
  /** The body when kept in memory (else it is in the spool at `offset`). */
  chunks?: Buffer[];
}

export interface ContextOptions {
  /** A directory owned by this build (created here, removed by close()). */
  dir: string;
  maxBytes: number;
  signal?: AbortSignal;
}

/** Counts plain tar bytes and fails the stream past the limit (a gzip bomb is stopped at its real size). */
/** The package is CommonJS (`module.exports = factory`) but is typed as an ES default export. */
const ignore = dockerignore as unknown as typeof dockerignore.default;

function sizeGuard(max: number): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      if (n > max) cb(new InvalidArgumentError(`the build context is larger than the limit of ${max} bytes`));
      else cb(null, chunk);
    },
  });
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i === -1 ? '' : rel.slice(0, i);
}

function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

export class BuildContext {
  private readonly entries = new Map<string, ContextEntry>();
  private readonly kids = new Map<string, Set<string>>();
  private ignoreMatcher: Ignore | null = null;
  private readonly hidden = new Set<string>();
  private spoolPath: string;
  /** Plain tar bytes read. */
  bytes = 0;

  private constructor(readonly dir: string) {
    this.spoolPath = join(dir, 'bodies');
    this.entries.set('', { path: '', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs: 0n, size: 0, offset: 0, linkname: '', sha256: '' });
    this.kids.set('', new Set());
  }

  /** A context with nothing in it (a Dockerfile sent alone, or a remote Dockerfile). */
  static async empty(dir: string): Promise<BuildContext> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const c = new BuildContext(dir);
    closeSync(openSync(c.spoolPath, 'w', 0o600));
    return c;
  }

  /** A context holding only a Dockerfile (`remote` pointing at a plain-text Dockerfile). */
  static async withDockerfile(dir: string, text: string): Promise<BuildContext> {
    const c = await BuildContext.empty(dir);
    const body = Buffer.from(text, 'utf8');
    const fd = openSync(c.spoolPath, 'w', 0o600);
    try {
      writeSync(fd, body);
    } finally {
      closeSync(fd);
    }
    const sha = createHash('sha256').update(body).digest('hex');
    c.put({ path: 'Dockerfile', type: 'file', mode: 0o644, uid: 0, gid: 0, mtimeNs: 0n, size: body.length, offset: 0, linkname: '', sha256: sha }, 'Dockerfile');
    return c;
  }

  /** Reads a context tar; on any failure the spool directory is removed and the error thrown (400 for bad input). */
  static async fromTar(body: Readable, opts: ContextOptions): Promise<BuildContext> {
    await mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const c = new BuildContext(opts.dir);
    try {
      await c.ingest(body, opts);
      await c.loadIgnore();
      return c;
    } catch (e) {
      await c.close();
      throw e;
    }
  }

  private async ingest(body: Readable, opts: ContextOptions): Promise<void> {
    const dopts = opts.signal ? { signal: opts.signal } : {};
    const { stream } = await decompressStream(body, dopts);
    const guard = sizeGuard(opts.maxBytes);
    stream.on('error', (e) => guard.destroy(e));
    stream.pipe(guard);
    // Chunk by chunk: the stream's own iterator would join the many small chunks of a docker CLI
    // context (chunked HTTP) into fresh buffers, a copy of most of the context per build.
    const reader = readTar(readableChunks(guard), opts.signal ? { signal: opts.signal } : {});
    const fd = openSync(this.spoolPath, 'w', 0o600);
    let offset = 0;
    let inMemory = 0;
    try {
      for await (const { header: h, body: content } of reader) {
        const rel = normalizeTarPath(h.name);
        if (rel === null) throw new InvalidArgumentError(`build context entry "${h.name}" is outside the context (absolute path or "..")`);
        if (h.type === 'link') {
          const target = normalizeTarPath(h.linkname);
          const t = target === null ? undefined : this.entries.get(target);
          if (!t || t.type !== 'file') throw new InvalidArgumentError(`build context entry "${h.name}" is a hardlink to "${h.linkname}", which is not a file before it`);
          this.put({ ...t, path: rel, mode: h.mode, uid: h.uid, gid: h.gid, mtimeNs: h.mtimeNs }, h.name);
          continue;
        }
        if (h.type === 'file' || (h.type === 'other' && h.size > 0 && h.typeflag !== 'V')) {
          const hash = createHash('sha256');
          const start = offset;
          const keep = inMemory + h.size <= MAX_CONTEXT_IN_MEMORY;
          const chunks: Buffer[] = [];
          let size = 0;
          for await (const chunk of content) {
            hash.update(chunk);
            size += chunk.length;
            if (keep) chunks.push(chunk);
            else {
              let off = 0;
              while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
              offset += chunk.length;
            }
          }
          if (keep) inMemory += size;
          this.put(
            {
              path: rel,
              type: 'file',
              mode: h.mode,
              uid: h.uid,
              gid: h.gid,
              mtimeNs: h.mtimeNs,
              size,
              offset: start,
              linkname: '',
              sha256: hash.digest('hex'),
              ...(keep ? { chunks } : {}),
            },
            h.name,
          );
        } else if (h.type === 'directory') {
          if (rel === '') {
            const root = this.entries.get('') as ContextEntry;
            Object.assign(root, { mode: h.mode, uid: h.uid, gid: h.gid, mtimeNs: h.mtimeNs });
          } else this.put({ path: rel, type: 'dir', mode: h.mode, uid: h.uid, gid: h.gid, mtimeNs: h.mtimeNs, size: 0, offset: 0, linkname: '', sha256: '' }, h.name);
        } else if (h.type === 'symlink') {
          this.put({ path: rel, type: 'symlink', mode: h.mode, uid: h.uid, gid: h.gid, mtimeNs: h.mtimeNs, size: 0, offset: 0, linkname: h.linkname, sha256: '' }, h.name);
        } else if (rel !== '') {
          // Devices and fifos are kept as names only: COPY skips them, as it cannot make them.
          this.put({ path: rel, type: 'other', mode: h.mode, uid: h.uid, gid: h.gid, mtimeNs: h.mtimeNs, size: 0, offset: 0, linkname: '', sha256: '' }, h.name);
        }
      }
      this.bytes = reader.bytesRead;
    } finally {
      closeSync(fd);
    }
  }

  /** Adds or replaces an entry (a later tar entry wins), making missing parents as directories. */
  private put(e: ContextEntry, name: string): void {
    if (e.path === '') throw new InvalidArgumentError(`build context entry "${name}" replaces the context root`);
    const parent = parentOf(e.path);
    this.ensureDir(parent, name);
    const old = this.entries.get(e.path);
    if (old && old.type === 'dir' && e.type !== 'dir') this.dropTree(e.path);
    if (old && old.type === 'dir' && e.type === 'dir') {
      Object.assign(old, { mode: e.mode, uid: e.uid, gid: e.gid, mtimeNs: e.mtimeNs });
      return;
    }
    this.entries.set(e.path, e);
    (this.kids.get(parent) as Set<string>).add(baseOf(e.path));
    if (e.type === 'dir' && !this.kids.has(e.path)) this.kids.set(e.path, new Set());
  }

  private ensureDir(rel: string, name: string): void {
    const e = this.entries.get(rel);
    if (e) {
      if (e.type !== 'dir') throw new InvalidArgumentError(`build context entry "${name}" is under "${rel}", which is not a directory`);
      return;
    }
    this.ensureDir(parentOf(rel), name);
    this.entries.set(rel, { path: rel, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtimeNs: 0n, size: 0, offset: 0, linkname: '', sha256: '' });
    this.kids.set(rel, new Set());
    (this.kids.get(parentOf(rel)) as Set<string>).add(baseOf(rel));
  }

  private dropTree(rel: string): void {
    for (const k of this.kids.get(rel) ?? []) {
      const child = rel === '' ? k : `${rel}/${k}`;
      this.dropTree(child);
      this.entries.delete(child);
    }
    this.kids.delete(rel);
  }

  /** Reads `.dockerignore` (following a symlink in scope, as moby's openAt does). */
  private async loadIgnore(): Promise<void> {
    const e = this.entries.get(resolveInScope('.dockerignore', this.lstat));
    if (!e || e.type !== 'file') return;
    if (e.size > MAX_DOCKERIGNORE_BYTES) throw new InvalidArgumentError(`.dockerignore is larger than ${MAX_DOCKERIGNORE_BYTES} bytes`);
    this.setIgnorePatterns((await this.readFile(e)).toString('utf8'));
  }

  /** `.dockerignore` rules (moby's ignorefile.ReadAll: comments, blank lines, leading "/" dropped). */
  setIgnorePatterns(text: string): void {
    const patterns = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    this.ignoreMatcher = patterns.length > 0 ? ignore().add(patterns) : null;
  }

  /** Whether `.dockerignore` excludes `rel` (or a parent of it), or it was hidden (a secret). */
  ignored(rel: string): boolean {
    if (this.hidden.has(rel)) return true;
    return rel !== '' && this.ignoreMatcher !== null && this.ignoreMatcher.ignores(rel);
  }

  /** Keeps `rel` from every COPY whatever `.dockerignore` says (secrets sent with the context). */
  hide(rel: string): void {
    this.hidden.add(rel);
  }

  /**
   * Writes the subtree at `rel` (resolved in scope) to `dest` as real files, for a RUN
   * `--mount=type=bind` from the context. Returns the path to mount (a file or a directory).
   */
  async materialize(rel: string, dest: string): Promise<string> {
    const resolved = this.resolve(rel);
    const top = this.entries.get(resolved);
    if (!top || this.ignored(resolved)) throw new InvalidArgumentError(`failed to compute cache key: "/${rel.replace(/^\/+/, '')}": not found`);
    await mkdir(dest, { recursive: true, mode: 0o700 });
    const write = async (e: ContextEntry, to: string): Promise<void> => {
      if (e.type === 'dir') {
        await mkdir(to, { recursive: true });
        await chmod(to, e.mode);
      } else if (e.type === 'symlink') await symlink(e.linkname, to);
      else if (e.type === 'file') {
        await writeFile(to, await this.readFile(e), { mode: e.mode });
        await chmod(to, e.mode);
      }
    };
    const root = join(dest, 'src');
    await write(top, root);
    if (top.type === 'dir') for (const e of this.walk(resolved)) if (!this.ignored(e.path)) await write(e, join(root, resolved === '' ? e.path : e.path.slice(resolved.length + 1)));
    return root;
  }

  readonly lstat = (rel: string): { symlink: false } | { symlink: true; target: string } | null => {
    const e = this.entries.get(rel);
    if (!e) return null;
    return e.type === 'symlink' ? { symlink: true, target: e.linkname } : { symlink: false };
  };

  /**
   * moby's FullPath: `path` joined to the root must stay in it ("forbidden path outside the
   * build context"), then every symlink is followed in scope. Returns the resolved path.
   */
  resolve(path: string): string {
    if (escapesRoot(path)) throw new InvalidArgumentError(`forbidden path outside the build context: ${path} ()`);
    return resolveInScope(path, this.lstat);
  }

  get(rel: string): ContextEntry | undefined {
    return this.entries.get(rel);
  }

  /** Names in directory `rel`, sorted (byte order, as a Go walk). */
  children(rel: string): string[] {
    return [...(this.kids.get(rel) ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Every path in the context, depth-first in sorted order (filepath.WalkDir's order), root excluded. */
  *walk(rel = ''): Generator<ContextEntry> {
    for (const name of this.children(rel)) {
      const child = rel === '' ? name : `${rel}/${name}`;
      const e = this.entries.get(child);
      if (!e) continue;
      yield e;
      if (e.type === 'dir') yield* this.walk(child);
    }
  }

  stream(e: ContextEntry): Readable {
    if (e.chunks) return Readable.from(e.chunks, { objectMode: false });
    if (e.size === 0) return createReadStream(this.spoolPath, { start: 1, end: 0 });
    return createReadStream(this.spoolPath, { start: e.offset, end: e.offset + e.size - 1 });
  }

  async readFile(e: ContextEntry): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of this.stream(e) as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  }

  /**
   * The Dockerfile at `name` (moby: resolved in scope; "Dockerfile" falls back to
   * "dockerfile"). Read even when `.dockerignore` lists it.
   */
  async readDockerfile(name: string): Promise<{ name: string; text: string }> {
    const find = (n: string): ContextEntry | undefined => {
      if (escapesRoot(n)) return undefined;
      const e = this.entries.get(resolveInScope(n, this.lstat));
      return e && e.type === 'file' ? e : undefined;
    };
    let used = name;
    let e = find(name);
    if (!e && name === 'Dockerfile') {
      e = find('dockerfile');
      used = 'dockerfile';
    }
    if (!e) throw new InvalidArgumentError(`Cannot locate specified Dockerfile: ${name}`);
    if (e.size === 0) throw new InvalidArgumentError(`the Dockerfile (${used}) cannot be empty`);
    if (e.size > MAX_DOCKERFILE_BYTES) throw new InvalidArgumentError(`the Dockerfile (${used}) is larger than ${MAX_DOCKERFILE_BYTES} bytes`);
    return { name: used, text: (await this.readFile(e)).toString('utf8') };
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
