/**
 * network/conflist: the CNI plugin list for one network and one attachment —
 * bridge (veth on the network's bridge, hairpin on, no per-container NAT:
 * berth masquerades per network) with host-local IPAM (state under the
 * data-root, so addresses survive restarts and are never handed out twice),
 * then tuning for a fixed MAC, then portmap when ports are published. Pure.
 */
import type { NetworkConfList, PluginConf } from './cni.js';
import { contains, formatIPv4, lastAddress, parsePrefix } from './cidr.js';
import type { NetworkRecord } from './types.js';

export interface ConfListOptions {
  ipamDir: string;
  mac?: string;
  portmap?: boolean;
}

/** The host-local range of a network's IPAM config (IPRange clipped to the subnet's host addresses). */
export function ipamRange(n: NetworkRecord): Record<string, string> {
  const cfg = n.IPAM.Config[0];
  if (!cfg) throw new Error(`network ${n.Name} has no subnet`);
  const r: Record<string, string> = { subnet: cfg.Subnet, gateway: cfg.Gateway };
  if (cfg.IPRange) {
    const sub = parsePrefix(cfg.Subnet);
    const range = parsePrefix(cfg.IPRange, 'ip-range');
    const first = Math.max(range.addr, sub.addr + 1);
    const last = Math.min(lastAddress(range), lastAddress(sub) - 1);
    if (contains(sub, first) && contains(sub, last) && first <= last) {
      r.rangeStart = formatIPv4(first);
      r.rangeEnd = formatIPv4(last);
    }
  }
  return r;
}

export function confList(n: NetworkRecord, o: ConfListOptions): NetworkConfList {
  const mtu = Number(n.Options['com.docker.network.driver.mtu'] ?? '0');
  const bridge: PluginConf = {
    type: 'bridge',
    bridge: n.Bridge,
    isGateway: !n.Internal,
    ipMasq: false,
    hairpinMode: true,
    ...(mtu > 0 ? { mtu } : {}),
    ipam: {
      type: 'host-local',
      dataDir: o.ipamDir,
      ranges: [[ipamRange(n)]],
      routes: n.Internal ? [] : [{ dst: '0.0.0.0/0' }],
    },
  };
  const plugins: PluginConf[] = [bridge];
  if (o.mac) plugins.push({ type: 'tuning', mac: o.mac });
  if (o.portmap && !n.Internal) plugins.push({ type: 'portmap', capabilities: { portMappings: true }, snat: true });
  return { name: n.Id, plugins };
}
