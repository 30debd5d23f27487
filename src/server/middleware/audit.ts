/**
 * server/middleware/audit: one info line per API request that can change
 * state (POST, PUT, DELETE: create, start, exec, remove, pull, …) saying who
 * asked — method, path, final status and the peer's identity (uid/gid/pid on
 * the unix socket, certificate subject on TCP+TLS). Never logs bodies or
 * headers (X-Registry-Auth carries credentials) and never fails a request.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { peerFields, peerOf } from '../peer.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

export type RequestObserver = (req: IncomingMessage, status: number) => void;

export function isStateChanging(method: string | undefined): boolean {
  return STATE_CHANGING.has(method ?? '');
}

/** The router calls the returned function once per request, when its status is known. */
export function auditLog(log: Logger): RequestObserver {
  return (req, status) => {
    if (!isStateChanging(req.method)) return;
    log.info({ audit: true, method: req.method, path: req.url ?? '', status, peer: peerFields(peerOf(req.socket)) }, 'api request');
  };
}
