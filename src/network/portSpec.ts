/**
 * network/portSpec: a container's published ports as the daemon sees them —
 * `HostConfig.PortBindings` ("80/tcp" → [{HostIp, HostPort}]), exposed ports
 * and `PublishAllPorts` turned into port requests (moby's
 * buildSandboxOptions), validated with moby's messages, and the granted
 * bindings shaped as inspect's `NetworkSettings.Ports`. Pure.
 */
import { InvalidArgumentError } from '../errdefs/errors.js';
import { parseIPv4 } from './cidr.js';

export type Proto = 'tcp' | 'udp' | 'sctp';

/** One host port wanted for one container port. */
export interface PortRequest {
  containerPort: number;
  proto: Proto;
  /** '' = every address. */
  hostIp: string;
  /** 0 = any free port from the ephemeral range. */
  hostPortStart: number;
  hostPortEnd: number;
}

/** A host port granted to a container port. */
export interface PortBinding {
  containerPort: number;
  proto: Proto;
  hostIp: string;
  hostPort: number;
}

export type PortBindingsMap = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null | undefined>;

/** "80/tcp", "53/udp", "80" (tcp) → port and protocol; null when not a port. */
export function parsePortKey(key: string): { port: number; proto: Proto } | null {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(key);
  if (!m) return null;
  const port = Number(m[1]);
  if (port < 1 || port > 65535) return null;
  return { port, proto: (m[2] ?? 'tcp').toLowerCase() as Proto };
}

/** "8080" or "8000-8010" ("0": any port, as Docker); null when malformed. */
export function parsePortRange(s: string): [number, number] | null {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  if (!m) return null;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a === 0 && b === 0) return [0, 0];
  if (a < 1 || b > 65535 || b < a) return null;
  return [a, b];
}

/** moby's validatePortBindings, plus berth's IPv4-only host addresses (400s). */
export function validatePortBindings(bindings: PortBindingsMap | null | undefined): void {
  if (bindings === null || bindings === undefined) return;
  if (typeof bindings !== 'object' || Array.isArray(bindings)) throw new InvalidArgumentError('invalid JSON: HostConfig.PortBindings must be an object');
  for (const [key, list] of Object.entries(bindings)) {
    if (parsePortKey(key) === null) throw new InvalidArgumentError(`invalid port specification: ${JSON.stringify(key)}`);
    if (list === null || list === undefined) continue;
    if (!Array.isArray(list)) throw new InvalidArgumentError(`invalid JSON: HostConfig.PortBindings[${JSON.stringify(key)}] must be an array`);
    for (const b of list) {
      const hp = b?.HostPort ?? '';
      if (typeof hp !== 'string' || (hp !== '' && parsePortRange(hp) === null)) {
        throw new InvalidArgumentError(`invalid port specification: ${JSON.stringify(String(hp))}`);
      }
      const ip = b?.HostIp ?? '';
      if (typeof ip !== 'string' || (ip !== '' && ip !== '0.0.0.0' && parseIPv4(ip) === null)) {
        throw new InvalidArgumentError(`invalid host IP address ${JSON.stringify(String(ip))} for port ${key}: only IPv4 addresses can be published`);
      }
    }
  }
}

/** The port requests of a container (moby: bindings, plus exposed ports under PublishAllPorts). */
export function portRequests(exposed: Record<string, unknown> | null | undefined, bindings: PortBindingsMap | null | undefined, publishAll: boolean): PortRequest[] {
  const keys = new Set<string>([...Object.keys(bindings ?? {}), ...Object.keys(exposed ?? {})]);
  const out: PortRequest[] = [];
  for (const key of [...keys].sort(comparePortKeys)) {
    const p = parsePortKey(key);
    if (!p) continue;
    const list = bindings?.[key] ?? [];
    for (const b of list) {
      const range = b.HostPort ? parsePortRange(b.HostPort) : null;
      out.push({
        containerPort: p.port,
        proto: p.proto,
        hostIp: b.HostIp === '0.0.0.0' ? '' : (b.HostIp ?? ''),
        hostPortStart: range ? range[0] : 0,
        hostPortEnd: range ? range[1] : 0,
      });
    }
    if (publishAll && list.length === 0) out.push({ containerPort: p.port, proto: p.proto, hostIp: '', hostPortStart: 0, hostPortEnd: 0 });
  }
  return out;
}

function comparePortKeys(a: string, b: string): number {
  const pa = parsePortKey(a);
  const pb = parsePortKey(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  return pa.port - pb.port || (pa.proto < pb.proto ? -1 : pa.proto > pb.proto ? 1 : 0);
}

/** Inspect's `NetworkSettings.Ports`: every exposed or published port, null when not published. */
export function portsView(
  exposed: Record<string, unknown> | null | undefined,
  bindings: PortBindingsMap | null | undefined,
  granted: readonly PortBinding[],
): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const key of [...Object.keys(exposed ?? {}), ...Object.keys(bindings ?? {})]) {
    const p = parsePortKey(key);
    if (p) out[`${p.port}/${p.proto}`] = null;
  }
  for (const g of granted) {
    const key = `${g.containerPort}/${g.proto}`;
    (out[key] ??= []).push({ HostIp: g.hostIp === '' ? '0.0.0.0' : g.hostIp, HostPort: String(g.hostPort) });
  }
  return out;
}

/** `docker ps`'s Ports list: [{IP, PrivatePort, PublicPort, Type}], exposed-only ports without IP/PublicPort. */
export function portSummary(
  exposed: Record<string, unknown> | null | undefined,
  granted: readonly PortBinding[],
): Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> {
  const out: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> = [];
  const published = new Set(granted.map((g) => `${g.containerPort}/${g.proto}`));
  for (const g of granted) out.push({ IP: g.hostIp === '' ? '0.0.0.0' : g.hostIp, PrivatePort: g.containerPort, PublicPort: g.hostPort, Type: g.proto });
  for (const key of Object.keys(exposed ?? {})) {
    const p = parsePortKey(key);
    if (p && !published.has(`${p.port}/${p.proto}`)) out.push({ PrivatePort: p.port, Type: p.proto });
  }
  return out;
}
