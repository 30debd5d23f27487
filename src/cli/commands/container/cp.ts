/**
 * `berth cp`: docker's copy between a container and the local filesystem
 * through the archive API — HEAD for the stat, GET for a tar out, PUT for a
 * tar in — with docker's destination rules (into an existing directory,
 * as a new name, over a file; "SRC/." copies a directory's contents; "-" is
 * a tar on stdin/stdout). Local extraction goes through archive/applyLayer,
 * so a hostile archive cannot write outside the destination.
 */
import { createReadStream, type Stats } from 'node:fs';
import { lstat, mkdtemp, readdir, readlink, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { applyLayer } from '../../../archive/applyLayer.js';
import { readCapabilities } from '../../../archive/capabilityXattrs.js';
import { TarWriter } from '../../../util/tar/writer.js';
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { ContainerApi } from './containerApi.js';
import { flushed } from './flush.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  short: 'Copy files/folders between a container and the local filesystem',
  aliases: ['container cp', 'cp'],
  args: { kind: 'exact', n: 2 },
  flags: [
    { name: 'archive', short: 'a', type: 'bool', usage: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', type: 'bool', usage: 'Always follow symbol link in SRC_PATH' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
  ],
};

const DIR_BIT = 2 ** 31;

/** docker's splitCpArg: "name:path" is a container path unless it looks like a local path. */
function splitCpArg(arg: string): { container: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { container: '', path: arg };
  const i = arg.indexOf(':');
  if (i <= 0) return { container: '', path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/**
 * Tar of a local path; entries named under `name` ('.' for the contents of a directory). Files
 * carry their `security.capability` xattr, as the docker CLI's archives do.
 */
function localTar(src: string, name: string, follow: boolean): Readable {
  const writer = new TarWriter();
  let caps: ReadonlyMap<string, Buffer> = new Map();
  const add = async (p: string, n: string, top: boolean): Promise<void> => {
    const st: Stats = top && follow ? await stat(p) : await lstat(p);
    const cap = caps.get(p);
    const base = {
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtimeNs: BigInt(Math.floor(st.mtimeMs)) * 1_000_000n,
      ...(cap !== undefined ? { xattrs: new Map([['security.capability', cap]]) } : {}),
    };
    if (st.isDirectory()) {
      await writer.add({ name: n, type: 'directory', ...base });
      for (const e of (await readdir(p)).sort()) await add(join(p, e), `${n}/${e}`, false);
    } else if (st.isFile()) await writer.add({ name: n, type: 'file', size: st.size, ...base }, createReadStream(p));
    else if (st.isSymbolicLink()) await writer.add({ name: n, type: 'symlink', linkname: await readlink(p), ...base });
  };
  void (async () => {
    try {
      caps = await readCapabilities(src);
      await add(src, name, true);
      await writer.finish();
    } catch (e) {
      writer.abort(e as Error);
    }
  })();
  return writer.stream;
}

function decodeStat(h: string | string[] | undefined): { name: string; mode: number; linkTarget: string } {
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) throw new Error('unable to get resource stat from response');
  return JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as { name: string; mode: number; linkTarget: string };
}

async function copyFromContainer(ctx: CliContext, api: ContainerApi, container: string, srcPath: string, dst: string, follow: boolean): Promise<void> {
  let src = srcPath;
  if (follow) {
    const st = (await api.archiveStat(container, src)) as { linkTarget?: string };
    if (st.linkTarget) src = st.linkTarget;
  }
  const res = await api.archiveGet(container, src);
  const st = decodeStat(res.headers['x-docker-container-path-stat']);
  if (dst === '-') {
    for await (const chunk of res) if (!ctx.stdout.write(chunk as Buffer)) await new Promise((r) => ctx.stdout.once('drain', r));
    await flushed(ctx.stdout);
    return;
  }
  const srcIsDir = (st.mode & DIR_BIT) !== 0;
  const contents = srcPath.endsWith('/.');
  const target = resolve(dst);
  const tst = await stat(target).catch(() => null);
  if (tst?.isDirectory() && !contents) {
    await applyLayer(res, target, { whiteouts: 'none', chown: false });
    return;
  }
  if (tst && !tst.isDirectory() && srcIsDir) throw new Error('cannot copy a directory to a file');
  if (!tst && dst.endsWith('/')) throw new Error(`destination directory "${dst}" does not exist`);
  const parent = dirname(target);
  if (!(await stat(parent).catch(() => null))?.isDirectory()) throw new Error(`destination directory "${parent}" does not exist`);
  // Unpack beside the destination (same filesystem), then move the one entry into place.
  const tmp = await mkdtemp(join(parent, '.berth-cp-'));
  try {
    await applyLayer(res, tmp, { whiteouts: 'none', chown: false });
    if (contents) {
      if (!tst) await rename(join(tmp, '.'), target).catch(async () => rename(tmp, target));
      else for (const e of await readdir(tmp)) await rename(join(tmp, e), join(target, e));
    } else {
      const made = (await readdir(tmp))[0];
      if (made === undefined) throw new Error(`nothing copied from ${srcPath}`);
      if (tst && !tst.isDirectory()) await rm(target, { force: true });
      await rename(join(tmp, made), target);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function copyToContainer(ctx: CliContext, api: ContainerApi, src: string, container: string, dstPath: string, opts: { archive: boolean; follow: boolean }): Promise<void> {
  const put = (path: string, tar: Readable): Promise<void> => api.archivePut(container, path, tar, { noOverwriteDirNonDir: true, copyUIDGID: opts.archive });
  if (src === '-') {
    await put(dstPath, ctx.stdin);
    return;
  }
  const local = resolve(src);
  const sst = await (opts.follow ? stat(local) : lstat(local)).catch(() => null);
  if (!sst) throw new Error(`lstat ${local}: no such file or directory`);
  let dstStat: { mode: number } | null = null;
  try {
    dstStat = (await api.archiveStat(container, dstPath)) as { mode: number };
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404) throw e;
  }
  const contents = src.endsWith('/.') && sst.isDirectory();
  if (dstStat && (dstStat.mode & DIR_BIT) !== 0) {
    await put(dstPath, localTar(local, contents ? '.' : basename(local), opts.follow));
    return;
  }
  if (dstStat && sst.isDirectory()) throw new Error('cannot copy a directory to a file');
  if (!dstStat && dstPath.endsWith('/')) throw new Error(`Error response from daemon: Could not find the file ${dstPath} in container ${container}`);
  const parent = dstPath.replace(/\/+$/, '').replace(/\/[^/]*$/, '') || '/';
  await put(parent, localTar(local, basename(dstPath.replace(/\/+$/, '')), opts.follow));
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const [a, b] = p.args as [string, string];
  const src = splitCpArg(a);
  const dst = splitCpArg(b);
  const api = new ContainerApi(ctx.client);
  if (src.container !== '' && dst.container !== '') throw new Error('copying between containers is not supported');
  if (src.container === '' && dst.container === '') throw new Error('must specify at least one container source');
  if (src.container !== '') {
    if (src.path === '') throw new Error('filepath cannot be empty');
    await copyFromContainer(ctx, api, src.container, src.path, dst.path, p.bool('follow-link'));
  } else {
    if (dst.path === '') throw new Error('filepath cannot be empty');
    await copyToContainer(ctx, api, src.path, dst.container, dst.path, { archive: p.bool('archive'), follow: p.bool('follow-link') });
  }
  if (!p.bool('quiet') && ctx.stderr.isTTY && b !== '-' && a !== '-') ctx.err(`Successfully copied to ${b}\n`);
  return 0;
}
