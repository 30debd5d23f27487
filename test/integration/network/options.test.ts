// Network options the other files do not cover, through the berth and docker CLIs: port ranges,
// `network connect --ip` on a running container (and a bad one changing nothing), a network with
// inter-container traffic off (enable_icc=false), and the embedded DNS forwarding names it does not
// own to the container's --dns (a fake resolver on a host loopback address) — inside this machine only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSocket, type Socket } from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import type { Known } from '../../fixtures/networkCleanup.js';
import { assertNoContainerLeftovers, assertNoNetworkLeftovers, ok, seenNetworks, tcpRead } from './fixtures.js';

/** Two consecutive TCP ports nobody holds right now. */
async function freePair(): Promise<number> {
  const free = (p: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(p, '0.0.0.0', () => s.close(() => resolve(true)));
    });
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 9000);
    if ((await free(p)) && (await free(p + 1))) return p;
  }
}

/** A DNS server on 127.0.0.<x>:53 answering every A question with 192.0.2.77 (never sent anywhere). */
function fakeResolver(): Promise<{ address: string; asked: string[]; close: () => void }> {
  const asked: string[] = [];
  const tryBind = (n: number): Promise<{ s: Socket; address: string }> =>
    new Promise((resolve, reject) => {
      const address = `127.0.${Math.floor(Math.random() * 250) + 2}.${n}`;
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(53, address, () => resolve({ s, address }));
    });
  return (async () => {
    let got: { s: Socket; address: string } | null = null;
    for (let i = 0; i < 5 && got === null; i++) got = await tryBind(53 + i).catch(() => null);
    if (got === null) throw new Error('no loopback address free for a fake resolver');
    const { s, address } = got;
    s.on('message', (q, r) => {
      // Question name: labels from byte 12.
      let i = 12;
      const labels: string[] = [];
      while (q[i]) {
        labels.push(q.subarray(i + 1, i + 1 + (q[i] as number)).toString());
        i += (q[i] as number) + 1;
      }
      asked.push(labels.join('.'));
      const question = q.subarray(12, i + 5);
      const header = Buffer.from([q[0] as number, q[1] as number, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
      const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 77]);
      s.send(Buffer.concat([header, question, answer]), r.port, r.address);
    });
    return { address, asked, close: () => s.close() };
  })();
}

describe('network options (ports ranges, connect --ip, icc off, DNS forwarding)', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  let seen: Known | undefined;
  let subnet = '';
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
  });
  after(async () => {
    if (d) {
      seen = await seenNetworks(d, seen);
      await d.cleanup();
      assertNoNetworkLeftovers(d, seen);
    }
  });

  it('-p publishes a range of ports; port and inspect list each; a range of another length is refused', async () => {
    const p = await freePair();
    ok(await d.docker(['run', '-d', '--name', 'ranged', '-p', `${p}-${p + 1}:80-81`, 'busybox', 'sh', '-c', 'nc -ll -p 80 -e echo eighty & nc -ll -p 81 -e echo eighty-one']), 'run');
    assert.equal(ok(await d.berth(['port', 'ranged']), 'port'), `80/tcp -> 0.0.0.0:${p}\n81/tcp -> 0.0.0.0:${p + 1}\n`);
    assert.equal(ok(await d.docker(['port', 'ranged', '81/tcp']), 'port 81'), `0.0.0.0:${p + 1}\n`);
    assert.equal(await tcpRead('127.0.0.1', p), 'eighty\n');
    assert.equal(await tcpRead('127.0.0.1', p + 1), 'eighty-one\n');
    for (const cli of ['berth', 'docker'] as const) {
      const bad = await (cli === 'berth' ? d.berth : d.docker).call(d, ['run', '--rm', '-p', `${p + 2}-${p + 4}:80-81`, 'busybox', 'true']);
      assert.notEqual(bad.code, 0, cli);
      assert.match(bad.stderr, /invalid ranges specified for container and host Ports|port ranges don't match|invalid.*range/i, cli);
    }
    ok(await d.berth(['rm', '-f', 'ranged']), 'rm');
  });

  it('network connect --ip gives a running container that address; an address outside the subnet is refused and changes nothing', async () => {
    const a = 10 + Math.floor(Math.random() * 200);
    subnet = `10.249.${a}.0/24`;
    ok(await d.berth(['network', 'create', '--subnet', subnet, 'fixed']), 'create');
    seen = await seenNetworks(d, seen);
    ok(await d.berth(['run', '-d', '--name', 'live', 'busybox', 'sleep', '300']), 'run');
    const before = ok(await d.berth(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'live']), 'inspect');
    const bad = await d.docker(['network', 'connect', '--ip', '10.9.9.9', 'fixed', 'live']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /no configured subnet contains IP address 10\.9\.9\.9/);
    assert.equal(ok(await d.berth(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'live']), 'inspect'), before);
    assert.equal(ok(await d.berth(['exec', 'live', 'ls', '/sys/class/net']), 'links'), 'eth0\nlo\n');
    ok(await d.docker(['network', 'connect', '--ip', `10.249.${a}.42`, 'fixed', 'live']), 'connect --ip');
    assert.match(ok(await d.berth(['exec', 'live', 'ip', '-4', 'addr', 'show', 'eth1']), 'addr'), new RegExp(`inet 10\\.249\\.${a}\\.42/24`));
    const eps = JSON.parse(ok(await d.docker(['network', 'inspect', '-f', '{{json .Containers}}', 'fixed']), 'network inspect')) as Record<string, { Name: string; IPv4Address: string }>;
    assert.deepEqual(Object.values(eps).map((e) => [e.Name, e.IPv4Address]), [['live', `10.249.${a}.42/24`]]);
    const taken = await d.berth(['run', '--rm', '--network', 'fixed', '--ip', `10.249.${a}.42`, 'busybox', 'true']);
    assert.notEqual(taken.code, 0, 'an address in use is not handed out twice');
    ok(await d.berth(['network', 'disconnect', 'fixed', 'live']), 'disconnect');
  });

  it('with enable_icc=false containers of one network resolve but cannot reach each other', async () => {
    ok(await d.berth(['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=false', 'noicc']), 'create');
    seen = await seenNetworks(d, seen);
    ok(await d.berth(['run', '-d', '--name', 'isrv', '--network', 'noicc', 'busybox', 'nc', '-ll', '-p', '80', '-e', 'echo', 'hi']), 'server');
    const out = ok(await d.berth(['run', '--rm', '--network', 'noicc', 'busybox', 'sh', '-c', 'nslookup isrv >/dev/null 2>&1 && echo resolved; nc -w 2 isrv 80 </dev/null; echo rc=$?']), 'client');
    assert.match(out, /^resolved\n/);
    assert.match(out, /rc=1/);
    assert.doesNotMatch(out, /hi/);
    ok(await d.berth(['rm', '-f', 'isrv']), 'rm');
  });

  it("the embedded DNS answers the engine's names itself and forwards other names to the container's --dns", async () => {
    const fake = await fakeResolver();
    try {
      ok(await d.berth(['run', '-d', '--name', 'named', '--network', 'fixed', 'busybox', 'sleep', '300']), 'run');
      const out = ok(await d.berth(['run', '--rm', '--network', 'fixed', '--dns', fake.address, 'busybox', 'sh', '-c', 'nslookup example.test; nslookup named']), 'client');
      assert.match(out, /192\.0\.2\.77/);
      assert.match(out, new RegExp(`10\\.249\\.\\d+\\.\\d+`));
      assert.ok(fake.asked.includes('example.test'), fake.asked.join(','));
      assert.ok(!fake.asked.some((n) => n.startsWith('named')), 'the engine\'s own names are not forwarded');
    } finally {
      fake.close();
    }
  });

  it("the default bridge's resolv.conf lists the host's resolvers (loopback ones left out), as Docker's", async () => {
    const host = readFileSync('/etc/resolv.conf', 'utf8')
      .split('\n')
      .filter((l) => /^nameserver\s/.test(l) && !/^nameserver\s+(127\.|::1)/.test(l))
      .map((l) => l.replace(/\s+/g, ' ').trim());
    const inside = ok(await d.berth(['run', '--rm', 'busybox', 'cat', '/etc/resolv.conf']), 'run')
      .split('\n')
      .filter((l) => l.startsWith('nameserver'));
    assert.deepEqual(inside, host.length > 0 ? host : ['nameserver 8.8.8.8', 'nameserver 8.8.4.4']);
  });

  it('removing everything leaves no network state', async () => {
    for (const c of (await d.http('GET', '/containers/json?all=1')).json as Array<{ Id: string }>) assert.equal((await d.http('DELETE', `/containers/${c.Id}?force=1`)).status, 204);
    for (const n of ['fixed', 'noicc']) ok(await d.berth(['network', 'rm', n]), `network rm ${n}`);
    await assertNoContainerLeftovers(d);
  });
});
