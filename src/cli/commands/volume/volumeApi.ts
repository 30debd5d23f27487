/**
 * cli/commands/volume/volumeApi: the Engine API calls the volume commands
 * make — GET /volumes, POST /volumes/create, GET /volumes/{name},
 * DELETE /volumes/{name}, POST /volumes/prune — as docker's Go client makes
 * them, over the generic request helpers of ContainerApi (same paths, sorted
 * query, Go-style JSON, docker's error texts). Never prints, never exits.
 */
import { encodeFilters, goPathEscape, type EngineClient } from '../../../client/engineClient.js';
import type { Filters } from '../../../client/types.js';
import { ContainerApi } from '../container/containerApi.js';

export interface Volume {
  CreatedAt?: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: string;
  UsageData?: { RefCount: number; Size: number };
}

export interface VolumeCreateBody {
  Driver: string;
  DriverOpts: Record<string, string>;
  Labels: Record<string, string>;
  Name: string;
}

function pathName(name: string): string {
  if (name.trim() === '') throw new Error('invalid volume name: value is empty');
  return goPathEscape(name.trim());
}

export class VolumeApi {
  private readonly api: ContainerApi;

  constructor(client: EngineClient) {
    this.api = new ContainerApi(client);
  }

  async list(filters: Filters): Promise<{ Volumes: Volume[] | null; Warnings: string[] | null }> {
    const query: Array<[string, string]> = Object.keys(filters).length > 0 ? [['filters', encodeFilters(filters)]] : [];
    return this.api.json('GET', '/volumes', { query });
  }

  create(body: VolumeCreateBody): Promise<Volume> {
    return this.api.json<Volume>('POST', '/volumes/create', { json: body });
  }

  /** The volume and the raw JSON (inspect prints the daemon's bytes). */
  async inspect(name: string): Promise<{ raw: Buffer }> {
    const res = await this.api.request('GET', `/volumes/${pathName(name)}`);
    const chunks: Buffer[] = [];
    for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
    return { raw: Buffer.concat(chunks) };
  }

  remove(name: string, force: boolean): Promise<void> {
    return this.api.discard('DELETE', `/volumes/${pathName(name)}`, { query: force ? [['force', '1']] : [] });
  }

  prune(filters: Filters): Promise<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }> {
    const query: Array<[string, string]> = Object.keys(filters).length > 0 ? [['filters', encodeFilters(filters)]] : [];
    return this.api.json('POST', '/volumes/prune', { query });
  }
}
