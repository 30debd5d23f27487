import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import net from 'node:net';
import { EmbeddedDns, type NameLookup } from './dnsServer.js';
import { buildResponse, parseQuery, TYPE_A, TYPE_AAAA, TYPE_PTR } from './dnsCodec.js';

function query(name: string, type: number, id: number): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, type, 0, 1])]);
}

function ask(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error('no answer'));
    }, 5000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(msg, port, '127.0.0.1');
  });
}

const rcode = (b: Buffer): number => b.readUInt16BE(2) & 0xf;
const ancount = (b: Buffer): number => b.readUInt16BE(6);

describe('embedded DNS server (on 127.0.0.1, a fake upstream)', () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  let upstream: Socket;
  let upstreamPort = 0;
  let forwarded = 0;
  let upstreams: string[] = [];
  const names: NameLookup = {
    lookup: (_c, _n, name) => (name === 'web' ? [0x0a000002] : name === 'multi' ? [0x0a000003, 0x0a000004] : null),
    reverse: (_c, _n, ip) => (ip === 0x0a000002 ? 'web.app' : null),
    isEngineAddress: (ip) => ip >>> 24 === 10,
    upstreams: () => upstreams,
  };
  const dns = new EmbeddedDns(names, { warn: () => undefined }, port);

  before(async () => {
    upstream = createSocket('udp4');
    upstream.on('message', (m, r) => {
      forwarded++;
      const q = parseQuery(m);
      upstream.send(buildResponse(q, 0, [{ name: q.questions[0]?.name ?? '', type: TYPE_A, ttl: 60, ipv4: 0xc0000201 }]), r.port, r.address);
    });
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
    upstreamPort = upstream.address().port;
    upstreams = [`127.0.0.1:${upstreamPort}`];
    await dns.listen('net1', '127.0.0.1');
  });
  after(async () => {
    await dns.closeAll();
    upstream.close();
  });

  it("answers the engine's names with A records, and AAAA with no data", async () => {
    const r = await ask(port, query('web', TYPE_A, 1));
    assert.equal(rcode(r), 0);
    assert.equal(ancount(r), 1);
    assert.deepEqual([...r.subarray(r.length - 4)], [10, 0, 0, 2]);
    assert.equal(ancount(await ask(port, query('multi', TYPE_A, 2))), 2);
    const six = await ask(port, query('web', TYPE_AAAA, 3));
    assert.equal(rcode(six), 0);
    assert.equal(ancount(six), 0);
  });

  it('says NXDOMAIN for unknown single-label names without forwarding', async () => {
    const before = forwarded;
    const r = await ask(port, query('nosuch', TYPE_A, 4));
    assert.equal(rcode(r), 3);
    assert.equal(forwarded, before);
  });

  it('answers PTRs for its addresses and NXDOMAIN for unknown ones in its networks', async () => {
    const r = await ask(port, query('2.0.0.10.in-addr.arpa', TYPE_PTR, 5));
    assert.equal(ancount(r), 1);
    assert.equal(rcode(await ask(port, query('9.0.0.10.in-addr.arpa', TYPE_PTR, 6))), 3);
  });

  it('forwards other names to the upstream, and SERVFAILs when there is none (internal networks)', async () => {
    const before = forwarded;
    const r = await ask(port, query('example.test', TYPE_A, 7));
    assert.equal(forwarded, before + 1);
    assert.equal(r.readUInt16BE(0), 7);
    assert.deepEqual([...r.subarray(r.length - 4)], [192, 0, 2, 1]);
    upstreams = [];
    const none = await ask(port, query('example.test', TYPE_A, 8));
    assert.equal(rcode(none), 2);
    upstreams = [`127.0.0.1:${upstreamPort}`];
  });

  it('answers over TCP too, and FORMERR for garbage', async () => {
    const msg = query('web', TYPE_A, 9);
    const head = Buffer.alloc(2);
    head.writeUInt16BE(msg.length, 0);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.concat([head, msg])));
      let buf = Buffer.alloc(0);
      s.on('data', (b: Buffer) => {
        buf = Buffer.concat([buf, b]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          s.destroy();
          resolve(buf.subarray(2));
        }
      });
      s.on('error', reject);
    });
    assert.equal(ancount(reply), 1);
    const garbage = Buffer.from([0, 42, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
    const fe = await ask(port, garbage);
    assert.equal(fe.readUInt16BE(0), 42);
    assert.equal(rcode(fe), 1);
  });
});
