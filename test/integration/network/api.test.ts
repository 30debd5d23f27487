// The network endpoints of the Engine API against a real berthd: Docker's shapes, lookups, filters,
// prune, events — and every bad input answered with Docker's status and message, nothing changed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import type { Known } from '../../fixtures/networkCleanup.js';
import { assertNoContainerLeftovers, assertNoNetworkLeftovers, ok, seenNetworks } from './fixtures.js';

interface Net {
  Id: string;
  Name: string;
  Driver: string;
  IPAM: { Driver: string; Config: Array<{ Subnet: string; Gateway: string; IPRange?: string }> };
  Containers: Record<string, { Name: string; IPv4Address: string; MacAddress: string; EndpointID: string }>;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Internal: boolean;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

describe('network API', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  let seen: Known | undefined;
  const post = (path: string, body: unknown) => d.http('POST', path, JSON.stringify(body), JSON_HEADERS);
  const nets = async (): Promise<Net[]> => ((await d.http('GET', '/networks')).json as Net[]).sort((a, b) => a.Name.localeCompare(b.Name));

  /** What a refused request must leave as it was: the networks, the host's bridges, this daemon's rules. */
  const state = async (): Promise<unknown> => ({
    networks: await nets(),
    links: readdirSync('/sys/class/net').filter((l) => l.startsWith('br-') || l === d.bridge).sort(),
    rules: spawnSync('iptables-save', [], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l.includes(d.bridge) || /br-[0-9a-f]{12}/.test(l))
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/\[\d+:\d+\]/, ''))
      .sort(),
  });

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

  it('has the built-in bridge, host and none networks, in Docker\'s shape', async () => {
    const list = await nets();
    assert.deepEqual(list.map((n) => [n.Name, n.Driver]), [['bridge', 'bridge'], ['host', 'host'], ['none', 'null']]);
    const bridge = list[0] as Net & Record<string, unknown>;
    for (const k of ['Name', 'Id', 'Created', 'Scope', 'Driver', 'EnableIPv4', 'EnableIPv6', 'IPAM', 'Internal', 'Attachable', 'Ingress', 'ConfigFrom', 'ConfigOnly', 'Containers', 'Options', 'Labels']) {
      assert.ok(k in bridge, `missing ${k}`);
    }
    assert.deepEqual(bridge.IPAM.Config, [{ Subnet: d.bip.replace(/\.1\/24$/, '.0/24'), Gateway: d.bip.replace(/\/24$/, '') }]);
    assert.equal(bridge.Options['com.docker.network.bridge.name'], d.bridge);
    assert.equal(bridge.Options['com.docker.network.bridge.default_bridge'], 'true');
    assert.match(bridge.Id, /^[0-9a-f]{64}$/);
  });

  it('creates a network with a bridge named for its ID, and finds it by ID, name and ID prefix', async () => {
    const r = await post('/networks/create', { Name: 'front', Labels: { tier: 'web' }, Options: { 'com.docker.network.driver.mtu': '1400' } });
    assert.equal(r.status, 201);
    const { Id, Warning } = r.json as { Id: string; Warning: string };
    assert.match(Id, /^[0-9a-f]{64}$/);
    assert.equal(Warning, '');
    seen = await seenNetworks(d, seen);
    for (const ref of [Id, 'front', Id.slice(0, 6)]) {
      const g = await d.http('GET', `/networks/${ref}`);
      assert.equal(g.status, 200, ref);
      assert.equal((g.json as Net).Id, Id);
    }
    const n = (await d.http('GET', '/networks/front')).json as Net;
    assert.deepEqual(n.Labels, { tier: 'web' });
    assert.equal(n.Driver, 'bridge');
    assert.equal(n.IPAM.Driver, 'default');
    assert.match(n.IPAM.Config[0]?.Subnet ?? '', /^10\.2\d\d\.\d+\.0\/24$/, 'from the test daemon\'s pool');
    const mtu = spawnSync('cat', [`/sys/class/net/br-${Id.slice(0, 12)}/mtu`], { encoding: 'utf8' }).stdout.trim();
    assert.equal(mtu, '1400');
    // A second network gets the next free subnet of the pool.
    const r2 = await post('/networks/create', { Name: 'back', IPAM: { Config: [{ Subnet: '10.251.3.0/24', IPRange: '10.251.3.128/25', Gateway: '10.251.3.1' }] }, Internal: true });
    assert.equal(r2.status, 201);
    seen = await seenNetworks(d, seen);
    const back = (await d.http('GET', '/networks/back')).json as Net;
    assert.deepEqual(back.IPAM.Config, [{ Subnet: '10.251.3.0/24', Gateway: '10.251.3.1', IPRange: '10.251.3.128/25' }]);
    assert.equal(back.Internal, true);
    const auto = (await post('/networks/create', { Name: 'auto2' })).json as { Id: string };
    seen = await seenNetworks(d, seen);
    const a2 = (await d.http('GET', `/networks/${auto.Id}`)).json as Net;
    assert.notEqual(a2.IPAM.Config[0]?.Subnet, n.IPAM.Config[0]?.Subnet);
  });

  it('lists with filters: name, id, driver, label, type, dangling', async () => {
    const q = async (f: Record<string, string[]>): Promise<string[]> => {
      const r = await d.http('GET', `/networks?filters=${encodeURIComponent(JSON.stringify(f))}`);
      assert.equal(r.status, 200, r.body);
      return (r.json as Net[]).map((n) => n.Name).sort();
    };
    assert.deepEqual(await q({ name: ['front'] }), ['front']);
    assert.deepEqual(await q({ name: ['^b'] }), ['back', 'bridge']);
    assert.deepEqual(await q({ driver: ['null'] }), ['none']);
    assert.deepEqual(await q({ label: ['tier=web'] }), ['front']);
    assert.deepEqual(await q({ label: ['tier'] }), ['front']);
    assert.deepEqual(await q({ type: ['builtin'] }), ['bridge', 'host', 'none']);
    assert.deepEqual(await q({ type: ['custom'] }), ['auto2', 'back', 'front']);
    assert.deepEqual(await q({ dangling: ['true'] }), ['auto2', 'back', 'front']);
    const front = (await d.http('GET', '/networks/front')).json as Net;
    assert.deepEqual(await q({ id: [front.Id.slice(0, 10)] }), ['front']);
    const bad = await d.http('GET', `/networks?filters=${encodeURIComponent(JSON.stringify({ color: ['red'] }))}`);
    assert.equal(bad.status, 400);
    const badType = await d.http('GET', `/networks?filters=${encodeURIComponent(JSON.stringify({ type: ['nope'] }))}`);
    assert.equal(badType.status, 400);
  });

  it('refuses bad network requests with Docker\'s codes and changes nothing', async () => {
    const front = (await d.http('GET', '/networks/front')).json as Net;
    const subnet = front.IPAM.Config[0]?.Subnet as string;
    const cases: Array<[unknown, number, RegExp]> = [
      [{ Name: 'clash', IPAM: { Config: [{ Subnet: subnet }] } }, 403, /Pool overlaps with other one on this address space/],
      [{ Name: 'clash2', IPAM: { Config: [{ Subnet: subnet.replace(/\/24$/, '/25') }] } }, 403, /Pool overlaps/],
      [{ Name: 'front' }, 409, /network with name front already exists/],
      [{ Name: 'badcidr', IPAM: { Config: [{ Subnet: 'foo' }] } }, 400, /invalid CIDR address: foo/],
      [{ Name: 'badcidr2', IPAM: { Config: [{ Subnet: '10.250.9.0/33' }] } }, 400, /invalid CIDR address/],
      [{ Name: 'hostbits', IPAM: { Config: [{ Subnet: '10.250.9.5/24' }] } }, 400, /it should be 10\.250\.9\.0\/24/],
      [{ Name: 'badgw', IPAM: { Config: [{ Subnet: '10.250.9.0/24', Gateway: '10.250.8.1' }] } }, 400, /doesn't contain this address/],
      [{ Name: 'badrange', IPAM: { Config: [{ Subnet: '10.250.9.0/24', IPRange: '10.250.10.0/25' }] } }, 400, /doesn't contain ip-range/],
      [{ Name: 'bridge' }, 403, /operation is not permitted on predefined bridge network/],
      [{ Name: 'x', Driver: 'overlay2000' }, 404, /plugin "overlay2000" not found/],
      [{ Name: 'v6', EnableIPv6: true }, 400, /IPv4 only/],
      [{ Name: '' }, 400, /name must not be empty/],
    ];
    for (const [body, status, msg] of cases) {
      const before = await state();
      const r = await post('/networks/create', body);
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.body}`);
      assert.match((r.json as { message: string }).message, msg);
      assert.deepEqual(await state(), before, `${JSON.stringify(body)} changed something`);
    }
    const bad = await d.http('POST', '/networks/create', '{"Name": ', JSON_HEADERS);
    assert.equal(bad.status, 400);
  });

  it('refuses removing built-in networks (403), unknown ones (404) and networks in use (403, as moby), changing nothing', async () => {
    for (const n of ['bridge', 'host', 'none']) {
      const r = await d.http('DELETE', `/networks/${n}`);
      assert.equal(r.status, 403);
      assert.match((r.json as { message: string }).message, new RegExp(`${n} is a pre-defined network and cannot be removed`));
    }
    const nf = await d.http('DELETE', '/networks/nosuchnet');
    assert.equal(nf.status, 404);
    assert.match((nf.json as { message: string }).message, /network nosuchnet not found/);
    assert.equal((await d.http('GET', '/networks/nosuchnet')).status, 404);
    ok(await d.berth(['run', '-d', '--name', 'user1', '--network', 'front', 'busybox', 'sleep', '300']), 'run');
    const before = await state();
    const r = await d.http('DELETE', '/networks/front');
    assert.equal(r.status, 403);
    assert.match((r.json as { message: string }).message, /^error while removing network: network front has active endpoints \(name:"user1" id:"[0-9a-f]{12}"\)$/);
    assert.deepEqual(await state(), before);
    const front = (await d.http('GET', '/networks/front')).json as Net;
    const ids = Object.keys(front.Containers);
    assert.equal(ids.length, 1);
    const ep = front.Containers[ids[0] as string];
    assert.equal(ep?.Name, 'user1');
    assert.match(ep?.IPv4Address ?? '', /^10\.\d+\.\d+\.\d+\/24$/);
    assert.match(ep?.MacAddress ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  });

  it('refuses bad container network settings at create (404/400), creating nothing', async () => {
    const count = async (): Promise<number> => ((await d.http('GET', '/containers/json?all=1')).json as unknown[]).length;
    const n0 = await count();
    const cases: Array<[Record<string, unknown>, number, RegExp]> = [
      [{ HostConfig: { NetworkMode: 'nope' } }, 404, /network nope not found/],
      [{ HostConfig: { NetworkMode: 'container:nosuch' } }, 404, /No such container: nosuch/],
      [{ NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: ['a'] } } } }, 400, /network-scoped alias is supported only for containers in user defined networks/],
      [{ HostConfig: { NetworkMode: 'front' }, NetworkingConfig: { EndpointsConfig: { front: { IPAMConfig: { IPv4Address: '10.250.250.9' } } } } }, 400, /user configured subnets/],
      [{ HostConfig: { NetworkMode: 'back' }, NetworkingConfig: { EndpointsConfig: { back: { IPAMConfig: { IPv4Address: '10.9.9.9' } } } } }, 400, /no configured subnet contains IP address 10\.9\.9\.9/],
      [{ HostConfig: { NetworkMode: 'back' }, NetworkingConfig: { EndpointsConfig: { back: { MacAddress: 'zz' } } } }, 400, /invalid MAC address/],
      [{ HostConfig: { ExtraHosts: ['nocolon'] } }, 400, /bad format for add-host/],
      [{ HostConfig: { PortBindings: { 'x/tcp': [{ HostPort: '1' }] } } }, 400, /invalid port specification: "x\/tcp"/],
    ];
    for (const [body, status, msg] of cases) {
      const r = await post('/containers/create', { Image: 'busybox', Cmd: ['true'], ...body });
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.body}`);
      assert.match((r.json as { message: string }).message, msg);
    }
    assert.equal(await count(), n0);
  });

  it('connects a stopped container (recorded, joined at start); a second connect changes nothing', async () => {
    ok(await d.berth(['create', '--name', 'later', '--network', 'back', 'busybox', 'sleep', '300']), 'create');
    const c1 = await post('/networks/front/connect', { Container: 'later', EndpointConfig: { Aliases: ['lat'] } });
    assert.equal(c1.status, 200, c1.body);
    const before = JSON.stringify(((await d.http('GET', '/containers/later/json')).json as { NetworkSettings: unknown }).NetworkSettings);
    const c2 = await post('/networks/front/connect', { Container: 'later' });
    assert.equal(c2.status, 200);
    assert.equal(JSON.stringify(((await d.http('GET', '/containers/later/json')).json as { NetworkSettings: unknown }).NetworkSettings), before);
    ok(await d.berth(['start', 'later']), 'start');
    const nets2 = ((await d.http('GET', '/containers/later/json')).json as { NetworkSettings: { Networks: Record<string, { IPAddress: string; Aliases: string[] | null }> } }).NetworkSettings.Networks;
    assert.deepEqual(Object.keys(nets2).sort(), ['back', 'front']);
    assert.match(nets2.back?.IPAddress ?? '', /^10\.251\.3\.(12[89]|1[3-9]\d|2\d\d)$/, 'from the ip-range');
    assert.deepEqual(nets2.front?.Aliases, ['lat']);
    const links = ok(await d.berth(['exec', 'later', 'ls', '/sys/class/net']), 'exec');
    assert.equal(links, 'eth0\neth1\nlo\n');
    const twice = await post('/networks/front/connect', { Container: 'later' });
    assert.equal(twice.status, 403);
    const nc = await post('/networks/front/connect', { Container: 'nosuch' });
    assert.equal(nc.status, 404);
    const host = await post('/networks/host/connect', { Container: 'later' });
    assert.equal(host.status, 400);
    const notOn = await post('/networks/auto2/disconnect', { Container: 'later' });
    assert.equal(notOn.status, 500);
    assert.match((notOn.json as { message: string }).message, /is not connected to network auto2/);
  });

  it('prunes unused networks only, with label filters', async () => {
    ok(await d.berth(['network', 'create', '--label', 'keep=yes', 'kept']), 'create');
    seen = await seenNetworks(d, seen);
    const f = encodeURIComponent(JSON.stringify({ 'label!': ['keep=yes'] }));
    const r = await d.http('POST', `/networks/prune?filters=${f}`);
    assert.equal(r.status, 200);
    assert.deepEqual((r.json as { NetworksDeleted: string[] }).NetworksDeleted.sort(), ['auto2']);
    const names = (await nets()).map((n) => n.Name);
    assert.deepEqual(names, ['back', 'bridge', 'front', 'host', 'kept', 'none']);
    const r2 = await d.http('POST', '/networks/prune');
    assert.deepEqual((r2.json as { NetworksDeleted: string[] }).NetworksDeleted, ['kept']);
    const r3 = await d.http('POST', '/networks/prune');
    assert.equal((r3.json as { NetworksDeleted: string[] | null }).NetworksDeleted, null);
  });

  it('reports network events', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    ok(await d.berth(['network', 'create', 'evt']), 'create');
    seen = await seenNetworks(d, seen);
    ok(await d.berth(['network', 'rm', 'evt']), 'rm');
    const until = Math.floor(Date.now() / 1000) + 1;
    const r = await d.http('GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ type: ['network'] }))}`);
    const actions = r.body
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { Action: string; Actor: { Attributes: Record<string, string> } })
      .filter((e) => e.Actor.Attributes.name === 'evt')
      .map((e) => e.Action);
    assert.deepEqual(actions, ['create', 'destroy']);
  });

  it('removing everything leaves no network state', async () => {
    for (const c of (await d.http('GET', '/containers/json?all=1')).json as Array<{ Id: string }>) assert.equal((await d.http('DELETE', `/containers/${c.Id}?force=1`)).status, 204);
    for (const n of ['front', 'back']) assert.equal((await d.http('DELETE', `/networks/${n}`)).status, 204);
    await assertNoContainerLeftovers(d);
  });
});
