// Networking through the real docker CLI against berthd: network create/ls/inspect/connect/disconnect/
// rm/prune, run --network/-p/--ip, port, inspect templates — the same scenarios as with berth.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import type { Known } from '../../fixtures/networkCleanup.js';
import { assertNoContainerLeftovers, assertNoNetworkLeftovers, ok, seenNetworks, tcpRead } from './fixtures.js';

describe('networking via the docker CLI', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  let seen: Known | undefined;
  const docker = (args: string[]) => d.docker(args);

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

  it('network create, ls, inspect', async () => {
    const a = 10 + Math.floor(Math.random() * 200);
    const id = ok(await docker(['network', 'create', '--subnet', `10.252.${a}.0/24`, '--label', 'app=demo', 'dnet']), 'create').trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    seen = await seenNetworks(d, seen);
    const ls = ok(await docker(['network', 'ls']), 'ls');
    const lines = ls.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/).slice(1).join(' ')), ['bridge bridge local', 'dnet bridge local', 'host host local', 'none null local']);
    assert.ok(ls.includes(id.slice(0, 12)));
    assert.equal(ok(await docker(['network', 'ls', '-q', '--filter', 'label=app=demo']), 'ls -q'), `${id.slice(0, 12)}\n`);
    assert.equal(ok(await docker(['network', 'ls', '--format', '{{.Name}} {{.Driver}}', '-f', 'type=custom']), 'ls fmt'), 'dnet bridge\n');
    const insp = JSON.parse(ok(await docker(['network', 'inspect', 'dnet']), 'inspect')) as Array<{ Name: string; IPAM: { Config: Array<{ Subnet: string }> }; Labels: Record<string, string> }>;
    assert.equal(insp[0]?.Name, 'dnet');
    assert.equal(insp[0]?.IPAM.Config[0]?.Subnet, `10.252.${a}.0/24`);
    assert.deepEqual(insp[0]?.Labels, { app: 'demo' });
    assert.equal(ok(await docker(['network', 'inspect', '-f', '{{.Driver}} {{.Scope}}', 'dnet']), 'inspect -f'), 'bridge local\n');
    // `docker inspect` finds networks too (its fallback chain).
    assert.equal(ok(await docker(['inspect', '-f', '{{.Name}}', 'dnet']), 'inspect'), 'dnet\n');
  });

  it('run on a user network: names resolve; --ip; inspect templates show addresses', async () => {
    const subnet = ok(await docker(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', 'dnet']), 'subnet').trim();
    const fixed = subnet.replace(/0\/24$/, '50');
    ok(await docker(['run', '-d', '--name', 'dweb', '--network', 'dnet', '--ip', fixed, '--network-alias', 'dalias', 'busybox', 'nc', '-ll', '-p', '80', '-e', 'echo', 'from-dweb']), 'run');
    assert.equal(ok(await docker(['inspect', '-f', '{{.NetworkSettings.Networks.dnet.IPAddress}}', 'dweb']), 'inspect'), `${fixed}\n`);
    assert.equal(ok(await docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.Aliases}}{{end}}', 'dweb']), 'aliases'), '[dalias]\n');
    const out = ok(await docker(['run', '--rm', '--network', 'dnet', 'busybox', 'sh', '-c', 'nc dweb 80 </dev/null; nc dalias 80 </dev/null']), 'client');
    assert.equal(out, 'from-dweb\nfrom-dweb\n');
    // The default bridge fills the top-level fields, as Docker's.
    ok(await docker(['run', '-d', '--name', 'dplain', 'busybox', 'sleep', '300']), 'run plain');
    const ip = ok(await docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.IPPrefixLen}}', 'dplain']), 'ip').trim();
    const gw = d.bip.replace(/\/24$/, '');
    assert.match(ip, new RegExp(`^${gw.replace(/\.1$/, '').replace(/\./g, '\\.')}\\.\\d+ ${gw.replace(/\./g, '\\.')} 24$`));
  });

  it('docker run -p and docker port', async () => {
    ok(await docker(['run', '-d', '--name', 'dpub', '-p', '127.0.0.1::80', '-p', '8', 'busybox', 'nc', '-ll', '-p', '80', '-e', 'echo', 'published']), 'run -p');
    const lines = ok(await docker(['port', 'dpub']), 'port').trim().split('\n');
    assert.equal(lines.length, 2);
    assert.ok(lines.some((l) => /^80\/tcp -> 127\.0\.0\.1:\d+$/.test(l)), lines.join('|'));
    assert.ok(lines.some((l) => /^8\/tcp -> 0\.0\.0\.0:\d+$/.test(l)), lines.join('|'));
    const hp = Number(/:(\d+)$/.exec(ok(await docker(['port', 'dpub', '80/tcp']), 'port 80').trim())?.[1]);
    assert.equal(await tcpRead('127.0.0.1', hp), 'published\n');
    const ps = ok(await docker(['ps', '--filter', 'name=dpub', '--format', '{{.Ports}}']), 'ps');
    assert.match(ps, new RegExp(`127\\.0\\.0\\.1:${hp}->80/tcp`));
    const bad = await docker(['run', '--rm', '-p', `127.0.0.1:${hp}:80`, 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /port is already allocated/);
  });

  it('network connect, disconnect, rm (in use: refused), prune', async () => {
    ok(await docker(['network', 'create', 'dnet2']), 'create');
    seen = await seenNetworks(d, seen);
    ok(await docker(['network', 'connect', '--alias', 'second', 'dnet2', 'dplain']), 'connect');
    const nets = ok(await docker(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'dplain']), 'nets');
    assert.equal(nets.trim().split(' ').sort().join(' '), 'bridge dnet2');
    assert.equal(ok(await docker(['run', '--rm', '--network', 'dnet2', 'busybox', 'sh', '-c', 'ping -c1 -W3 second >/dev/null && echo ok']), 'ping'), 'ok\n');
    const again = await docker(['network', 'connect', 'dnet2', 'dplain']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /endpoint with name dplain already exists in network dnet2/);
    const busy = await docker(['network', 'rm', 'dnet2']);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /error while removing network: network dnet2 has active endpoints/);
    ok(await docker(['network', 'disconnect', 'dnet2', 'dplain']), 'disconnect');
    assert.equal(ok(await docker(['network', 'rm', 'dnet2']), 'rm'), 'dnet2\n');
    ok(await docker(['network', 'create', 'unused']), 'create unused');
    seen = await seenNetworks(d, seen);
    assert.equal(ok(await docker(['network', 'prune', '-f']), 'prune'), 'Deleted Networks:\nunused\n\n');
    const nf = await docker(['network', 'rm', 'nosuch']);
    assert.notEqual(nf.code, 0);
    assert.match(nf.stderr, /network nosuch not found/);
  });

  it('removing everything leaves no network state', async () => {
    for (const c of ['dweb', 'dplain', 'dpub']) ok(await docker(['rm', '-f', c]), `rm ${c}`);
    ok(await docker(['network', 'rm', 'dnet']), 'network rm');
    await assertNoContainerLeftovers(d);
  });
});
