/**
 * util/tar/reader: streaming tar parser. Turns a byte stream into entries one at a time,
 * applying pax (local + global), GNU long names and v7/ustar conventions, and checks
 * every header checksum. It never buffers a whole entry body (bodies are views into the
 * input chunks) and never touches the filesystem.
 *
 * Input chunks are used only while they are current (and one pull longer): anything kept
 * beyond that (headers, pax records, bytes spanning chunks) is copied. A producer may
 * therefore hand out the same two buffers in turn (images/blobChunks does).
 */
import type { Readable } from 'node:stream';
import { InvalidArgumentError } from '../../errdefs/errors.js';
import {
  BLOCK,
  checksumOk,
  entryType,
  isHeaderOnly,
  isZeroBlock,
  parseHeaderBlock,
  parsePaxRecords,
  parsePaxTime,
  type RawHeader,
} from './header.js';
import type { TarBody, TarEntry, TarHeader } from './types.js';

export interface ReadTarOptions {
  /**
   * After the end-of-archive marker, read and discard the rest of the input (default
   * true), so that a digest computed upstream (a layer's DiffID) covers every byte.
   */
  drainTrailing?: boolean;
  /** Largest pax or GNU long-name body accepted, in bytes (default 8 MiB): bounds memory. */
  maxMetaSize?: number;
  signal?: AbortSignal;
}

const DEFAULT_MAX_META = 8 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

function truncated(what: string): InvalidArgumentError {
  return new InvalidArgumentError(`tar archive is truncated: unexpected end of input in ${what}`);
}

/** Pulls chunks from the input and hands out exact-size pieces, copying only when a piece spans chunks. */
class ByteSource {
  private cur: Buffer = EMPTY;
  private pos = 0;
  private ended = false;
  /** Bytes pulled from the input so far. */
  bytesIn = 0;

  constructor(private readonly it: AsyncIterator<unknown>) {}

  /** Bytes handed out or skipped so far (the parser's offset in the archive). */
  get offset(): number {
    return this.bytesIn - (this.cur.length - this.pos);
  }

  private async pull(): Promise<boolean> {
    while (!this.ended) {
      const r = await this.it.next();
      if (r.done === true) {
        this.ended = true;
        break;
      }
      const v: unknown = r.value;
      let buf: Buffer;
      if (Buffer.isBuffer(v)) buf = v;
      else if (v instanceof Uint8Array) buf = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      else if (typeof v === 'string') buf = Buffer.from(v, 'latin1');
      else throw new InvalidArgumentError('tar input must be a stream of bytes');
      if (buf.length === 0) continue;
      this.cur = buf;
      this.pos = 0;
      this.bytesIn += buf.length;
      return true;
    }
    return false;
  }

  /** Exactly n bytes; null at a clean end of input (no byte read); throws on a partial read. */
  async readExact(n: number, what: string): Promise<Buffer | null> {
    const avail = this.cur.length - this.pos;
    if (avail >= n) {
      const b = this.cur.subarray(this.pos, this.pos + n);
      this.pos += n;
      return b;
    }
    // Copied as it arrives, never kept as views: the producer may reuse a chunk's memory
    // once later chunks have been pulled (see readTar).
    let out: Buffer | null = null;
    let got = 0;
    if (avail > 0) {
      out = Buffer.allocUnsafe(n);
      this.cur.copy(out, 0, this.pos);
      got = avail;
      this.pos = this.cur.length;
    }
    while (got < n) {
      if (!(await this.pull())) {
        if (got === 0) return null;
        throw truncated(what);
      }
      out ??= Buffer.allocUnsafe(n);
      const take = Math.min(n - got, this.cur.length);
      this.cur.copy(out, got, 0, take);
      this.pos = take;
      got += take;
    }
    return out;
  }

  /** Up to max bytes (at least one), as a view; null at end of input. */
  async chunk(max: number): Promise<Buffer | null> {
    if (this.pos >= this.cur.length && !(await this.pull())) return null;
    const take = Math.min(max, this.cur.length - this.pos);
    const b = this.cur.subarray(this.pos, this.pos + take);
    this.pos += take;
    return b;
  }

  /** Skips n bytes; false if the input ended first. */
  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      const avail = this.cur.length - this.pos;
      if (avail === 0) {
        if (!(await this.pull())) return false;
        continue;
      }
      const take = Math.min(n, avail);
      this.pos += take;
      n -= take;
    }
    return true;
  }

  async drain(): Promise<void> {
    this.pos = this.cur.length;
    while (await this.pull()) this.pos = this.cur.length;
  }

  get done(): boolean {
    return this.ended;
  }

  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      await this.it.return?.();
    }
  }
}

class Body implements TarBody {
  private left: number;
  private readonly padding: number;

  constructor(
    private readonly src: ByteSource,
    size: number,
    private readonly name: string,
  ) {
    this.left = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
  }

  get remaining(): number {
    return this.left;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    while (this.left > 0) {
      const c = await this.src.chunk(this.left);
      if (c === null) throw truncated(`the body of "${this.name}"`);
      this.left -= c.length;
      yield c;
    }
  }

  async skip(): Promise<void> {
    if (this.left > 0) {
      if (!(await this.src.skip(this.left))) throw truncated(`the body of "${this.name}"`);
      this.left = 0;
    }
  }

  async toBuffer(): Promise<Buffer> {
    // Copied piece by piece: the input's chunks may be reused once later ones are pulled.
    const out = Buffer.allocUnsafe(this.left);
    let off = 0;
    for await (const c of this) off += c.copy(out, off);
    return out.subarray(0, off);
  }

  /** Called by the reader before the next header: skips what the consumer left, then the padding. */
  async finish(): Promise<void> {
    await this.skip();
    // A missing final padding is tolerated only at the very end (some writers stop there).
    await this.src.skip(this.padding);
  }
}

function paxString(pax: Map<string, Buffer>, key: string): string | undefined {
  const v = pax.get(key);
  return v === undefined ? undefined : v.toString('utf8');
}

function paxNumber(pax: Map<string, Buffer>, key: string, name: string): number | undefined {
  const s = paxString(pax, key);
  if (s === undefined) return undefined;
  if (!/^[0-9]{1,16}$/.test(s) || Number(s) > Number.MAX_SAFE_INTEGER) {
    throw new InvalidArgumentError(`invalid tar pax header for "${name}": ${key}="${s}" is not a valid number`);
  }
  return Number(s);
}

/** libarchive percent-encodes xattr names in its LIBARCHIVE.xattr.* keys. */
function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] ?? 0;
    if (c === 0x25 && i + 2 < raw.length) {
      const h = Number.parseInt(raw.toString('latin1', i + 1, i + 3), 16);
      if (!Number.isNaN(h)) {
        bytes.push(h);
        i += 2;
        continue;
      }
    }
    bytes.push(c);
  }
  return Buffer.from(bytes).toString('utf8');
}

function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return b.toString('utf8', 0, z === -1 ? b.length : z);
}

function buildHeader(raw: RawHeader, pax: Map<string, Buffer>, longName: string | null, longLink: string | null): TarHeader {
  const name = paxString(pax, 'path') ?? longName ?? raw.name;
  for (const k of pax.keys()) {
    if (k.startsWith('GNU.sparse.')) {
      throw new InvalidArgumentError(`tar entry "${name}" is a GNU sparse file, which is not supported`);
    }
  }
  const type = entryType(raw.typeflag, name);
  const xattrs = new Map<string, Buffer>();
  // LIBARCHIVE first so that the raw SCHILY form wins when an archive carries both.
  for (const [k, v] of pax) {
    if (k.startsWith('LIBARCHIVE.xattr.')) {
      xattrs.set(percentDecode(k.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(v.toString('latin1'), 'base64'));
    }
  }
  for (const [k, v] of pax) {
    if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice('SCHILY.xattr.'.length), v);
  }
  const mtime = paxString(pax, 'mtime');
  const size = isHeaderOnly(type) ? 0 : (paxNumber(pax, 'size', name) ?? raw.size);
  return {
    name,
    linkname: paxString(pax, 'linkpath') ?? longLink ?? raw.linkname,
    type,
    typeflag: raw.typeflag,
    mode: raw.mode,
    uid: paxNumber(pax, 'uid', name) ?? raw.uid,
    gid: paxNumber(pax, 'gid', name) ?? raw.gid,
    uname: paxString(pax, 'uname') ?? raw.uname,
    gname: paxString(pax, 'gname') ?? raw.gname,
    size,
    mtimeNs: mtime !== undefined ? parsePaxTime(mtime) : BigInt(raw.mtimeSec) * 1_000_000_000n,
    devmajor: paxNumber(pax, 'SCHILY.devmajor', name) ?? raw.devmajor,
    devminor: paxNumber(pax, 'SCHILY.devminor', name) ?? raw.devminor,
    xattrs,
    pax,
  };
}

/**
 * An archive being read. Iterate it once with `for await`; each entry's body must be
 * consumed (or is skipped for you) before the next entry arrives. Leaving the loop early
 * or an error destroys the input stream.
 */
export class TarReader implements AsyncIterable<TarEntry> {
  private readonly src: ByteSource;
  private started = false;

  constructor(
    input: Readable | AsyncIterable<Uint8Array>,
    private readonly opts: ReadTarOptions = {},
  ) {
    this.src = new ByteSource(input[Symbol.asyncIterator]());
  }

  /** Bytes read from the input so far (after iteration: the whole input, trailing data included). */
  get bytesRead(): number {
    return this.src.bytesIn;
  }

  [Symbol.asyncIterator](): AsyncIterator<TarEntry> {
    if (this.started) throw new InvalidArgumentError('a tar archive can be iterated only once');
    this.started = true;
    return this.entries();
  }

  private async readMeta(raw: RawHeader, what: string): Promise<Buffer> {
    const max = this.opts.maxMetaSize ?? DEFAULT_MAX_META;
    if (raw.size > max) {
      throw new InvalidArgumentError(`tar ${what} of ${raw.size} bytes is larger than the limit of ${max}`);
    }
    const view = (await this.src.readExact(raw.size, what)) ?? EMPTY;
    if (view.length < raw.size) throw truncated(what);
    // A copy: skipping the padding below may pull the next chunk of a reused buffer.
    const data = Buffer.from(view);
    const pad = (BLOCK - (raw.size % BLOCK)) % BLOCK;
    if (!(await this.src.skip(pad))) throw truncated(what);
    return data;
  }

  private async *entries(): AsyncGenerator<TarEntry> {
    const src = this.src;
    const globals = new Map<string, Buffer>();
    let local: Map<string, Buffer> | null = null;
    let longName: string | null = null;
    let longLink: string | null = null;
    let prev: Body | null = null;
    let finished = false;
    try {
      for (;;) {
        this.opts.signal?.throwIfAborted();
        if (prev !== null) {
          await prev.finish();
          prev = null;
        }
        const offset = src.offset;
        const pendingMeta = local !== null || longName !== null || longLink !== null;
        const block = await src.readExact(BLOCK, 'a header');
        if (block === null) {
          // No end-of-archive marker: many writers omit it, GNU tar and Go accept that.
          if (pendingMeta) throw truncated('an entry announced by a pax or GNU long-name header');
          finished = true;
          return;
        }
        if (isZeroBlock(block)) {
          const second = await src.readExact(BLOCK, 'the end-of-archive marker');
          if (second !== null && !isZeroBlock(second)) {
            throw new InvalidArgumentError(`invalid tar archive: a lone zero block at offset ${offset} is followed by data`);
          }
          if (this.opts.drainTrailing ?? true) await src.drain();
          finished = true;
          return;
        }
        if (!checksumOk(block)) {
          throw new InvalidArgumentError(
            `invalid tar header at offset ${offset}: checksum mismatch (corrupt data, or not a tar archive)`,
          );
        }
        const raw = parseHeaderBlock(block);
        switch (raw.typeflag) {
          case 'x': {
            local ??= new Map();
            parsePaxRecords(await this.readMeta(raw, 'pax header'), local);
            continue;
          }
          case 'g': {
            const g = new Map<string, Buffer>();
            parsePaxRecords(await this.readMeta(raw, 'pax global header'), g);
            for (const [k, v] of g) {
              if (v.length === 0) globals.delete(k);
              else globals.set(k, v);
            }
            continue;
          }
          case 'L':
            longName = cstr(await this.readMeta(raw, 'GNU long name'));
            continue;
          case 'K':
            longLink = cstr(await this.readMeta(raw, 'GNU long link name'));
            continue;
          case 'S':
            throw new InvalidArgumentError(
              `tar entry "${longName ?? raw.name}" is an old-GNU sparse file, which is not supported`,
            );
          default:
            break;
        }
        const pax = new Map(globals);
        if (local !== null) {
          // An empty local value unsets the global one (POSIX pax).
          for (const [k, v] of local) {
            if (v.length === 0) pax.delete(k);
            else pax.set(k, v);
          }
        }
        const header = buildHeader(raw, pax, longName, longLink);
        local = null;
        longName = null;
        longLink = null;
        prev = new Body(src, header.size, header.name);
        yield { header, body: prev };
      }
    } finally {
      if (!finished) await src.close();
    }
  }
}

/** Reads a tar stream entry by entry: `for await (const { header, body } of readTar(stream)) …`. */
export function readTar(input: Readable | AsyncIterable<Uint8Array>, opts: ReadTarOptions = {}): TarReader {
  return new TarReader(input, opts);
}
