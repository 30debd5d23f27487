/**
 * network/dnsCodec: the part of the DNS wire format (RFC 1035) the embedded
 * resolver needs — read a query's header and questions (compression pointers
 * followed, loops refused), write an answer with A or PTR records. Pure;
 * never trusts a length it has not checked against the buffer.
 */

export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
export const CLASS_IN = 1;

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;

export interface Question {
  /** Lower case, no trailing dot ("web", "4.3.2.10.in-addr.arpa"). */
  name: string;
  type: number;
  class: number;
}

export interface DnsQuery {
  id: number;
  /** The raw flags word of the query. */
  flags: number;
  opcode: number;
  /** QR bit: true for a response. */
  response: boolean;
  recursionDesired: boolean;
  questions: Question[];
}

export type Answer = { name: string; type: typeof TYPE_A; ttl: number; ipv4: number } | { name: string; type: typeof TYPE_PTR; ttl: number; target: string };

export class DnsFormatError extends Error {}

/** Reads a (possibly compressed) name at `off`; returns it and the offset after it in the original stream. */
function readName(buf: Buffer, off: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = off;
  let next = -1;
  let jumps = 0;
  let total = 0;
  for (;;) {
    if (pos >= buf.length) throw new DnsFormatError('name runs past the message');
    const len = buf[pos] as number;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw new DnsFormatError('truncated compression pointer');
      if (++jumps > 16) throw new DnsFormatError('compression loop');
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | (buf[pos + 1] as number);
      continue;
    }
    if ((len & 0xc0) !== 0) throw new DnsFormatError('unknown label type');
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    if (pos + 1 + len > buf.length) throw new DnsFormatError('label runs past the message');
    total += len + 1;
    if (total > 255) throw new DnsFormatError('name longer than 255 bytes');
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return { name: labels.join('.').toLowerCase(), next };
}

export function parseQuery(buf: Buffer): DnsQuery {
  if (buf.length < 12) throw new DnsFormatError('message shorter than its header');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4);
  if (qd > 4) throw new DnsFormatError('too many questions');
  let off = 12;
  const questions: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const { name, next } = readName(buf, off);
    if (next + 4 > buf.length) throw new DnsFormatError('question runs past the message');
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    off = next + 4;
  }
  return { id, flags, opcode: (flags >> 11) & 0xf, response: (flags & 0x8000) !== 0, recursionDesired: (flags & 0x0100) !== 0, questions };
}

function encodeName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.split('.').filter((l) => l !== '')) {
    const b = Buffer.from(label, 'latin1').subarray(0, 63);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/**
 * An answer to `q`: its question echoed, `answers` after it (a name equal to
 * the first question's is written as a pointer to it), authoritative for our
 * own names, recursion offered as the query asked.
 */
export function buildResponse(q: DnsQuery, rcode: number, answers: readonly Answer[], opts: { authoritative?: boolean; recursionAvailable?: boolean } = {}): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  let flags = 0x8000 | (q.opcode << 11) | (rcode & 0xf);
  if (opts.authoritative) flags |= 0x0400;
  if (q.recursionDesired) flags |= 0x0100;
  if (opts.recursionAvailable ?? true) flags |= 0x0080;
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(q.questions.length, 4);
  header.writeUInt16BE(answers.length, 6);
  const parts: Buffer[] = [header];
  for (const question of q.questions) {
    const tail = Buffer.alloc(4);
    tail.writeUInt16BE(question.type, 0);
    tail.writeUInt16BE(question.class, 2);
    parts.push(encodeName(question.name), tail);
  }
  const first = q.questions[0]?.name;
  for (const a of answers) {
    const name = first !== undefined && a.name === first ? Buffer.from([0xc0, 12]) : encodeName(a.name);
    const data = a.type === TYPE_A ? ipv4Bytes(a.ipv4) : encodeName(a.target);
    const rr = Buffer.alloc(10);
    rr.writeUInt16BE(a.type, 0);
    rr.writeUInt16BE(CLASS_IN, 2);
    rr.writeUInt32BE(a.ttl, 4);
    rr.writeUInt16BE(data.length, 8);
    parts.push(name, rr, data);
  }
  return Buffer.concat(parts);
}

function ipv4Bytes(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** An error answer for a message too broken to parse beyond its ID (FORMERR), or null if not even that. */
export function formatErrorResponse(buf: Buffer): Buffer | null {
  if (buf.length < 12) return null;
  const out = Buffer.alloc(12);
  buf.copy(out, 0, 0, 2);
  out.writeUInt16BE(0x8000 | (buf.readUInt16BE(2) & 0x7800) | RCODE_FORMERR, 2);
  return out;
}

/** "4.3.2.10.in-addr.arpa" → 10.2.3.4 as a number; null for any other name. */
export function reverseNameToIPv4(name: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (!m) return null;
  const o = [m[4], m[3], m[2], m[1]].map(Number);
  if (o.some((x) => x > 255)) return null;
  return (((o[0] as number) << 24) | ((o[1] as number) << 16) | ((o[2] as number) << 8) | (o[3] as number)) >>> 0;
}
