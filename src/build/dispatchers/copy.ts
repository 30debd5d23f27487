/**
 * build/dispatchers/copy: COPY and ADD, with moby's rules for sources (paths
 * in scope, wildcards, "file not found in build context or excluded by
 * .dockerignore", several sources need a `/` destination), destinations
 * (relative to WORKDIR; a directory or a trailing `/` takes the file's name;
 * a source directory's contents are copied), ownership (root, `--chown` via
 * the image's passwd/group, `--from` keeps owners) — plus BuildKit's
 * `--chmod`, heredoc sources, ADD of local archives (unpacked) and of URLs.
 * The cache key covers the content, modes and owners of what is copied, never
 * mtimes. On a miss the layer is planned against a read-only view of the
 * image and written as a tar: no container is made.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { InvalidArgumentError } from '../../errdefs/errors.js';
import type { ImageRecord } from '../../images/imageStore.js';
import { parseGroup, parsePasswd } from '../../containers/userLookup.js';
import { checksumOk } from '../../util/tar/header.js';
import { decompressStream } from '../../util/tar/decompress.js';
import { TarWriter } from '../../util/tar/writer.js';
import type { CopyInstruction } from '../dockerfile/ast.js';
import { parseChmod, type Chmod } from '../dockerfile/chmod.js';
import { parseHeredocWord } from '../dockerfile/parser.js';
import { fingerprint, type FileFingerprint } from '../cacheKey.js';
import { ContextSource, DirSource, containsWildcards, goMatch, walkSource, type SourceEntry, type SourceTree } from '../copySource.js';
import { download, isURL } from '../download.js';
import type { ImageRoot } from '../imageRoot.js';
import { LayerPlan, parentOf, type Owner } from '../layerPlan.js';
import { cleanAbs } from '../scopedPath.js';
import { cachedStep, Expander, nopCommentString } from './common.js';
import type { DispatchContext, StageState } from './types.js';

type CopyInfo =
  | { kind: 'path'; srcPath: string; entry: SourceEntry }
  | { kind: 'content'; name: string; data: Buffer; mode: number; mtimeNs: bigint; what: 'heredoc' }
  | { kind: 'file'; name: string; path: string; size: number; sha256: string; mode: number; mtimeNs: bigint; what: 'url' };

function baseOf(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t.slice(t.lastIndexOf('/') + 1);
}

/** moby's normalizeDest: relative destinations are under WORKDIR; a trailing slash is kept. */
export function normalizeDest(workdir: string, dest: string): string {
  if (dest.startsWith('/')) return dest;
  const joined = cleanAbs(`/${workdir}/${dest}`);
  return dest.endsWith('/') && joined !== '/' ? `${joined}/` : joined;
}

/** moby's calcCopyInfo: one source path (wildcards expanded) → what it copies. */
function copyInfos(src: SourceTree, orig: string, allowWildcards: boolean): CopyInfo[] {
  let p = orig.replace(/^\/+/, '');
  while (p.startsWith('./')) p = p.slice(2);
  if (allowWildcards && containsWildcards(p)) {
    const out: CopyInfo[] = [];
    for (const e of walkSource(src, '')) if (goMatch(p, e.path)) out.push(...copyInfos(src, e.path, false));
    return out;
  }
  const resolved = src.resolve(p === '' ? '.' : p);
  const e = src.get(resolved);
  if (!e || (p !== '' && src.ignored(p)) || (resolved !== '' && src.ignored(resolved))) {
    const shown = p === '' ? '.' : p;
    throw new InvalidArgumentError(
      src.isContext ? `file not found in build context or excluded by .dockerignore: stat ${shown}: file does not exist` : `stat ${shown}: file does not exist`,
    );
  }
  return [{ kind: 'path', srcPath: p, entry: e }];
}

/** moby's parseChownFlag: `user[:group]`, names looked up in the image's /etc/passwd and /etc/group. */
export function resolveChown(root: string, resolve: (abs: string) => string, chown: string): Owner {
  const parts = chown.split(':');
  if (parts.length > 2) throw new InvalidArgumentError(`invalid chown string format: ${chown}`);
  const user = parts[0] as string;
  const group = parts.length === 1 ? user : (parts[1] as string);
  const read = (file: string): string[] => {
    const rel = resolve(`/etc/${file}`);
    try {
      return readFileSync(`${root}/${rel}`, 'utf8').split('\n');
    } catch {
      return [];
    }
  };
  const wrap = (m: string): InvalidArgumentError => new InvalidArgumentError(`unable to convert uid/gid chown string to host mapping: ${m}`);
  let uid: number;
  if (/^\d+$/.test(user)) uid = Number(user);
  else {
    const u = parsePasswd(read('passwd')).find((x) => x.name === user);
    if (!u) throw wrap(`can't find uid for user ${user}: no such user: ${user}`);
    uid = u.uid;
  }
  let gid: number;
  if (/^\d+$/.test(group)) gid = Number(group);
  else {
    const g = parseGroup(read('group')).find((x) => x.name === group);
    if (!g) throw wrap(`can't find gid for group ${group}: no such group: ${group}`);
    gid = g.gid;
  }
  return { uid, gid };
}

/** moby's archive.IsArchivePath: the (decompressed) start of the file is a valid tar header. */
async function isArchive(open: () => Readable): Promise<boolean> {
  const raw = open();
  try {
    const { stream } = await decompressStream(raw);
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of stream as AsyncIterable<Buffer>) {
      parts.push(c);
      n += c.length;
      if (n >= 512) break;
    }
    stream.destroy();
    const head = Buffer.concat(parts);
    return head.length >= 512 && checksumOk(head.subarray(0, 512));
  } catch {
    return false;
  } finally {
    raw.destroy();
  }
}

function modeWith(chmod: Chmod | null, mode: number, isDir: boolean): number {
  if (!chmod) return mode & 0o7777;
  return chmod.kind === 'octal' ? chmod.mode : chmod.apply(mode & 0o7777, isDir);
}

export async function dispatchCopy(d: DispatchContext, s: StageState, c: CopyInstruction): Promise<void> {
  const cmdName = c.kind === 'add' ? 'ADD' : 'COPY';
  const x = new Expander(s);
  const dest = x.word(c.dest);
  const chown = c.chown !== undefined ? x.word(c.chown) : '';
  const chmodText = c.chmod !== undefined ? x.word(c.chmod) : '';
  let chmod: Chmod | null = null;
  if (chmodText !== '') {
    try {
      chmod = parseChmod(chmodText);
    } catch (e) {
      throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
    }
  }
  const from = c.from !== undefined ? x.word(c.from) : '';
  let fromImg: ImageRecord | null = null;
  let fromRoot: ImageRoot | null = null;
  let src: SourceTree = new ContextSource(d.context);
  if (from !== '') {
    try {
      fromImg = await d.fromImage(from, s);
    } catch (e) {
      throw new InvalidArgumentError(`invalid from flag value ${from}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const preserveOwner = from !== '' && chown === '';
  const openFrom = async (): Promise<void> => {
    if (from === '' || fromRoot) return;
    fromRoot = await d.openRoot(fromImg);
    src = new DirSource(fromRoot.path, fromImg?.id ?? '');
  };
  try {
    // Source words first: heredoc bodies and paths expanded, URLs downloaded.
    type Source = { kind: 'path'; path: string } | Exclude<CopyInfo, { kind: 'path' }>;
    const sources: Source[] = [];
    let heredocIndex = 0;
    const failed = (e: unknown): InvalidArgumentError => new InvalidArgumentError(`${cmdName} failed: ${e instanceof Error ? e.message : String(e)}`);
    try {
      for (const raw of c.sources) {
        const hd = parseHeredocWord(raw);
        const doc = hd ? c.heredocs[heredocIndex] : undefined;
        if (hd && doc) {
          heredocIndex++;
          const data = Buffer.from(doc.expand ? x.word(doc.content) : doc.content, 'utf8');
          sources.push({ kind: 'content', name: doc.name, data, mode: 0o644, mtimeNs: BigInt(Date.now()) * 1_000_000n, what: 'heredoc' });
          continue;
        }
        const srcPath = x.word(raw);
        if (isURL(srcPath) && from === '') {
          if (c.kind !== 'add') throw new InvalidArgumentError("source can't be a URL for COPY");
          const dir = await d.tempDir();
          const got = await download(srcPath, dir, d.signal, (m) => d.out.progress(m));
          d.out.out('\n');
          let name = got.filename;
          if (name === '') {
            if (dest.endsWith('/')) throw new InvalidArgumentError(`cannot determine filename for source ${srcPath}`);
            name = '__unnamed__';
          }
          sources.push({ kind: 'file', name, path: got.path, size: got.size, sha256: got.sha256, mode: 0o600, mtimeNs: got.mtimeNs, what: 'url' });
          continue;
        }
        sources.push({ kind: 'path', path: srcPath });
      }
    } catch (e) {
      throw failed(e);
    }
    let infos: CopyInfo[] | null = null;
    const loadInfos = async (): Promise<CopyInfo[]> => {
      if (infos) return infos;
      await openFrom();
      const list: CopyInfo[] = [];
      try {
        for (const so of sources) {
          if (so.kind === 'path') list.push(...copyInfos(src, so.path, true));
          else list.push(so);
        }
        if (list.length === 0) throw new InvalidArgumentError('no source files were specified');
      } catch (e) {
        throw failed(e);
      }
      infos = list;
      return list;
    };

    // What is copied, as it will be in the image (content, modes, owners): the cache key and the
    // history hash. Another image's files are described once per image ID (an image never changes
    // under its ID), so a cached rebuild does not mount that image again.
    const memoKey = fromImg ? JSON.stringify([fromImg.id, preserveOwner, sources.map((so) => (so.kind === 'path' ? so.path : so.kind === 'content' ? so.data.toString('base64') : so.sha256))]) : '';
    let described = memoKey ? fromDescriptions.get(memoKey) : undefined;
    if (!described) {
      described = await describe(await loadInfos(), src, preserveOwner, d.signal);
      if (memoKey) {
        if (fromDescriptions.size >= MAX_REMEMBERED_DESCRIPTIONS) fromDescriptions.clear();
        fromDescriptions.set(memoKey, described);
      }
    }
    const { digests, hashes, names } = described;
    if (names.length > 1 && !dest.endsWith('/')) {
      throw new InvalidArgumentError(`When using ${cmdName} with more than one source file, the destination must be a directory and end with a /`);
    }
    const srcHash = hashes.length === 1 ? (hashes[0] as string) : `multi:${createHash('sha256').update(hashes.join(',')).digest('hex')}`;
    const createdBy = nopCommentString(s, `${cmdName} ${chown !== '' ? `--chown=${chown} ` : ''}${srcHash} in ${dest} `);
    const step = JSON.stringify([cmdName, dest, s.runConfig.WorkingDir ?? '', chown, chmodText, from !== '', c.link, names]);

    await cachedStep(d, s, { step, vars: x.used, sources: digests }, createdBy, async () => {
      const root = await d.openRoot(s.image);
      try {
        const plan = new LayerPlan(root.path);
        const destAbs = normalizeDest(s.runConfig.WorkingDir ?? '', dest);
        const endsSlash = destAbs.endsWith('/');
        const destRel = plan.resolve(destAbs);
        const identity: Owner | null = chown !== '' ? resolveChown(root.path, (p) => plan.resolve(p), chown) : preserveOwner ? null : { uid: 0, gid: 0 };
        const own = (e: { uid: number; gid: number }): Owner => identity ?? { uid: e.uid, gid: e.gid };
        const addFile = (name: string, meta: { mode: number; uid: number; gid: number; mtimeNs: bigint; size: number }, body: () => Readable): void => {
          const target = plan.isDir(destRel) || endsSlash ? (destRel === '' ? name : `${destRel}/${name}`) : destRel;
          plan.ensureDir(parentOf(target), identity);
          plan.add({ name: target, type: 'file', mode: modeWith(chmod, meta.mode, false), ...own(meta), mtimeNs: meta.mtimeNs, size: meta.size, body });
        };
        for (const info of await loadInfos()) {
          d.signal.throwIfAborted();
          if (info.kind === 'content') {
            addFile(info.name, { mode: info.mode, uid: 0, gid: 0, mtimeNs: info.mtimeNs, size: info.data.length }, () => Readable.from([info.data]));
            continue;
          }
          if (info.kind === 'file') {
            addFile(info.name, { mode: info.mode, uid: 0, gid: 0, mtimeNs: info.mtimeNs, size: info.size }, () => createReadStream(info.path));
            continue;
          }
          const e = info.entry;
          if (e.type === 'file') {
            if (c.kind === 'add' && (await isArchive(() => src.open(e)))) {
              plan.ensureDir(destRel, { uid: 0, gid: 0 });
              plan.addArchive(destRel, () => src.open(e));
            } else addFile(baseOf(info.srcPath) || baseOf(e.path), e, () => src.open(e));
            continue;
          }
          if (e.type !== 'dir') continue;
          if (plan.isDir(destRel)) plan.ensureDir(destRel, null);
          else {
            plan.ensureDir(parentOf(destRel), { uid: 0, gid: 0 });
            plan.add({ name: destRel, type: 'dir', mode: modeWith(chmod, e.mode, true), ...own(e), mtimeNs: e.mtimeNs });
          }
          for (const f of walkSource(src, e.path)) {
            const rel = e.path === '' ? f.path : f.path.slice(e.path.length + 1);
            const name = destRel === '' ? rel : `${destRel}/${rel}`;
            const meta = { ...own(f), mtimeNs: f.mtimeNs };
            if (f.type === 'dir') plan.add({ name, type: 'dir', mode: modeWith(chmod, f.mode, true), ...meta });
            else if (f.type === 'symlink') plan.add({ name, type: 'symlink', mode: f.mode, linkname: f.linkname, ...meta });
            else if (f.type === 'file') plan.add({ name, type: 'file', mode: modeWith(chmod, f.mode, false), size: f.size, body: () => src.open(f), ...meta });
          }
        }
        const w = new TarWriter();
        const writing = plan.write(w, d.signal).catch((e: unknown) => {
          w.abort(e as Error);
          throw e;
        });
        const committing = d.stepImages.withLayer(s.image, s.platform, s.runConfig, createdBy, s.maintainer, w.stream).catch((e: unknown) => {
          w.abort(e as Error);
          throw e;
        });
        const [img] = await Promise.all([committing, writing]);
        return img;
      } finally {
        await root.release();
      }
    }, chmodText === '' ? 'layer' : 'no');
  } finally {
    const r = fromRoot as ImageRoot | null;
    await r?.release();
  }
}

interface Description {
  /** Per source: what it is and a fingerprint of its files (cache key input). */
  digests: string[];
  /** Per source: moby's `file:<sha>` / `dir:<sha>` (history text). */
  hashes: string[];
  /** Per source: its path or name. */
  names: string[];
}

const fromDescriptions = new Map<string, Description>();
const MAX_REMEMBERED_DESCRIPTIONS = 10_000;

async function describe(infos: CopyInfo[], src: SourceTree, preserveOwner: boolean, signal: AbortSignal): Promise<Description> {
  const owner = (e: SourceEntry): { uid: number; gid: number } => (preserveOwner ? { uid: e.uid, gid: e.gid } : { uid: 0, gid: 0 });
  const out: Description = { digests: [], hashes: [], names: [] };
  for (const info of infos) {
    signal.throwIfAborted();
    out.names.push(info.kind === 'path' ? info.srcPath : info.name);
    if (info.kind === 'path') {
      const e = info.entry;
      if (e.type === 'dir') {
        const files: FileFingerprint[] = [{ path: '.', type: 'dir', mode: e.mode, ...owner(e), content: '' }];
        for (const f of walkSource(src, e.path)) {
          const rel = e.path === '' ? f.path : f.path.slice(e.path.length + 1);
          files.push({ path: rel, type: f.type, mode: f.mode, ...owner(f), content: f.type === 'file' ? await src.sha256(f) : f.type === 'symlink' ? f.linkname : '' });
        }
        const fp = fingerprint(files);
        out.digests.push(`dir ${baseOf(info.srcPath)} ${fp}`);
        out.hashes.push(`dir:${fp}`);
      } else {
        const sha = e.type === 'file' ? await src.sha256(e) : e.linkname;
        out.digests.push(`file ${baseOf(info.srcPath)} ${fingerprint([{ path: '.', type: e.type, mode: e.mode, ...owner(e), content: sha }])}`);
        // Like moby's tarsum of the file's header and body: name, mode and owner count, mtime does not.
        out.hashes.push(`file:${fingerprint([{ path: baseOf(info.srcPath) || baseOf(e.path), type: e.type, mode: e.mode, ...owner(e), content: sha }])}`);
      }
    } else {
      const sha = info.kind === 'content' ? createHash('sha256').update(info.data).digest('hex') : info.sha256;
      out.digests.push(`${info.what} ${info.name} ${sha}`);
      out.hashes.push(`file:${fingerprint([{ path: info.name, type: 'file', mode: info.mode, uid: 0, gid: 0, content: sha }])}`);
    }
  }
  return out;
}
