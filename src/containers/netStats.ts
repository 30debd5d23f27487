/**
 * containers/netStats: the `networks` part of a container's stats — per
 * interface counters read from /proc/<pid>/net/dev of the container's init,
 * which the kernel answers from that process's network namespace (no setns,
 * no netlink). Loopback is left out, as moby's sandbox statistics do. Only
 * reads /proc; never enters a namespace or changes anything.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** moby's container.NetworkStats (api/types/container/stats.go). */
export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/** Parses /proc/net/dev: two header lines, then "iface: 8 receive and 8 transmit counters". */
export function parseNetDev(text: string): Record<string, NetworkStats> {
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === '' || name === 'lo' || f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    out[name] = {
      rx_bytes: f[0] ?? 0,
      rx_packets: f[1] ?? 0,
      rx_errors: f[2] ?? 0,
      rx_dropped: f[3] ?? 0,
      tx_bytes: f[8] ?? 0,
      tx_packets: f[9] ?? 0,
      tx_errors: f[10] ?? 0,
      tx_dropped: f[11] ?? 0,
    };
  }
  return out;
}

/**
 * The interfaces of the network namespace `pid` lives in; null when there is
 * none to show (the host's network, another container's, or the process is gone).
 */
export async function readNetworkStats(pid: number, networkMode: string, procRoot = '/proc'): Promise<Record<string, NetworkStats> | null> {
  if (pid <= 0 || networkMode === 'host' || networkMode.startsWith('container:')) return null;
  let text: string;
  try {
    text = await readFile(join(procRoot, String(pid), 'net', 'dev'), 'utf8');
  } catch {
    return null;
  }
  const nets = parseNetDev(text);
  return Object.keys(nets).length > 0 ? nets : null;
}
