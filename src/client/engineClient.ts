/**
 * client/engineClient: a typed Docker Engine API client over the daemon's unix
 * socket or TCP (+TLS). Without TLS its own requests go through client/miniHttp (B102);
 * node:http is loaded only for the TLS transport and for `openRequest()`, the one other
 * place a connection is dialled (requests that stream a body out, and the CLI's helpers).
 * It makes the calls exactly as docker's Go client v28 does: same paths, query
 * parameters (sorted, like Go's url.Values), bodies and headers, with API
 * version negotiation through `HEAD /_ping`. It never prints and never exits:
 * failures are thrown as ApiError / DaemonUnreachableError / UpgradeError.
 */
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { createRequire } from 'node:module';
import { createConnection, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { ApiError, DaemonUnreachableError, UpgradeError } from './errors.js';
import { MiniHttpClient, type HttpResponse, type MiniRequest } from './miniHttp.js';
import { resolveHost, type DaemonHost } from './host.js';
import type { ClientTls } from './tlsConfig.js';
import type {
  ContainerAttachOptions,
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerInspect,
  ContainerListOptions,
  ContainerLogsOptions,
  ContainerSummary,
  Filters,
  ImageCreateOptions,
  ImageDeleteResponseItem,
  ImageImportOptions,
  ImageInspect,
  ImageListOptions,
  ImageSummary,
  PingResult,
  SystemInfo,
  SystemVersion,
  WaitCondition,
  WaitResponse,
} from './types.js';

/**
 * node:https (with tls and crypto: ~10 ms of CPU to load) only for a TCP+TLS daemon; over
 * the unix socket the CLI never loads it.
 */
let httpsModule: typeof Https | undefined;
function https(): typeof Https {
  return (httpsModule ??= createRequire(import.meta.url)('node:https') as typeof Https);
}

/** node:http, loaded on first use: a command that only talks through miniHttp never compiles it. */
let httpModule: typeof Http | undefined;
function http(): typeof Http {
  return (httpModule ??= createRequire(import.meta.url)('node:http') as typeof Http);
}

/** Newest API version this client speaks (Docker 28.3–28.5). */
export const MAX_API_VERSION = '1.51';
/** What docker assumes when a daemon does not say (`Api-Version` missing). */
const FALLBACK_API_VERSION = '1.24';
/** Host header for unix-socket requests, as the docker client sends it. */
const DUMMY_HOST = 'api.moby.localhost';
/** Largest error body read (docker: 1 MiB). */
const MAX_ERROR_BODY = 1024 * 1024;
/** Largest JSON success body read into memory. */
const MAX_JSON_BODY = 64 * 1024 * 1024;

export interface EngineClientOptions {
  host?: DaemonHost;
  /** TLS for a tcp:// host (client/tlsConfig); ignored for unix sockets. */
  tls?: ClientTls | null;
  /** Pin the API version (like DOCKER_API_VERSION): no negotiation. */
  apiVersion?: string;
  userAgent?: string;
}

/** A query string as ordered pairs; keys may repeat (`changes=a&changes=b`). */
type QueryPairs = Array<[string, string]>;

interface RequestOptions {
  query?: QueryPairs;
  /** JSON-encoded body (Content-Type: application/json). */
  json?: unknown;
  /** Raw body streamed as-is (Content-Type: text/plain unless headers say otherwise). */
  stream?: Readable;
  headers?: Record<string, string>;
  /** Unversioned path (only /_ping). */
  unversioned?: boolean;
}

/** A connection taken over after `101 UPGRADED`: raw bytes both ways. */
export interface HijackedConnection {
  socket: Socket;
  /** `application/vnd.docker.multiplexed-stream` or `…raw-stream`; '' before API 1.42. */
  mediaType: string;
  /** Half-closes: tells the container its stdin ended, output keeps flowing. */
  closeWrite(): void;
  close(): void;
}

/** A long-lived POST /wait. `ready` settles once the daemon has registered the wait. */
export interface WaitHandle {
  ready: Promise<void>;
  result: Promise<WaitResponse>;
  cancel(): void;
}

/**
 * Reads a response without a body to its end, and one tick further: miniHttp pools the
 * connection before 'end', node's agent (the TLS transport) on the tick after it, so the
 * request that follows (the one the ping negotiated for) reuses it instead of dialling another.
 */
function ended(res: HttpResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => process.nextTick(resolve);
    res.once('end', done);
    res.once('close', done);
    res.resume();
  });
}

/** Numeric compare of dotted versions: <0, 0, >0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  const n = Math.max(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = Number.parseInt(pa[i] ?? '0', 10) || 0;
    const y = Number.parseInt(pb[i] ?? '0', 10) || 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Go's url.QueryEscape: space → '+', everything but [A-Za-z0-9-_.~] percent-encoded. */
export function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** Go's url.Values.Encode: keys sorted, values of one key kept in order. */
export function encodeQuery(pairs: QueryPairs): string {
  const keys = [...new Set(pairs.map(([k]) => k))].sort();
  const parts: string[] = [];
  for (const k of keys) {
    for (const [pk, v] of pairs) if (pk === k) parts.push(`${goQueryEscape(k)}=${goQueryEscape(v)}`);
  }
  return parts.join('&');
}

/** Go's json.Encoder output: HTML-safe escapes and a trailing newline. */
export function goJSON(value: unknown): string {
  return (
    JSON.stringify(value)
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e')
      .replace(/&/g, '\\u0026')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029') + '\n'
  );
}

/** Filters as Go marshals them: keys sorted at both levels. */
export function encodeFilters(filters: Filters): string {
  const out: Record<string, Record<string, boolean>> = {};
  for (const k of Object.keys(filters).sort()) {
    const inner: Record<string, boolean> = {};
    const values = filters[k] ?? {};
    for (const v of Object.keys(values).sort()) inner[v] = values[v] as boolean;
    out[k] = inner;
  }
  return JSON.stringify(out);
}

function filtersLen(filters: Filters | undefined): number {
  return filters === undefined ? 0 : Object.keys(filters).length;
}

/** docker's normalizeCapabilities: upper-case, CAP_ prefix, de-duplicated, sorted. */
function normalizeCapabilities(caps: string[] | null): string[] | null {
  if (caps === null || caps.length === 0) return caps === null ? null : caps;
  const set = new Set<string>();
  for (let c of caps) {
    c = c.toUpperCase();
    if (c !== 'ALL' && !c.startsWith('CAP_')) c = `CAP_${c}`;
    set.add(c);
  }
  return [...set].sort();
}

function readBody(res: HttpResponse, limit: number): Promise<{ body: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let len = 0;
    let truncated = false;
    res.on('data', (c: Buffer) => {
      if (truncated) return;
      if (len + c.length > limit) {
        chunks.push(c.subarray(0, limit - len));
        len = limit;
        truncated = true;
        res.destroy();
        resolve({ body: Buffer.concat(chunks), truncated });
        return;
      }
      chunks.push(c);
      len += c.length;
    });
    res.on('end', () => resolve({ body: Buffer.concat(chunks), truncated }));
    res.on('error', (e) => (truncated ? undefined : reject(e)));
  });
}

/** Turns a non-2xx response into docker's error (client/request.go checkResponseErr). */
async function responseError(res: HttpResponse, url: string): Promise<Error> {
  const status = res.statusCode ?? 0;
  // An empty reason phrase stays empty, as in Go's resp.Status; none at all takes the standard one.
  const statusMsg = `${status} ${res.statusMessage ?? http().STATUS_CODES[status] ?? ''}`.trim();
  const { body, truncated } = await readBody(res, MAX_ERROR_BODY);
  if (truncated) {
    return new ApiError(
      status,
      `request returned ${statusMsg} with a message (> ${MAX_ERROR_BODY} bytes) for API route and version ${url}, check if the server supports the requested API version`,
    );
  }
  if (body.length === 0) {
    return new ApiError(
      status,
      `request returned ${statusMsg} for API route and version ${url}, check if the server supports the requested API version`,
    );
  }
  const ctype = String(res.headers['content-type'] ?? '').split(';')[0]?.trim();
  if (ctype === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (e) {
      return new Error(`Error reading JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    const message =
      parsed !== null && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string'
        ? ((parsed as { message: string }).message as string)
        : '';
    if (message === '') {
      return new ApiError(status, `API returned a ${status} (${http().STATUS_CODES[status] ?? ''}) but provided no error-message`);
    }
    return new ApiError(status, message.trim());
  }
  return new ApiError(status, body.toString('utf8').trim());
}

export class EngineClient {
  readonly host: DaemonHost;
  private readonly userAgent: string;
  private readonly pinnedVersion: string | undefined;
  private negotiation: Promise<string> | undefined;
  private negotiatedVersion: string | undefined;
  private lastPing: PingResult | undefined;
  private agentInstance: Http.Agent | undefined;
  /** The transport without TLS (B102); undefined for a TCP+TLS daemon. */
  private readonly mini: MiniHttpClient | undefined;
  private readonly tls: ClientTls | null;

  constructor(opts: EngineClientOptions = {}) {
    this.host = opts.host ?? resolveHost(undefined);
    this.userAgent = opts.userAgent ?? 'Berth-Client (linux)';
    this.pinnedVersion = opts.apiVersion;
    if (opts.apiVersion !== undefined) this.negotiatedVersion = opts.apiVersion.replace(/^v/, '');
    this.tls = this.host.proto === 'tcp' ? (opts.tls ?? null) : null;
    const host = this.host;
    if (host.proto === 'unix') this.mini = new MiniHttpClient(() => createConnection({ path: host.socketPath as string }));
    else if (this.tls === null) this.mini = new MiniHttpClient(() => createConnection({ host: host.tcpHost ?? 'localhost', port: host.port ?? 2375 }));
  }

  /** node's agent for the TLS transport and streamed bodies: keep-alive, so ping + request share one connection; close() drops it. */
  private get agent(): Http.Agent {
    this.agentInstance ??= this.tls ? new (https().Agent)({ keepAlive: true }) : new (http().Agent)({ keepAlive: true });
    return this.agentInstance;
  }

  /** The request as miniHttp sends it: the Host header Go's client sends on TCP. */
  private miniRequest(method: string, path: string, headers: Record<string, string>, body?: Buffer): MiniRequest {
    const h = this.host.proto === 'tcp' ? { ...headers, Host: this.host.url.slice('tcp://'.length) } : headers;
    return body === undefined ? { method, path, headers: h } : { method, path, headers: h, body };
  }

  /**
   * Starts one request to the daemon, over whatever transport the host needs
   * (unix socket, TCP, TCP+TLS). Every request — the CLI's own helpers' too —
   * goes through here, so no caller dials by hand.
   */
  openRequest(opts: { method: string; path: string; headers: Record<string, string>; agent?: Http.Agent | false }): Http.ClientRequest {
    const agent = opts.agent === undefined ? false : opts.agent;
    // Without TLS there is no server name to send: an explicit '' spares http.Agent its
    // calculateServerName(), whose net.isIP() check compiles node's IPv6 regex (~10 ms of a
    // CLI process). With TLS the agent derives it from the host, as SNI and the certificate
    // check need.
    const noTls: Http.RequestOptions & { servername: string } = { method: opts.method, path: opts.path, headers: opts.headers, agent, servername: '' };
    if (this.host.proto === 'unix') return http().request({ ...noTls, socketPath: this.host.socketPath });
    // Go's client sends the daemon address as Host on TCP.
    const headers = { ...opts.headers, Host: `${this.host.url.slice('tcp://'.length)}` };
    const base = { host: this.host.tcpHost ?? 'localhost', port: this.host.port ?? 2375, method: opts.method, path: opts.path, headers };
    if (this.tls === null) return http().request({ ...noTls, ...base });
    return https().request({
      ...base,
      agent,
      minVersion: 'TLSv1.2',
      rejectUnauthorized: this.tls.verify,
      ...(this.tls.ca ? { ca: this.tls.ca } : {}),
      ...(this.tls.cert ? { cert: this.tls.cert } : {}),
      ...(this.tls.key ? { key: this.tls.key } : {}),
    });
  }

  /** The API version requests use, once known (negotiated or pinned). */
  get apiVersion(): string | undefined {
    return this.negotiatedVersion;
  }

  /** Headers of the last ping, if one was made. */
  get serverInfo(): PingResult | undefined {
    return this.lastPing;
  }

  /** Drops idle keep-alive connections so the process can exit. */
  close(): void {
    this.mini?.close();
    this.agentInstance?.destroy();
  }

  // ------------------------------------------------------------ plumbing

  private connectError(err: NodeJS.ErrnoException): Error {
    const code = err.code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTSOCK' || code === 'ETIMEDOUT') {
      return new DaemonUnreachableError(`Cannot connect to the berth daemon at ${this.host.url}. Is berthd running?`, code);
    }
    if (code === 'EACCES' || code === 'EPERM') {
      return new DaemonUnreachableError(
        `permission denied while trying to connect to the berth daemon socket at ${this.host.url}: connect: permission denied`,
        code,
      );
    }
    if (this.tls !== null && code === 'ECONNRESET') {
      // Node's TLS server drops a client whose certificate it refuses without a TLS alert.
      return new DaemonUnreachableError(
        `error during connect: ${this.host.url} closed the connection (${err.message}); a daemon with --tlsverify does this when it refuses the client certificate (none, expired, or not signed by its CA)`,
        code,
      );
    }
    if (code === 'ECONNRESET' || code === 'EPIPE') return err;
    // OpenSSL's text ("…:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:…") → its reason.
    const ssl = /:SSL routines:[^:]*:([^:]+):/.exec(err.message);
    if (ssl) return new DaemonUnreachableError(`error during connect: ${this.host.url}: tls: ${ssl[1]}`, code);
    return new DaemonUnreachableError(`error during connect: ${err.message}`, code);
  }

  /** Negotiates once (HEAD /_ping → min(Api-Version, 1.51)) and returns the version. */
  negotiate(): Promise<string> {
    if (this.negotiatedVersion !== undefined && this.pinnedVersion !== undefined) return Promise.resolve(this.negotiatedVersion);
    if (this.negotiation === undefined) {
      this.negotiation = this.ping().then((p) => {
        let v = p.apiVersion === '' ? FALLBACK_API_VERSION : p.apiVersion;
        if (compareVersions(v, MAX_API_VERSION) > 0) v = MAX_API_VERSION;
        this.negotiatedVersion = v;
        return v;
      });
      // A failed negotiation may be retried by a later call.
      this.negotiation.catch(() => {
        this.negotiation = undefined;
      });
    }
    return this.negotiation;
  }

  private async apiPath(path: string, query: QueryPairs | undefined, unversioned: boolean): Promise<string> {
    let prefix = '';
    if (!unversioned) prefix = `/v${await this.negotiate()}`;
    const qs = query && query.length > 0 ? `?${encodeQuery(query)}` : '';
    return `${prefix}${path}${qs}`;
  }

  private baseHeaders(extra: Record<string, string> | undefined): Record<string, string> {
    return { Host: DUMMY_HOST, 'User-Agent': this.userAgent, ...extra };
  }

  /**
   * A miniHttp exchange's failures as node:http's are reported: connection and protocol errors
   * (they carry an errno or parser code) through connectError, a request refused before it was
   * sent (a header that would split it: a TypeError, as node throws) as it is.
   */
  private transport<T>(p: Promise<T>): Promise<T> {
    return p.catch((e: NodeJS.ErrnoException) => {
      throw e.code === undefined ? e : this.connectError(e);
    });
  }

  /** Sends one request; resolves with the response once headers arrive, whatever its status. */
  private send(method: string, fullPath: string, opts: RequestOptions): Promise<HttpResponse> {
    const headers = this.baseHeaders(opts.headers);
    let payload: Buffer | undefined;
    if (opts.json !== undefined) {
      payload = Buffer.from(goJSON(opts.json));
      headers['Content-Type'] = 'application/json';
    } else if (opts.stream !== undefined && headers['Content-Type'] === undefined) {
      headers['Content-Type'] = 'text/plain';
    }
    const mini = this.mini;
    if (mini !== undefined && opts.stream === undefined) {
      // miniHttp writes the Content-Length itself.
      return this.transport(mini.request(this.miniRequest(method, fullPath, headers, payload)).response);
    }
    return new Promise((resolve, reject) => {
      if (payload !== undefined) headers['Content-Length'] = String(payload.length);
      const req = this.openRequest({ method, path: fullPath, headers, agent: this.agent });
      req.on('response', resolve);
      req.on('error', (e: NodeJS.ErrnoException) => reject(this.connectError(e)));
      if (opts.stream !== undefined) {
        const src = opts.stream;
        src.on('error', (e) => req.destroy(e));
        src.pipe(req);
      } else {
        req.end(payload);
      }
    });
  }

  /**
   * One bodiless request on a connection of its own (a wait that stays open for as long as
   * the container runs); `onAbort` gets the way to drop it.
   */
  private sendOwn(method: string, fullPath: string, onAbort: (abort: () => void) => void): Promise<HttpResponse> {
    const headers = this.baseHeaders(undefined);
    const mini = this.mini;
    if (mini !== undefined) {
      const ex = mini.request(this.miniRequest(method, fullPath, headers), false);
      onAbort(ex.abort);
      return this.transport(ex.response);
    }
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = this.openRequest({ method, path: fullPath, headers, agent: false });
      onAbort(() => req.destroy());
      req.on('response', resolve);
      req.on('error', (e: NodeJS.ErrnoException) => reject(this.connectError(e)));
      req.end();
    });
  }

  /** Sends a request and throws docker's error for a non-2xx/3xx status. */
  private async request(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    const fullPath = await this.apiPath(path, opts.query, opts.unversioned ?? false);
    const res = await this.send(method, fullPath, opts);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 400) return res;
    throw await responseError(res, `http://${DUMMY_HOST}${fullPath}`);
  }

  private async requestJSON<T>(method: string, path: string, opts: RequestOptions = {}): Promise<{ value: T; raw: Buffer }> {
    const res = await this.request(method, path, opts);
    const { body, truncated } = await readBody(res, MAX_JSON_BODY);
    if (truncated) throw new Error(`response to ${method} ${path} is larger than ${MAX_JSON_BODY} bytes`);
    return { value: JSON.parse(body.toString('utf8')) as T, raw: body };
  }

  private async requestDiscard(method: string, path: string, opts: RequestOptions = {}): Promise<void> {
    const res = await this.request(method, path, opts);
    res.resume();
    await new Promise<void>((resolve) => {
      res.on('end', resolve);
      res.on('close', resolve);
    });
  }

  // ------------------------------------------------------------ system

  /** HEAD /_ping, falling back to GET; 200 and 500 both carry the headers we need. */
  async ping(): Promise<PingResult> {
    const parse = (res: HttpResponse): PingResult => {
      const h = res.headers;
      const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));
      const result: PingResult = {
        apiVersion: one(h['api-version']),
        osType: one(h['ostype']),
        experimental: one(h['docker-experimental']) === 'true',
        builderVersion: one(h['builder-version']),
        swarm: one(h['swarm']),
      };
      this.lastPing = result;
      return result;
    };
    const head = await this.send('HEAD', '/_ping', {});
    const status = head.statusCode ?? 0;
    await ended(head);
    if (status === 200 || status === 500) return parse(head);
    const get = await this.send('GET', '/_ping', {});
    const gstatus = get.statusCode ?? 0;
    if (gstatus >= 400 && gstatus !== 500) throw await responseError(get, `http://${DUMMY_HOST}/_ping`);
    get.resume();
    return parse(get);
  }

  async version(): Promise<SystemVersion> {
    return (await this.requestJSON<SystemVersion>('GET', '/version')).value;
  }

  async info(): Promise<SystemInfo> {
    return (await this.requestJSON<SystemInfo>('GET', '/info')).value;
  }

  // ------------------------------------------------------------ containers

  async containerCreate(body: ContainerCreateRequest, opts: { name?: string; platform?: string } = {}): Promise<ContainerCreateResponse> {
    const version = await this.negotiate();
    const req: ContainerCreateRequest = { ...body, HostConfig: { ...body.HostConfig } };
    req.HostConfig.CapAdd = normalizeCapabilities(req.HostConfig.CapAdd);
    req.HostConfig.CapDrop = normalizeCapabilities(req.HostConfig.CapDrop);
    if (compareVersions(version, '1.44') >= 0) delete req.MacAddress;
    const query: QueryPairs = [];
    if (opts.platform) query.push(['platform', opts.platform]);
    if (opts.name) query.push(['name', opts.name]);
    return (await this.requestJSON<ContainerCreateResponse>('POST', '/containers/create', { query, json: req })).value;
  }

  async containerStart(id: string): Promise<void> {
    await this.requestDiscard('POST', `/containers/${pathID(id)}/start`);
  }

  async containerStop(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const query: QueryPairs = [];
    if (opts.timeout !== undefined) query.push(['t', String(opts.timeout)]);
    if (opts.signal) {
      const v = await this.negotiate();
      if (compareVersions(v, '1.42') >= 0) query.push(['signal', opts.signal]);
    }
    await this.requestDiscard('POST', `/containers/${pathID(id)}/stop`, { query });
  }

  async containerKill(id: string, signal?: string): Promise<void> {
    const query: QueryPairs = [];
    if (signal) query.push(['signal', signal]);
    await this.requestDiscard('POST', `/containers/${pathID(id)}/kill`, { query });
  }

  /**
   * POST /containers/{id}/wait. The request stays open until the condition is
   * met; `ready` resolves when the daemon sends the response headers (docker's
   * client returns at that point, before starting the container).
   */
  containerWait(id: string, condition?: WaitCondition): WaitHandle {
    let abort: (() => void) | undefined;
    let cancelled = false;
    let resolveReady!: () => void;
    let rejectReady!: (e: unknown) => void;
    const ready = new Promise<void>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    const result = (async (): Promise<WaitResponse> => {
      try {
        const query: QueryPairs = condition ? [['condition', condition]] : [];
        const fullPath = await this.apiPath(`/containers/${pathID(id)}/wait`, query, false);
        if (cancelled) throw new Error('wait cancelled');
        const res = await this.sendOwn('POST', fullPath, (a) => {
          abort = a;
          if (cancelled) a();
        });
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 400) throw await responseError(res, `http://${DUMMY_HOST}${fullPath}`);
        resolveReady();
        const { body } = await readBody(res, MAX_ERROR_BODY);
        const text = body.toString('utf8');
        try {
          return JSON.parse(text) as WaitResponse;
        } catch {
          throw new Error(text);
        }
      } catch (e) {
        rejectReady(e);
        throw e;
      }
    })();
    // Callers may await only one of the two; neither should become an unhandled rejection.
    ready.catch(() => undefined);
    result.catch(() => undefined);
    return {
      ready,
      result,
      cancel: () => {
        cancelled = true;
        abort?.();
      },
    };
  }

  async containerRemove(id: string, opts: { force?: boolean; volumes?: boolean; link?: boolean } = {}): Promise<void> {
    const query: QueryPairs = [];
    if (opts.volumes) query.push(['v', '1']);
    if (opts.link) query.push(['link', '1']);
    if (opts.force) query.push(['force', '1']);
    await this.requestDiscard('DELETE', `/containers/${pathID(id)}`, { query });
  }

  async containerList(opts: ContainerListOptions = {}): Promise<ContainerSummary[]> {
    const query: QueryPairs = [];
    if (opts.all) query.push(['all', '1']);
    if (opts.limit !== undefined && opts.limit > 0) query.push(['limit', String(opts.limit)]);
    if (opts.size) query.push(['size', '1']);
    if (filtersLen(opts.filters) > 0) query.push(['filters', encodeFilters(opts.filters as Filters)]);
    return (await this.requestJSON<ContainerSummary[] | null>('GET', '/containers/json', { query })).value ?? [];
  }

  /** GET /containers/{id}/json; `raw` is the daemon's bytes, for `inspect` output. */
  async containerInspect(id: string, opts: { size?: boolean } = {}): Promise<{ value: ContainerInspect; raw: Buffer }> {
    const query: QueryPairs = opts.size ? [['size', '1']] : [];
    return this.requestJSON<ContainerInspect>('GET', `/containers/${pathID(id)}/json`, { query });
  }

  /** GET /containers/{id}/logs; the body is multiplexed unless the container has a TTY. */
  async containerLogs(id: string, opts: ContainerLogsOptions): Promise<HttpResponse> {
    const query: QueryPairs = [];
    if (opts.stdout) query.push(['stdout', '1']);
    if (opts.stderr) query.push(['stderr', '1']);
    if (opts.since) query.push(['since', opts.since]);
    if (opts.until) query.push(['until', opts.until]);
    if (opts.timestamps) query.push(['timestamps', '1']);
    if (opts.details) query.push(['details', '1']);
    if (opts.follow) query.push(['follow', '1']);
    query.push(['tail', opts.tail ?? '']);
    return this.request('GET', `/containers/${pathID(id)}/logs`, { query });
  }

  /**
   * POST /containers/{id}/attach with `Connection: Upgrade, Upgrade: tcp`;
   * resolves once the daemon answers 101 and hands over the raw connection.
   */
  async containerAttach(id: string, opts: ContainerAttachOptions): Promise<HijackedConnection> {
    const query: QueryPairs = [];
    if (opts.stream) query.push(['stream', '1']);
    if (opts.stdin) query.push(['stdin', '1']);
    if (opts.stdout) query.push(['stdout', '1']);
    if (opts.stderr) query.push(['stderr', '1']);
    if (opts.detachKeys) query.push(['detachKeys', opts.detachKeys]);
    if (opts.logs) query.push(['logs', '1']);
    const version = await this.negotiate();
    const fullPath = await this.apiPath(`/containers/${pathID(id)}/attach`, query, false);
    return this.hijack(fullPath, version);
  }

  private hijack(fullPath: string, version: string): Promise<HijackedConnection> {
    const connection = (socket: Socket, head: Buffer, headers: { [name: string]: string | string[] | undefined }): HijackedConnection => {
      if (head.length > 0) socket.unshift(head);
      socket.setNoDelay?.(true);
      const ctype = headers['content-type'] ?? '';
      return {
        socket,
        mediaType: compareVersions(version, '1.42') < 0 ? '' : String(ctype),
        closeWrite: () => {
          if (!socket.destroyed && socket.writable) socket.end();
        },
        close: () => socket.destroy(),
      };
    };
    const refused = async (res: HttpResponse): Promise<Error> => {
      const status = res.statusCode ?? 0;
      if (status >= 400) return responseError(res, `http://${DUMMY_HOST}${fullPath}`);
      res.resume();
      return new UpgradeError(status, 'tcp');
    };
    const headers = this.baseHeaders({ 'Content-Type': 'text/plain', Connection: 'Upgrade', Upgrade: 'tcp' });
    const mini = this.mini;
    if (mini !== undefined) {
      return this.transport(mini.upgrade(this.miniRequest('POST', fullPath, headers)).response).then(async (r) => {
        if ('kind' in r && r.kind === 'upgraded') return connection(r.socket, r.head, r.headers);
        throw await refused(r as HttpResponse);
      });
    }
    return new Promise((resolve, reject) => {
      const req = this.openRequest({ method: 'POST', path: fullPath, headers, agent: false });
      req.on('upgrade', (res: Http.IncomingMessage, socket: Socket, head: Buffer) => resolve(connection(socket, head, res.headers)));
      req.on('response', (res: Http.IncomingMessage) => {
        refused(res).then(reject, reject);
      });
      req.on('error', (e: NodeJS.ErrnoException) => reject(this.connectError(e)));
      req.end();
    });
  }

  async containerResize(id: string, height: number, width: number): Promise<void> {
    await this.requestDiscard('POST', `/containers/${pathID(id)}/resize`, {
      query: [
        ['h', String(height)],
        ['w', String(width)],
      ],
    });
  }

  // ------------------------------------------------------------ other objects (inspect's fallback chain)

  async networkInspect(id: string): Promise<{ value: Record<string, unknown>; raw: Buffer }> {
    return this.requestJSON<Record<string, unknown>>('GET', `/networks/${pathID(id)}`);
  }

  async volumeInspect(name: string): Promise<{ value: Record<string, unknown>; raw: Buffer }> {
    return this.requestJSON<Record<string, unknown>>('GET', `/volumes/${pathID(name)}`);
  }

  async pluginInspect(name: string): Promise<{ value: Record<string, unknown>; raw: Buffer }> {
    return this.requestJSON<Record<string, unknown>>('GET', `/plugins/${goPathEscape(name)}/json`);
  }

  // ------------------------------------------------------------ images

  /** POST /images/create?fromImage=&tag= (pull); the body is a JSON message stream. */
  async imageCreate(opts: ImageCreateOptions): Promise<HttpResponse> {
    const query: QueryPairs = [
      ['fromImage', opts.fromImage],
      ['tag', opts.tag],
    ];
    if (opts.platform) query.push(['platform', opts.platform.toLowerCase()]);
    return this.request('POST', '/images/create', { query, headers: { 'X-Registry-Auth': opts.registryAuth ?? '' } });
  }

  /**
   * POST /images/create?fromSrc=-&repo=… with the tar as the body (or a URL in
   * fromSrc and no body). The response is a JSON message stream.
   */
  async imageImport(source: Readable | undefined, opts: ImageImportOptions): Promise<HttpResponse> {
    const query: QueryPairs = [];
    if (opts.fromSrc) query.push(['fromSrc', opts.fromSrc]);
    if (opts.repo) query.push(['repo', opts.repo]);
    if (opts.tag) query.push(['tag', opts.tag]);
    if (opts.message) query.push(['message', opts.message]);
    if (opts.platform) query.push(['platform', opts.platform.toLowerCase()]);
    for (const c of opts.changes ?? []) query.push(['changes', c]);
    const ro: RequestOptions = { query };
    if (source !== undefined) ro.stream = source;
    return this.request('POST', '/images/create', ro);
  }

  async imageList(opts: ImageListOptions = {}): Promise<ImageSummary[]> {
    const query: QueryPairs = [];
    if (filtersLen(opts.filters) > 0) query.push(['filters', encodeFilters(opts.filters as Filters)]);
    if (opts.all) query.push(['all', '1']);
    if (opts.sharedSize) query.push(['shared-size', '1']);
    return (await this.requestJSON<ImageSummary[] | null>('GET', '/images/json', { query })).value ?? [];
  }

  async imageInspect(name: string): Promise<{ value: ImageInspect; raw: Buffer }> {
    if (name === '') throw new ApiError(404, 'No such image: ');
    return this.requestJSON<ImageInspect>('GET', `/images/${goPathEscape(name)}/json`);
  }

  async imageRemove(name: string, opts: { force?: boolean; noPrune?: boolean } = {}): Promise<ImageDeleteResponseItem[]> {
    const query: QueryPairs = [];
    if (opts.force) query.push(['force', '1']);
    if (opts.noPrune) query.push(['noprune', '1']);
    return (await this.requestJSON<ImageDeleteResponseItem[] | null>('DELETE', `/images/${goPathEscape(name)}`, { query })).value ?? [];
  }

  /** POST /images/{source}/tag?repo=&tag=; `repo` is the full normalised name. */
  async imageTag(source: string, repo: string, tag: string | undefined): Promise<void> {
    const query: QueryPairs = [['repo', repo]];
    if (tag !== undefined && tag !== '') query.push(['tag', tag]);
    await this.requestDiscard('POST', `/images/${goPathEscape(source)}/tag`, { query });
  }
}

/** docker's trimID: an empty ID is the caller's mistake, caught before any request. */
function pathID(id: string): string {
  const t = id.trim();
  if (t === '') throw new Error('invalid container name or ID: value is empty');
  return goPathEscape(t);
}

/** Go's URL path escaping: keeps `/ : @ $ & + , ; =`, escapes the rest like a path segment. */
export function goPathEscape(s: string): string {
  return encodeURIComponent(s).replace(/%(2F|3A|40|24|26|2B|2C|3B|3D)/gi, (_m, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}
