/**
 * client/miniHttp: the CLI's HTTP/1.1 client for a daemon reached without TLS (a unix socket
 * or plain TCP). One request at a time per connection; a connection whose response was read
 * to its end goes back to a pool for the next request; response bodies stream out as they
 * arrive (Content-Length, chunked, or up to the close); a request may ask for the 101 upgrade
 * of a hijacked attach. node:http stays for TLS and for requests that stream a body out.
 *
 * Why not node:http here: every berth command is a new process, and node:http's client is
 * compiled afresh in each one (the functions a request runs are not in node's built-in code
 * cache), ~6 ms before a `berth run` has its first two responses; this module's code comes
 * out of the CLI bundle's own code cache (decisions B102).
 *
 * Owns: the connections it dials and pools. Never: retries a request that reached a fresh
 * connection (only one sent on a pooled connection the daemon had already closed).
 */
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';

export type HttpHeaders = Record<string, string | string[] | undefined>;

/** What callers read of a response: node's IncomingMessage satisfies it too. */
export interface HttpResponse extends Readable {
  statusCode?: number | undefined;
  statusMessage?: string | undefined;
  headers: HttpHeaders;
}

export interface MiniRequest {
  method: string;
  /** Path and query, already escaped. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** A 101 answer: the connection is the caller's from here on (`head`: bytes already read past the headers). */
export interface Upgraded {
  kind: 'upgraded';
  headers: HttpHeaders;
  socket: Socket;
  head: Buffer;
}

export interface Exchange<T> {
  /** Resolves once the response headers are in. */
  response: Promise<T>;
  /** Drops the connection (a wait no longer needed): the response, or its body, fails. */
  abort(): void;
}

/** How a connection is made: `net.createConnection` with a unix path or a TCP host and port. */
export type Dial = () => Socket;

/** Largest response head accepted (node's default limit is 16 KiB). */
const MAX_HEAD = 64 * 1024;

/** An error as node:http gives it when the daemon closes a connection before answering. */
function hangUp(): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error('socket hang up');
  e.code = 'ECONNRESET';
  return e;
}

function protocolError(message: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`malformed response from the daemon: ${message}`);
  e.code = 'HPE_INVALID';
  return e;
}

interface Head {
  status: number;
  message: string;
  headers: HttpHeaders;
  keepAlive: boolean;
}

function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (m === null) throw protocolError(`status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const headers: HttpHeaders = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw protocolError(`header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers[name];
    // As node joins repeated headers: set-cookie into a list, the others with ", ".
    if (name === 'set-cookie') headers[name] = [...(Array.isArray(prev) ? prev : []), value];
    else headers[name] = prev === undefined ? value : `${String(prev)}, ${value}`;
  }
  const connection = String(headers['connection'] ?? '').toLowerCase();
  const keepAlive = m[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
  return { status: Number(m[2]), message: m[3] ?? '', headers, keepAlive };
}

function requestBytes(req: MiniRequest): Buffer {
  if (/[\r\n]/.test(req.path) || /\s/.test(req.path)) throw new TypeError(`invalid request path ${JSON.stringify(req.path)}`);
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(req.headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new TypeError(`invalid character in header ${JSON.stringify(name)}`);
    head += `${name}: ${value}\r\n`;
  }
  // Go's client sends a zero length on a POST without a body; so does this one.
  const len = req.body?.length ?? 0;
  if (len > 0 || req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') head += `Content-Length: ${len}\r\n`;
  head += '\r\n';
  const bytes = Buffer.from(head, 'latin1');
  return req.body !== undefined && len > 0 ? Buffer.concat([bytes, req.body]) : bytes;
}

/** The response body as a stream; it owns the connection until the body has been read. */
class ResponseStream extends Readable implements HttpResponse {
  statusCode: number;
  statusMessage: string;
  headers: HttpHeaders;
  /** Set while the body is still arriving: destroying the stream then drops the connection. */
  private socket: Socket | undefined;

  constructor(head: Head, socket: Socket) {
    super();
    this.statusCode = head.status;
    this.statusMessage = head.message;
    this.headers = head.headers;
    this.socket = socket;
  }

  override _read(): void {
    if (this.socket?.isPaused()) this.socket.resume();
  }

  /** Hands one piece of body on; stops reading the connection while the consumer is behind. */
  deliver(chunk: Buffer): void {
    if (!this.push(chunk)) this.socket?.pause();
  }

  finish(): void {
    this.socket = undefined;
    this.push(null);
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    // Given up before its end: the rest of the body is still on the connection, which is
    // no use to anyone now.
    this.socket?.destroy();
    this.socket = undefined;
    cb(err);
  }
}

type BodyMode = { kind: 'none' } | { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' };

/** A pooled connection and how to take it out of the pool (its idle watchers go with it). */
interface IdleConnection {
  socket: Socket;
  take(): Socket;
}

export class MiniHttpClient {
  private readonly idle: IdleConnection[] = [];

  constructor(private readonly dial: Dial) {}

  /** Sends a request, on an idle connection when `pooled` and one is there. */
  request(req: MiniRequest, pooled = true): Exchange<HttpResponse> {
    return this.exchange(req, pooled, false) as Exchange<HttpResponse>;
  }

  /** Sends a request asking for the connection (`Connection: Upgrade` among its headers): a 101 gives the socket. */
  upgrade(req: MiniRequest): Exchange<Upgraded | HttpResponse> {
    return this.exchange(req, false, true);
  }

  /** Closes the idle connections (the process can then exit by itself). */
  close(): void {
    for (const c of this.idle.splice(0)) c.take().destroy();
  }

  private exchange(req: MiniRequest, pooled: boolean, upgrade: boolean): Exchange<Upgraded | HttpResponse> {
    let current: Socket | undefined;
    let aborted = false;
    const response = new Promise<Upgraded | HttpResponse>((resolve, reject) => {
      // A header or path that would split the request rejects here, before anything is dialled.
      const bytes = requestBytes(req);
      const attempt = (socket: Socket, reused: boolean): void => {
        current = socket;
        this.run(socket, bytes, req.method, upgrade, reused, {
          resolve,
          reject,
          // A pooled connection the daemon closed meanwhile: once more on a new one.
          retry: () => (aborted ? reject(hangUp()) : attempt(this.connect(), false)),
        });
      };
      const reusable = pooled ? this.idle.pop() : undefined;
      if (reusable !== undefined) {
        attempt(reusable.take(), true);
      } else {
        attempt(this.connect(), false);
      }
    });
    return {
      response,
      abort: () => {
        aborted = true;
        current?.destroy();
      },
    };
  }

  private connect(): Socket {
    const s = this.dial();
    s.setNoDelay(true);
    return s;
  }

  /** One request and its response on `socket`; the socket goes back to the pool if it can. */
  private run(
    socket: Socket,
    bytes: Buffer,
    method: string,
    upgrade: boolean,
    reused: boolean,
    done: { resolve: (r: Upgraded | HttpResponse) => void; reject: (e: unknown) => void; retry: () => void },
  ): void {
    let headBuf: Buffer | undefined = Buffer.alloc(0);
    let res: ResponseStream | undefined;
    let mode: BodyMode = { kind: 'none' };
    let keepAlive = false;
    let gotBytes = false;
    let settled = false;
    // Chunked decoding state.
    let chunkLeft = 0;
    let chunkPhase: 'size' | 'data' | 'crlf' | 'trailer' = 'size';
    let lineBuf = '';

    const detach = (): void => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('end', onEnd);
    };
    const fail = (e: unknown): void => {
      detach();
      socket.destroy();
      if (res !== undefined) res.destroy(e instanceof Error ? e : new Error(String(e)));
      else if (!settled) {
        settled = true;
        done.reject(e);
      }
    };
    const bodyDone = (leftover: number): void => {
      detach();
      const r = res as ResponseStream;
      if (keepAlive && leftover === 0 && !socket.destroyed) {
        // Back to the pool before the stream ends, so a request made on 'end' can have it.
        // Idle, it does not keep the process alive; anything arriving on it is a protocol
        // error, and its close takes it out of the pool.
        const entry: IdleConnection = {
          socket,
          take: () => {
            socket.off('close', drop);
            socket.off('error', drop);
            socket.off('data', unexpected);
            socket.ref();
            // The last body may have paused it (a consumer behind) just before it ended.
            socket.resume();
            return socket;
          },
        };
        const drop = (): void => {
          const i = this.idle.indexOf(entry);
          if (i >= 0) this.idle.splice(i, 1);
        };
        const unexpected = (): void => {
          socket.destroy();
        };
        socket.on('close', drop);
        socket.on('error', drop);
        socket.on('data', unexpected);
        socket.unref();
        this.idle.push(entry);
      } else {
        socket.destroy();
      }
      r.finish();
    };
    const takeBody = (d: Buffer): void => {
      const r = res as ResponseStream;
      while (d.length > 0) {
        if (mode.kind === 'close') {
          r.deliver(d);
          return;
        }
        if (mode.kind === 'length') {
          const n = Math.min(mode.left, d.length);
          if (n > 0) r.deliver(d.subarray(0, n));
          mode.left -= n;
          d = d.subarray(n);
          if (mode.left === 0) {
            bodyDone(d.length);
            return;
          }
          continue;
        }
        if (mode.kind !== 'chunked') {
          bodyDone(d.length);
          return;
        }
        if (chunkPhase === 'data') {
          const n = Math.min(chunkLeft, d.length);
          r.deliver(d.subarray(0, n));
          chunkLeft -= n;
          d = d.subarray(n);
          if (chunkLeft === 0) {
            chunkPhase = 'crlf';
            lineBuf = '';
          }
          continue;
        }
        // size, crlf and trailer lines: read up to the end of a line.
        const nl = d.indexOf(10);
        if (nl < 0) {
          lineBuf += d.toString('latin1');
          if (lineBuf.length > 4096) return fail(protocolError('chunk line too long'));
          return;
        }
        const line = (lineBuf + d.subarray(0, nl).toString('latin1')).replace(/\r$/, '');
        lineBuf = '';
        d = d.subarray(nl + 1);
        if (chunkPhase === 'crlf') {
          if (line !== '') return fail(protocolError('missing CRLF after a chunk'));
          chunkPhase = 'size';
        } else if (chunkPhase === 'size') {
          const size = Number.parseInt(line.split(';')[0] ?? '', 16);
          if (!/^[0-9a-fA-F]+/.test(line) || !Number.isSafeInteger(size)) return fail(protocolError(`chunk size ${JSON.stringify(line.slice(0, 40))}`));
          if (size === 0) chunkPhase = 'trailer';
          else {
            chunkLeft = size;
            chunkPhase = 'data';
          }
        } else if (line === '') {
          bodyDone(d.length);
          return;
        }
      }
    };
    const onHead = (head: Head, rest: Buffer): void => {
      if (head.status === 101 && upgrade) {
        detach();
        // As node's client hands an upgraded socket over: in no flowing mode, so nothing read
        // from here on is emitted before the new owner listens.
        (socket as { readableFlowing: boolean | null }).readableFlowing = null;
        settled = true;
        done.resolve({ kind: 'upgraded', headers: head.headers, socket, head: rest });
        return;
      }
      keepAlive = head.keepAlive;
      res = new ResponseStream(head, socket);
      const te = String(head.headers['transfer-encoding'] ?? '').toLowerCase();
      const cl = head.headers['content-length'];
      if (method === 'HEAD' || head.status === 204 || head.status === 304 || (head.status >= 100 && head.status < 200)) mode = { kind: 'none' };
      else if (te.includes('chunked')) mode = { kind: 'chunked' };
      else if (cl !== undefined) {
        const n = Number(cl);
        if (!Number.isSafeInteger(n) || n < 0) return fail(protocolError(`content-length ${JSON.stringify(cl)}`));
        mode = { kind: 'length', left: n };
      } else {
        mode = { kind: 'close' };
        keepAlive = false;
      }
      settled = true;
      done.resolve(res);
      if (mode.kind === 'none' || (mode.kind === 'length' && mode.left === 0)) bodyDone(rest.length);
      else if (rest.length > 0) takeBody(rest);
    };
    const onData = (d: Buffer): void => {
      gotBytes = true;
      if (headBuf === undefined) return takeBody(d);
      headBuf = headBuf.length === 0 ? d : Buffer.concat([headBuf, d]);
      for (;;) {
        const end = headBuf.indexOf('\r\n\r\n');
        if (end < 0) {
          if (headBuf.length > MAX_HEAD) fail(protocolError('headers too large'));
          return;
        }
        let head: Head;
        try {
          head = parseHead(headBuf.subarray(0, end).toString('latin1'));
        } catch (e) {
          return fail(e);
        }
        const rest = headBuf.subarray(end + 4);
        // 100 Continue and other interim answers precede the real one.
        if (head.status >= 100 && head.status < 200 && head.status !== 101) {
          headBuf = rest;
          continue;
        }
        headBuf = undefined;
        onHead(head, rest);
        return;
      }
    };
    const onError = (e: Error): void => {
      if (reused && !gotBytes) {
        detach();
        socket.destroy();
        done.retry();
        return;
      }
      fail(e);
    };
    const onEnd = (): void => {
      if (res !== undefined && mode.kind === 'close') {
        detach();
        socket.destroy();
        res.finish();
      }
    };
    const onClose = (): void => {
      if (res !== undefined && mode.kind === 'close') return onEnd();
      if (reused && !gotBytes) {
        detach();
        done.retry();
        return;
      }
      fail(hangUp());
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.write(bytes);
  }
}
