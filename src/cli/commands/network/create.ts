/**
 * `berth network create`: docker's flags turned into POST /networks/create
 * — subnets, gateways and ip-ranges paired the way docker's
 * createIPAMConfig pairs them (with its error texts) — and the new ID
 * printed.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { NetworkApi, type IpamConfig } from './networkApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] NETWORK',
  short: 'Create a network',
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'attachable', type: 'bool', usage: 'Enable manual container attachment' },
    { name: 'aux-address', type: 'list', valueName: 'map', usage: 'Auxiliary IPv4 or IPv6 addresses used by Network driver' },
    { name: 'config-from', type: 'string', usage: 'The network from which to copy the configuration' },
    { name: 'config-only', type: 'bool', usage: 'Create a configuration only network' },
    { name: 'driver', short: 'd', type: 'string', usage: 'Driver to manage the Network', default: 'bridge' },
    { name: 'gateway', type: 'list', valueName: 'strings', usage: 'IPv4 or IPv6 Gateway for the master subnet' },
    { name: 'ingress', type: 'bool', usage: 'Create swarm routing-mesh network' },
    { name: 'internal', type: 'bool', usage: 'Restrict external access to the network' },
    { name: 'ip-range', type: 'list', valueName: 'strings', usage: 'Allocate container ip from a sub-range' },
    { name: 'ipam-driver', type: 'string', usage: 'IP Address Management Driver', default: 'default' },
    { name: 'ipam-opt', type: 'list', valueName: 'map', usage: 'Set IPAM driver specific options' },
    { name: 'ipv6', type: 'bool', usage: 'Enable or disable IPv6 networking' },
    { name: 'label', type: 'list', usage: 'Set metadata on a network' },
    { name: 'opt', short: 'o', type: 'list', valueName: 'map', usage: 'Set driver specific options' },
    { name: 'scope', type: 'string', usage: "Control the network's scope" },
    { name: 'subnet', type: 'list', valueName: 'strings', usage: 'Subnet in CIDR format that represents a network segment' },
  ],
};

function kvMap(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    out[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1);
  }
  return out;
}

function ipNum(s: string): number | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) return null;
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

/** Whether `ip` (address or CIDR) lies in `subnet`; unparseable values never match (the daemon judges them). */
function inSubnet(ip: string, subnet: string): boolean {
  const [a, b] = subnet.split('/');
  const net = ipNum(a ?? '');
  const bits = Number(b);
  const addr = ipNum(ip.split('/')[0] ?? '');
  if (net === null || addr === null || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((addr & mask) >>> 0) === ((net & mask) >>> 0);
}

/** docker's createIPAMConfig. */
export function ipamConfig(subnets: string[], ranges: string[], gateways: string[], aux: Record<string, string>): IpamConfig[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length) throw new Error('every ip-range or gateway must have a corresponding subnet');
  const data = new Map<string, IpamConfig>();
  for (const s of subnets) {
    for (const other of data.keys()) {
      if (inSubnet(s.split('/')[0] ?? '', other) || inSubnet(other.split('/')[0] ?? '', s)) throw new Error('multiple overlapping subnet configuration is not allowed');
    }
    data.set(s, { Subnet: s, AuxiliaryAddresses: {} });
  }
  for (const r of ranges) {
    const match = [...data.values()].find((d) => inSubnet(r, d.Subnet ?? '') || r === d.Subnet);
    if (!match) throw new Error(`no matching subnet for range ${r}`);
    if (match.IPRange) throw new Error(`cannot configure multiple ranges (${r}, ${match.IPRange}) on the same subnet (${match.Subnet})`);
    match.IPRange = r;
  }
  for (const g of gateways) {
    const match = [...data.values()].find((d) => inSubnet(g, d.Subnet ?? ''));
    if (!match) throw new Error(`no matching subnet for gateway ${g}`);
    if (match.Gateway) throw new Error(`cannot configure multiple gateways (${g}, ${match.Gateway}) for the same subnet (${match.Subnet})`);
    match.Gateway = g;
  }
  for (const [k, v] of Object.entries(aux)) {
    const match = [...data.values()].find((d) => inSubnet(v, d.Subnet ?? ''));
    if (!match) throw new Error(`no matching subnet for aux-address ${v}`);
    (match.AuxiliaryAddresses as Record<string, string>)[k] = v;
  }
  return [...data.values()];
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const name = p.args[0] as string;
  const config = ipamConfig(p.list('subnet'), p.list('ip-range'), p.list('gateway'), kvMap(p.list('aux-address')));
  const body = {
    Name: name,
    Driver: p.string('driver'),
    Scope: p.string('scope'),
    ...(p.changed('ipv6') ? { EnableIPv6: p.bool('ipv6') } : {}),
    IPAM: { Driver: p.string('ipam-driver'), Config: config, Options: kvMap(p.list('ipam-opt')) },
    Internal: p.bool('internal'),
    Attachable: p.bool('attachable'),
    Ingress: p.bool('ingress'),
    ConfigOnly: p.bool('config-only'),
    ...(p.string('config-from') !== '' ? { ConfigFrom: { Network: p.string('config-from') } } : {}),
    Options: kvMap(p.list('opt')),
    Labels: kvMap(p.list('label')),
  };
  const r = await new NetworkApi(ctx.client).create(body);
  ctx.out(`${r.Id}\n`);
  return 0;
}
