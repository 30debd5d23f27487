/**
 * containers/archive: the filesystem side of `cp`, `diff` and `export` —
 * paths resolved inside a container's root the way moby's
 * FollowSymlinkInScope does (a symlink can never lead out of the root: ".."
 * stops at the root, absolute targets restart from it), the stat that
 * `HEAD …/archive` returns, tar out of a path or of the whole root, tar into
 * a directory (through archive/applyLayer, which refuses to write through
 * symlinks), and the A/C/D list of an overlay upper directory.
 *
 * Works on a root directory the caller provides (a running container's
 * /proc/<pid>/root, or its mounted snapshot); never mounts anything itself.
 * Owners in the tars are the container's view: a user-namespaced container's
 * caller passes the translation between its ids and the host's (`IdShift`).
 */
import { createReadStream, type BigIntStats, type Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { applyLayer, normalizeTarPath } from '../archive/applyLayer.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errdefs/errors.js';
import { readTar } from '../util/tar/reader.js';
import { TarWriter } from '../util/tar/writer.js';
import { devNumbers } from '../runtime/isolation.js';
import { readCapabilities } from '../archive/capabilityXattrs.js';
import { CAPABILITY_XATTR, capabilityForNamespace } from '../util/fileCapabilities.js';

const MAX_SYMLINKS = 255;

/** Owner translation for a user-namespaced container (--userns-remap); absent otherwise. */
export interface IdShift {
  /** A host owner as the container sees it (ids outside its map read as nobody, as the kernel shows them). */
  toContainer(uid: number, gid: number): { uid: number; gid: number };
  /** A container owner on the host; throws for ids outside the map. */
  toHost(uid: number, gid: number): { uid: number; gid: number };
  /** A container uid on the host; null outside the map. */
  hostUid(uid: number): number | null;
}

/**
 * An archive's `security.capability` (revision 2: for root) as the container's own: revision 3
 * naming its root's host uid, what the kernel writes when the container's root sets one itself,
 * so it holds in the container and not on the host. Other xattrs pass unchanged.
 */
function xattrsForContainer(xattrs: Map<string, Buffer>, ids: IdShift): Map<string, Buffer> {
  const cap = xattrs.get(CAPABILITY_XATTR);
  if (cap === undefined) return xattrs;
  const out = new Map(xattrs);
  const shifted = capabilityForNamespace(cap, (uid) => ids.hostUid(uid));
  if (shifted === null) out.delete(CAPABILITY_XATTR);
  else out.set(CAPABILITY_XATTR, shifted);
  return out;
}

/** Clean absolute container path, keeping a trailing "/" or "/." (they mean "the directory itself"). */
export function cleanContainerPath(p: string): string {
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  let out = `/${parts.join('/')}`;
  if (p.endsWith('/.') && out !== '/') out += '/.';
  else if (p.endsWith('/') && out !== '/') out += '/';
  return out;
}

/**
 * Resolves `path` (absolute, in the container) inside `root`, following every symlink within
 * the root's scope. Returns the container path it ends at (absolute, clean). Missing
 * components are kept as they are (the caller decides whether that is an error).
 */
export async function resolveInScope(root: string, path: string): Promise<string> {
  const todo = path.split('/').filter((x) => x !== '' && x !== '.');
  const done: string[] = [];
  let hops = 0;
  while (todo.length > 0) {
    const part = todo.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = [...done, part];
    const st = await lstat(join(root, ...candidate)).catch(() => null);
    if (st?.isSymbolicLink()) {
      if (++hops > MAX_SYMLINKS) throw new InvalidArgumentError(`too many symlinks while resolving ${path}`);
      const target = await readlink(join(root, ...candidate));
      const parts = target.split('/').filter((x) => x !== '' && x !== '.');
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...parts);
      continue;
    }
    done.push(part);
  }
  return `/${done.join('/')}`;
}

/** moby's ResolvePath: the directory part resolved in scope, the last component as given (unless the path ends in "/" or "/."). */
export async function resolvePath(root: string, path: string): Promise<{ resolved: string; abs: string }> {
  const abs = cleanContainerPath(`/${path}`);
  if (abs === '/') return { resolved: '/', abs };
  if (abs.endsWith('/.') || abs.endsWith('/')) {
    return { resolved: await resolveInScope(root, abs.replace(/\/\.?$/, '')), abs };
  }
  const i = abs.lastIndexOf('/');
  const dir = await resolveInScope(root, abs.slice(0, i) || '/');
  return { resolved: `${dir === '/' ? '' : dir}/${abs.slice(i + 1)}`, abs };
}

/** Go's os.FileMode bits for a stat (what the docker CLI decodes from the stat header). */
export function goFileMode(st: Stats | BigIntStats): number {
  const mode = Number(st.mode);
  let m = mode & 0o777;
  if (mode & 0o4000) m |= 1 << 23; // setuid
  if (mode & 0o2000) m |= 1 << 22; // setgid
  if (mode & 0o1000) m |= 1 << 20; // sticky
  if (st.isDirectory()) m |= 2 ** 31;
  else if (st.isSymbolicLink()) m |= 1 << 27;
  else if (st.isFIFO()) m |= 1 << 25;
  else if (st.isSocket()) m |= 1 << 24;
  else if (st.isCharacterDevice()) m |= (1 << 26) | (1 << 21);
  else if (st.isBlockDevice()) m |= 1 << 26;
  return m >>> 0;
}

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

function hostPath(root: string, containerPath: string): string {
  return join(root, containerPath);
}

/** The stat `HEAD /containers/{id}/archive` sends (base64 JSON in X-Docker-Container-Path-Stat). */
export async function statPath(root: string, path: string, containerId: string): Promise<{ stat: PathStat; resolved: string; abs: string }> {
  const { resolved, abs } = await resolvePath(root, path);
  const st = await lstat(hostPath(root, resolved), { bigint: true }).catch(() => null);
  if (st === null) throw new NotFoundError(`Could not find the file ${path} in container ${containerId}`);
  let linkTarget = '';
  if (st.isSymbolicLink()) linkTarget = await resolveInScope(root, resolved);
  const name = abs === '/' ? '/' : (abs.replace(/\/\.?$/, '').split('/').pop() ?? '');
  return { stat: { name, size: Number(st.size), mode: goFileMode(st), mtime: goTimeJSON(st.mtimeNs), linkTarget }, resolved, abs };
}

/** Go's time.Time in JSON (RFC3339Nano, UTC): trailing zeros of the fraction dropped, none at all for whole seconds. */
export function goTimeJSON(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}${frac === '' ? '' : `.${frac}`}Z`;
}

/**
 * Writes a tar of the tree at host path `src` to `writer`, entries named under `name` ('' = the
 * tree's contents). `caps` holds the `security.capability` xattrs of the tree by host path, which
 * go into the entries as Docker's archives carry them (SCHILY.xattr).
 */
async function addTree(writer: TarWriter, src: string, name: string, links: Map<string, string>, caps: ReadonlyMap<string, Buffer>, ids: IdShift | undefined): Promise<void> {
  const st = await lstat(src);
  const cap = caps.get(src);
  const owner = ids ? ids.toContainer(st.uid, st.gid) : { uid: st.uid, gid: st.gid };
  const base = {
    mode: st.mode & 0o7777,
    uid: owner.uid,
    gid: owner.gid,
    mtimeNs: BigInt(Math.floor(st.mtimeMs)) * 1_000_000n,
    ...(cap !== undefined ? { xattrs: new Map([['security.capability', cap]]) } : {}),
  };
  if (st.isDirectory()) {
    if (name !== '') await writer.add({ name, type: 'directory', ...base });
    const entries = (await readdir(src)).sort();
    for (const e of entries) await addTree(writer, join(src, e), name === '' ? e : `${name}/${e}`, links, caps, ids);
    return;
  }
  if (name === '') throw new InvalidArgumentError('cannot archive the contents of a non-directory');
  if (st.isFile() && st.nlink > 1) {
    const key = `${st.dev}:${st.ino}`;
    const first = links.get(key);
    if (first !== undefined) {
      await writer.add({ name, type: 'link', linkname: first, ...base });
      return;
    }
    links.set(key, name);
  }
  if (st.isFile()) await writer.add({ name, type: 'file', size: st.size, ...base }, createReadStream(src));
  else if (st.isSymbolicLink()) await writer.add({ name, type: 'symlink', linkname: await readlink(src), ...base });
  else if (st.isCharacterDevice() || st.isBlockDevice()) {
    const { major, minor } = devNumbers(st.rdev);
    await writer.add({ name, type: st.isCharacterDevice() ? 'char' : 'block', devmajor: major, devminor: minor, ...base });
  } else if (st.isFIFO()) await writer.add({ name, type: 'fifo', ...base });
  // Sockets cannot be archived: skipped, as tar does.
}

/**
 * Streams a tar of a container path to `out` (moby's containerArchivePath rebase): entries
 * start with the requested path's base name; "/." gives the directory's contents.
 */
export async function archivePath(root: string, resolved: string, abs: string, out: Writable, ids?: IdShift): Promise<void> {
  const writer = new TarWriter();
  const src = hostPath(root, resolved);
  let name = abs === '/' ? '.' : (abs.replace(/\/$/, '').split('/').pop() ?? '');
  if (abs.endsWith('/.')) name = '.';
  const produce = (async () => {
    try {
      await addTree(writer, src, name, new Map(), await readCapabilities(src), ids);
      await writer.finish();
    } catch (e) {
      writer.abort(e as Error);
      throw e;
    }
  })();
  await Promise.all([pipeline(writer.stream, out), produce]);
}

/** A tar of the whole root (`docker export`): entries relative to it, without a leading "./". */
export async function exportRoot(root: string, out: Writable, ids?: IdShift): Promise<void> {
  const writer = new TarWriter();
  const produce = (async () => {
    try {
      await addTree(writer, root, '', new Map(), await readCapabilities(root), ids);
      await writer.finish();
    } catch (e) {
      writer.abort(e as Error);
      throw e;
    }
  })();
  await Promise.all([pipeline(writer.stream, out), produce]);
}

export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory or the reverse (the docker CLI always asks). */
  noOverwriteDirNonDir: boolean;
  /** Keep the archive's owners; otherwise everything belongs to the container's root (0:0). */
  copyUIDGID: boolean;
  /** A user-namespaced container: owners (the container's view) are written as their host ids. */
  ids?: IdShift;
}

/**
 * Extracts a tar into the directory `destResolved` (a resolved container path) of `root`.
 * Entries are checked against what exists, then written by applyLayer, which never
 * writes through a symlink and refuses names leaving the directory.
 */
export async function extractInto(root: string, destResolved: string, tar: Readable, opts: ExtractOptions): Promise<void> {
  const dest = hostPath(root, destResolved);
  const st = await lstat(dest).catch(() => null);
  if (st === null) throw new NotFoundError(`Could not find the file ${destResolved} in container`);
  if (!st.isDirectory()) throw new InvalidArgumentError('extraction point is not a directory');
  const writer = new TarWriter();
  const pump = (async () => {
    try {
      for await (const { header: h, body } of readTar(tar)) {
        const rel = normalizeTarPath(h.name);
        if (rel === null) throw new InvalidArgumentError(`archive entry "${h.name}" is outside the extraction point (absolute path or "..")`);
        if (opts.noOverwriteDirNonDir && rel !== '') {
          const existing = await lstat(join(dest, rel)).catch(() => null);
          if (existing !== null) {
            const isDir = h.type === 'directory';
            if (existing.isDirectory() && !isDir) throw new ConflictError(`cannot overwrite directory "${join(destResolved, rel)}" with non-directory "${h.name}"`);
            if (!existing.isDirectory() && isDir) throw new ConflictError(`cannot overwrite non-directory "${join(destResolved, rel)}" with directory "${h.name}"`);
          }
        }
        let header = opts.copyUIDGID ? h : { ...h, uid: 0, gid: 0, uname: '', gname: '' };
        if (opts.ids) header = { ...header, ...opts.ids.toHost(header.uid, header.gid), xattrs: xattrsForContainer(header.xattrs, opts.ids) };
        await writer.add(header, h.type === 'file' || h.type === 'other' ? body : undefined);
      }
      await writer.finish();
    } catch (e) {
      writer.abort(e as Error);
      throw e;
    }
  })();
  const applied = applyLayer(writer.stream, dest, { whiteouts: 'none' });
  // Report the pump's error (the first cause) over the applier's "stream destroyed".
  const [p, a] = await Promise.allSettled([pump, applied]);
  if (p.status === 'rejected') throw p.reason;
  if (a.status === 'rejected') throw a.reason;
}

export interface Change {
  Path: string;
  /** 0 modified, 1 added, 2 deleted (Docker's ChangeType). */
  Kind: 0 | 1 | 2;
}

/** `docker diff` of an overlay container: walks the upper dir against the lower layers (top first). */
export async function overlayChanges(upper: string, lowers: readonly string[]): Promise<Change[]> {
  const out: Change[] = [];
  const inLower = async (rel: string): Promise<boolean> => {
    for (const l of lowers) {
      const st = await lstat(join(l, rel)).catch(() => null);
      if (st !== null) return !(st.isCharacterDevice() && st.rdev === 0);
    }
    return false;
  };
  const walk = async (rel: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(join(upper, rel))).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const r = rel === '' ? n : `${rel}/${n}`;
      const st = await lstat(join(upper, r));
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ Path: `/${r}`, Kind: 2 });
        continue;
      }
      out.push({ Path: `/${r}`, Kind: (await inLower(r)) ? 0 : 1 });
      if (st.isDirectory()) await walk(r);
    }
  };
  await walk('');
  return hideInitLayer(out).sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}

/**
 * Docker keeps the mount points it makes in every container (/etc/hosts, /etc/hostname,
 * /etc/resolv.conf, /dev/…) in an "init" layer under the container's, so `diff` never shows
 * them. Here runc creates them in the container layer: drop them, and a directory that was
 * only listed because of them.
 */
export const INIT_LAYER_PATHS = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/etc/mtab', '/dev', '/dev/pts', '/dev/shm', '/dev/console', '/proc', '/sys', '/.dockerenv'];

function hideInitLayer(changes: Change[]): Change[] {
  const kept = changes.filter((c) => !(c.Kind !== 2 && (INIT_LAYER_PATHS.includes(c.Path) || c.Path.startsWith('/dev/'))));
  const removedParents = new Set(changes.filter((c) => !kept.includes(c)).map((c) => c.Path.slice(0, c.Path.lastIndexOf('/')) || '/'));
  return kept.filter((c) => !(c.Kind === 0 && removedParents.has(c.Path) && !kept.some((k) => k !== c && k.Path.startsWith(`${c.Path}/`))));
}
