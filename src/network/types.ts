/**
 * network/types: the records the network module keeps — a network (Docker's
 * fields plus the bridge device berth made for it), a container's network
 * configuration (which networks, aliases, wanted addresses) and its live
 * sandbox (netns, CNI results, granted host ports) — and the narrow view of
 * a container the module needs (it never imports containers/).
 */
import type { PortBinding } from './portSpec.js';

export interface IpamConfigEntry {
  Subnet: string;
  Gateway: string;
  IPRange?: string;
}

export interface NetworkRecord {
  Id: string;
  Name: string;
  /** bridge for engine networks; host and null for the built-in ones. */
  Driver: 'bridge' | 'host' | 'null';
  Created: string;
  Scope: 'local';
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamConfigEntry[] };
  Internal: boolean;
  Attachable: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** The bridge device ("berth0", "br-<12 hex>"); '' for host and none. */
  Bridge: string;
  /** Whether the user named the subnet (only then may containers ask for a fixed `--ip`). */
  UserSubnet: boolean;
}

/** One network a container is configured to join (Docker's EndpointSettings, config half). */
export interface EndpointConfig {
  NetworkID: string;
  /** The name it was joined by (shown as the key of NetworkSettings.Networks). */
  NetworkName: string;
  Aliases: string[] | null;
  /** `--ip`: the IPv4 address asked for. */
  IPv4Address: string;
  /** `--mac-address`: the MAC asked for. */
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  Links: string[] | null;
}

/** A network a running container is attached to (the operational half). */
export interface Attachment {
  NetworkID: string;
  IfName: string;
  EndpointID: string;
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress: string;
  /** The final CNI result, kept as prevResult for DEL. */
  CniResult: unknown;
  /** Whether the port mappings ride on this attachment (the first one). */
  Portmap: boolean;
  /** The MAC asked for (tuning plugin), kept so DEL sees the same plugin list. */
  WantMac: string;
  /** Recorded before ADD runs, cleared when it returns: DEL is owed either way. */
  Pending: boolean;
}

/** A running container's network namespace and what was set up in it. */
export interface Sandbox {
  /** The bind-mounted netns file; '' when the container does not own one (host, none, container:). */
  Netns: string;
  Attachments: Attachment[];
  Ports: PortBinding[];
  /** The container's directory holding hosts, resolv.conf and hostname (rewritten on connect). */
  EtcDir: string;
}

/** The network state of one container (table container_networks). */
export interface ContainerNetDoc {
  ContainerID: string;
  Endpoints: EndpointConfig[];
  Sandbox: Sandbox | null;
}

/** What the network module reads of a container record. */
export interface NetContainer {
  Id: string;
  Name: string;
  Config: {
    Hostname?: string;
    Domainname?: string;
    ExposedPorts?: Record<string, object> | null;
    MacAddress?: unknown;
    [k: string]: unknown;
  };
  HostConfig: {
    NetworkMode?: string;
    PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }>> | null;
    PublishAllPorts?: boolean;
    Dns?: string[] | null;
    DnsSearch?: string[] | null;
    DnsOptions?: string[] | null;
    ExtraHosts?: string[] | null;
    [k: string]: unknown;
  };
  State: { Running: boolean; Restarting?: boolean; Pid: number; Status?: string };
}

/** How a container's network namespace is set up. */
export type NetMode = { kind: 'bridge' } | { kind: 'host' } | { kind: 'none' } | { kind: 'container'; ref: string } | { kind: 'network'; name: string };

export function parseNetworkMode(mode: string | undefined): NetMode {
  const m = mode ?? '';
  if (m === '' || m === 'default' || m === 'bridge') return { kind: 'bridge' };
  if (m === 'host') return { kind: 'host' };
  if (m === 'none') return { kind: 'none' };
  if (m.startsWith('container:')) return { kind: 'container', ref: m.slice('container:'.length) };
  return { kind: 'network', name: m };
}

export const PREDEFINED_NETWORKS = ['bridge', 'host', 'none', 'default'];

export function isPredefined(name: string): boolean {
  return PREDEFINED_NETWORKS.includes(name);
}
