/**
 * network/addressPool: where a network's subnet comes from when the user does
 * not name one — Docker's default address pools (`--default-address-pool
 * base=CIDR,size=N`), handing out the first subnet that overlaps nothing in
 * use (the engine's networks and the host's routes). Pure.
 */
import { InvalidArgumentError } from '../errdefs/errors.js';
import { formatPrefix, mask, overlaps, parsePrefix, size, type Prefix } from './cidr.js';

export interface AddressPool {
  base: Prefix;
  /** Prefix length of each subnet handed out. */
  size: number;
}

/** dockerd's defaults (libnetwork/ipamutils): 172.17–31.0.0/16 as /16s, then 192.168.0.0/16 as /20s. */
export function defaultAddressPools(): AddressPool[] {
  const pools: AddressPool[] = [];
  for (let b = 17; b <= 31; b++) pools.push({ base: { addr: ((172 << 24) | (b << 16)) >>> 0, bits: 16 }, size: 16 });
  pools.push({ base: { addr: ((192 << 24) | (168 << 16)) >>> 0, bits: 16 }, size: 20 });
  return pools;
}

/** `base=10.10.0.0/16,size=24` (the flag's form; keys in any order). */
export function parseAddressPool(value: string): AddressPool {
  let base: Prefix | null = null;
  let sz = -1;
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    if (k === 'base') base = parsePrefix(v, 'address pool base');
    else if (k === 'size') sz = /^\d{1,2}$/.test(v) ? Number(v) : -1;
    else throw new InvalidArgumentError(`invalid default address pool "${value}": unknown field "${k}"`);
  }
  if (base === null) throw new InvalidArgumentError(`invalid default address pool "${value}": base is missing`);
  if (sz < base.bits || sz > 30) throw new InvalidArgumentError(`invalid default address pool "${value}": size must be between ${base.bits} and 30`);
  return { base, size: sz };
}

/** The first subnet of the pools that overlaps none of `used`; null when all are taken. */
export function allocateSubnet(pools: readonly AddressPool[], used: readonly Prefix[]): Prefix | null {
  for (const pool of pools) {
    const step = size({ addr: 0, bits: pool.size });
    const count = size(pool.base) / step;
    for (let i = 0; i < count; i++) {
      const cand: Prefix = { addr: ((pool.base.addr + i * step) & mask(pool.size)) >>> 0, bits: pool.size };
      const clash = used.find((u) => overlaps(u, cand));
      if (!clash) return cand;
      // Skip past a large clash at once rather than stepping through it.
      if (clash.bits < pool.size) {
        const end = clash.addr + size(clash);
        const skip = Math.ceil((end - pool.base.addr) / step) - 1;
        if (skip > i) i = skip;
      }
    }
  }
  return null;
}

export function describePools(pools: readonly AddressPool[]): string {
  return pools.map((p) => `base=${formatPrefix(p.base)},size=${p.size}`).join(' ');
}
