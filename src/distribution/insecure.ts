/**
 * distribution/insecure: decides whether a registry is "insecure" as moby's
 * registry.isSecureIndex does — named exactly in the insecure-registries list,
 * or a host whose IP (literal or resolved) lies in one of the list's CIDRs or
 * in the default insecure CIDRs 127.0.0.0/8 and ::1/128. Insecure registries
 * are tried over HTTPS without certificate checks, then over plain HTTP.
 * Only decides; never opens a connection to the registry.
 */
import { isIP } from 'node:net';

const DEFAULT_CIDRS = ['127.0.0.0/8', '::1/128'];

/** "host:port", "[v6]:port", "host" → host without brackets. */
export function hostOf(domain: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(domain);
  if (v6?.[1]) return v6[1];
  return domain.replace(/:\d+$/, '');
}

function ipToBigInt(ip: string): { v: bigint; bits: number } | null {
  const fam = isIP(ip);
  if (fam === 4) {
    const parts = ip.split('.').map(Number);
    return { v: parts.reduce((a, p) => (a << 8n) | BigInt(p), 0n), bits: 32 };
  }
  if (fam !== 6) return null;
  // An IPv4-mapped address is matched as IPv4, as Go's net.IPNet.Contains does.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return ipToBigInt(mapped[1]);
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return { v: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 };
}

/** Whether `s` is a CIDR ("10.0.0.0/8", "fd00::/8"). */
export function isCidr(s: string): boolean {
  const m = /^(.+)\/(\d{1,3})$/.exec(s);
  if (!m?.[1] || !m[2]) return false;
  const fam = isIP(m[1]);
  return fam !== 0 && Number(m[2]) <= (fam === 4 ? 32 : 128);
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [net = '', len = ''] = cidr.split('/');
  const a = ipToBigInt(net);
  const b = ipToBigInt(ip);
  if (!a || !b || a.bits !== b.bits) return false;
  const shift = BigInt(a.bits - Number(len));
  return a.v >> shift === b.v >> shift;
}

/** moby isSecureIndex, negated. `resolve` is swappable for tests. */
export async function isInsecureRegistry(
  domain: string,
  list: readonly string[] = [],
  resolve: (host: string) => Promise<string[]> = async (h) =>
    // Loaded on first use: dns/promises is ~0.3 MB resident in a daemon that may never need it (B100).
    (await process.getBuiltinModule('node:dns/promises').lookup(h, { all: true })).map((a) => a.address),
): Promise<boolean> {
  if (list.includes(domain)) return true;
  // moby keeps the official index secure whatever the CIDRs say.
  if (domain === 'docker.io' || domain === 'registry-1.docker.io') return false;
  const cidrs = [...DEFAULT_CIDRS, ...list.filter(isCidr)];
  const host = hostOf(domain);
  let ips: string[];
  if (isIP(host)) ips = [host];
  else {
    try {
      ips = await resolve(host);
    } catch {
      // moby: a name that does not resolve is treated as secure (the HTTPS attempt then reports it).
      return false;
    }
  }
  return ips.some((ip) => cidrs.some((c) => cidrContains(c, ip)));
}
