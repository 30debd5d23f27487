/**
 * registry/http: the small HTTP vocabulary the handlers share — the request
 * exchange, replies with the headers every distribution response carries,
 * bounded body reads, and the `Range`/`Content-Range` grammars. No routing,
 * no storage.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from './auth.js';
import { RegistryError } from './errors.js';

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  query: URLSearchParams;
  principal: Principal;
  tls: boolean;
}

/** Sent on every response: Docker clients check it on `/v2/` to know they talk to a v2 registry. */
export const API_VERSION_HEADER = 'Docker-Distribution-API-Version';
export const API_VERSION = 'registry/2.0';

export function reply(x: Exchange, status: number, headers: Record<string, string | number>, body?: string | Buffer): void {
  const h: Record<string, string | number> = { [API_VERSION_HEADER]: API_VERSION, ...headers };
  if (body === undefined) {
    if (h['Content-Length'] === undefined) h['Content-Length'] = 0;
    x.res.writeHead(status, h);
    x.res.end();
    return;
  }
  if (h['Content-Length'] === undefined) h['Content-Length'] = Buffer.byteLength(body);
  x.res.writeHead(status, h);
  x.res.end(x.method === 'HEAD' ? undefined : body);
}

export function replyJson(x: Exchange, status: number, value: unknown, headers: Record<string, string | number> = {}): void {
  reply(x, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(value));
}

/** Whether the request carries a body (a length above zero, or chunked encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return Number(len) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

export function contentLength(req: IncomingMessage): number | undefined {
  const len = req.headers['content-length'];
  if (len === undefined || !/^\d+$/.test(len)) return undefined;
  return Number(len);
}

/**
 * Reads a whole body of at most `max` bytes. Over the limit: a RegistryError
 * with `status` (and the rest of the body is left for the server to discard).
 */
export async function readBody(req: IncomingMessage, max: number, tooLarge: () => RegistryError): Promise<Buffer> {
  const declared = contentLength(req);
  if (declared !== undefined && declared > max) throw tooLarge();
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    const chunk = c as Buffer;
    n += chunk.length;
    if (n > max) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, n);
}

/** Drains and drops a body nobody needs. */
export async function drain(req: IncomingMessage): Promise<void> {
  if (!hasBody(req)) return;
  for await (const _ of req) {
    // discard
  }
}

/**
 * An upload chunk's `Content-Range: <start>-<end>` (inclusive). Docker and
 * some clients write `bytes=…` or `bytes …`; both are accepted.
 */
export function parseContentRange(v: string | undefined): { start: number; end: number } | undefined | 'invalid' {
  if (v === undefined || v === '') return undefined;
  const m = /^(?:bytes[= ])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(v.trim());
  if (m === null) return 'invalid';
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return 'invalid';
  return { start, end };
}

/**
 * A blob GET's `Range: bytes=a-b | a- | -n` against `size`: the byte span,
 * undefined for "whole blob" (absent, multi-range or not bytes: RFC 9110 lets
 * a server ignore those), or 'unsatisfiable'.
 */
export function parseRange(v: string | undefined, size: number): { start: number; end: number } | undefined | 'unsatisfiable' {
  if (v === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(v.trim());
  if (m === null) return undefined;
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || (b !== '' && Number(b) < start)) return 'unsatisfiable';
  return { start, end };
}
