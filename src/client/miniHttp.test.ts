/**
 * miniHttp against a raw unix-socket server that writes exact bytes: framing (length,
 * chunked split anywhere, to the close, none), connection reuse, the 101 hand-over, interim
 * answers, and the errors a broken daemon or a missing one gives.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MiniHttpClient, type HttpResponse, type Upgraded } from './miniHttp.js';

/** Answers each request head it reads with what `reply` returns, written in the pieces given. */
class RawServer {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'berth-minihttp-'));
  readonly socketPath = path.join(this.dir, 's.sock');
  connections = 0;
  requests: string[] = [];
  reply: (head: string, sock: Socket) => Array<string | Buffer> = () => ['HTTP/1.1 204 No Content\r\n\r\n'];
  private readonly open = new Set<Socket>();
  private readonly server: Server = createServer((sock) => {
    this.connections++;
    this.open.add(sock);
    sock.on('close', () => this.open.delete(sock));
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        this.requests.push(buf.slice(0, end + 4 + len));
        buf = buf.slice(end + 4 + len);
        const pieces = this.reply(head, sock);
        void (async () => {
          for (const p of pieces) {
            if (sock.destroyed) return;
            sock.write(p);
            await new Promise((r) => setTimeout(r, 2));
          }
        })();
      }
    });
    sock.on('error', () => undefined);
  });

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  close(): Promise<void> {
    for (const s of this.open) s.destroy();
    return new Promise((resolve) => {
      this.server.close(() => {
        rmSync(this.dir, { recursive: true, force: true });
        resolve();
      });
    });
  }

  client(): MiniHttpClient {
    return new MiniHttpClient(() => createConnection({ path: this.socketPath }));
  }
}

async function text(res: HttpResponse): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of res) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

describe('MiniHttpClient', () => {
  const srv = new RawServer();
  before(() => srv.listen());
  after(() => srv.close());

  it('writes the request line, headers and a body with its length', async () => {
    srv.requests = [];
    srv.reply = () => ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'];
    const c = srv.client();
    const res = await c.request({ method: 'POST', path: '/v1.51/containers/create?name=x', headers: { Host: 'api.moby.localhost' }, body: Buffer.from('{}') }).response;
    assert.equal(await text(res), 'ok');
    assert.equal(srv.requests[0], 'POST /v1.51/containers/create?name=x HTTP/1.1\r\nHost: api.moby.localhost\r\nContent-Length: 2\r\n\r\n{}');
    c.close();
  });

  it('decodes a chunked body split at every awkward place, with trailers', async () => {
    const wire = '5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n';
    srv.reply = () => ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n', ...wire.split('')];
    const c = srv.client();
    const res = await c.request({ method: 'GET', path: '/x', headers: {} }).response;
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(await text(res), 'hello, world');
    c.close();
  });

  it('reuses a connection once a response was read to its end, also after a HEAD and a 204', async () => {
    srv.reply = (head) =>
      head.startsWith('HEAD') ? ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\nApi-Version: 1.51\r\n\r\n'] : head.includes('/start') ? ['HTTP/1.1 204 No Content\r\n\r\n'] : ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'];
    const c = srv.client();
    const before = srv.connections;
    const ping = await c.request({ method: 'HEAD', path: '/_ping', headers: {} }).response;
    assert.equal(ping.headers['api-version'], '1.51');
    await text(ping);
    await text(await c.request({ method: 'POST', path: '/start', headers: {} }).response);
    assert.equal(await text(await c.request({ method: 'GET', path: '/json', headers: {} }).response), 'abc');
    assert.equal(srv.connections - before, 1);
    // A response still arriving keeps its connection; the next request dials another.
    const reply = srv.reply;
    srv.reply = (head, sock) => (head.includes('/slow') ? ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n'] : reply(head, sock));
    const slow = await c.request({ method: 'GET', path: '/slow', headers: {} }).response;
    await text(await c.request({ method: 'GET', path: '/json', headers: {} }).response);
    assert.equal(srv.connections - before, 2);
    slow.destroy();
    c.close();
  });

  it('reuses a connection after a large body its reader took in late', async () => {
    const big = 'x'.repeat(300_000);
    srv.reply = (head) => (head.includes('/big') ? [`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n${big}`] : ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']);
    const c = srv.client();
    const before = srv.connections;
    const res = await c.request({ method: 'GET', path: '/big', headers: {} }).response;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await text(res)).length, big.length);
    assert.equal(await text(await c.request({ method: 'GET', path: '/small', headers: {} }).response), 'ok');
    assert.equal(srv.connections - before, 1);
    c.close();
  });

  it('reads a body without length or chunking up to the close, and does not pool that connection', async () => {
    srv.reply = (_h, sock) => {
      setTimeout(() => sock.end(), 20);
      return ['HTTP/1.1 200 OK\r\n\r\n', 'part1 ', 'part2'];
    };
    const c = srv.client();
    const before = srv.connections;
    assert.equal(await text(await c.request({ method: 'GET', path: '/x', headers: {} }).response), 'part1 part2');
    srv.reply = () => ['HTTP/1.1 204 No Content\r\n\r\n'];
    await text(await c.request({ method: 'GET', path: '/y', headers: {} }).response);
    assert.equal(srv.connections - before, 2);
    c.close();
  });

  it('hands over the connection on 101 with the bytes that came with the head', async () => {
    srv.reply = (_h, sock) => {
      sock.removeAllListeners('data');
      sock.on('data', (d) => sock.write(`echo:${d.toString()}`));
      return ['HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly'];
    };
    const c = srv.client();
    const r = (await c.upgrade({ method: 'POST', path: '/attach', headers: { Connection: 'Upgrade', Upgrade: 'tcp' } }).response) as Upgraded;
    assert.equal(r.kind, 'upgraded');
    assert.equal(r.headers['content-type'], 'application/vnd.docker.raw-stream');
    assert.equal(r.head.toString(), 'early');
    const got = new Promise<string>((resolve) => r.socket.once('data', (d: Buffer) => resolve(d.toString())));
    r.socket.write('ping');
    assert.equal(await got, 'echo:ping');
    r.socket.destroy();
  });

  it('answers an upgrade refused with the plain response', async () => {
    srv.reply = () => ['HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\r\n{"message":"No such container"}'];
    const c = srv.client();
    const r = (await c.upgrade({ method: 'POST', path: '/attach', headers: {} }).response) as HttpResponse;
    assert.equal(r.statusCode, 404);
    assert.equal(await text(r), '{"message":"No such container"}');
  });

  it('skips a 100 Continue before the answer', async () => {
    srv.reply = () => ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'];
    const c = srv.client();
    const res = await c.request({ method: 'GET', path: '/x', headers: {} }).response;
    assert.equal(res.statusCode, 200);
    assert.equal(await text(res), 'ok');
    c.close();
  });

  it('fails a garbled answer, a close before the answer, and a close inside the body', async () => {
    const c = srv.client();
    srv.reply = () => ['SMTP ready\r\n\r\n'];
    await assert.rejects(c.request({ method: 'GET', path: '/x', headers: {} }).response, /malformed response/);
    srv.reply = (_h, sock) => {
      sock.destroy();
      return [];
    };
    await assert.rejects(c.request({ method: 'GET', path: '/x', headers: {} }).response, (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET');
    srv.reply = (_h, sock) => {
      setTimeout(() => sock.destroy(), 20);
      return ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'];
    };
    const res = await c.request({ method: 'GET', path: '/x', headers: {} }).response;
    await assert.rejects(text(res), /socket hang up/);
  });

  it('refuses a header or path that would split the request, before dialling', async () => {
    const c = srv.client();
    const before = srv.connections;
    await assert.rejects(c.request({ method: 'GET', path: '/x', headers: { 'X-A': 'v\r\nX-Injected: 1' } }).response, /invalid character/);
    await assert.rejects(c.request({ method: 'GET', path: '/x y', headers: {} }).response, /invalid request path/);
    assert.equal(srv.connections, before);
  });

  it('sends again on a new connection when a pooled one was closed by the daemon meanwhile', async () => {
    const sockets: Socket[] = [];
    srv.reply = (_h, sock) => {
      sockets.push(sock);
      return ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'];
    };
    const c = srv.client();
    assert.equal(await text(await c.request({ method: 'GET', path: '/x', headers: {} }).response), 'ok');
    // The daemon drops the idle connection without the client having seen it yet.
    sockets[0]?.destroy();
    assert.equal(await text(await c.request({ method: 'GET', path: '/x', headers: {} }).response), 'ok');
    c.close();
  });

  it('aborts a long request, and gives the errno of a socket that is not there', async () => {
    srv.reply = () => ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'];
    const c = srv.client();
    const ex = c.request({ method: 'POST', path: '/wait', headers: {} }, false);
    const res = await ex.response;
    ex.abort();
    await assert.rejects(text(res));
    const gone = new MiniHttpClient(() => createConnection({ path: path.join(srv.dir, 'missing.sock') }));
    await assert.rejects(gone.request({ method: 'HEAD', path: '/_ping', headers: {} }).response, (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  });
});
