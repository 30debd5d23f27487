/**
 * server/router: declarative routes (DESIGN style 8) on find-my-way, the
 * request context handlers get, and the hijack used by attach. Handlers throw
 * typed errors; this file answers them through middleware/errors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable, Writable } from 'node:stream';
import FindMyWay from 'find-my-way';
import { InvalidArgumentError, NotFoundError } from '../errdefs/errors.js';
import { errorBody, statusOf } from './middleware/errors.js';
import { API_VERSION, splitVersion } from './middleware/version.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

export interface HijackedStreams {
  /** Bytes from the client (stdin); null when the client cannot send any. */
  input: Readable | null;
  output: Writable;
}

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  apiVersion: string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Takes over the connection for a raw stream (101 UPGRADED when asked, else 200). */
  hijack(contentType: string): HijackedStreams;
  json(status: number, body: unknown): void;
  noContent(status?: number): void;
  readJson(maxBytes?: number): Promise<unknown>;
}

export type Handler = (ctx: Ctx) => Promise<void> | void;

export interface Route {
  method: Method;
  path: string;
  handler: Handler;
}

export const get = (path: string, handler: Handler): Route => ({ method: 'GET', path, handler });
export const head = (path: string, handler: Handler): Route => ({ method: 'HEAD', path, handler });
export const post = (path: string, handler: Handler): Route => ({ method: 'POST', path, handler });
export const put = (path: string, handler: Handler): Route => ({ method: 'PUT', path, handler });
export const del = (path: string, handler: Handler): Route => ({ method: 'DELETE', path, handler });

export const COMMON_HEADERS: Record<string, string> = {
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: 'berth/0.1.0 (linux)',
};

const MAX_JSON_BODY = 16 * 1024 * 1024;

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) throw new InvalidArgumentError(`request body larger than ${max} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export class Router {
  private readonly fmw = FindMyWay({ ignoreTrailingSlash: true, caseSensitive: true });
  /** Told each request's final status once (101 for a hijack), e.g. the audit log. */
  observe: ((req: IncomingMessage, status: number) => void) | undefined;

  constructor(routes: readonly Route[]) {
    for (const r of routes) {
      this.fmw.on(r.method, r.path, (() => undefined) as never, r.handler);
    }
  }

  /** Serves one request; `upgrade` carries the raw socket for hijack requests. */
  async dispatch(req: IncomingMessage, res: ServerResponse, upgrade?: { socket: Duplex; head: Buffer }): Promise<void> {
    const ac = new AbortController();
    const onClose = (): void => ac.abort();
    // Held here: req.socket is null once the request has been destroyed (e.g. a refused upload).
    const sock: Duplex | null = upgrade?.socket ?? req.socket;
    sock?.once('close', onClose);
    let hijacked = false;
    let status = 0;
    let observed = false;
    // Once per request: at hijack time for attach/exec (the stream may last hours), else at the end.
    const observe = (): void => {
      if (observed) return;
      observed = true;
      this.observe?.(req, status);
    };
    try {
      const url = new URL(req.url ?? '/', 'http://berth');
      const { version, path } = splitVersion(url.pathname);
      const found = this.fmw.find(req.method as Method, path);
      if (!found) throw new NotFoundError(`page not found`);
      const handler = found.store as Handler;
      const ctx: Ctx = {
        req,
        res,
        params: Object.fromEntries(Object.entries(found.params).map(([k, v]) => [k, v ?? ''])),
        query: url.searchParams,
        apiVersion: version,
        signal: ac.signal,
        hijack(contentType: string): HijackedStreams {
          hijacked = true;
          status = upgrade ? 101 : 200;
          observe();
          if (upgrade) {
            upgrade.socket.write(
              `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
                `Api-Version: ${API_VERSION}\r\n\r\n`,
            );
            if (upgrade.head.length) upgrade.socket.unshift(upgrade.head);
            return { input: upgrade.socket, output: upgrade.socket };
          }
          res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': contentType });
          res.flushHeaders();
          return { input: req, output: res };
        },
        json(status: number, body: unknown): void {
          const text = JSON.stringify(body);
          res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
          res.end(text);
        },
        noContent(status = 204): void {
          res.writeHead(status, COMMON_HEADERS);
          res.end();
        },
        async readJson(maxBytes = MAX_JSON_BODY): Promise<unknown> {
          const buf = await readBody(req, maxBytes);
          if (buf.length === 0) return {};
          try {
            return JSON.parse(buf.toString('utf8')) as unknown;
          } catch (e) {
            throw new InvalidArgumentError(`invalid JSON: ${(e as Error).message}`);
          }
        },
      };
      await handler(ctx);
      if (!hijacked) status = res.statusCode;
    } catch (err) {
      if (!hijacked) status = statusOf(err);
      this.answerError(err, res, hijacked, upgrade?.socket);
    } finally {
      sock?.off('close', onClose);
      observe();
    }
  }

  private answerError(err: unknown, res: ServerResponse, hijacked: boolean, socket?: Duplex): void {
    const status = statusOf(err);
    if (socket && !hijacked) {
      const body = errorBody(err);
      socket.end(
        `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Error'}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nApi-Version: ${API_VERSION}\r\n\r\n${body}`,
      );
      return;
    }
    if (hijacked || res.headersSent) {
      // Mid-stream: the status line is gone; close so the client sees the end.
      if (socket) socket.destroy();
      else res.destroy();
      return;
    }
    if (status === 304) {
      res.writeHead(304, COMMON_HEADERS);
      res.end();
      return;
    }
    const body = errorBody(err);
    res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}
