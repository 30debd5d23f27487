/**
 * network/bridgeDevice: the Linux bridge behind each engine network (created
 * before any container joins, so the gateway address exists for the
 * embedded DNS server and the CNI bridge plugin finds it ready), and the
 * host's IPv4 routes (to keep new subnets clear of them). Uses iproute2
 * through util/process; never touches a device it was not named.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { run } from '../util/process.js';
import type { Prefix } from './cidr.js';

export function bridgeExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** Creates (or completes) bridge `name` with `gateway/bits` and brings it up. */
export async function ensureBridge(name: string, gateway: string, bits: number, mtu?: number): Promise<void> {
  if (!bridgeExists(name)) {
    const args = ['link', 'add', name];
    if (mtu) args.push('mtu', String(mtu));
    args.push('type', 'bridge');
    await run('ip', args).catch((e: unknown) => {
      // Two starts racing: the other one made it.
      if (!bridgeExists(name)) throw e;
    });
  }
  // `replace` is idempotent: the address is there afterwards whether or not it was before.
  // Any other IPv4 address goes (a bridge left by an older configuration): the CNI bridge
  // plugin refuses a bridge with a second IPv4 address, and so does dockerd's setup.
  const stale = (await bridgeIPv4(name)).filter((a) => a !== `${gateway}/${bits}`);
  const cmds = [`addr replace ${gateway}/${bits} dev ${name}`, ...stale.map((a) => `addr del ${a} dev ${name}`), `link set ${name} up`];
  await run('ip', ['-batch', '-'], { input: `${cmds.join('\n')}\n` });
}

/** The IPv4 addresses on device `name`, as "a.b.c.d/bits", in the kernel's order; [] if it does not exist. */
export async function bridgeIPv4(name: string): Promise<string[]> {
  if (!bridgeExists(name)) return [];
  const r = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', name]).catch(() => null);
  if (r === null) return [];
  const out: string[] = [];
  for (const m of r.stdout.matchAll(/\binet (\d+\.\d+\.\d+\.\d+\/\d+)/g)) out.push(m[1] as string);
  return out;
}

export async function deleteBridge(name: string): Promise<void> {
  if (!bridgeExists(name)) return;
  await run('ip', ['link', 'del', name]).catch((e: unknown) => {
    if (bridgeExists(name)) throw e;
  });
}

/** IPv4 routes of the main table (from /proc/net/route, no process), except default routes. */
export async function hostRoutes(): Promise<Array<Prefix & { dev: string }>> {
  const text = await readFile('/proc/net/route', 'utf8').catch(() => '');
  const out: Array<Prefix & { dev: string }> = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    // Destination and mask are little-endian hex.
    const dst = Number.parseInt(f[1] as string, 16);
    const m = Number.parseInt(f[7] as string, 16);
    if (!Number.isFinite(dst) || !Number.isFinite(m) || m === 0) continue;
    const swap = (n: number): number => (((n & 255) << 24) | (((n >> 8) & 255) << 16) | (((n >> 16) & 255) << 8) | ((n >>> 24) & 255)) >>> 0;
    const maskBe = swap(m);
    let bits = 0;
    while (bits < 32 && (maskBe & (0x80000000 >>> bits)) !== 0) bits++;
    out.push({ addr: swap(dst), bits, dev: f[0] as string });
  }
  return out;
}
