/**
 * cli/commands/image/buildContext: the client side of a legacy build's
 * context, as the docker CLI makes it — a directory streamed as a tar with
 * `.dockerignore` applied (the Dockerfile and `.dockerignore` always sent,
 * owners 0:0, whole-second mtimes), stdin taken as a tar (any compression) or
 * as a lone Dockerfile, and a Dockerfile from outside the context (or from
 * stdin) added as `.dockerfile.<random>` and listed in `.dockerignore`.
 * Reads the filesystem and stdin; never talks to the daemon.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import dockerignore from '@balena/dockerignore';
import { detectCompression } from '../../../util/tar/decompress.js';
import { readTar } from '../../../util/tar/reader.js';
import { TarWriter } from '../../../util/tar/writer.js';

/** The package is CommonJS (`module.exports = factory`) but is typed as an ES default export. */
const ignore = dockerignore as unknown as typeof dockerignore.default;

export interface ContextTar {
  stream: Readable;
  /** The Dockerfile's name inside the context, for the `dockerfile` parameter. */
  dockerfile: string;
}

/** moby's ignorefile.ReadAll. */
export function readIgnorePatterns(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => (l.startsWith('!') ? `!${l.slice(1).trim().replace(/^\/+/, '')}` : l.replace(/^\/+/, '')));
}

function mtimeNs(st: Stats): bigint {
  return BigInt(Math.floor(st.mtimeMs / 1000)) * 1_000_000_000n;
}

/** Reads a file in pieces (sync: the CLI is its own process, and this is far faster than a promise per read). */
function* fileChunks(path: string, size: number): Generator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    let left = size;
    while (left > 0) {
      const b = Buffer.allocUnsafe(Math.min(left, 1024 * 1024));
      const n = readSync(fd, b, 0, b.length, null);
      if (n === 0) throw new Error(`${path}: file changed size while being read`);
      left -= n;
      yield n === b.length ? b : b.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * A directory as a context tar. `dockerfile` is the Dockerfile's path relative to the
 * context (kept even if .dockerignore lists it); `extra` entries are appended (an injected
 * Dockerfile).
 */
export function tarDirectory(dir: string, dockerfile: string, extra: { name: string; data: Buffer }[] = []): Readable {
  let patterns: string[] = [];
  try {
    patterns = readIgnorePatterns(readFileSync(join(dir, '.dockerignore'), 'utf8'));
  } catch {
    patterns = [];
  }
  // TrimBuildFilesFromExcludes: the Dockerfile and .dockerignore always go (the daemon drops them if listed).
  const keep = new Set(['.dockerignore', dockerfile]);
  for (const e of extra) if (e.name === '.dockerignore') patterns.push(...readIgnorePatterns(e.data.toString('utf8')));
  const matcher = patterns.length > 0 ? ignore().add(patterns) : null;
  const hasExceptions = patterns.some((p) => p.startsWith('!'));
  const ignored = (rel: string): boolean => !keep.has(rel) && matcher !== null && matcher.ignores(rel);
  const w = new TarWriter();
  const links = new Map<string, string>();
  const extraNames = new Set(extra.map((e) => e.name));
  const walk = async (rel: string): Promise<void> => {
    const abs = rel === '' ? dir : join(dir, rel);
    for (const name of readdirSync(abs).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (extraNames.has(r)) continue;
      const st = lstatSync(join(dir, r));
      if (ignored(r)) {
        // An excluded directory is skipped whole unless an exception may bring something back.
        if (!st.isDirectory() || !hasExceptions) continue;
        await walk(r);
        continue;
      }
      const base = { mode: st.mode & 0o7777, uid: 0, gid: 0, mtimeNs: mtimeNs(st) };
      if (st.isDirectory()) {
        await w.add({ name: r, type: 'directory', ...base });
        await walk(r);
      } else if (st.isSymbolicLink()) {
        await w.add({ name: r, type: 'symlink', linkname: readlinkSync(join(dir, r)), ...base });
      } else if (st.isFile()) {
        if (st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          const first = links.get(key);
          if (first !== undefined) {
            await w.add({ name: r, type: 'link', linkname: first, ...base });
            continue;
          }
          links.set(key, r);
        }
        await w.add({ name: r, type: 'file', size: st.size, ...base }, fileChunks(join(dir, r), st.size) as unknown as AsyncIterable<Uint8Array>);
      }
    }
  };
  void (async () => {
    try {
      await walk('');
      const now = BigInt(Math.floor(Date.now() / 1000)) * 1_000_000_000n;
      for (const e of extra) await w.add({ name: e.name, type: 'file', size: e.data.length, mode: 0o600, mtimeNs: now }, e.data);
      await w.finish();
    } catch (err) {
      w.abort(err as Error);
    }
  })();
  return w.stream;
}

/** A tar holding just `files` (a Dockerfile read from stdin). */
export function tarFiles(files: { name: string; data: Buffer; mode?: number }[]): Readable {
  const w = new TarWriter();
  void (async () => {
    try {
      const now = BigInt(Math.floor(Date.now() / 1000)) * 1_000_000_000n;
      for (const f of files) await w.add({ name: f.name, type: 'file', size: f.data.length, mode: f.mode ?? 0o644, mtimeNs: now }, f.data);
      await w.finish();
    } catch (err) {
      w.abort(err as Error);
    }
  })();
  return w.stream;
}

/** Reads all of a stream (a Dockerfile on stdin). */
export async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer | string>) parts.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(parts);
}

/**
 * build.DetectArchiveReader: whether `head` starts an archive — a known compression, or a
 * tar header (valid checksum at 512 bytes).
 */
export function looksLikeArchive(head: Buffer): boolean {
  if (detectCompression(head) !== 'none') return true;
  if (head.length < 512) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (head[i] as number);
  const stored = parseInt(head.subarray(148, 156).toString('latin1').replace(/\0.*$/, '').trim(), 8);
  return stored === sum;
}

/** Stdin as a context: a tar passes through; anything else is the Dockerfile of an empty context. */
export async function contextFromStdin(stdin: Readable, dockerfileName: string): Promise<ContextTar> {
  const head: Buffer[] = [];
  let n = 0;
  const it = (stdin as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  let done = false;
  while (n < 512) {
    const r = await it.next();
    if (r.done === true) {
      done = true;
      break;
    }
    const b = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    head.push(b);
    n += b.length;
  }
  const first = Buffer.concat(head);
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield first;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    }
  };
  if (looksLikeArchive(first)) {
    if (dockerfileName === '-') throw new Error('build context is not an archive');
    return { stream: Readable.from(rest()), dockerfile: dockerfileName };
  }
  const parts: Buffer[] = [];
  for await (const c of rest()) parts.push(c);
  return { stream: tarFiles([{ name: 'Dockerfile', data: Buffer.concat(parts) }]), dockerfile: 'Dockerfile' };
}

/** The Dockerfile path relative to the context, or null when it lies outside (then it is injected). */
export function dockerfileInContext(contextDir: string, file: string): string | null {
  const abs = isAbsolute(file) ? file : resolve(file);
  const rel = relative(resolve(contextDir), abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null;
  return rel.split(sep).join('/');
}

/** AddDockerfileToBuildContext: the random name and the `.dockerignore` that hides it. */
export function injectedDockerfile(contextDir: string, data: Buffer): { name: string; extra: { name: string; data: Buffer }[] } {
  const name = `.dockerfile.${randomBytes(10).toString('hex')}`;
  let ignoreText: string;
  try {
    ignoreText = readFileSync(join(contextDir, '.dockerignore'), 'utf8');
  } catch {
    ignoreText = '.dockerignore';
  }
  return { name, extra: [{ name: '.dockerignore', data: Buffer.from(`${ignoreText}\n${name}\n`) }, { name, data }] };
}

/** Counts what flows through (the "Sending build context" figure). */
export function counted(src: Readable, onBytes: (n: number) => void): Readable {
  const pt = new PassThrough();
  let n = 0;
  src.on('data', (c: Buffer) => {
    n += c.length;
    onBytes(n);
  });
  src.on('error', (e) => pt.destroy(e));
  src.pipe(pt);
  return pt;
}

/** Entries of a tar, for tests. */
export async function tarNames(s: Readable): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readTar(s)) {
    out.push(e.header.name);
    await e.body.skip();
  }
  return out;
}
