/**
 * util/tar/header: the 512-byte header block and pax record codec (ustar, pax, GNU, v7).
 * Owns field layout, numeric encodings (octal, GNU base-256), checksums and pax record
 * syntax. Pure functions on Buffers: never does I/O and never decides stream framing.
 */
import { InvalidArgumentError } from '../../errdefs/errors.js';
import type { TarEntryType } from './types.js';

export const BLOCK = 512;

// Field offsets and widths of the ustar header (POSIX.1-1988 + GNU variants).
const NAME = 0, NAME_LEN = 100;
const MODE = 100, UID = 108, GID = 116, SIZE = 124, MTIME = 136, CHKSUM = 148;
const TYPEFLAG = 156, LINKNAME = 157, LINKNAME_LEN = 100;
const MAGIC = 257, UNAME = 265, GNAME = 297, DEVMAJOR = 329, DEVMINOR = 337;
const PREFIX = 345, PREFIX_LEN = 155, STAR_PREFIX_LEN = 131, STAR_TRAILER = 508;

const ZERO_BLOCK = Buffer.alloc(BLOCK);

export function isZeroBlock(b: Buffer): boolean {
  return b.equals(ZERO_BLOCK);
}

/** A header block as stored, before pax/GNU meta headers are applied. */
export interface RawHeader {
  name: string;
  linkname: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  size: number;
  mtimeSec: number;
  devmajor: number;
  devminor: number;
  format: 'ustar' | 'gnu' | 'v7';
}

function cstring(b: Buffer, start: number, len: number): string {
  let end = b.indexOf(0, start);
  if (end === -1 || end > start + len) end = start + len;
  return b.toString('utf8', start, end);
}

/** Octal (optionally space/NUL padded) or GNU base-256; returns a Number (throws past 2^53). */
export function parseNumeric(b: Buffer, start: number, len: number, field: string): number {
  const first = b[start] ?? 0;
  if ((first & 0x80) !== 0) {
    // GNU base-256: big-endian two's complement, top bit of the first byte is the marker.
    const inv = (first & 0x40) !== 0 ? 0xff : 0;
    let x = 0n;
    for (let i = 0; i < len; i++) {
      let c = (b[start + i] ?? 0) ^ inv;
      if (i === 0) c &= 0x7f;
      x = (x << 8n) | BigInt(c);
    }
    if (inv) x = -x - 1n;
    if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new InvalidArgumentError(`invalid tar header: ${field} is out of range`);
    }
    return Number(x);
  }
  let i = start;
  let end = start + len;
  while (end > i && (b[end - 1] === 0 || b[end - 1] === 0x20)) end--;
  while (i < end && b[i] === 0x20) i++;
  let v = 0;
  for (; i < end; i++) {
    const c = b[i] ?? 0;
    if (c < 0x30 || c > 0x37) {
      throw new InvalidArgumentError(`invalid tar header: ${field} is not an octal number`);
    }
    v = v * 8 + (c - 0x30);
  }
  return v;
}

/**
 * Verifies the checksum: the sum of all bytes with the checksum field read as spaces.
 * Historic tars summed signed chars, so both sums are accepted (as GNU tar and Go do).
 */
export function checksumOk(b: Buffer): boolean {
  let stored: number;
  try {
    stored = parseNumeric(b, CHKSUM, 8, 'checksum');
  } catch {
    return false;
  }
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= CHKSUM && i < CHKSUM + 8 ? 0x20 : (b[i] ?? 0);
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === unsigned || stored === signed;
}

export function parseHeaderBlock(b: Buffer): RawHeader {
  const isUstarMagic = b[MAGIC] === 0x75 && b.toString('latin1', MAGIC, MAGIC + 6) === 'ustar\0';
  const isGnuMagic = b.toString('latin1', MAGIC, MAGIC + 8) === 'ustar  \0';
  const format = isGnuMagic ? 'gnu' : isUstarMagic ? 'ustar' : 'v7';
  let name = cstring(b, NAME, NAME_LEN);
  if (format === 'ustar') {
    // star puts atime/ctime after a 131-byte prefix and marks it with "tar\0" at 508.
    const star = b.toString('latin1', STAR_TRAILER, STAR_TRAILER + 4) === 'tar\0';
    const prefix = cstring(b, PREFIX, star ? STAR_PREFIX_LEN : PREFIX_LEN);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  const typeflag = String.fromCharCode(b[TYPEFLAG] ?? 0);
  const hasUstarFields = format !== 'v7';
  return {
    name,
    linkname: cstring(b, LINKNAME, LINKNAME_LEN),
    typeflag,
    mode: parseNumeric(b, MODE, 8, 'mode') & 0o7777,
    uid: parseNumeric(b, UID, 8, 'uid'),
    gid: parseNumeric(b, GID, 8, 'gid'),
    uname: hasUstarFields ? cstring(b, UNAME, 32) : '',
    gname: hasUstarFields ? cstring(b, GNAME, 32) : '',
    size: parseNumeric(b, SIZE, 12, 'size'),
    mtimeSec: parseNumeric(b, MTIME, 12, 'mtime'),
    devmajor: hasUstarFields ? parseNumeric(b, DEVMAJOR, 8, 'devmajor') : 0,
    devminor: hasUstarFields ? parseNumeric(b, DEVMINOR, 8, 'devminor') : 0,
    format,
  };
}

/** typeflag → entry type; meta headers (x, g, L, K) are handled by the reader, not here. */
export function entryType(typeflag: string, name: string): TarEntryType {
  switch (typeflag) {
    case '\0':
      // v7 marked directories only by a trailing slash.
      return name.endsWith('/') ? 'directory' : 'file';
    case '0':
    case '7': // contiguous file: a plain file everywhere that matters
      return 'file';
    case '1':
      return 'link';
    case '2':
      return 'symlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '5':
    case 'D': // GNU dumpdir: a directory whose body lists its contents
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return 'other';
  }
}

const TYPEFLAG_OF: Record<Exclude<TarEntryType, 'other'>, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  directory: '5',
  fifo: '6',
};
export function typeflagOf(type: TarEntryType, typeflag?: string): string {
  if (type === 'other') {
    if (typeflag === undefined || typeflag.length !== 1) {
      throw new InvalidArgumentError('tar entry of type "other" needs a one-character typeflag');
    }
    return typeflag;
  }
  return TYPEFLAG_OF[type];
}

/** Types whose size field is ignored because they carry no body (as Go's archive/tar does). */
export function isHeaderOnly(type: TarEntryType): boolean {
  return type !== 'file' && type !== 'other';
}

// ---- pax records: "<len> <key>=<value>\n", len counting the whole record in bytes ----

export function parsePaxRecords(data: Buffer, into: Map<string, Buffer>): void {
  let pos = 0;
  while (pos < data.length) {
    // GNU tar pads pax bodies with NULs in some versions; stop at the first one.
    if (data[pos] === 0) break;
    const sp = data.indexOf(0x20, pos);
    if (sp === -1 || sp - pos > 20) throw new InvalidArgumentError('invalid tar pax header: malformed record length');
    const lenStr = data.toString('latin1', pos, sp);
    if (!/^[0-9]+$/.test(lenStr)) throw new InvalidArgumentError('invalid tar pax header: malformed record length');
    const len = Number(lenStr);
    const end = pos + len;
    if (len <= sp - pos + 1 || end > data.length || data[end - 1] !== 0x0a) {
      throw new InvalidArgumentError('invalid tar pax header: record length does not match its contents');
    }
    const eq = data.indexOf(0x3d, sp + 1);
    if (eq === -1 || eq >= end - 1) throw new InvalidArgumentError('invalid tar pax header: record without "="');
    const key = data.toString('utf8', sp + 1, eq);
    // Copy: the value outlives the chunk it came from.
    into.set(key, Buffer.from(data.subarray(eq + 1, end - 1)));
    pos = end;
  }
}

export function encodePaxRecord(key: string, value: Uint8Array): Buffer {
  const body = Buffer.byteLength(key) + value.length + 3; // ' ', '=', '\n'
  // The length prefix counts its own digits; adding them can add one more digit.
  const digits = String(body).length;
  let len = body + digits;
  if (String(len).length > digits) len += 1;
  const out = Buffer.allocUnsafe(len);
  let o = out.write(`${len} ${key}=`, 0, 'utf8');
  out.set(value, o);
  o += value.length;
  out[o] = 0x0a;
  return out;
}

/** Parses a pax time ("1700000000", "1700000000.123456789", "-1.5") into nanoseconds. */
export function parsePaxTime(s: string): bigint {
  const m = /^(-?)([0-9]+)(?:\.([0-9]*))?$/.exec(s);
  if (m === null) throw new InvalidArgumentError(`invalid tar pax header: bad time "${s}"`);
  const frac = (m[3] ?? '').slice(0, 9).padEnd(9, '0');
  const ns = BigInt(m[2] ?? '0') * 1_000_000_000n + BigInt(frac);
  return m[1] === '-' ? -ns : ns;
}

export function formatPaxTime(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  const sec = a / 1_000_000_000n;
  const frac = a % 1_000_000_000n;
  const fracStr = frac === 0n ? '' : `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${neg ? '-' : ''}${sec}${fracStr}`;
}

// ---- header encoding ----

export interface EncodeFields {
  name: Buffer;
  linkname: Buffer;
  prefix: Buffer;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  uname: Buffer;
  gname: Buffer;
  size: number;
  mtimeSec: number;
  devmajor: number;
  devminor: number;
}

/** Largest value an octal field of `len` bytes holds (len-1 digits + NUL). */
export function octalMax(len: number): number {
  return 8 ** (len - 1) - 1;
}

function writeOctal(b: Buffer, off: number, len: number, v: number): void {
  const s = v.toString(8).padStart(len - 1, '0');
  b.write(s, off, len - 1, 'latin1');
  b[off + len - 1] = 0;
}

function writeNumeric(b: Buffer, off: number, len: number, v: number): void {
  if (v >= 0 && v <= octalMax(len)) {
    writeOctal(b, off, len, v);
    return;
  }
  if (v < 0) throw new InvalidArgumentError(`tar header field cannot hold negative value ${v}`);
  // GNU base-256 for what octal cannot hold (GNU tar and Go read it).
  let x = BigInt(v);
  for (let i = len - 1; i >= 1; i--) {
    b[off + i] = Number(x & 0xffn);
    x >>= 8n;
  }
  b[off] = 0x80;
}

function writeBytes(b: Buffer, off: number, len: number, src: Buffer): void {
  src.copy(b, off, 0, Math.min(len, src.length));
}

export function encodeHeaderBlock(f: EncodeFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  writeBytes(b, NAME, NAME_LEN, f.name);
  writeOctal(b, MODE, 8, f.mode & 0o7777);
  writeNumeric(b, UID, 8, f.uid);
  writeNumeric(b, GID, 8, f.gid);
  writeNumeric(b, SIZE, 12, f.size);
  writeNumeric(b, MTIME, 12, f.mtimeSec);
  b[TYPEFLAG] = f.typeflag.charCodeAt(0);
  writeBytes(b, LINKNAME, LINKNAME_LEN, f.linkname);
  b.write('ustar\x0000', MAGIC, 8, 'latin1');
  writeBytes(b, UNAME, 32, f.uname);
  writeBytes(b, GNAME, 32, f.gname);
  writeNumeric(b, DEVMAJOR, 8, f.devmajor);
  writeNumeric(b, DEVMINOR, 8, f.devminor);
  writeBytes(b, PREFIX, PREFIX_LEN, f.prefix);
  let sum = 0;
  b.fill(0x20, CHKSUM, CHKSUM + 8);
  for (let i = 0; i < BLOCK; i++) sum += b[i] ?? 0;
  b.write(sum.toString(8).padStart(6, '0'), CHKSUM, 6, 'latin1');
  b[CHKSUM + 6] = 0;
  b[CHKSUM + 7] = 0x20;
  return b;
}

/**
 * Splits a path into ustar prefix + name when it fits (name ≤ 100 bytes, prefix ≤ 155,
 * cut at a '/'). Returns null when it does not: the writer then needs a pax `path`.
 */
export function splitUstarPath(p: Buffer): { prefix: Buffer; name: Buffer } | null {
  if (p.length <= NAME_LEN) return { prefix: Buffer.alloc(0), name: p };
  if (p.length > NAME_LEN + PREFIX_LEN + 1) return null;
  // The cut is the first '/' that leaves a name of at most 100 bytes.
  for (let i = Math.max(1, p.length - NAME_LEN - 1); i <= PREFIX_LEN && i < p.length - 1; i++) {
    if (p[i] === 0x2f) return { prefix: p.subarray(0, i), name: p.subarray(i + 1) };
  }
  return null;
}
