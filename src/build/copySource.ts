/**
 * build/copySource: where COPY and ADD read from, behind one interface — the
 * build context (its index: nothing on disk to escape through) or another
 * image's filesystem (`COPY --from`, read through an ImageRoot) — with
 * moby's source rules: paths resolved in scope, `.dockerignore` honoured,
 * wildcards matched as Go's filepath.Match over the whole tree. Reads only.
 */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BuildContext } from './buildContext.js';
import { escapesRoot, resolveInScope } from './scopedPath.js';
import { InvalidArgumentError } from '../errdefs/errors.js';

export interface SourceEntry {
  /** Path relative to the source's root. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  size: number;
  linkname: string;
}

export interface SourceTree {
  /** What errors call this source: the context or an image. */
  readonly isContext: boolean;
  /** moby's FullPath: refuse paths climbing out of the root, then follow symlinks in scope. */
  resolve(path: string): string;
  get(rel: string): SourceEntry | undefined;
  /** Sorted child names of directory `rel`. */
  children(rel: string): string[];
  ignored(rel: string): boolean;
  open(e: SourceEntry): Readable;
  /** sha256 hex of a file's content. */
  sha256(e: SourceEntry): Promise<string>;
}

export class ContextSource implements SourceTree {
  readonly isContext = true;
  constructor(private readonly ctx: BuildContext) {}
  resolve(path: string): string {
    return this.ctx.resolve(path);
  }
  get(rel: string): SourceEntry | undefined {
    return this.ctx.get(rel);
  }
  children(rel: string): string[] {
    return this.ctx.children(rel);
  }
  ignored(rel: string): boolean {
    return this.ctx.ignored(rel);
  }
  open(e: SourceEntry): Readable {
    const c = this.ctx.get(e.path);
    if (!c) throw new InvalidArgumentError(`${e.path} vanished from the build context`);
    return this.ctx.stream(c);
  }
  sha256(e: SourceEntry): Promise<string> {
    return Promise.resolve(this.ctx.get(e.path)?.sha256 ?? '');
  }
}

/** Content digests of image files, by image ID and path: an image never changes under its ID. */
const imageFileDigests = new Map<string, string>();
const MAX_REMEMBERED_DIGESTS = 200_000;

/** A directory tree on disk (an image root): lstat-based, never following a symlink out. */
export class DirSource implements SourceTree {
  readonly isContext = false;
  constructor(
    private readonly root: string,
    /** The image this root shows (digests are remembered under it); '' for none. */
    private readonly imageId: string,
  ) {}

  private lstatFn = (rel: string): { symlink: false } | { symlink: true; target: string } | null => {
    const st = lstatSync(join(this.root, rel), { throwIfNoEntry: false });
    if (!st) return null;
    return st.isSymbolicLink() ? { symlink: true, target: readlinkSync(join(this.root, rel)) } : { symlink: false };
  };

  resolve(path: string): string {
    if (escapesRoot(path)) throw new InvalidArgumentError(`forbidden path outside the build context: ${path} ()`);
    return resolveInScope(path, this.lstatFn);
  }

  get(rel: string): SourceEntry | undefined {
    const p = rel === '' ? this.root : join(this.root, rel);
    const st = lstatSync(p, { bigint: true, throwIfNoEntry: false });
    if (!st) return undefined;
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
    return {
      path: rel,
      type,
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      mtimeNs: st.mtimeNs,
      size: Number(st.size),
      linkname: type === 'symlink' ? readlinkSync(p) : '',
    };
  }

  children(rel: string): string[] {
    return readdirSync(rel === '' ? this.root : join(this.root, rel)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  ignored(): boolean {
    return false;
  }

  open(e: SourceEntry): Readable {
    return createReadStream(join(this.root, e.path));
  }

  async sha256(e: SourceEntry): Promise<string> {
    const memo = this.imageId ? `${this.imageId}:${e.path}` : '';
    const known = memo ? imageFileDigests.get(memo) : undefined;
    if (known !== undefined) return known;
    const h = createHash('sha256');
    for await (const c of this.open(e) as AsyncIterable<Buffer>) h.update(c);
    const d = h.digest('hex');
    if (memo) {
      if (imageFileDigests.size >= MAX_REMEMBERED_DIGESTS) imageFileDigests.clear();
      imageFileDigests.set(memo, d);
    }
    return d;
  }
}

/** Every non-ignored entry under `rel` (exclusive), depth-first in sorted order. */
export function* walkSource(src: SourceTree, rel: string): Generator<SourceEntry> {
  for (const name of src.children(rel)) {
    const child = rel === '' ? name : `${rel}/${name}`;
    if (src.ignored(child)) continue;
    const e = src.get(child);
    if (!e) continue;
    yield e;
    if (e.type === 'dir') yield* walkSource(src, child);
  }
}

/** moby's containsWildcards: an unescaped `*`, `?` or `[`. */
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

/** Go's path/filepath.Match with '/' separators; a malformed pattern matches nothing (moby ignores the error). */
export function goMatch(pattern: string, name: string): boolean {
  try {
    return matchFrom(pattern, 0, name, 0);
  } catch {
    return false;
  }
}

function matchFrom(p: string, pi: number, s: string, si: number): boolean {
  while (pi < p.length) {
    const c = p[pi] as string;
    if (c === '*') {
      while (p[pi] === '*') pi++;
      if (pi === p.length) return !s.slice(si).includes('/');
      for (let k = si; k <= s.length; k++) {
        if (matchFrom(p, pi, s, k)) return true;
        if (s[k] === '/') break;
      }
      return false;
    }
    if (si >= s.length) {
      validateRest(p, pi);
      return false;
    }
    const sc = s[si] as string;
    if (c === '?') {
      if (sc === '/') return false;
      pi++;
      si++;
      continue;
    }
    if (c === '[') {
      const [ok, next] = matchClass(p, pi, sc);
      if (!ok || sc === '/') return false;
      pi = next;
      si++;
      continue;
    }
    if (c === '\\') {
      pi++;
      if (pi >= p.length) throw new Error('bad pattern');
    }
    if (p[pi] !== sc) return false;
    pi++;
    si++;
  }
  return si === s.length;
}

function validateRest(p: string, pi: number): void {
  for (let i = pi; i < p.length; i++) {
    if (p[i] === '[') {
      const end = p.indexOf(']', i + 2);
      if (end < 0) throw new Error('bad pattern');
    } else if (p[i] === '\\' && i + 1 >= p.length) throw new Error('bad pattern');
  }
}

/** A `[...]` class at p[pi]; returns whether `ch` is in it and the index after `]`. */
function matchClass(p: string, pi: number, ch: string): [boolean, number] {
  let i = pi + 1;
  let negated = false;
  if (p[i] === '^') {
    negated = true;
    i++;
  }
  let matched = false;
  let first = true;
  for (;;) {
    if (i >= p.length) throw new Error('bad pattern');
    if (p[i] === ']' && !first) {
      i++;
      break;
    }
    first = false;
    let lo = p[i] as string;
    if (lo === '\\') {
      i++;
      lo = p[i] ?? '';
      if (lo === '') throw new Error('bad pattern');
    }
    i++;
    let hi = lo;
    if (p[i] === '-' && p[i + 1] !== ']') {
      i++;
      hi = p[i] as string;
      if (hi === '\\') {
        i++;
        hi = p[i] ?? '';
      }
      if (hi === '') throw new Error('bad pattern');
      i++;
    }
    if (lo <= ch && ch <= hi) matched = true;
  }
  return [matched !== negated, i];
}
