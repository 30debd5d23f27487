/**
 * archive/applyLayer: unpacks one (uncompressed) layer tar into an empty snapshot
 * directory: files, dirs, symlinks, hardlinks, devices, fifos, owners, modes (setuid
 * included), mtimes and byte-exact xattrs, with OCI whiteouts turned into overlayfs ones.
 *
 * It must never write outside `dest`: names that are absolute or climb out with "..",
 * hardlinks that point out, and any path that goes through a symlink are refused, and
 * symlinks in the layer are created but never followed.
 *
 * How it stays fast: file work uses synchronous fs calls (each a short syscall on the
 * page cache; a promise round-trip through libuv's pool per call costs far more), and the
 * event loop gets a turn at least every YIELD_MS. Node has no mknod or setxattr, and
 * spawning a tool costs ~10 ms here, so device nodes, fifos and whiteouts are made by one
 * GNU tar run and all xattrs are set by one `setfattr --restore` run, at the end.
 */
import {
  chmodSync,
  closeSync,
  constants as fsc,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgumentError, SystemError } from '../errdefs/errors.js';
import { run } from '../util/process.js';
import { readTar } from '../util/tar/reader.js';
import { TarWriter } from '../util/tar/writer.js';
import type { TarHeader } from '../util/tar/types.js';
import { quoteDumpName } from '../util/fileCapabilities.js';

export interface ApplyOptions {
  signal?: AbortSignal;
  /** 'overlay': OCI whiteouts become overlayfs ones; 'none': `.wh.*` files are kept as they are. */
  whiteouts: 'overlay' | 'none';
  /**
   * false: files belong to whoever runs this (docker cp's NoLchown when it writes on the
   * client's machine: not the container's uids, and no EPERM for a user who is not root).
   */
  chown?: boolean;
}

export interface ApplyReport {
  /** Tar entries read (whiteouts included). */
  entries: number;
  /** Uncompressed tar bytes read, trailing bytes after the end marker included. */
  bytes: number;
}

const WH_PREFIX = '.wh.';
const WH_META_PREFIX = '.wh..wh.';
const WH_OPAQUE = '.wh..wh..opq';
const OPAQUE_XATTR = 'trusted.overlay.opaque';
const YIELD_MS = 20;
const NS = 1_000_000_000n;

/**
 * Normalises a tar member name to a relative path inside the root ('' is the root itself),
 * or null when it is absolute, climbs out of the root with "..", or holds a NUL byte.
 * "./a", "a//b/" and "a/../b" are fine (→ "a", "a/b", "b").
 */
export function normalizeTarPath(name: string): string | null {
  if (name.startsWith('/') || name.includes('\0')) return null;
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return null;
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.join('/');
}

/** True when a tar member name must be refused: absolute, or escaping the root through "..". */
export function isUnsafeTarPath(name: string): boolean {
  return normalizeTarPath(name) === null;
}

interface PendingNode {
  type: 'char' | 'block' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  devmajor: number;
  devminor: number;
  /** Made for an OCI whiteout (a 0/0 char device), not taken from the layer. */
  whiteout: boolean;
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i === -1 ? '' : rel.slice(0, i);
}

function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

function toSeconds(ns: bigint): number {
  // Node's utimes takes float seconds and libuv truncates them to whole microseconds (no utimensat in
  // Node). A double near 1.8e9 s has a ~240 ns step, so aim at the middle of the wanted microsecond:
  // truncation then lands on the same microsecond GNU tar would set, never the next one.
  let sec = ns / NS;
  if (ns < 0n && sec * NS !== ns) sec -= 1n;
  const us = (ns - sec * NS) / 1000n;
  return Number(sec) + (Number(us) + 0.5) / 1e6;
}

function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

class LayerApplier {
  /** Relative paths known to be real directories (created or checked by us in this run). */
  private readonly safeDirs = new Set<string>(['']);
  private readonly dirTimes = new Map<string, bigint>();
  private readonly xattrs = new Map<string, Map<string, Buffer>>();
  private readonly nodes = new Map<string, PendingNode>();
  private lastYield = performance.now();

  constructor(
    private readonly dest: string,
    private readonly opts: ApplyOptions,
  ) {}

  private abs(rel: string): string {
    return rel === '' ? this.dest : join(this.dest, rel);
  }

  /** Drops everything remembered about `rel` and below it (it was removed or replaced). */
  private forgetTree(rel: string): void {
    const prefix = `${rel}/`;
    for (const m of [this.safeDirs, this.dirTimes, this.xattrs, this.nodes] as Array<Set<string> | Map<string, unknown>>) {
      for (const k of m.keys()) if (k === rel || k.startsWith(prefix)) m.delete(k);
    }
  }

  /** A new entry takes `rel`: a device still waiting for the batch (and its xattrs) is dropped. */
  private dropPending(rel: string): void {
    if (this.nodes.delete(rel)) this.xattrs.delete(rel);
  }

  /** Removes whatever is at `rel` (tar semantics: a later entry replaces an earlier one). */
  private removePath(rel: string): void {
    this.nodes.delete(rel);
    this.xattrs.delete(rel);
    const st = lstatSync(this.abs(rel), { throwIfNoEntry: false });
    if (st === undefined) return;
    if (st.isDirectory()) {
      // rmSync unlinks symlinks inside, it never follows them.
      rmSync(this.abs(rel), { recursive: true, force: true });
      this.forgetTree(rel);
    } else {
      unlinkSync(this.abs(rel));
    }
  }

  /**
   * Makes every ancestor of `rel` a real directory: missing ones are created (0755, as GNU
   * tar does), a symlink on the way is refused (writing through it could leave `dest`).
   */
  private ensureParents(rel: string, entryName: string): void {
    const parent = parentOf(rel);
    if (this.safeDirs.has(parent)) return;
    const parts = parent.split('/');
    let p = '';
    for (const part of parts) {
      p = p === '' ? part : `${p}/${part}`;
      if (this.safeDirs.has(p)) continue;
      const node = this.nodes.get(p);
      if (node !== undefined) {
        if (!node.whiteout) {
          throw new InvalidArgumentError(`layer entry "${entryName}": "${p}" is not a directory`);
        }
        // Whiteout of a dir, then content under it in the same layer: that is an opaque dir.
        this.nodes.delete(p);
        this.makeDir(p);
        this.setXattr(p, OPAQUE_XATTR, Buffer.from('y'));
        continue;
      }
      const st = lstatSync(this.abs(p), { throwIfNoEntry: false });
      if (st === undefined) this.makeDir(p);
      else if (st.isDirectory()) this.safeDirs.add(p);
      else if (st.isSymbolicLink()) {
        throw new InvalidArgumentError(`layer entry "${entryName}" would be written through the symlink "${p}"`);
      } else throw new InvalidArgumentError(`layer entry "${entryName}": "${p}" is not a directory`);
    }
  }

  private makeDir(rel: string): void {
    mkdirSync(this.abs(rel), 0o755);
    this.safeDirs.add(rel);
  }

  /** Checks that an existing path's ancestors are real directories (for hardlink targets). */
  private checkExistingParents(rel: string, entryName: string): void {
    let p = '';
    for (const part of parentOf(rel).split('/')) {
      if (part === '') break;
      p = p === '' ? part : `${p}/${part}`;
      if (this.safeDirs.has(p)) continue;
      const st = lstatSync(this.abs(p), { throwIfNoEntry: false });
      if (st?.isDirectory() === true) this.safeDirs.add(p);
      else if (st?.isSymbolicLink() === true) {
        throw new InvalidArgumentError(`hardlink "${entryName}" points through the symlink "${p}"`);
      } else throw new InvalidArgumentError(`hardlink "${entryName}" points to a path that is not in the layer`);
    }
  }

  private setXattr(rel: string, name: string, value: Buffer): void {
    let m = this.xattrs.get(rel);
    if (m === undefined) {
      m = new Map();
      this.xattrs.set(rel, m);
    }
    m.set(name, value);
  }

  private recordXattrs(rel: string, h: TarHeader): void {
    for (const [k, v] of h.xattrs) {
      // A layer must not forge overlayfs metadata (redirects, metacopy, opaque): only
      // whiteout conversion sets those.
      if (this.opts.whiteouts === 'overlay' && k.startsWith('trusted.overlay.')) continue;
      this.setXattr(rel, k, v);
    }
  }

  async apply(tar: Readable | AsyncIterable<Uint8Array>): Promise<ApplyReport> {
    const signal = this.opts.signal;
    const reader = readTar(tar, signal !== undefined ? { signal } : {});
    let entries = 0;
    for await (const { header: h, body } of reader) {
      entries++;
      signal?.throwIfAborted();
      const now = performance.now();
      if (now - this.lastYield > YIELD_MS) {
        await new Promise<void>((r) => setImmediate(r));
        this.lastYield = performance.now();
      }
      const rel = normalizeTarPath(h.name);
      if (rel === null) {
        throw new InvalidArgumentError(`layer entry "${h.name}" is outside the layer root (absolute path or "..")`);
      }
      if (this.opts.whiteouts === 'overlay' && this.whiteout(rel, h)) continue;
      switch (h.type) {
        case 'directory':
          this.directory(rel, h);
          break;
        case 'file':
        case 'other':
          if (h.typeflag === 'V') break; // GNU volume label: not a file
          await this.file(rel, h, body);
          break;
        case 'symlink':
          this.symlink(rel, h);
          break;
        case 'link':
          await this.hardlink(rel, h);
          break;
        case 'char':
        case 'block':
        case 'fifo':
          this.node(rel, h, { type: h.type, whiteout: false });
          break;
      }
    }
    await this.finish();
    return { entries, bytes: reader.bytesRead };
  }

  /** Handles OCI whiteouts; true when the entry was one (and is done). */
  private whiteout(rel: string, h: TarHeader): boolean {
    const base = baseOf(rel);
    if (!base.startsWith(WH_PREFIX)) return false;
    const parent = parentOf(rel);
    if (base === WH_OPAQUE) {
      this.ensureParents(rel, h.name);
      this.setXattr(parent, OPAQUE_XATTR, Buffer.from('y'));
      return true;
    }
    // Other .wh..wh.* names are aufs bookkeeping (hardlink dirs): meaningless here.
    if (base.startsWith(WH_META_PREFIX)) return true;
    const victim = base.slice(WH_PREFIX.length);
    if (victim === '' || victim === '.' || victim === '..') {
      throw new InvalidArgumentError(`layer entry "${h.name}" is not a valid whiteout`);
    }
    const target = parent === '' ? victim : `${parent}/${victim}`;
    this.ensureParents(target, h.name);
    this.removePath(target);
    this.nodes.set(target, {
      type: 'char',
      mode: 0,
      uid: h.uid,
      gid: h.gid,
      mtimeNs: h.mtimeNs,
      devmajor: 0,
      devminor: 0,
      whiteout: true,
    });
    return true;
  }

  private directory(rel: string, h: TarHeader): void {
    if (rel !== '') {
      this.ensureParents(rel, h.name);
      this.dropPending(rel);
      try {
        mkdirSync(this.abs(rel), 0o700);
      } catch (e) {
        if (errnoOf(e) !== 'EEXIST') throw e;
        // An existing directory stays (with its contents) and takes the new metadata.
        if (!lstatSync(this.abs(rel)).isDirectory()) {
          this.removePath(rel);
          mkdirSync(this.abs(rel), 0o700);
        }
      }
      this.safeDirs.add(rel);
    }
    const p = this.abs(rel);
    if (this.opts.chown !== false) lchownSync(p, h.uid, h.gid);
    // After chown, which clears setgid; p is a real directory we just made or checked.
    chmodSync(p, h.mode);
    this.recordXattrs(rel, h);
    // Adding children changes a directory's mtime: set them all at the end.
    this.dirTimes.set(rel, h.mtimeNs);
  }

  private async file(rel: string, h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    if (rel === '') throw new InvalidArgumentError(`layer entry "${h.name}" is a file in place of the root directory`);
    this.ensureParents(rel, h.name);
    const p = this.abs(rel);
    const flags = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW;
    this.dropPending(rel);
    let fd: number;
    try {
      fd = openSync(p, flags, 0o600);
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') throw e;
      this.removePath(rel);
      fd = openSync(p, flags, 0o600);
    }
    try {
      const signal = this.opts.signal;
      for await (const chunk of body) {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
        if (signal?.aborted === true) signal.throwIfAborted();
      }
      if (this.opts.chown !== false) fchownSync(fd, h.uid, h.gid);
      // After chown, which clears setuid/setgid.
      fchmodSync(fd, h.mode);
      const t = toSeconds(h.mtimeNs);
      futimesSync(fd, t, t);
    } finally {
      closeSync(fd);
    }
    this.xattrs.delete(rel);
    this.recordXattrs(rel, h);
  }

  private symlink(rel: string, h: TarHeader): void {
    if (rel === '') throw new InvalidArgumentError(`layer entry "${h.name}" is a symlink in place of the root directory`);
    this.ensureParents(rel, h.name);
    const p = this.abs(rel);
    this.dropPending(rel);
    try {
      symlinkSync(h.linkname, p);
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') throw e;
      this.removePath(rel);
      symlinkSync(h.linkname, p);
    }
    if (this.opts.chown !== false) lchownSync(p, h.uid, h.gid);
    const t = toSeconds(h.mtimeNs);
    lutimesSync(p, t, t);
    this.xattrs.delete(rel);
    this.recordXattrs(rel, h);
  }

  private async hardlink(rel: string, h: TarHeader): Promise<void> {
    const target = normalizeTarPath(h.linkname);
    if (target === null || target === '') {
      throw new InvalidArgumentError(`hardlink "${h.name}" points outside the layer root ("${h.linkname}")`);
    }
    if (rel === '') throw new InvalidArgumentError(`layer entry "${h.name}" is a hardlink in place of the root directory`);
    if (target === rel) return;
    this.ensureParents(rel, h.name);
    this.checkExistingParents(target, h.name);
    // The target may be a device or fifo still waiting for the batch: make that one now.
    if (this.nodes.has(target)) await this.flushNodes(target);
    this.dropPending(rel);
    this.link(rel, target, h.name);
  }

  private link(rel: string, target: string, name: string): void {
    const p = this.abs(rel);
    try {
      linkSync(this.abs(target), p);
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'EEXIST') {
        this.removePath(rel);
        linkSync(this.abs(target), p);
      } else if (code === 'ENOENT') {
        throw new InvalidArgumentError(`hardlink "${name}" points to "${target}", which is not in the layer`);
      } else if (code === 'EPERM') {
        throw new InvalidArgumentError(`hardlink "${name}" points to "${target}", which is a directory`);
      } else throw e;
    }
    this.xattrs.delete(rel);
  }

  private node(rel: string, h: TarHeader, kind: { type: 'char' | 'block' | 'fifo'; whiteout: boolean }): void {
    if (rel === '') throw new InvalidArgumentError(`layer entry "${h.name}" is a device in place of the root directory`);
    this.ensureParents(rel, h.name);
    this.removePath(rel);
    this.nodes.set(rel, {
      type: kind.type,
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      mtimeNs: h.mtimeNs,
      devmajor: h.devmajor,
      devminor: h.devminor,
      whiteout: kind.whiteout,
    });
    this.recordXattrs(rel, h);
  }

  /** Creates pending device nodes and fifos (all, or just `only`) with one GNU tar run (Node has no mknod). */
  private async flushNodes(only?: string): Promise<void> {
    const batch = only === undefined ? [...this.nodes] : this.nodes.has(only) ? [[only, this.nodes.get(only)] as const] : [];
    if (batch.length === 0) return;
    const w = new TarWriter({ subsecondMtime: true });
    const blocks: Buffer[] = [];
    for (const [rel, n] of batch) {
      if (n === undefined) continue;
      blocks.push(
        w.encode(
          {
            name: rel,
            type: n.type,
            mode: n.mode,
            uid: n.uid,
            gid: n.gid,
            mtimeNs: n.mtimeNs,
            devmajor: n.devmajor,
            devminor: n.devminor,
          },
          0,
        ),
      );
    }
    blocks.push(Buffer.alloc(1024));
    // Every parent is a real directory we made or checked (removals forget their subtree),
    // so tar follows no symlink here; --no-overwrite-dir leaves those directories alone.
    const owner = this.opts.chown === false ? '--no-same-owner' : '--same-owner';
    const args = ['-x', '-f', '-', '-C', this.dest, '--numeric-owner', owner, '--same-permissions', '--no-overwrite-dir'];
    await run('tar', args, { input: Buffer.concat(blocks), ...(this.opts.signal !== undefined ? { signal: this.opts.signal } : {}) });
    for (const [rel] of batch) this.nodes.delete(rel);
  }

  /** Sets every recorded xattr with one `setfattr --restore` run, values hex-encoded (byte-exact). */
  private async flushXattrs(): Promise<void> {
    if (this.xattrs.size === 0) return;
    const lines: string[] = [];
    for (const [rel, m] of this.xattrs) {
      lines.push(`# file: ${rel === '' ? '.' : quoteDumpName(rel)}`);
      for (const [k, v] of m) lines.push(`${quoteDumpName(k)}=0x${v.toString('hex')}`);
      lines.push('');
    }
    // -h: set on a symlink itself, never on what it points to. Paths are relative to dest.
    const res = await run('setfattr', ['-h', '--restore=-'], {
      cwd: this.dest,
      input: `${lines.join('\n')}\n`,
      okCodes: [0, 1],
      ...(this.opts.signal !== undefined ? { signal: this.opts.signal } : {}),
    });
    if (res.code !== 0) {
      const errors = res.stderr.split('\n').filter((l) => l.trim() !== '');
      // Like containerd: a filesystem without xattr support is not fatal, anything else is.
      const real = errors.filter((l) => !/Operation not supported/.test(l));
      if (real.length > 0 || errors.length === 0) {
        throw new SystemError(`cannot set extended attributes in the layer: ${real.slice(0, 5).join('; ') || 'setfattr failed'}`);
      }
    }
    this.xattrs.clear();
  }

  private async finish(): Promise<void> {
    await this.flushNodes();
    await this.flushXattrs();
    // Last: creating nodes and children above changed these mtimes. (xattrs only touch ctime.)
    for (const [rel, ns] of this.dirTimes) {
      const t = toSeconds(ns);
      lutimesSync(this.abs(rel), t, t);
    }
  }
}

/**
 * Applies a plain (uncompressed) layer tar (a stream, or any async iterable of chunks) to `dest`, an existing empty directory owned by
 * the caller (who removes it if this throws). Refuses unsafe entries with
 * InvalidArgumentError naming the entry; nothing is ever written outside `dest`.
 */
export async function applyLayer(tar: Readable | AsyncIterable<Uint8Array>, dest: string, opts: ApplyOptions): Promise<ApplyReport> {
  return new LayerApplier(dest, opts).apply(tar);
}
