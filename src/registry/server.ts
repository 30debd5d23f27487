/**
 * registry/server: the registry's HTTP(S) server — `berth registry serve`
 * runs one in the CLI process. Owns the listener's lifecycle, routing a
 * request to its endpoint, authorization before any handler runs, the
 * read-only and method checks, and writing every error in the spec's JSON
 * form. Handlers live in api.ts; storage in registry.ts.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as api from './api.js';
import { Authenticator, type AuthConfig, type Need } from './auth.js';
import { RegistryError, unsupported } from './errors.js';
import { API_VERSION, API_VERSION_HEADER, hasBody, readBody, replyJson, type Exchange } from './http.js';
import { TOKEN_FORM_MAX_BYTES } from './limits.js';
import { bareType } from './mediaTypes.js';
import { Registry } from './registry.js';
import { matchRoute, type Endpoint } from './routes.js';
import { OAuthError, TokenService } from './tokenService.js';
import { isDisconnect } from './uploads.js';

export interface RegistryServerOptions {
  /** Storage root: `registry.db`, `content/`, `uploads/`, `token.key`. */
  root: string;
  readOnly?: boolean;
  auth?: AuthConfig;
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** Pull-through source (a remote registry), when this registry is a cache. */
  proxy?: (registry: Registry) => api.PullThroughSource;
  /** Where unexpected (5xx) errors are reported. */
  log?: (line: string) => void;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The form body of `POST /token` (application/x-www-form-urlencoded, bounded). */
async function readTokenForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = bareType(req.headers['content-type']);
  if (type !== '' && type !== 'application/x-www-form-urlencoded') {
    throw new OAuthError(400, 'invalid_request', `expected an application/x-www-form-urlencoded body, got "${type}"`);
  }
  const body = await readBody(req, TOKEN_FORM_MAX_BYTES, () => new OAuthError(400, 'invalid_request', `token request larger than ${TOKEN_FORM_MAX_BYTES} bytes`));
  return new URLSearchParams(body.toString('utf8'));
}

/** The methods each endpoint answers, for 405s. */
const METHODS: Record<Endpoint['kind'], readonly string[]> = {
  base: ['GET', 'HEAD'],
  catalog: ['GET'],
  token: ['GET', 'POST'],
  manifest: ['GET', 'HEAD', 'PUT', 'DELETE'],
  blob: ['GET', 'HEAD', 'DELETE'],
  uploads: ['POST'],
  upload: ['GET', 'PATCH', 'PUT', 'DELETE'],
  tags: ['GET'],
  referrers: ['GET'],
};

/** The grants an endpoint needs for a method. */
function needsOf(ep: Endpoint, method: string): Need[] {
  switch (ep.kind) {
    case 'base':
    case 'token':
      return [];
    case 'catalog':
      return [{ type: 'registry', name: 'catalog', action: '*' }];
    case 'manifest':
    case 'blob':
      if (method === 'DELETE') return [{ type: 'repository', name: ep.name, action: 'delete' }];
      if (method === 'PUT') return [{ type: 'repository', name: ep.name, action: 'push' }];
      return [{ type: 'repository', name: ep.name, action: 'pull' }];
    case 'uploads':
    case 'upload':
      return [{ type: 'repository', name: ep.name, action: 'push' }];
    case 'tags':
    case 'referrers':
      return [{ type: 'repository', name: ep.name, action: 'pull' }];
  }
}

export class RegistryServer {
  private server: Server | undefined;
  private readonly auth: Authenticator;
  private readonly tokens: TokenService;
  private readonly ctx: api.ApiContext;
  private readonly log: (line: string) => void;
  private readonly tls: boolean;

  private constructor(
    readonly registry: Registry,
    private readonly opts: RegistryServerOptions,
  ) {
    this.auth = new Authenticator(opts.auth);
    this.tokens = new TokenService(this.auth);
    this.ctx = { registry, auth: this.auth };
    if (opts.proxy !== undefined) this.ctx.proxy = opts.proxy(registry);
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.tls = opts.tls !== undefined;
  }

  static async open(opts: RegistryServerOptions): Promise<RegistryServer> {
    const o: { root: string; readOnly?: boolean } = { root: opts.root };
    if (opts.readOnly !== undefined) o.readOnly = opts.readOnly;
    return new RegistryServer(await Registry.open(o), opts);
  }

  get authMode(): 'none' | 'basic' | 'token' {
    return this.auth.mode;
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  async listen(host: string, port: number): Promise<AddressInfo> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((e: unknown) => {
        this.log(`registry: ${(e as Error).stack ?? String(e)}`);
        res.destroy();
      });
    };
    // node:https (and TLS with it) is loaded only when serving TLS: less to keep resident otherwise.
    const tls = this.opts.tls;
    const server = tls !== undefined ? (await import('node:https')).createServer({ cert: tls.cert, key: tls.key }, handler) : createHttpServer(handler);
    // Big layers over slow links: no whole-request deadline, only an idle one.
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    server.keepAliveTimeout = 30_000;
    server.setTimeout(5 * 60_000, (socket) => socket.destroy());
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  /** Stops accepting, ends idle connections, waits for requests in flight, closes storage. */
  async close(): Promise<void> {
    const server = this.server;
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Uploads in flight are resumable; do not wait on them forever.
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
    }
    await this.registry.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const x: Exchange = {
      req,
      res,
      method: req.method ?? 'GET',
      query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
      principal: { user: undefined, can: () => false },
      tls: this.tls,
    };
    try {
      const ep = matchRoute(path);
      if (ep === undefined) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', [API_VERSION_HEADER]: API_VERSION });
        res.end('404 page not found\n');
        return;
      }
      if (!METHODS[ep.kind].includes(x.method)) {
        throw unsupported(`${x.method} is not supported on this endpoint`);
      }
      if (ep.kind === 'token') {
        this.tokens.ensureEnabled();
        const body = x.method === 'POST' ? await this.tokens.post(await readTokenForm(req)) : await this.tokens.get(req, this.tls, x.query);
        replyJson(x, 200, body, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
        return;
      }
      x.principal = await this.auth.authorize(req, this.tls, needsOf(ep, x.method));
      if (this.ctx.registry.readOnly && WRITE_METHODS.has(x.method)) {
        throw unsupported('the registry is in read-only mode');
      }
      await this.dispatch(ep, x);
    } catch (e) {
      this.fail(x, e);
    }
  }

  private async dispatch(ep: Endpoint, x: Exchange): Promise<void> {
    const c = this.ctx;
    const m = x.method;
    switch (ep.kind) {
      case 'base':
        replyJson(x, 200, {});
        return;
      case 'catalog':
        return api.catalog(c, x);
      case 'manifest':
        if (m === 'PUT') return api.putManifest(c, x, ep.name, ep.ref);
        if (m === 'DELETE') return api.deleteManifest(c, x, ep.name, ep.ref);
        return api.getManifest(c, x, ep.name, ep.ref);
      case 'blob':
        if (m === 'DELETE') return api.deleteBlob(c, x, ep.name, ep.digest);
        return api.getBlob(c, x, ep.name, ep.digest);
      case 'uploads':
        return api.startUpload(c, x, ep.name);
      case 'upload':
        if (m === 'PATCH') return api.patchUpload(c, x, ep.name, ep.id);
        if (m === 'PUT') return api.putUpload(c, x, ep.name, ep.id);
        if (m === 'DELETE') return api.deleteUpload(c, x, ep.name, ep.id);
        return api.getUpload(c, x, ep.name, ep.id);
      case 'tags':
        return api.listTags(c, x, ep.name);
      case 'referrers':
        return api.referrers(c, x, ep.name, ep.digest);
      case 'token':
        return;
    }
  }

  private fail(x: Exchange, e: unknown): void {
    const { req, res } = x;
    if (isDisconnect(e) || res.headersSent || res.destroyed) {
      // Nothing can be said to a client that is gone or already answered.
      if (!res.headersSent && !res.destroyed) res.destroy();
      else if (res.headersSent && !res.writableEnded) res.destroy();
      return;
    }
    let err: RegistryError;
    if (e instanceof RegistryError) {
      err = e;
    } else {
      const kind = (e as { kind?: string }).kind;
      if (kind === 'invalid-argument') {
        err = new RegistryError('UNSUPPORTED', 400, (e as Error).message);
      } else {
        this.log(`registry: ${req.method} ${req.url}: ${(e as Error).stack ?? String(e)}`);
        err = new RegistryError('UNKNOWN', 500, 'internal error', (e as Error).message);
      }
    }
    const body = err.body();
    const headers: Record<string, string | number> = {
      [API_VERSION_HEADER]: API_VERSION,
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      ...err.headers,
    };
    // An unread request body (a 413 manifest, a 416 chunk) is not worth reading: close after answering.
    if (!req.complete && hasBody(req)) headers['Connection'] = 'close';
    res.writeHead(err.status, headers);
    res.end(x.method === 'HEAD' ? undefined : body);
  }
}
