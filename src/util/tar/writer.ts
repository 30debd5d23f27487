/**
 * util/tar/writer: streaming tar encoder (ustar blocks + pax records when a field does not
 * fit: long or non-ASCII names, big ids/sizes, xattrs as raw `SCHILY.xattr.*` bytes).
 * Output is a Readable with backpressure. It never reads the filesystem: callers hand it
 * headers and bodies.
 */
import { Readable } from 'node:stream';
import { InvalidArgumentError } from '../../errdefs/errors.js';
import {
  BLOCK,
  encodeHeaderBlock,
  encodePaxRecord,
  formatPaxTime,
  octalMax,
  splitUstarPath,
  typeflagOf,
} from './header.js';
import type { TarHeaderInput } from './types.js';

export interface TarWriterOptions {
  /** Write sub-second mtimes as pax `mtime` records (default false: whole seconds, reproducible). */
  subsecondMtime?: boolean;
  /** Bytes buffered in `stream` before `add()` waits for the consumer (default 1 MiB). */
  highWaterMark?: number;
}

export type TarBodyInput = Uint8Array | AsyncIterable<Uint8Array>;

const ZEROS = Buffer.alloc(BLOCK * 2);
const EMPTY = Buffer.alloc(0);
const NS = 1_000_000_000n;

/** pax keys the writer derives from header fields; copies in `header.pax` are dropped. */
function isDerivedPaxKey(k: string): boolean {
  return (
    k === 'path' ||
    k === 'linkpath' ||
    k === 'size' ||
    k === 'uid' ||
    k === 'gid' ||
    k === 'uname' ||
    k === 'gname' ||
    k === 'mtime' ||
    k.startsWith('SCHILY.xattr.') ||
    k.startsWith('LIBARCHIVE.xattr.')
  );
}

function isAscii(s: string, bytes: Buffer): boolean {
  return bytes.length === s.length;
}

/**
 * Writes a tar archive. Pipe `stream` somewhere, then `await add(…)` each entry in turn
 * (one at a time), then `await finish()`. `abort(err)` destroys the output.
 */
export class TarWriter {
  readonly stream: Readable;
  private waiters: Array<() => void> = [];
  private busy = false;
  private ended = false;
  private failure: Error | null = null;

  constructor(private readonly opts: TarWriterOptions = {}) {
    this.stream = new Readable({
      highWaterMark: opts.highWaterMark ?? 1024 * 1024,
      read: () => this.wake(),
      destroy: (err, cb) => {
        this.failure ??= err ?? new Error('tar output stream was destroyed');
        this.wake();
        cb(err);
      },
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async push(b: Buffer): Promise<void> {
    if (this.failure !== null) throw this.failure;
    if (b.length === 0) return;
    if (!this.stream.push(b)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      if (this.failure !== null) throw this.failure;
    }
  }

  /** Encodes the header (and a pax header before it when needed) into blocks. */
  encode(h: TarHeaderInput, size: number): Buffer {
    if (h.name === '') throw new InvalidArgumentError('tar entry name must not be empty');
    const pax = new Map<string, Uint8Array>();
    let name = h.name;
    if (h.type === 'directory' && !name.endsWith('/')) name += '/';
    const nameBytes = Buffer.from(name, 'utf8');
    const split = isAscii(name, nameBytes) ? splitUstarPath(nameBytes) : null;
    if (split === null) pax.set('path', nameBytes);
    const linkname = h.linkname ?? '';
    const linkBytes = Buffer.from(linkname, 'utf8');
    if (linkBytes.length > 100 || !isAscii(linkname, linkBytes)) pax.set('linkpath', linkBytes);

    const idMax = octalMax(8);
    const uid = h.uid ?? 0;
    const gid = h.gid ?? 0;
    for (const [k, v] of [['uid', uid], ['gid', gid]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(`tar entry "${h.name}": invalid ${k} ${v}`);
      if (v > idMax) pax.set(k, Buffer.from(String(v)));
    }
    if (size > octalMax(12)) pax.set('size', Buffer.from(String(size)));
    const mtimeNs = h.mtimeNs ?? 0n;
    // Floor division, so that negative times round towards the past as pax requires.
    let sec = mtimeNs / NS;
    if (mtimeNs < 0n && mtimeNs % NS !== 0n) sec -= 1n;
    const subsecond = mtimeNs % NS !== 0n && this.opts.subsecondMtime === true;
    if (sec < 0n || sec > BigInt(octalMax(12)) || subsecond) {
      pax.set('mtime', Buffer.from(subsecond ? formatPaxTime(mtimeNs) : sec.toString()));
    }
    const uname = h.uname ?? '';
    const gname = h.gname ?? '';
    const unameBytes = Buffer.from(uname, 'utf8');
    const gnameBytes = Buffer.from(gname, 'utf8');
    if (unameBytes.length > 32 || !isAscii(uname, unameBytes)) pax.set('uname', unameBytes);
    if (gnameBytes.length > 32 || !isAscii(gname, gnameBytes)) pax.set('gname', gnameBytes);
    if (h.xattrs !== undefined) {
      for (const [k, v] of h.xattrs) pax.set(`SCHILY.xattr.${k}`, v);
    }
    if (h.pax !== undefined) {
      for (const [k, v] of h.pax) if (!isDerivedPaxKey(k)) pax.set(k, v);
    }

    const secNum = sec < 0n || sec > BigInt(octalMax(12)) ? 0 : Number(sec);
    const block = encodeHeaderBlock({
      name: split?.name ?? nameBytes.subarray(0, 100),
      prefix: split?.prefix ?? EMPTY,
      linkname: linkBytes.subarray(0, 100),
      typeflag: typeflagOf(h.type, h.typeflag),
      mode: h.mode ?? (h.type === 'directory' ? 0o755 : 0o644),
      uid: uid > idMax ? 0 : uid,
      gid: gid > idMax ? 0 : gid,
      uname: unameBytes.subarray(0, 32),
      gname: gnameBytes.subarray(0, 32),
      size: size > octalMax(12) ? 0 : size,
      mtimeSec: secNum,
      devmajor: h.devmajor ?? 0,
      devminor: h.devminor ?? 0,
    });
    if (pax.size === 0) return block;

    const records = Buffer.concat([...pax].map(([k, v]) => encodePaxRecord(k, v)));
    // Like GNU tar: "<dir>/PaxHeaders/<base>", cut to fit; readers ignore this name.
    const slash = name.replace(/\/$/, '').lastIndexOf('/');
    const paxName = Buffer.from(
      slash === -1 ? `PaxHeaders/${name}` : `${name.slice(0, slash)}/PaxHeaders/${name.slice(slash + 1)}`,
      'utf8',
    );
    const paxBlock = encodeHeaderBlock({
      name: paxName.subarray(0, 100),
      prefix: EMPTY,
      linkname: EMPTY,
      typeflag: 'x',
      mode: 0o644,
      uid: 0,
      gid: 0,
      uname: EMPTY,
      gname: EMPTY,
      size: records.length,
      mtimeSec: secNum,
      devmajor: 0,
      devminor: 0,
    });
    const pad = (BLOCK - (records.length % BLOCK)) % BLOCK;
    return Buffer.concat([paxBlock, records, ZEROS.subarray(0, pad), block]);
  }

  /**
   * Appends one entry. For 'file' the body length must equal `header.size` (a Buffer body
   * defines the size when `header.size` is left out). Other types take no body.
   */
  async add(header: TarHeaderInput, body?: TarBodyInput): Promise<void> {
    if (this.busy) throw new InvalidArgumentError('TarWriter.add() called before the previous add() finished');
    if (this.ended) throw new InvalidArgumentError('TarWriter.add() called after finish()');
    this.busy = true;
    try {
      const hasBody = header.type === 'file' || header.type === 'other';
      if (!hasBody && body !== undefined) {
        throw new InvalidArgumentError(`tar entry "${header.name}" of type ${header.type} cannot have a body`);
      }
      const size = hasBody ? (header.size ?? (body instanceof Uint8Array ? body.length : 0)) : 0;
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new InvalidArgumentError(`tar entry "${header.name}": invalid size ${size}`);
      }
      await this.push(this.encode(header, size));
      let written = 0;
      if (body instanceof Uint8Array) {
        written = body.length;
        if (written === size) await this.push(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      } else if (body !== undefined) {
        for await (const chunk of body) {
          written += chunk.length;
          if (written > size) break;
          await this.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        }
      }
      if (written !== size) {
        const err = new InvalidArgumentError(
          `tar entry "${header.name}": body has ${written > size ? 'more than' : 'only'} ${written} bytes, header says ${size}`,
        );
        // The output is now corrupt: nothing after this may look like a valid archive.
        this.abort(err);
        throw err;
      }
      await this.push(ZEROS.subarray(0, (BLOCK - (size % BLOCK)) % BLOCK));
    } finally {
      this.busy = false;
    }
  }

  /** Writes the end-of-archive marker (two zero blocks) and ends the stream. */
  async finish(): Promise<void> {
    if (this.ended) return;
    await this.push(ZEROS);
    this.ended = true;
    this.stream.push(null);
  }

  /** Destroys the output stream with `err`; a pending or later `add()` rejects. */
  abort(err: Error): void {
    this.failure ??= err;
    this.stream.destroy(err);
  }
}
