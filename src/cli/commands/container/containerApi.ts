/**
 * cli/commands/container/containerApi: the Engine API calls the container
 * commands need beyond client/engineClient (exec, events, pause, rename,
 * update, top, stats, port, diff, export, archive, prune), made the way
 * docker's Go client makes them: same paths, sorted query, Go-style JSON
 * bodies, docker's error texts. It rides on an EngineClient for the host and
 * the negotiated API version. Never prints, never exits.
 *
 * (These belong in client/engineClient.ts; they live here because that file
 * is outside this command group's folder.)
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { UpgradeError } from '../../../client/errors.js';
import { compareVersions, encodeFilters, encodeQuery, goJSON, goPathEscape, type EngineClient, type HijackedConnection } from '../../../client/engineClient.js';
import type { Filters } from '../../../client/types.js';
import { readBody, responseError } from '../../apiResponse.js';

type QueryPairs = Array<[string, string]>;
const DUMMY_HOST = 'api.moby.localhost';
const MAX_JSON_BODY = 64 * 1024 * 1024;

export interface ExecCreateConfig {
  User: string;
  Privileged: boolean;
  Tty: boolean;
  ConsoleSize?: [number, number];
  AttachStdin: boolean;
  AttachStderr: boolean;
  AttachStdout: boolean;
  DetachKeys: string;
  Env: string[] | null;
  WorkingDir: string;
  Cmd: string[];
}

export interface ExecInspect {
  ID: string;
  ContainerID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
}

export interface EventMessage {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
  status?: string;
  id?: string;
  from?: string;
}

export interface UpdateConfig {
  [key: string]: unknown;
}

function pathID(id: string): string {
  const t = id.trim();
  if (t === '') throw new Error('invalid container name or ID: value is empty');
  return goPathEscape(t);
}

export class ContainerApi {
  constructor(private readonly client: EngineClient) {}

  private async path(p: string, query: QueryPairs = []): Promise<string> {
    const v = await this.client.negotiate();
    const qs = query.length > 0 ? `?${encodeQuery(query)}` : '';
    return `/v${v}${p}${qs}`;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { Host: DUMMY_HOST, 'User-Agent': 'Berth-Client (linux)', ...extra };
  }

  /** One request; throws docker's error for a status >= 400. */
  async request(method: string, p: string, opts: { query?: QueryPairs; json?: unknown; body?: Readable; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<http.IncomingMessage> {
    const full = await this.path(p, opts.query);
    const headers = this.headers(opts.headers);
    let payload: Buffer | undefined;
    if (opts.json !== undefined) {
      payload = Buffer.from(goJSON(opts.json));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = this.client.openRequest({ method, path: full, headers, agent: false });
      req.on('response', resolve);
      req.on('error', reject);
      if (opts.signal) {
        const onAbort = (): void => {
          req.destroy();
        };
        opts.signal.addEventListener('abort', onAbort, { once: true });
      }
      if (opts.body) opts.body.pipe(req);
      else req.end(payload);
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

  async discard(method: string, p: string, opts: { query?: QueryPairs; json?: unknown } = {}): Promise<void> {
    const res = await this.request(method, p, opts);
    res.resume();
    await new Promise<void>((resolve) => {
      res.on('end', resolve);
      res.on('close', resolve);
    });
  }

  // ---- exec ----

  execCreate(container: string, cfg: ExecCreateConfig): Promise<{ Id: string }> {
    return this.json<{ Id: string }>('POST', `/containers/${pathID(container)}/exec`, { json: cfg });
  }

  execStartDetached(execId: string, opts: { Tty: boolean; ConsoleSize?: [number, number] }): Promise<void> {
    return this.discard('POST', `/exec/${goPathEscape(execId)}/start`, { json: { Detach: true, ...opts } });
  }

  /** POST /exec/{id}/start hijacked, with the JSON body docker sends on the upgraded request. */
  async execAttach(execId: string, opts: { Tty: boolean; ConsoleSize?: [number, number] }): Promise<HijackedConnection> {
    const version = await this.client.negotiate();
    const full = await this.path(`/exec/${goPathEscape(execId)}/start`);
    const payload = Buffer.from(goJSON({ Detach: false, ...opts }));
    return new Promise((resolve, reject) => {
      const req = this.client.openRequest({
        method: 'POST',
        path: full,
        headers: this.headers({
          'Content-Type': 'application/json',
          'Content-Length': String(payload.length),
          Connection: 'Upgrade',
          Upgrade: 'tcp',
        }),
        agent: false,
      });
      req.on('upgrade', (res: http.IncomingMessage, socket: Socket, head: Buffer) => {
        if (head.length > 0) socket.unshift(head);
        socket.setNoDelay?.(true);
        resolve({
          socket,
          mediaType: compareVersions(version, '1.42') < 0 ? '' : (res.headers['content-type'] ?? ''),
          closeWrite: () => {
            if (!socket.destroyed && socket.writable) socket.end();
          },
          close: () => socket.destroy(),
        });
      });
      req.on('response', (res: http.IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status >= 400) responseError(res, `http://${DUMMY_HOST}${full}`).then(reject, reject);
        else {
          res.resume();
          reject(new UpgradeError(status, 'tcp'));
        }
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  execResize(execId: string, h: number, w: number): Promise<void> {
    return this.discard('POST', `/exec/${goPathEscape(execId)}/resize`, {
      query: [
        ['h', String(h)],
        ['w', String(w)],
      ],
    });
  }

  execInspect(execId: string): Promise<ExecInspect> {
    return this.json<ExecInspect>('GET', `/exec/${goPathEscape(execId)}/json`);
  }

  // ---- events ----

  /** GET /events: a stream of JSON messages, one per line. */
  events(opts: { since?: string; until?: string; filters?: Filters; signal?: AbortSignal }): Promise<http.IncomingMessage> {
    const query: QueryPairs = [];
    if (opts.since) query.push(['since', opts.since]);
    if (opts.until) query.push(['until', opts.until]);
    if (opts.filters && Object.keys(opts.filters).length > 0) query.push(['filters', encodeFilters(opts.filters)]);
    const o: { query: QueryPairs; signal?: AbortSignal } = { query };
    if (opts.signal) o.signal = opts.signal;
    return this.request('GET', '/events', o);
  }

  // ---- lifecycle extras ----

  pause(id: string): Promise<void> {
    return this.discard('POST', `/containers/${pathID(id)}/pause`);
  }

  unpause(id: string): Promise<void> {
    return this.discard('POST', `/containers/${pathID(id)}/unpause`);
  }

  restart(id: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const query: QueryPairs = [];
    if (opts.timeout !== undefined) query.push(['t', String(opts.timeout)]);
    if (opts.signal) query.push(['signal', opts.signal]);
    return this.discard('POST', `/containers/${pathID(id)}/restart`, { query });
  }

  rename(id: string, newName: string): Promise<void> {
    return this.discard('POST', `/containers/${pathID(id)}/rename`, { query: [['name', newName]] });
  }

  update(id: string, cfg: UpdateConfig): Promise<{ Warnings: string[] | null }> {
    return this.json<{ Warnings: string[] | null }>('POST', `/containers/${pathID(id)}/update`, { json: cfg });
  }

  top(id: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    const query: QueryPairs = psArgs !== '' ? [['ps_args', psArgs]] : [];
    return this.json('GET', `/containers/${pathID(id)}/top`, { query });
  }

  /** GET /containers/{id}/stats; stream=false gives one JSON document. */
  stats(id: string, stream: boolean, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const query: QueryPairs = [['stream', stream ? '1' : '0']];
    if (!stream) query.push(['one-shot', '1']);
    const o: { query: QueryPairs; signal?: AbortSignal } = { query };
    if (signal) o.signal = signal;
    return this.request('GET', `/containers/${pathID(id)}/stats`, o);
  }

  changes(id: string): Promise<Array<{ Path: string; Kind: number }> | null> {
    return this.json('GET', `/containers/${pathID(id)}/changes`);
  }

  export(id: string): Promise<http.IncomingMessage> {
    return this.request('GET', `/containers/${pathID(id)}/export`);
  }

  prune(filters: Filters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    const query: QueryPairs = Object.keys(filters).length > 0 ? [['filters', encodeFilters(filters)]] : [];
    return this.json('POST', '/containers/prune', { query });
  }

  /** HEAD /containers/{id}/archive?path=: the base64 JSON stat header. */
  async archiveStat(id: string, path: string): Promise<Record<string, unknown>> {
    const res = await this.request('HEAD', `/containers/${pathID(id)}/archive`, { query: [['path', path]] });
    res.resume();
    const h = res.headers['x-docker-container-path-stat'];
    const v = Array.isArray(h) ? h[0] : h;
    if (!v) throw new Error('unable to get resource stat from response');
    return JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as Record<string, unknown>;
  }

  archiveGet(id: string, path: string): Promise<http.IncomingMessage> {
    return this.request('GET', `/containers/${pathID(id)}/archive`, { query: [['path', path]] });
  }

  async archivePut(id: string, path: string, tar: Readable, opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void> {
    const query: QueryPairs = [['path', path]];
    if (opts.noOverwriteDirNonDir) query.push(['noOverwriteDirNonDir', 'true']);
    if (opts.copyUIDGID) query.push(['copyUIDGID', 'true']);
    const res = await this.request('PUT', `/containers/${pathID(id)}/archive`, { query, body: tar, headers: { 'Content-Type': 'application/x-tar' } });
    res.resume();
  }
}
