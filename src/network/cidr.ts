/**
 * network/cidr: IPv4 addresses and prefixes as unsigned 32-bit numbers —
 * parse, format, contain, overlap. Pure; the engine's networks are IPv4 only
 * (EnableIPv6 is refused), so nothing here knows IPv6.
 */
import { InvalidArgumentError } from '../errdefs/errors.js';

/** A network prefix: `addr` is the first address (host bits zero). */
export interface Prefix {
  addr: number;
  bits: number;
}

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** Dotted quad → number, or null when `s` is not one. */
export function parseIPv4(s: string): number | null {
  const m = IPV4.exec(s);
  if (!m) return null;
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

export function formatIPv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** "10.1.2.3/24" → the address as written and its prefix length; throws Docker's 400 otherwise. */
export function parseCidrAddress(s: string): { ip: number; bits: number } {
  const slash = s.indexOf('/');
  const ip = slash > 0 ? parseIPv4(s.slice(0, slash)) : null;
  const bitsText = slash > 0 ? s.slice(slash + 1) : '';
  const bits = /^\d{1,2}$/.test(bitsText) ? Number(bitsText) : -1;
  if (ip === null || bits < 0 || bits > 32) throw new InvalidArgumentError(`invalid CIDR address: ${s}`);
  return { ip, bits };
}

/** A prefix whose host bits must be zero (Docker: "invalid subnet 10.1.2.3/24: it should be 10.1.2.0/24"). */
export function parsePrefix(s: string, what = 'subnet'): Prefix {
  const { ip, bits } = parseCidrAddress(s);
  const addr = (ip & mask(bits)) >>> 0;
  if (addr !== ip) throw new InvalidArgumentError(`invalid ${what} ${s}: it should be ${formatIPv4(addr)}/${bits}`);
  return { addr, bits };
}

export function formatPrefix(p: Prefix): string {
  return `${formatIPv4(p.addr)}/${p.bits}`;
}

export function contains(p: Prefix, ip: number): boolean {
  return ((ip & mask(p.bits)) >>> 0) === p.addr;
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  const bits = Math.min(a.bits, b.bits);
  return ((a.addr & mask(bits)) >>> 0) === ((b.addr & mask(bits)) >>> 0);
}

/** The last address of a prefix (its broadcast address). */
export function lastAddress(p: Prefix): number {
  return (p.addr | ~mask(p.bits)) >>> 0;
}

/** Number of addresses in a prefix. */
export function size(p: Prefix): number {
  return 2 ** (32 - p.bits);
}
