// Networking across berthd restarts and crashes: running containers keep their addresses, names and
// published ports (conmon keeps them running); what dead containers or a crash left is released.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import type { Known } from '../../fixtures/networkCleanup.js';
import { assertNoContainerLeftovers, assertNoNetworkLeftovers, ok, seenNetworks, tcpRead, waitFor } from './fixtures.js';

describe('networking across daemon restarts', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  let seen: Known | undefined;
  let port = 0;
  let webIp = '';
  const ipam = (): string[] =>
    readdirSync(join(d.dataRoot, 'network', 'ipam'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => readdirSync(join(d.dataRoot, 'network', 'ipam', e.name)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)));

  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
    ok(await d.berth(['network', 'create', 'app']), 'network create');
    seen = await seenNetworks(d, seen);
    ok(await d.berth(['run', '-d', '--name', 'web', '--network', 'app', '--network-alias', 'www', '-p', '0:80', 'busybox', 'nc', '-ll', '-p', '80', '-e', 'echo', 'alive']), 'run web');
    const ports = JSON.parse(ok(await d.berth(['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'web']), 'inspect')) as Record<string, Array<{ HostPort: string }>>;
    port = Number(ports['80/tcp']?.[0]?.HostPort);
    webIp = ok(await d.berth(['inspect', '-f', '{{.NetworkSettings.Networks.app.IPAddress}}', 'web']), 'ip').trim();
    assert.equal(await tcpRead('127.0.0.1', port), 'alive\n');
  });
  after(async () => {
    if (d) {
      seen = await seenNetworks(d, seen);
      await d.cleanup();
      assertNoNetworkLeftovers(d, seen);
    }
  });

  it('a berthd restart keeps connectivity: names, addresses, published ports', async () => {
    await d.restart();
    assert.equal(ok(await d.berth(['inspect', '-f', '{{.State.Status}} {{.NetworkSettings.Networks.app.IPAddress}}', 'web']), 'inspect').trim(), `running ${webIp}`);
    assert.equal(await tcpRead('127.0.0.1', port), 'alive\n');
    const out = ok(await d.berth(['run', '--rm', '--network', 'app', 'busybox', 'sh', '-c', 'nc web 80 </dev/null; nc www 80 </dev/null; ip -4 addr show eth0']), 'client');
    assert.match(out, /^alive\nalive\n/);
    assert.ok(!out.includes(`inet ${webIp}/`), 'a new container never gets an address in use');
    // The port is held again after the restart.
    const clash = await d.berth(['run', '-d', '-p', `${port}:80`, 'busybox', 'true']);
    assert.equal(clash.code, 125);
    assert.match(clash.stderr, /port is already allocated/);
  });

  it('after a crash, a container that died meanwhile has its network released; running ones keep theirs', async () => {
    const appIdEarly = ((await d.http('GET', '/networks/app')).json as { Id: string }).Id;
    const briefId = ok(await d.berth(['run', '-d', '--name', 'brief', '--network', 'app', 'busybox', 'sleep', '6']), 'run brief').trim();
    const info = (await d.http('GET', `/containers/${briefId}/json`)).json as { NetworkSettings: { SandboxKey: string; Networks: Record<string, { IPAddress: string }> } };
    const briefIp = info.NetworkSettings.Networks.app?.IPAddress ?? '';
    const briefNs = info.NetworkSettings.SandboxKey;
    assert.ok(briefNs.startsWith(join(d.execRoot, 'netns')), briefNs);
    assert.ok(ipam().includes(briefIp), `${briefIp} is reserved`);
    assert.equal(appIdEarly.length, 64);
    const appId = ((await d.http('GET', '/networks/app')).json as { Id: string }).Id;
    await d.crash();
    // Something a crash in the middle of a start could leave: a namespace and an address of a container nobody knows.
    const ghost = randomBytes(32).toString('hex');
    const nsFile = join(d.execRoot, 'netns', ghost);
    writeFileSync(nsFile, '');
    assert.equal(spawnSync('unshare', [`--net=${nsFile}`, 'true']).status, 0);
    const ghostIp = join(d.dataRoot, 'network', 'ipam', appId, '10.253.253.253');
    mkdirSync(join(d.dataRoot, 'network', 'ipam', appId), { recursive: true });
    writeFileSync(ghostIp, `${ghost}\r\neth0`);
    await new Promise((r) => setTimeout(r, 7000));
    await d.start();
    await waitFor('brief to be seen exited', async () => ok(await d.berth(['inspect', '-f', '{{.State.Status}}', 'brief']), 'inspect').trim() === 'exited');
    await waitFor('its address to be released', () => !ipam().includes(briefIp));
    await waitFor('its netns to go', () => !existsSync(briefNs));
    assert.ok(!existsSync(nsFile), 'the unknown netns is removed');
    assert.ok(!existsSync(ghostIp), 'the unknown address is released');
    assert.equal(await tcpRead('127.0.0.1', port), 'alive\n');
    // A restart of the dead one gets an address again, and is reachable by name.
    ok(await d.berth(['start', 'brief']), 'start brief');
    assert.equal(ok(await d.berth(['exec', 'web', 'sh', '-c', 'ping -c1 -W3 brief >/dev/null && echo ok']), 'ping'), 'ok\n');
  });

  it('removing everything after restarts leaves no network state', async () => {
    for (const c of (await d.http('GET', '/containers/json?all=1')).json as Array<{ Id: string }>) assert.equal((await d.http('DELETE', `/containers/${c.Id}?force=1`)).status, 204);
    assert.equal((await d.http('DELETE', '/networks/app')).status, 204);
    await assertNoContainerLeftovers(d);
    assert.deepEqual(ipam(), []);
  });
});
