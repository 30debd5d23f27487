/**
 * Wire-level tests of EngineClient against a minimal HTTP server on a unix
 * socket that records what the client sends (the real berthd is exercised by
 * the integration suite).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { EngineClient, compareVersions, encodeFilters, encodeQuery, goJSON } from './engineClient.js';
import { ApiError, DaemonUnreachableError } from './errors.js';
import { parseHost } from './host.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

class TestServer {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'berth-client-test-'));
  readonly socket = path.join(this.dir, 'api.sock');
  readonly seen: Seen[] = [];
  apiVersion: string | undefined = '1.51';
  handler: Handler = (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{}');
  };
  upgrade: ((req: http.IncomingMessage, socket: Socket) => void) | undefined;
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/_ping') {
        // As dockerd (and berthd) answer: a length, so the connection can stay open.
        const h: Record<string, string> = {
          'Content-Type': 'text/plain; charset=utf-8',
          'Content-Length': req.method === 'HEAD' ? '0' : '2',
          Ostype: 'linux',
          Swarm: 'inactive',
        };
        if (this.apiVersion !== undefined) h['Api-Version'] = this.apiVersion;
        res.writeHead(200, h);
        res.end(req.method === 'HEAD' ? undefined : 'OK');
        return;
      }
      this.handler(req, res, body);
    });
  });

  /** Connections the server has accepted. */
  connections = 0;

  constructor() {
    this.server.on('connection', () => {
      this.connections++;
    });
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' });
      this.upgrade?.(req, socket);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socket, resolve));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => {
        rmSync(this.dir, { recursive: true, force: true });
        resolve();
      });
    });
  }

  client(): EngineClient {
    return new EngineClient({ host: parseHost(`unix://${this.socket}`) });
  }
}

describe('query and body encoding', () => {
  it('sorts keys like Go url.Values and escapes like QueryEscape', () => {
    assert.equal(
      encodeQuery([
        ['stream', '1'],
        ['stdin', '1'],
        ['stdout', '1'],
        ['stderr', '1'],
      ]),
      'stderr=1&stdin=1&stdout=1&stream=1',
    );
    assert.equal(
      encodeQuery([
        ['repo', 'my img:v1'],
        ['changes', 'ENV A=1'],
        ['changes', "CMD ['x']"],
        ['fromSrc', '-'],
      ]),
      'changes=ENV+A%3D1&changes=CMD+%5B%27x%27%5D&fromSrc=-&repo=my+img%3Av1',
    );
  });

  it('encodes filters with sorted keys at both levels', () => {
    assert.equal(encodeFilters({ status: { running: true, exited: true }, name: { web: true } }), '{"name":{"web":true},"status":{"exited":true,"running":true}}');
  });

  it('writes JSON as Go does: HTML-safe, newline-terminated', () => {
    assert.equal(goJSON({ Env: ['A=<b>&'] }), '{"Env":["A=\\u003cb\\u003e\\u0026"]}\n');
  });

  it('compares dotted versions numerically', () => {
    assert.ok(compareVersions('1.9', '1.10') < 0);
    assert.equal(compareVersions('1.51', '1.51'), 0);
    assert.ok(compareVersions('1.52', '1.51') > 0);
  });
});

describe('EngineClient', () => {
  const srv = new TestServer();
  before(() => srv.listen());
  after(() => srv.close());

  it('negotiates with HEAD /_ping and caps the version at 1.51', async () => {
    srv.apiVersion = '1.56';
    const c = srv.client();
    try {
      srv.seen.length = 0;
      await c.containerStart('abc');
      assert.equal(srv.seen[0]?.method, 'HEAD');
      assert.equal(srv.seen[0]?.url, '/_ping');
      assert.equal(srv.seen[1]?.url, '/v1.51/containers/abc/start');
      assert.equal(c.apiVersion, '1.51');
    } finally {
      c.close();
    }
  });

  it('sends the request it negotiated for on the ping\'s connection', async () => {
    const c = srv.client();
    try {
      const before = srv.connections;
      await c.containerStart('abc');
      await c.containerStart('abc');
      assert.equal(srv.connections - before, 1);
    } finally {
      c.close();
    }
  });

  it('uses an older daemon version and falls back to 1.24 when none is advertised', async () => {
    srv.apiVersion = '1.44';
    let c = srv.client();
    await c.containerKill('abc', 'INT');
    assert.equal(srv.seen.at(-1)?.url, '/v1.44/containers/abc/kill?signal=INT');
    c.close();
    srv.apiVersion = undefined;
    c = srv.client();
    await c.negotiate();
    assert.equal(c.apiVersion, '1.24');
    c.close();
    srv.apiVersion = '1.51';
  });

  it('turns a JSON error body into ApiError with the daemon message', async () => {
    srv.handler = (_req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"message":"No such container: nope"}\n');
    };
    const c = srv.client();
    try {
      await assert.rejects(c.containerInspect('nope'), (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.statusCode, 404);
        assert.equal(e.message, 'No such container: nope');
        assert.equal(e.toString(), 'Error response from daemon: No such container: nope');
        return true;
      });
    } finally {
      c.close();
    }
  });

  it('explains an empty error body the way docker does', async () => {
    srv.handler = (_req, res) => {
      res.writeHead(404);
      res.end();
    };
    const c = srv.client();
    try {
      await assert.rejects(c.info(), /request returned 404 Not Found for API route and version http:\/\/api\.moby\.localhost\/v1\.51\/info, check if the server supports the requested API version/);
    } finally {
      c.close();
    }
  });

  it('sends the create body and query exactly, normalising capabilities', async () => {
    srv.handler = (_req, res) => {
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end('{"Id":"c0ffee","Warnings":[]}');
    };
    const c = srv.client();
    try {
      const body = { Image: 'busybox', MacAddress: 'x', HostConfig: { CapAdd: ['net_admin', 'CAP_NET_ADMIN', 'all'], CapDrop: null } };
      const r = await c.containerCreate(body as unknown as Parameters<EngineClient['containerCreate']>[0], { name: 'web' });
      assert.equal(r.Id, 'c0ffee');
      const req = srv.seen.at(-1) as Seen;
      assert.equal(req.url, '/v1.51/containers/create?name=web');
      assert.equal(req.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(req.body), { Image: 'busybox', HostConfig: { CapAdd: ['ALL', 'CAP_NET_ADMIN'], CapDrop: null } });
    } finally {
      c.close();
    }
  });

  it('streams an import body with fromSrc=- and returns the JSON message stream', async () => {
    srv.handler = (_req, res, body) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`{"status":"got ${body.length} bytes"}\r\n`);
    };
    const c = srv.client();
    try {
      const res = await c.imageImport(Readable.from([Buffer.alloc(1000), Buffer.alloc(24)]), { fromSrc: '-', repo: 'img:v1', changes: ['CMD ["sh"]'] });
      let text = '';
      for await (const chunk of res) text += String(chunk);
      assert.equal(text, '{"status":"got 1024 bytes"}\r\n');
      const req = srv.seen.at(-1) as Seen;
      assert.equal(req.url, '/v1.51/images/create?changes=CMD+%5B%22sh%22%5D&fromSrc=-&repo=img%3Av1');
      assert.equal(req.headers['content-type'], 'text/plain');
    } finally {
      c.close();
    }
  });

  it('resolves wait.ready on response headers, before the result', async () => {
    let finish!: () => void;
    srv.handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      finish = () => res.end('{"StatusCode":3,"Error":null}\n');
    };
    const c = srv.client();
    try {
      const w = c.containerWait('abc', 'next-exit');
      await w.ready;
      let done = false;
      void w.result.then(() => {
        done = true;
      });
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(done, false);
      assert.equal(srv.seen.at(-1)?.url, '/v1.51/containers/abc/wait?condition=next-exit');
      finish();
      assert.deepEqual(await w.result, { StatusCode: 3, Error: null });
    } finally {
      c.close();
    }
  });

  it('hijacks attach after 101 and carries bytes both ways, with half-close', async () => {
    srv.upgrade = (_req, socket) => {
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nhello ');
      const got: Buffer[] = [];
      socket.on('data', (d: Buffer) => got.push(d));
      socket.on('end', () => {
        socket.end(`echo:${Buffer.concat(got).toString()}`);
      });
    };
    const c = srv.client();
    try {
      const conn = await c.containerAttach('abc', { stream: true, stdin: true, stdout: true, stderr: true });
      const req = srv.seen.at(-1) as Seen;
      assert.equal(req.url, '/v1.51/containers/abc/attach?stderr=1&stdin=1&stdout=1&stream=1');
      assert.equal(req.headers['upgrade'], 'tcp');
      assert.equal(req.headers['connection'], 'Upgrade');
      assert.equal(conn.mediaType, 'application/vnd.docker.raw-stream');
      conn.socket.write('ping');
      conn.closeWrite();
      let text = '';
      for await (const chunk of conn.socket) text += String(chunk);
      assert.equal(text, 'hello echo:ping');
    } finally {
      c.close();
    }
  });

  it('reports an attach refused with 404 as ApiError', async () => {
    srv.upgrade = (_req, socket) => {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{"message":"No such container: abc"}\n');
    };
    const c = srv.client();
    try {
      await assert.rejects(c.containerAttach('abc', { stream: true }), (e: unknown) => e instanceof ApiError && e.statusCode === 404);
    } finally {
      c.close();
    }
  });
});

describe('EngineClient without a daemon', () => {
  it('says in one line that the daemon is not there', async () => {
    const c = new EngineClient({ host: parseHost('unix:///nonexistent/berth-test.sock') });
    await assert.rejects(c.version(), (e: unknown) => {
      assert.ok(e instanceof DaemonUnreachableError);
      assert.equal(e.message, 'Cannot connect to the berth daemon at unix:///nonexistent/berth-test.sock. Is berthd running?');
      return true;
    });
    c.close();
  });
});
