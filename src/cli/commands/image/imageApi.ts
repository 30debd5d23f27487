/**
 * cli/commands/image/imageApi: the Engine API calls the image and registry
 * commands need beyond client/engineClient (push, save, load, history,
 * prune, login), made as docker's Go client v28 makes them: same paths,
 * sorted query, Go-style JSON bodies, the `X-Registry-Auth` header, docker's
 * error texts. It rides on an EngineClient for the host and the negotiated
 * API version. Never prints, never exits.
 *
 * (These belong in client/engineClient.ts; they live here because that file
 * is outside this command group's folder.)
 */
import http from 'node:http';
import type { Readable } from 'node:stream';
import { DaemonUnreachableError } from '../../../client/errors.js';
import { encodeFilters, encodeQuery, goJSON, goPathEscape, type EngineClient } from '../../../client/engineClient.js';
import type { Filters } from '../../../client/types.js';
import { readBody, responseError } from '../../apiResponse.js';

type QueryPairs = Array<[string, string]>;
const DUMMY_HOST = 'api.moby.localhost';
const MAX_JSON_BODY = 64 * 1024 * 1024;

/** registry.AuthConfig as the API carries it (Go field order, empty fields left out). */
export interface RegistryAuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export interface PruneReport {
  ImagesDeleted: { Untagged?: string; Deleted?: string }[] | null;
  SpaceReclaimed: number;
}

/** Drops empty fields in Go's struct order, as `json:",omitempty"` does. */
function authJson(a: RegistryAuthConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['username', 'password', 'auth', 'serveraddress', 'identitytoken', 'registrytoken'] as const) {
    const v = a[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  return out;
}

/** registry.EncodeAuthConfig: base64url (with padding) of the JSON; `{}` → "e30=". */
export function encodeAuthConfig(a: RegistryAuthConfig): string {
  const b64 = Buffer.from(goJSON(authJson(a)).trimEnd()).toString('base64');
  return b64.replace(/\+/g, '-').replace(/\//g, '_');
}

export class ImageApi {
  constructor(private readonly client: EngineClient) {}

  private connectError(err: NodeJS.ErrnoException): Error {
    const code = err.code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTSOCK') {
      return new DaemonUnreachableError(`Cannot connect to the berth daemon at ${this.client.host.url}. Is berthd running?`, code);
    }
    if (code === 'EACCES' || code === 'EPERM') {
      return new DaemonUnreachableError(
        `permission denied while trying to connect to the berth daemon socket at ${this.client.host.url}: connect: permission denied`,
        code,
      );
    }
    return err;
  }

  /** One request; throws docker's error for a status >= 400. */
  async request(
    method: string,
    p: string,
    opts: { query?: QueryPairs; json?: unknown; body?: Readable; headers?: Record<string, string> } = {},
  ): Promise<http.IncomingMessage> {
    let version: string;
    try {
      version = await this.client.negotiate();
    } catch (e) {
      throw this.connectError(e as NodeJS.ErrnoException);
    }
    const qs = opts.query && opts.query.length > 0 ? `?${encodeQuery(opts.query)}` : '';
    const full = `/v${version}${p}${qs}`;
    const headers: Record<string, string> = { Host: DUMMY_HOST, 'User-Agent': 'Berth-Client (linux)', ...opts.headers };
    let payload: Buffer | undefined;
    if (opts.json !== undefined) {
      payload = Buffer.from(goJSON(opts.json));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = this.client.openRequest({ method, path: full, headers, agent: false });
      req.on('response', resolve);
      req.on('error', (e: NodeJS.ErrnoException) => reject(this.connectError(e)));
      if (opts.body) {
        const src = opts.body;
        src.on('error', (e) => req.destroy(e));
        // The daemon may answer (an error) before it has read everything: stop sending then.
        req.on('response', () => src.unpipe(req));
        src.pipe(req);
      } else {
        req.end(payload);
      }
    });
    const status = res.statusCode ?? 0;
    if (status >= 400) throw await responseError(res, `http://${DUMMY_HOST}${full}`);
    return res;
  }

  async json<T>(method: string, p: string, opts: { query?: QueryPairs; json?: unknown } = {}): Promise<T> {
    const res = await this.request(method, p, opts);
    const body = await readBody(res, MAX_JSON_BODY);
    return JSON.parse(body.toString('utf8') || 'null') as T;
  }

  /** POST /images/{name}/push?tag= — `name` is the full repository name. */
  imagePush(name: string, tag: string | undefined, registryAuth: string): Promise<http.IncomingMessage> {
    const query: QueryPairs = [];
    if (tag !== undefined) query.push(['tag', tag]);
    return this.request('POST', `/images/${name}/push`, { query, headers: { 'X-Registry-Auth': registryAuth } });
  }

  /** POST /images/create?fromImage=&tag= (pull); `tag` undefined pulls every tag. */
  imagePull(fromImage: string, tag: string | undefined, registryAuth: string, platform: string): Promise<http.IncomingMessage> {
    const query: QueryPairs = [['fromImage', fromImage]];
    if (tag !== undefined) query.push(['tag', tag]);
    if (platform !== '') query.push(['platform', platform.toLowerCase()]);
    return this.request('POST', '/images/create', { query, headers: { 'X-Registry-Auth': registryAuth } });
  }

  /** GET /images/get?names=…: the tar stream. */
  imageSave(names: string[], platform: string): Promise<http.IncomingMessage> {
    const query: QueryPairs = names.map((n) => ['names', n]);
    if (platform !== '') query.push(['platform', platform]);
    return this.request('GET', '/images/get', { query });
  }

  /** POST /images/load?quiet= with the tar as the body. */
  imageLoad(input: Readable, quiet: boolean, platform: string): Promise<http.IncomingMessage> {
    const query: QueryPairs = [['quiet', quiet ? '1' : '0']];
    if (platform !== '') query.push(['platform', platform]);
    return this.request('POST', '/images/load', { query, body: input, headers: { 'Content-Type': 'application/x-tar' } });
  }

  async imageHistory(name: string, platform: string): Promise<HistoryItem[]> {
    const query: QueryPairs = [];
    if (platform !== '') query.push(['platform', platform]);
    return (await this.json<HistoryItem[] | null>('GET', `/images/${goPathEscape(name)}/history`, { query })) ?? [];
  }

  async imagesPrune(filters: Filters): Promise<PruneReport> {
    const query: QueryPairs = [];
    if (Object.keys(filters).length > 0) query.push(['filters', encodeFilters(filters)]);
    return this.json<PruneReport>('POST', '/images/prune', { query });
  }

  /** POST /auth: the daemon checks the credentials against the registry. */
  registryLogin(auth: RegistryAuthConfig): Promise<{ Status: string; IdentityToken?: string }> {
    return this.json('POST', '/auth', { json: authJson(auth) });
  }
}
