import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { PortReserver } from './portReserver.js';

describe('PortReserver (on 127.0.0.1)', () => {
  const r = new PortReserver();
  after(() => r.closeAll());

  it('holds a random TCP port and refuses it to another container, naming it as Docker does', async () => {
    const a = await r.reserve('c1', 'tcp', '127.0.0.1', 0, 0);
    assert.ok(a.port > 0);
    await assert.rejects(r.reserve('c2', 'tcp', '127.0.0.1', a.port, a.port), { message: `Bind for 127.0.0.1:${a.port} failed: port is already allocated` });
    // 0.0.0.0 clashes with any address on the same port.
    await assert.rejects(r.reserve('c2', 'tcp', '', a.port, a.port), /port is already allocated/);
    await r.release('c1');
    const again = await r.reserve('c2', 'tcp', '127.0.0.1', a.port, a.port);
    assert.equal(again.port, a.port);
    await r.release('c2');
  });

  it('reports a port a host process holds', async () => {
    const srv = net.createServer();
    const port = await new Promise<number>((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port)));
    try {
      await assert.rejects(r.reserve('c3', 'tcp', '127.0.0.1', port, port), { message: `Error starting userland proxy: listen tcp4 127.0.0.1:${port}: bind: address already in use` });
    } finally {
      srv.close();
    }
  });

  it('takes the first free port of a range, and holds UDP ports apart from TCP ones', async () => {
    const a = await r.reserve('c4', 'tcp', '127.0.0.1', 0, 0);
    const b = await r.reserve('c5', 'tcp', '127.0.0.1', a.port, a.port + 1).catch(() => null);
    // The first of the range is taken by c4: the next one is used (unless someone else holds it).
    if (b) assert.equal(b.port, a.port + 1);
    const u = await r.reserve('c4', 'udp', '127.0.0.1', a.port, a.port);
    assert.equal(u.port, a.port);
    await r.release('c4');
    await r.release('c5');
  });
});
