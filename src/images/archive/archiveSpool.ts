/**
 * images/archive/archiveSpool: reads an image archive (a `docker save` tar or
 * an OCI layout tar) as one stream and puts every regular member into the
 * content store, keyed by its digest, since `manifest.json` may come after
 * the layers it names. Only the few top-level metadata files are kept in
 * memory, each under a size limit. A member under `blobs/sha256/<hex>` must
 * hash to `<hex>`. It never writes a member to a path made from its name and
 * never registers anything: the caller decides what the members mean and
 * deletes what it does not keep (`wrote`).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { InvalidArgumentError } from '../../errdefs/errors.js';
import type { ContentStore } from '../../content/contentStore.js';
import { readTar } from '../../util/tar/reader.js';
import type { TarBody } from '../../util/tar/types.js';
import type { Digest } from '../../util/digest.js';
import { cleanMemberPath, LinkTable } from './memberPaths.js';

/** Top-level files read into memory, with their limits. */
const METADATA_LIMITS: Record<string, number> = {
  'manifest.json': 16 * 1024 * 1024,
  'index.json': 4 * 1024 * 1024,
  'oci-layout': 64 * 1024,
  repositories: 16 * 1024 * 1024,
};

/** More members than this is not an image archive but an attack on the content store. */
export const MAX_MEMBERS = 100_000;

/** Bytes of each member kept to sniff its compression. */
const HEAD_BYTES = 8;

export interface SpooledMember {
  digest: Digest;
  size: number;
  /** First bytes, to tell a plain tar from a compressed one. */
  head: Buffer;
}

export interface SpooledArchive {
  /** Regular members by clean path. */
  members: Map<string, SpooledMember>;
  /** Members by digest (any path). */
  byDigest: Map<Digest, SpooledMember>;
  links: LinkTable;
  metadata: Map<string, Buffer>;
  /** Blobs this spool added to the content store (the caller deletes the unused ones). */
  wrote: Set<Digest>;
}

export interface SpoolOptions {
  signal?: AbortSignal;
  /** Called with the bytes read so far, at most every 100 ms. */
  onBytes?: (n: number) => void;
}

const BLOB_PATH = /^blobs\/sha256\/([a-f0-9]{64})$/;

async function readLimited(body: TarBody, name: string, limit: number): Promise<Buffer> {
  if (body.remaining > limit) throw new InvalidArgumentError(`invalid archive: "${name}" is ${body.remaining} bytes, over the ${limit}-byte limit`);
  return body.toBuffer();
}

/**
 * Reads the whole archive `input` (plain tar bytes) into the content store.
 * On failure, what it wrote is deleted again before the error is thrown.
 */
export async function spoolArchive(input: Readable, content: ContentStore, opts: SpoolOptions = {}): Promise<SpooledArchive> {
  const out: SpooledArchive = { members: new Map(), byDigest: new Map(), links: new LinkTable(), metadata: new Map(), wrote: new Set() };
  let count = 0;
  let lastReport = 0;
  const reader = readTar(input, opts.signal ? { signal: opts.signal } : {});
  try {
    for await (const { header, body } of reader) {
      if (++count > MAX_MEMBERS) throw new InvalidArgumentError(`invalid archive: more than ${MAX_MEMBERS} members`);
      const name = cleanMemberPath(header.name);
      if (header.type === 'directory') continue;
      if (header.type === 'symlink' || header.type === 'link') {
        if (name === '') throw new InvalidArgumentError(`invalid archive: a link replaces the archive root`);
        // Hardlink targets are archive paths; they are cleaned (and checked) as member names.
        const target = header.type === 'link' ? cleanMemberPath(header.linkname) : header.linkname;
        out.links.add(name, header.type === 'link' ? 'hardlink' : 'symlink', target);
        out.members.delete(name);
        out.metadata.delete(name);
        continue;
      }
      if (header.type !== 'file') continue;
      if (name === '') throw new InvalidArgumentError('invalid archive: a file replaces the archive root');
      out.links.remove(name);
      const limit = METADATA_LIMITS[name];
      if (limit !== undefined) {
        out.metadata.set(name, await readLimited(body, name, limit));
        continue;
      }
      const member = await spoolOne(body, name, content, out.wrote, opts, () => {
        if (opts.onBytes && Date.now() - lastReport > 100) {
          lastReport = Date.now();
          opts.onBytes(reader.bytesRead);
        }
      });
      const m = BLOB_PATH.exec(name);
      if (m && `sha256:${m[1]}` !== member.digest) {
        throw new InvalidArgumentError(`invalid archive: blob "${name}" does not match its digest (got ${member.digest})`);
      }
      out.members.set(name, member);
      out.byDigest.set(member.digest, member);
    }
    opts.onBytes?.(reader.bytesRead);
    return out;
  } catch (e) {
    for (const d of out.wrote) await content.delete(d).catch(() => undefined);
    throw e;
  }
}

/** Streams one member into the content store; a blob already there is not written again (nor claimed). */
async function spoolOne(
  body: TarBody,
  name: string,
  content: ContentStore,
  wrote: Set<Digest>,
  opts: SpoolOptions,
  tick: () => void,
): Promise<SpooledMember> {
  const size = body.remaining;
  const writer = await content.writer({ size });
  // Our own hash tells us the digest before commit, so a blob someone else
  // already stored is left alone (and never deleted by our cleanup).
  const hash = createHash('sha256');
  const heads: Buffer[] = [];
  let headLen = 0;
  try {
    for await (const chunk of body) {
      opts.signal?.throwIfAborted();
      hash.update(chunk);
      if (headLen < HEAD_BYTES) {
        const part = Buffer.from(chunk.subarray(0, HEAD_BYTES - headLen));
        heads.push(part);
        headLen += part.length;
      }
      await writer.write(chunk);
      tick();
    }
    const digest: Digest = `sha256:${hash.digest('hex')}`;
    const head = Buffer.concat(heads);
    if (await content.has(digest)) {
      await writer.abort();
      return { digest, size, head };
    }
    const info = await writer.commit();
    wrote.add(info.digest);
    return { digest: info.digest, size: info.size, head };
  } catch (e) {
    await writer.abort();
    if (e instanceof InvalidArgumentError) throw new InvalidArgumentError(`invalid archive: member "${name}": ${e.message}`);
    throw e;
  }
}
