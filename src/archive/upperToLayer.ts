/**
 * archive/upperToLayer: turns an overlay upper directory (a container's
 * writable layer) back into an OCI layer tar — overlay whiteouts (0/0 char
 * devices) become `.wh.NAME` files and opaque directories get
 * `.wh..wh..opq` — skipping the mount points runc creates in every container
 * (Docker keeps those in its init layer). Reads the directory; writes nothing.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TarWriter } from '../util/tar/writer.js';
import { run } from '../util/process.js';

/** Mount points berth's runtime creates in every container layer. */
const INIT_PATHS = new Set(['etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'etc/mtab', 'dev', 'proc', 'sys', '.dockerenv']);

/** Directories of `upper` marked opaque (`trusted.overlay.opaque=y`), relative; one getfattr run. */
async function opaqueDirs(upper: string): Promise<Set<string>> {
  const out = new Set<string>();
  const r = await run('getfattr', ['-R', '-P', '--absolute-names', '-n', 'trusted.overlay.opaque', '-e', 'text', upper], { okCodes: [0, 1] });
  let current = '';
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('# file: ')) current = line.slice('# file: '.length);
    else if (line.startsWith('trusted.overlay.opaque="y"') && current.startsWith(upper)) {
      out.add(current.slice(upper.length).replace(/^\/+/, ''));
    }
  }
  return out;
}

/**
 * `ids` turns a file's host owner into the owner the layer records (a
 * --userns-remap container's layer holds host-shifted owners; containers/usernsRemap).
 */
export async function writeUpperAsLayer(upper: string, out: Writable, ids?: (uid: number, gid: number) => { uid: number; gid: number }): Promise<void> {
  const writer = new TarWriter();
  const opaque = await opaqueDirs(upper);
  const links = new Map<string, string>();
  const produce = (async (): Promise<void> => {
    const walk = async (rel: string): Promise<void> => {
      for (const name of (await readdir(join(upper, rel))).sort()) {
        const r = rel === '' ? name : `${rel}/${name}`;
        const path = join(upper, r);
        const st = await lstat(path);
        const owner = ids ? ids(st.uid, st.gid) : { uid: st.uid, gid: st.gid };
        const base = { mode: st.mode & 0o7777, uid: owner.uid, gid: owner.gid, mtimeNs: BigInt(Math.floor(st.mtimeMs)) * 1_000_000n };
        if (INIT_PATHS.has(r) && ((st.isFile() && st.size === 0) || st.isDirectory())) {
          if (st.isDirectory() && (await readdir(path)).length > 0 && r !== 'dev' && r !== 'proc' && r !== 'sys') await walkDir(r, path, base);
          continue;
        }
        if (st.isCharacterDevice() && st.rdev === 0) {
          await writer.add({ name: rel === '' ? `.wh.${name}` : `${rel}/.wh.${name}`, type: 'file', size: 0, mode: 0o600, uid: 0, gid: 0, mtimeNs: base.mtimeNs });
          continue;
        }
        if (st.isDirectory()) {
          await walkDir(r, path, base);
          continue;
        }
        if (st.isFile() && st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          const first = links.get(key);
          if (first !== undefined) {
            await writer.add({ name: r, type: 'link', linkname: first, ...base });
            continue;
          }
          links.set(key, r);
        }
        if (st.isFile()) await writer.add({ name: r, type: 'file', size: st.size, ...base }, createReadStream(path));
        else if (st.isSymbolicLink()) await writer.add({ name: r, type: 'symlink', linkname: await readlink(path), ...base });
        else if (st.isFIFO()) await writer.add({ name: r, type: 'fifo', ...base });
        else if (st.isCharacterDevice() || st.isBlockDevice()) {
          const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
          const minor = Number((BigInt(st.rdev) & 0xffn) | ((BigInt(st.rdev) >> 12n) & 0xfff00n));
          await writer.add({ name: r, type: st.isCharacterDevice() ? 'char' : 'block', devmajor: major, devminor: minor, ...base });
        }
      }
    };
    const walkDir = async (r: string, _path: string, base: { mode: number; uid: number; gid: number; mtimeNs: bigint }): Promise<void> => {
      await writer.add({ name: r, type: "directory", ...base });
      if (opaque.has(r)) await writer.add({ name: `${r}/.wh..wh..opq`, type: 'file', size: 0, mode: 0o600, uid: 0, gid: 0, mtimeNs: base.mtimeNs });
      await walk(r);
    };
    await walk('');
    await writer.finish();
  })();
  produce.catch((e: unknown) => writer.abort(e as Error));
  await Promise.all([pipeline(writer.stream, out), produce]);
}
