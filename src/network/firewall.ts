/**
 * network/firewall: berth's own iptables rules, one set per network rather
 * than per container — outbound NAT (masquerade off the bridge), forwarding
 * accepts (for hosts whose FORWARD policy is DROP), isolation between
 * networks (Docker's two-stage ISOLATION chains) and `--internal` — in
 * chains named for this daemon (`BERTH-FWD-<tag>`…), rewritten as a whole
 * with one `iptables-restore --noflush` on every network change. Also the
 * removal of CNI portmap's shared top-level chains once the last mapping is
 * gone. Never touches a chain or rule it did not make.
 */
import { run } from '../util/process.js';

export interface FirewallNetwork {
  bridge: string;
  subnet: string;
  internal: boolean;
  /** com.docker.network.bridge.enable_ip_masquerade (default true). */
  masquerade: boolean;
  /** com.docker.network.bridge.enable_icc (default true). */
  icc: boolean;
}

export interface ChainNames {
  fwd: string;
  iso1: string;
  iso2: string;
  nat: string;
}

export function chainNames(tag: string): ChainNames {
  return { fwd: `BERTH-FWD-${tag}`, iso1: `BERTH-ISO1-${tag}`, iso2: `BERTH-ISO2-${tag}`, nat: `BERTH-NAT-${tag}` };
}

/** The iptables-restore input for all networks (declaring a chain under --noflush empties it first). */
export function renderRules(c: ChainNames, nets: readonly FirewallNetwork[]): string {
  const f: string[] = ['*filter', `:${c.fwd} - [0:0]`, `:${c.iso1} - [0:0]`, `:${c.iso2} - [0:0]`];
  // Established traffic first (as Docker 28's DOCKER-CT): every packet after a connection's first
  // leaves FORWARD after one rule. Isolation only ever has to judge new connections.
  for (const n of nets) if (!n.internal) f.push(`-A ${c.fwd} -o ${n.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  for (const n of nets) {
    if (n.internal) continue;
    // Published ports (DNAT) cross networks as they do through Docker's proxy.
    f.push(`-A ${c.fwd} -o ${n.bridge} -m conntrack --ctstate DNAT -j ACCEPT`, `-A ${c.fwd} -i ${n.bridge} -m conntrack --ctstate DNAT -j ACCEPT`);
  }
  f.push(`-A ${c.fwd} -j ${c.iso1}`);
  for (const n of nets) {
    if (!n.icc) f.push(`-A ${c.fwd} -i ${n.bridge} -o ${n.bridge} -j DROP`);
    if (n.internal) f.push(`-A ${c.fwd} -i ${n.bridge} -o ${n.bridge} -j ACCEPT`);
    else f.push(`-A ${c.fwd} -i ${n.bridge} -j ACCEPT`);
  }
  for (const n of nets) {
    if (n.internal) f.push(`-A ${c.iso1} -i ${n.bridge} ! -o ${n.bridge} -j DROP`, `-A ${c.iso1} ! -i ${n.bridge} -o ${n.bridge} -j DROP`);
    else f.push(`-A ${c.iso1} -i ${n.bridge} ! -o ${n.bridge} -j ${c.iso2}`);
  }
  for (const n of nets) f.push(`-A ${c.iso2} -o ${n.bridge} -j DROP`);
  f.push('COMMIT');
  const nat: string[] = ['*nat', `:${c.nat} - [0:0]`];
  for (const n of nets) {
    if (!n.internal && n.masquerade) nat.push(`-A ${c.nat} -s ${n.subnet} ! -o ${n.bridge} -j MASQUERADE`);
  }
  nat.push('COMMIT');
  return `${[...f, ...nat].join('\n')}\n`;
}

/** The jumps from the built-in chains into ours: [table, chain, our chain, insert at top]. */
function jumps(c: ChainNames): Array<[string, string, string, boolean]> {
  return [
    ['filter', 'FORWARD', c.fwd, true],
    ['nat', 'POSTROUTING', c.nat, false],
  ];
}

export class Firewall {
  private readonly chains: ChainNames;
  private jumpsReady = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    tag: string,
    private readonly enabled: boolean,
  ) {
    this.chains = chainNames(tag);
  }

  get names(): ChainNames {
    return this.chains;
  }

  /** Rewrites every rule of this daemon for `nets` (serialised: the last call wins). */
  apply(nets: readonly FirewallNetwork[]): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    const job = this.queue.then(async () => {
      await run('iptables-restore', ['-w', '--noflush'], { input: renderRules(this.chains, nets) });
      if (!this.jumpsReady) {
        for (const [table, chain, target, top] of jumps(this.chains)) {
          const exists = await run('iptables', ['-w', '-t', table, '-C', chain, '-j', target]).then(
            () => true,
            () => false,
          );
          if (!exists) await run('iptables', ['-w', '-t', table, top ? '-I' : '-A', chain, ...(top ? ['1'] : []), '-j', target]);
        }
        this.jumpsReady = true;
      }
    });
    this.queue = job.catch(() => undefined);
    return job;
  }

  /** Removes the jumps and chains of this daemon (nothing of anyone else's). */
  async removeAll(): Promise<void> {
    if (!this.enabled) return;
    await this.queue;
    for (const [table, chain, target] of jumps(this.chains)) {
      for (let i = 0; i < 8; i++) {
        const ok = await run('iptables', ['-w', '-t', table, '-D', chain, '-j', target]).then(
          () => true,
          () => false,
        );
        if (!ok) break;
      }
    }
    for (const [table, chain] of [
      ['filter', this.chains.fwd],
      ['filter', this.chains.iso1],
      ['filter', this.chains.iso2],
      ['nat', this.chains.nat],
    ] as const) {
      await run('iptables', ['-w', '-t', table, '-F', chain]).catch(() => undefined);
    }
    for (const [table, chain] of [
      ['filter', this.chains.fwd],
      ['filter', this.chains.iso1],
      ['filter', this.chains.iso2],
      ['nat', this.chains.nat],
    ] as const) {
      await run('iptables', ['-w', '-t', table, '-X', chain]).catch(() => undefined);
    }
    this.jumpsReady = false;
  }
}

/** The chains CNI portmap creates once and never removes, and where it jumps into them from. */
const PORTMAP_TOP = ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ'];

/**
 * Removes portmap's top-level chains when no mapping of anyone is left in
 * them. Runs under the same host-wide lock as every portmap call berth makes,
 * so another daemon's ADD cannot land between the check and the removal.
 */
export async function removeIdlePortmapChains(lockFile: string): Promise<boolean> {
  const script = [
    'set -e',
    // Rules other than the chain's own -N line: someone still maps a port.
    `if ! iptables -w -t nat -S CNI-HOSTPORT-DNAT >/dev/null 2>&1; then exit 0; fi`,
    `if [ "$(iptables -w -t nat -S CNI-HOSTPORT-DNAT | grep -c -- '^-A ')" != 0 ]; then exit 0; fi`,
    `iptables -w -t nat -S | grep -E -- '^-A [A-Z]+ .*-j (${PORTMAP_TOP.join('|')})( |$)' | grep -v -E -- '^-A CNI-' | while read -r line; do`,
    '  eval "iptables -w -t nat -D ${line#-A }" || true',
    'done',
    ...PORTMAP_TOP.map((c) => `iptables -w -t nat -F ${c} 2>/dev/null || true`),
    ...PORTMAP_TOP.map((c) => `iptables -w -t nat -X ${c} 2>/dev/null || true`),
    'echo removed',
  ].join('\n');
  const r = await run('flock', ['-w', '30', lockFile, 'sh', '-c', script]);
  return r.stdout.includes('removed');
}
