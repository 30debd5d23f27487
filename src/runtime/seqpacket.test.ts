// SeqpacketConnection against a real SOCK_SEQPACKET peer: a small python3 server (Node cannot
// listen on one), told what to do by its argument. Packets must arrive whole and in order both
// ways, a full peer queue must hold writes back (not drop or split them), the ends of the
// stream must be seen, and a listener with a full backlog fails the connect with EAGAIN at once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { SeqpacketConnection } from './seqpacket.js';

const SERVER = `
import socket, sys, time
path, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(path)
if mode == "full":
    # a backlog of 0 that is never accepted from: the second connection finds it full
    s.listen(0)
    print("ready", flush=True)
    time.sleep(30)
    sys.exit(0)
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
if mode == "echo":
    # two packets out, then each packet read is sent back with a prefix until EOF
    c.send(b"\\x02first")
    c.send(b"\\x03second")
    while True:
        d = c.recv(70000)
        if not d:
            break
        c.send(b"<" + d)
    c.close()
elif mode == "slow":
    # read nothing for a while, so the client's writes fill the queue; then report sizes
    time.sleep(0.5)
    sizes = []
    while True:
        d = c.recv(70000)
        if not d:
            break
        sizes.append(len(d))
        if d != bytes([len(sizes) % 256]) * len(d):
            sizes.append(-1)
    c.send(",".join(map(str, sizes)).encode())
    c.close()
elif mode == "reset":
    # close with the client's packet unread: the kernel then fails the client with ECONNRESET
    time.sleep(0.3)
    c.close()
`;

describe('SeqpacketConnection (python3 SOCK_SEQPACKET peer)', () => {
  let dir = '';
  let script = '';
  const servers: ChildProcess[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-seqpacket-'));
    script = join(dir, 'server.py');
    writeFileSync(script, SERVER);
  });
  after(() => {
    for (const s of servers) if (s.exitCode === null) s.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  async function server(name: string, mode: string): Promise<{ path: string; proc: ChildProcess }> {
    const path = join(dir, name);
    const proc = spawn('python3', [script, path, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    servers.push(proc);
    await once(proc.stdout as NodeJS.ReadableStream, 'data');
    return { path, proc };
  }

  function collect(conn: SeqpacketConnection): { packets: string[]; ended: Promise<void> } {
    const packets: string[] = [];
    conn.on('data', (b) => packets.push(b.toString('latin1')));
    const ended = new Promise<void>((resolve) => conn.on('end', () => resolve()));
    return { packets, ended };
  }

  it('packets arrive whole and in order both ways; end() is seen by the peer, then its EOF by us', async () => {
    const { path } = await server('echo.sock', 'echo');
    const conn = new SeqpacketConnection(path);
    const { packets, ended } = collect(conn);
    const closed = once(conn, 'close');
    await conn.write(Buffer.from('a'));
    await conn.write(Buffer.alloc(40000, 'b'));
    await conn.end();
    await ended;
    conn.destroy();
    await closed;
    assert.deepEqual(packets, ['\x02first', '\x03second', '<a', `<${'b'.repeat(40000)}`]);
    assert.equal(conn.closed, true);
    await assert.rejects(conn.write(Buffer.from('x')), { code: 'EBADF' });
  });

  it('a peer that does not read holds writes back until it does: nothing is lost, split or reordered', async () => {
    const { path } = await server('slow.sock', 'slow');
    const conn = new SeqpacketConnection(path);
    const { packets, ended } = collect(conn);
    // ~2 MB in 32 KiB packets: far more than a unix socket queues before EAGAIN.
    const writes: Promise<void>[] = [];
    for (let i = 1; i <= 64; i++) writes.push(conn.write(Buffer.alloc(32767, i % 256)));
    await Promise.all(writes);
    await conn.end();
    await ended;
    conn.destroy();
    assert.deepEqual(packets, [Array(64).fill('32767').join(',')]);
  });

  it('a reset by the peer fails the connection with an error and a close', async () => {
    const { path } = await server('reset.sock', 'reset');
    const conn = new SeqpacketConnection(path);
    const errors: Error[] = [];
    conn.on('error', (e) => errors.push(e));
    // not events.once: it would reject on the 'error' this test waits for
    const closed = new Promise<void>((resolve) => conn.on('close', () => resolve()));
    await conn.write(Buffer.from('12345'));
    await closed;
    assert.equal(conn.closed, true);
    assert.deepEqual(
      errors.map((e) => (e as NodeJS.ErrnoException).code),
      ['ECONNRESET'],
    );
  });

  it('a path of 107 bytes (all sun_path holds) connects; one byte more is ENAMETOOLONG', async () => {
    const name = 'p'.repeat(107 - dir.length - 1);
    const { path } = await server(name, 'echo');
    assert.equal(Buffer.byteLength(path), 107);
    const conn = new SeqpacketConnection(path);
    const { packets, ended } = collect(conn);
    await conn.end();
    await ended;
    conn.destroy();
    assert.deepEqual(packets, ['\x02first', '\x03second']);
    assert.throws(() => new SeqpacketConnection(`${path}q`), { code: 'ENAMETOOLONG' });
  });

  it('a listener whose backlog is full fails the connect at once with EAGAIN (the event loop is never blocked)', async () => {
    const { path, proc } = await server('full.sock', 'full');
    const conns: SeqpacketConnection[] = [];
    const started = performance.now();
    let failure: unknown;
    try {
      for (let i = 0; i < 16 && failure === undefined; i++) {
        try {
          conns.push(new SeqpacketConnection(path));
        } catch (e) {
          failure = e;
        }
      }
    } finally {
      for (const c of conns) c.destroy();
      proc.kill('SIGKILL');
    }
    assert.equal((failure as NodeJS.ErrnoException | undefined)?.code, 'EAGAIN', String(failure));
    assert.ok(conns.length >= 1, 'the first connection fits in the backlog');
    assert.ok(performance.now() - started < 1000, 'connects returned at once');
  });

  it('connect fails at once with the errno: ENOENT for no socket, ECONNREFUSED for a dead one', () => {
    assert.throws(() => new SeqpacketConnection(join(dir, 'nothing.sock')), { code: 'ENOENT' });
    const stale = join(dir, 'stale.sock');
    writeFileSync(stale, '');
    assert.throws(() => new SeqpacketConnection(stale), { code: 'ECONNREFUSED' });
  });
});
