/**
 * cli/commands/network/networkApi: the Engine API calls the network commands
 * make — GET /networks, POST /networks/create, GET /networks/{id},
 * DELETE /networks/{id}, POST /networks/{id}/connect|disconnect,
 * POST /networks/prune — as docker's Go client makes them, over the generic
 * request helpers of ContainerApi. Never prints, never exits.
 */
import { encodeFilters, goPathEscape, type EngineClient } from '../../../client/engineClient.js';
import type { Filters } from '../../../client/types.js';
import { ContainerApi } from '../container/containerApi.js';

export interface NetworkSummary {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv6: boolean;
  Internal: boolean;
  Labels: Record<string, string> | null;
}

export interface IpamConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

export interface NetworkCreateBody {
  Name: string;
  Driver: string;
  Scope: string;
  EnableIPv6?: boolean;
  IPAM: { Driver: string; Config: IpamConfig[]; Options: Record<string, string> };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigOnly: boolean;
  ConfigFrom?: { Network: string };
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export interface EndpointConfig {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  DriverOpts?: Record<string, string> | null;
  GwPriority?: number;
}

function pathID(id: string): string {
  if (id.trim() === '') throw new Error('invalid network name or ID: value is empty');
  return goPathEscape(id.trim());
}

export class NetworkApi {
  private readonly api: ContainerApi;

  constructor(client: EngineClient) {
    this.api = new ContainerApi(client);
  }

  async list(filters: Filters): Promise<NetworkSummary[]> {
    const query: Array<[string, string]> = Object.keys(filters).length > 0 ? [['filters', encodeFilters(filters)]] : [];
    return (await this.api.json<NetworkSummary[] | null>('GET', '/networks', { query })) ?? [];
  }

  create(body: NetworkCreateBody): Promise<{ Id: string; Warning?: string }> {
    return this.api.json('POST', '/networks/create', { json: body });
  }

  /** The network's raw JSON (inspect prints the daemon's bytes). */
  async inspect(id: string): Promise<{ raw: Buffer }> {
    const res = await this.api.request('GET', `/networks/${pathID(id)}`);
    const chunks: Buffer[] = [];
    for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
    return { raw: Buffer.concat(chunks) };
  }

  remove(id: string): Promise<void> {
    return this.api.discard('DELETE', `/networks/${pathID(id)}`);
  }

  connect(network: string, container: string, endpoint: EndpointConfig | null): Promise<void> {
    return this.api.discard('POST', `/networks/${pathID(network)}/connect`, { json: { Container: container, EndpointConfig: endpoint } });
  }

  disconnect(network: string, container: string, force: boolean): Promise<void> {
    return this.api.discard('POST', `/networks/${pathID(network)}/disconnect`, { json: { Container: container, Force: force } });
  }

  prune(filters: Filters): Promise<{ NetworksDeleted: string[] | null }> {
    const query: Array<[string, string]> = Object.keys(filters).length > 0 ? [['filters', encodeFilters(filters)]] : [];
    return this.api.json('POST', '/networks/prune', { query });
  }
}
