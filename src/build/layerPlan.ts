/**
 * build/layerPlan: the layer a COPY, ADD or WORKDIR makes, planned against a
 * read-only view of the image it builds on and then written as a tar — no
 * container, no writable mount. Destinations are resolved in the image's
 * scope (a symlinked `/bin` leads into `/usr/bin`, never out of the root);
 * existing parent directories are carried with their own metadata (as an
 * overlay copy-up would), missing ones are made 0755. Reads the image root;
 * writes only to the tar.
 */
import { createReadStream, lstatSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgumentError } from '../errdefs/errors.js';
import { normalizeTarPath } from '../archive/applyLayer.js';
import { decompressStream } from '../util/tar/decompress.js';
import { readTar } from '../util/tar/reader.js';
import { TarWriter } from '../util/tar/writer.js';
import { cleanAbs, resolveInScope } from './scopedPath.js';

export interface Owner {
  uid: number;
  gid: number;
}

export interface PlannedEntry {
  /** Path in the image, relative ('a/b'). */
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  size?: number;
  linkname?: string;
  body?: () => Readable | Buffer;
}

type Item = { kind: 'entry'; e: PlannedEntry } | { kind: 'archive'; dest: string; open: () => Readable };

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i === -1 ? '' : rel.slice(0, i);
}

export class LayerPlan {
  private readonly items = new Map<string, Item>();
  private archives = 0;

  constructor(
    /** Root of the image being built on (read only). */
    private readonly root: string,
    private readonly nowNs: bigint = BigInt(Date.now()) * 1_000_000n,
  ) {}

  private lstatFn = (rel: string): { symlink: false } | { symlink: true; target: string } | null => {
    const planned = this.items.get(rel);
    if (planned?.kind === 'entry') return planned.e.type === 'symlink' ? { symlink: true, target: planned.e.linkname ?? '' } : { symlink: false };
    const st = lstatSync(join(this.root, rel), { throwIfNoEntry: false });
    if (!st) return null;
    return st.isSymbolicLink() ? { symlink: true, target: readlinkSync(join(this.root, rel)) } : { symlink: false };
  };

  /** An absolute image path resolved in scope (every symlink followed), relative to the root. */
  resolve(abs: string): string {
    return resolveInScope(cleanAbs(abs), this.lstatFn);
  }

  /** moby's isExistingDirectory (follows symlinks): in the plan or in the image. */
  isDir(rel: string): boolean {
    const r = resolveInScope(rel, this.lstatFn);
    const planned = this.items.get(r);
    if (planned) return planned.kind === 'archive' || planned.e.type === 'dir';
    if (r === '') return true;
    const st = statSync(join(this.root, r), { throwIfNoEntry: false });
    return st?.isDirectory() === true;
  }

  /** Whether the image (not the plan) has `rel`. */
  inImage(rel: string): boolean {
    return lstatSync(join(this.root, rel), { throwIfNoEntry: false }) !== undefined;
  }

  /**
   * Makes `dir` and its ancestors directories in the layer: planned ones stay, ones in the image
   * are carried with their metadata, missing ones are created 0755 owned by `owner` (or root).
   */
  ensureDir(dir: string, owner: Owner | null): void {
    if (dir === '') return;
    const parts = dir.split('/');
    let cur = '';
    for (const part of parts) {
      cur = cur === '' ? part : `${cur}/${part}`;
      const planned = this.items.get(cur);
      if (planned) {
        if (planned.kind === 'entry' && planned.e.type !== 'dir') throw new InvalidArgumentError(`cannot copy to "/${dir}": "/${cur}" is not a directory`);
        continue;
      }
      const st = lstatSync(join(this.root, cur), { bigint: true, throwIfNoEntry: false });
      if (st) {
        if (st.isSymbolicLink()) throw new InvalidArgumentError(`cannot copy to "/${dir}": "/${cur}" is a symlink`);
        if (!st.isDirectory()) throw new InvalidArgumentError(`cannot copy to "/${dir}": "/${cur}" is not a directory`);
        this.items.set(cur, {
          kind: 'entry',
          e: { name: cur, type: 'dir', mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), mtimeNs: st.mtimeNs },
        });
      } else {
        this.items.set(cur, { kind: 'entry', e: { name: cur, type: 'dir', mode: 0o755, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, mtimeNs: this.nowNs } });
      }
    }
  }

  /** Adds an entry (its parent must have been ensured); a later entry for a path replaces an earlier one. */
  add(e: PlannedEntry): void {
    if (e.name === '') {
      if (e.type !== 'dir') throw new InvalidArgumentError('cannot replace the root directory with a file');
    }
    this.items.set(e.name, { kind: 'entry', e });
  }

  /** Existing metadata of an image directory (for a COPY into it, which keeps it as it is). */
  carry(rel: string): void {
    if (rel === '' || this.items.has(rel)) return;
    this.ensureDir(rel, null);
  }

  /** ADD of a local archive: its entries go under `dest` (an ensured directory) as they are in it. */
  addArchive(dest: string, open: () => Readable): void {
    this.items.set(`\0archive${this.archives++}`, { kind: 'archive', dest, open });
  }

  get size(): number {
    return this.items.size;
  }

  /** Writes the planned layer to `w` and finishes it. */
  async write(w: TarWriter, signal?: AbortSignal): Promise<void> {
    for (const item of this.items.values()) {
      signal?.throwIfAborted();
      if (item.kind === 'archive') {
        await this.writeArchive(w, item.dest, item.open(), signal);
        continue;
      }
      const e = item.e;
      const base = { mode: e.mode, uid: e.uid, gid: e.gid, mtimeNs: e.mtimeNs };
      if (e.name === '') continue;
      if (e.type === 'dir') await w.add({ name: e.name, type: 'directory', ...base });
      else if (e.type === 'symlink') await w.add({ name: e.name, type: 'symlink', linkname: e.linkname ?? '', ...base });
      else {
        const body = e.body ? e.body() : Buffer.alloc(0);
        await w.add({ name: e.name, type: 'file', size: e.size ?? (Buffer.isBuffer(body) ? body.length : 0), ...base }, body as Buffer | AsyncIterable<Uint8Array>);
      }
    }
    await w.finish();
  }

  private async writeArchive(w: TarWriter, dest: string, raw: Readable, signal?: AbortSignal): Promise<void> {
    const { stream } = await decompressStream(raw, signal ? { signal } : {});
    for await (const { header: h, body } of readTar(stream, signal ? { signal } : {})) {
      const rel = normalizeTarPath(h.name);
      if (rel === null) throw new InvalidArgumentError(`archive entry "${h.name}" is outside the archive (absolute path or "..")`);
      if (rel === '') continue;
      const name = dest === '' ? rel : `${dest}/${rel}`;
      const base = { mode: h.mode, uid: h.uid, gid: h.gid, mtimeNs: h.mtimeNs, xattrs: h.xattrs };
      if (h.type === 'link') {
        const target = normalizeTarPath(h.linkname);
        if (target === null || target === '') throw new InvalidArgumentError(`archive entry "${h.name}" links outside the archive`);
        await w.add({ name, type: 'link', linkname: dest === '' ? target : `${dest}/${target}`, ...base });
      } else if (h.type === 'file' || h.type === 'other') {
        await w.add({ name, type: h.type, typeflag: h.typeflag, size: h.size, ...base }, body);
      } else {
        await w.add({ name, type: h.type, linkname: h.linkname, devmajor: h.devmajor, devminor: h.devminor, ...base });
      }
    }
  }
}

/** Opens a file in an image root for reading (COPY --from bodies). */
export function openInRoot(root: string, rel: string): Readable {
  return createReadStream(join(root, rel));
}

export { parentOf };
