// Container networking end to end through the berth CLI: user networks with embedded DNS, isolation,
// --internal, published ports (host loopback, UDP, hairpin), host/none/container: modes, /etc files,
// --ip/--mac-address, live connect/disconnect — all inside this machine (loopback, own bridges and netns).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import net from 'node:net';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import type { Known } from '../../fixtures/networkCleanup.js';
import { assertNoContainerLeftovers, assertNoNetworkLeftovers, ok, seenNetworks, tcpRead, udpAsk, udpEchoIn, waitFor } from './fixtures.js';

/** A TCP port nobody holds right now (the kernel's pick). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** A persistent TCP server answering `msg` to every connection (busybox nc -ll -e). */
const SERVER = (msg: string, port = 80): string[] => ['nc', '-ll', '-p', String(port), '-e', 'echo', msg];

describe('container networking (berth CLI)', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  let seen: Known | undefined;
  let gateway = '';
  const inspect = async (ref: string, tmpl: string): Promise<string> => ok(await d.berth(['inspect', '-f', tmpl, ref]), `inspect ${ref}`).trim();
  const ipamOf = async (net: string): Promise<{ Subnet: string; Gateway: string }> => {
    const r = await d.http('GET', `/networks/${net}`);
    assert.equal(r.status, 200);
    return (r.json as { IPAM: { Config: Array<{ Subnet: string; Gateway: string }> } }).IPAM.Config[0] as { Subnet: string; Gateway: string };
  };

  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
    gateway = d.bip.replace(/\/\d+$/, '');
  });
  after(async () => {
    if (d) {
      seen = await seenNetworks(d, seen);
      await d.cleanup();
      assertNoNetworkLeftovers(d, seen);
    }
  });

  it('two containers on a user network reach each other by name, alias and short ID', async () => {
    ok(await d.berth(['network', 'create', 'app']), 'network create');
    seen = await seenNetworks(d, seen);
    ok(await d.berth(['run', '-d', '--name', 'web', '--network', 'app', '--network-alias', 'www', 'busybox', ...SERVER('hello')]), 'run web');
    const short = (await inspect('web', '{{.Id}}')).slice(0, 12);
    const out = ok(
      await d.berth(['run', '--rm', '--network', 'app', 'busybox', 'sh', '-c', `nc web 80 </dev/null; nc www 80 </dev/null; nc ${short} 80 </dev/null; ping -c1 -W3 web >/dev/null && echo pinged`]),
      'client',
    );
    assert.equal(out, 'hello\nhello\nhello\npinged\n');
    // A single-label name the engine does not know is NXDOMAIN, answered without forwarding.
    const miss = await d.berth(['run', '--rm', '--network', 'app', 'busybox', 'nslookup', 'nosuchcontainer']);
    assert.notEqual(miss.code, 0);
    assert.match(miss.stdout + miss.stderr, /NXDOMAIN|can't find|can't resolve/i);
    const resolv = ok(await d.berth(['run', '--rm', '--network', 'app', 'busybox', 'cat', '/etc/resolv.conf']), 'resolv.conf');
    const appGw = (await ipamOf('app')).Gateway;
    assert.match(resolv, new RegExp(`^nameserver ${appGw.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('containers on separate networks cannot connect', async () => {
    ok(await d.berth(['network', 'create', 'other']), 'network create');
    seen = await seenNetworks(d, seen);
    const webIp = await inspect('web', '{{.NetworkSettings.Networks.app.IPAddress}}');
    assert.match(webIp, /^\d+\.\d+\.\d+\.\d+$/);
    const r = ok(await d.berth(['run', '--rm', '--network', 'other', 'busybox', 'sh', '-c', `nc -w 2 ${webIp} 80 </dev/null; echo rc=$?; nslookup web >/dev/null 2>&1; echo dns=$?`]), 'isolated client');
    assert.match(r, /rc=1/);
    assert.match(r, /dns=1/);
    // and not from the default bridge either
    const r2 = ok(await d.berth(['run', '--rm', 'busybox', 'sh', '-c', `nc -w 2 ${webIp} 80 </dev/null; echo rc=$?`]), 'bridge client');
    assert.match(r2, /rc=1/);
  });

  it('the default bridge gives an address, a default route, /etc/hosts and outbound NAT', async () => {
    const out = ok(await d.berth(['run', '--rm', '-h', 'box1', 'busybox', 'sh', '-c', 'ip -4 addr show eth0; ip route; cat /etc/hosts /etc/hostname']), 'run');
    const prefix = gateway.replace(/\.\d+$/, '.');
    assert.match(out, new RegExp(`inet ${prefix.replace(/\./g, '\\.')}\\d+/24`));
    assert.match(out, new RegExp(`default via ${gateway.replace(/\./g, '\\.')} dev eth0`));
    assert.match(out, new RegExp(`${prefix.replace(/\./g, '\\.')}\\d+\\tbox1\\n`));
    assert.match(out, /box1\n$/);
    const nat = spawnSync('iptables', ['-w', '-t', 'nat', '-S', `BERTH-NAT-${d.bridge}`], { encoding: 'utf8' }).stdout;
    assert.match(nat, new RegExp(`-s ${d.bip.replace(/\.1\/24$/, '.0/24').replace(/\./g, '\\.')} ! -o ${d.bridge} -j MASQUERADE`));
  });

  it('--internal has no outbound route and no NAT, but names still resolve inside it', async () => {
    ok(await d.berth(['network', 'create', '--internal', 'sealed']), 'network create');
    seen = await seenNetworks(d, seen);
    ok(await d.berth(['run', '-d', '--name', 'vault', '--network', 'sealed', 'busybox', ...SERVER('secret')]), 'run vault');
    const out = ok(await d.berth(['run', '--rm', '--network', 'sealed', 'busybox', 'sh', '-c', `ip route; nc vault 80 </dev/null; nc -w 2 ${gateway} 1 </dev/null; echo rc=$?`]), 'client');
    assert.doesNotMatch(out, /default/);
    assert.match(out, /secret\n/);
    assert.match(out, /rc=1/);
    const subnet = (await ipamOf('sealed')).Subnet;
    const nat = spawnSync('iptables', ['-w', '-t', 'nat', '-S', `BERTH-NAT-${d.bridge}`], { encoding: 'utf8' }).stdout;
    assert.ok(!nat.includes(subnet), `no masquerade for ${subnet}`);
    ok(await d.berth(['rm', '-f', 'vault']), 'rm vault');
  });

  it("publishes TCP and UDP ports on the host's loopback, and to other containers through the host (hairpin)", async () => {
    const tport = await freePort();
    const uport = await freePort();
    ok(await d.berth(['run', '-d', '--name', 'pub', '-p', `${tport}:80`, '-p', `127.0.0.1:${uport}:5353/udp`, 'busybox', ...SERVER('published')]), 'run pub');
    assert.equal(await tcpRead('127.0.0.1', tport), 'published\n');
    const key = await inspect('pub', '{{.NetworkSettings.SandboxKey}}');
    const echo = await udpEchoIn(key, 5353);
    try {
      assert.equal(await udpAsk('127.0.0.1', uport, 'ping'), 'echo:ping');
    } finally {
      echo.stop();
    }
    // Another container on the same bridge, through the host's address on that bridge.
    const same = ok(await d.berth(['run', '--rm', 'busybox', 'sh', '-c', `nc -w 3 ${gateway} ${tport} </dev/null`]), 'hairpin');
    assert.equal(same, 'published\n');
    // And from a user network: published ports cross networks as through Docker's proxy.
    const cross = ok(await d.berth(['run', '--rm', '--network', 'other', 'busybox', 'sh', '-c', `nc -w 3 ${gateway} ${tport} </dev/null`]), 'cross');
    assert.equal(cross, 'published\n');
    const ports = ok(await d.berth(['port', 'pub']), 'port');
    assert.equal(ports, `5353/udp -> 127.0.0.1:${uport}\n80/tcp -> 0.0.0.0:${tport}\n`);
    assert.equal(ok(await d.berth(['port', 'pub', '80']), 'port 80'), `0.0.0.0:${tport}\n`);
    const view = JSON.parse(await inspect('pub', '{{json .NetworkSettings.Ports}}')) as Record<string, unknown>;
    assert.deepEqual(view, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(tport) }], '5353/udp': [{ HostIp: '127.0.0.1', HostPort: String(uport) }] });
  });

  it('-p CPORT and -P take random ports from the ephemeral range', async () => {
    ok(await d.berth(['run', '-d', '--name', 'rnd', '-p', '80', '--expose', '81', '-P', 'busybox', ...SERVER('random')]), 'run rnd');
    const ports = JSON.parse(await inspect('rnd', '{{json .NetworkSettings.Ports}}')) as Record<string, Array<{ HostIp: string; HostPort: string }>>;
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number];
    for (const k of ['80/tcp', '81/tcp']) {
      const p = Number(ports[k]?.[0]?.HostPort);
      assert.ok(p >= lo && p <= hi, `${k} got ${p}, outside ${lo}-${hi}`);
    }
    assert.equal(await tcpRead('127.0.0.1', Number(ports['80/tcp']?.[0]?.HostPort)), 'random\n');
    const ps = ok(await d.berth(['ps', '--filter', 'name=rnd', '--format', '{{.Ports}}']), 'ps');
    assert.match(ps, /0\.0\.0\.0:\d+->80\/tcp/);
    ok(await d.berth(['rm', '-f', 'rnd']), 'rm');
  });

  it('a host port already taken fails the start clearly and changes nothing', async () => {
    // Held by a host process.
    const holder = net.createServer();
    const port = await new Promise<number>((resolve) => holder.listen(0, '0.0.0.0', () => resolve((holder.address() as net.AddressInfo).port)));
    try {
      const before = await d.http('GET', '/networks/bridge');
      const r = await d.berth(['run', '-d', '--name', 'clash1', '-p', `${port}:80`, 'busybox', 'sleep', '30']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, new RegExp(`driver failed programming external connectivity on endpoint clash1 \\(.*\\): .*0\\.0\\.0\\.0:${port}.*address already in use`));
      assert.equal(await inspect('clash1', '{{.State.Status}}'), 'created');
      assert.deepEqual((await d.http('GET', '/networks/bridge')).json, before.json);
      ok(await d.berth(['rm', 'clash1']), 'rm');
    } finally {
      holder.close();
    }
    // Held by another container of this daemon.
    const tport = (JSON.parse(await inspect('pub', '{{json .NetworkSettings.Ports}}')) as Record<string, Array<{ HostPort: string }>>)['80/tcp']?.[0]?.HostPort ?? '';
    const r2 = await d.berth(['run', '-d', '--name', 'clash2', '-p', `${tport}:80`, 'busybox', 'sleep', '30']);
    assert.equal(r2.code, 125);
    assert.match(r2.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${tport} failed: port is already allocated`));
    assert.equal(await tcpRead('127.0.0.1', Number(tport)), 'published\n', 'the first container keeps its port');
    ok(await d.berth(['rm', 'clash2']), 'rm');
    // An invalid port spec is refused at create (400), nothing made.
    const bad = await d.http('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 'nope' }] } } }), { 'Content-Type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /invalid port specification: \\"nope\\"/);
    const bad2 = await d.berth(['run', '-p', '1:2:3:4', 'busybox', 'true']);
    assert.notEqual(bad2.code, 0);
  });

  it('host, none and container: network modes', async () => {
    const host = ok(await d.berth(['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'hostname; cat /etc/hosts; ls /sys/class/net']), 'host');
    assert.ok(host.startsWith(`${hostname()}\n`), host);
    assert.ok(host.includes(readFileSync('/etc/hosts', 'utf8')), 'the host\'s /etc/hosts');
    assert.match(host, new RegExp(`\\b${d.bridge}\\b`), "the host's interfaces");
    const none = ok(await d.berth(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']), 'none');
    assert.equal(none, 'lo\n');
    const webIp = await inspect('web', '{{.NetworkSettings.Networks.app.IPAddress}}');
    const webHost = await inspect('web', '{{.Config.Hostname}}');
    const joined = ok(await d.berth(['run', '--rm', '--network', 'container:web', 'busybox', 'sh', '-c', 'hostname; ip -4 addr show eth0; nc 127.0.0.1 80 </dev/null']), 'container:');
    assert.ok(joined.startsWith(`${webHost}\n`));
    assert.ok(joined.includes(`inet ${webIp}/`));
    assert.match(joined, /hello\n$/);
    const conflict = await d.berth(['run', '--rm', '--network', 'container:web', '-p', '81:81', 'busybox', 'true']);
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /conflicting options: port publishing and the container type network mode/);
  });

  it('--add-host (host-gateway), --dns, --dns-search, --dns-option and -h make /etc/hosts and resolv.conf', async () => {
    const out = ok(
      await d.berth([
        'run', '--rm', '-h', 'myhost', '--add-host', 'gw.local:host-gateway', '--add-host', 'db:10.0.0.9',
        '--dns', '10.9.9.9', '--dns-search', 'example.test', '--dns-option', 'ndots:3',
        'busybox', 'sh', '-c', 'cat /etc/hosts; echo ---; cat /etc/resolv.conf',
      ]),
      'run',
    );
    const [hosts, resolv] = out.split('---\n') as [string, string];
    assert.match(hosts, new RegExp(`^${gateway.replace(/\./g, '\\.')}\\tgw\\.local$`, 'm'));
    assert.match(hosts, /^10\.0\.0\.9\tdb$/m);
    assert.match(hosts, /\tmyhost\n$/);
    assert.match(resolv, /^nameserver 10\.9\.9\.9$/m);
    assert.match(resolv, /^search example\.test$/m);
    assert.match(resolv, /^options ndots:3$/m);
  });

  it('--ip and --mac-address on a network with a subnet; refused on the default bridge', async () => {
    const a = 10 + Math.floor(Math.random() * 200);
    ok(await d.berth(['network', 'create', '--subnet', `10.250.${a}.0/24`, '--gateway', `10.250.${a}.254`, 'fixed']), 'create');
    seen = await seenNetworks(d, seen);
    const out = ok(await d.berth(['run', '--rm', '--network', 'fixed', '--ip', `10.250.${a}.77`, '--mac-address', '02:42:0a:fa:00:4d', 'busybox', 'sh', '-c', 'ip addr show eth0; ip route']), 'run');
    assert.match(out, new RegExp(`inet 10\\.250\\.${a}\\.77/24`));
    assert.match(out, /link\/ether 02:42:0a:fa:00:4d/);
    assert.match(out, new RegExp(`default via 10\\.250\\.${a}\\.254`));
    const bad = await d.berth(['run', '--rm', '--ip', '10.1.1.1', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /user specified IP address is supported on user defined networks only/);
    const outside = await d.berth(['run', '--rm', '--network', 'fixed', '--ip', '10.1.1.1', 'busybox', 'true']);
    assert.notEqual(outside.code, 0);
    assert.match(outside.stderr, /no configured subnet contains IP address 10\.1\.1\.1/);
  });

  it('network connect and disconnect a running container', async () => {
    ok(await d.berth(['network', 'connect', '--alias', 'web-other', 'other', 'web']), 'connect');
    const eps = JSON.parse(await inspect('web', '{{json .NetworkSettings.Networks}}')) as Record<string, { IPAddress: string; Aliases: string[] | null }>;
    assert.deepEqual(Object.keys(eps).sort(), ['app', 'other']);
    assert.match(eps.other?.IPAddress ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(eps.other?.Aliases, ['web-other']);
    const out = ok(await d.berth(['run', '--rm', '--network', 'other', 'busybox', 'sh', '-c', 'nc web 80 </dev/null; nc web-other 80 </dev/null']), 'client');
    assert.equal(out, 'hello\nhello\n');
    // Twice: Docker's 403, and nothing changes.
    const twice = await d.berth(['network', 'connect', 'other', 'web']);
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr, /endpoint with name web already exists in network other/);
    assert.deepEqual(Object.keys(JSON.parse(await inspect('web', '{{json .NetworkSettings.Networks}}')) as object).sort(), ['app', 'other']);
    ok(await d.berth(['network', 'disconnect', 'other', 'web']), 'disconnect');
    const links = ok(await d.berth(['exec', 'web', 'ls', '/sys/class/net']), 'exec');
    assert.equal(links, 'eth0\nlo\n');
    const gone = ok(await d.berth(['run', '--rm', '--network', 'other', 'busybox', 'sh', '-c', 'nslookup web >/dev/null 2>&1; echo dns=$?']), 'client');
    assert.match(gone, /dns=1/);
  });

  it('removing containers and networks leaves no veth, netns, rule or address behind', async () => {
    const list = (await d.http('GET', '/containers/json?all=1')).json as Array<{ Id: string }>;
    for (const c of list) ok(await d.berth(['rm', '-f', c.Id]), 'rm');
    for (const n of ['app', 'other', 'sealed', 'fixed']) ok(await d.berth(['network', 'rm', n]), `network rm ${n}`);
    await assertNoContainerLeftovers(d);
    seen = await seenNetworks(d, seen);
    for (const b of seen.bridges) if (b !== d.bridge) await waitFor(`bridge ${b} to go`, () => spawnSync('ip', ['link', 'show', b]).status !== 0);
    // host-local keeps no address for a container that is gone
    const ipam = spawnSync('sh', ['-c', `ls ${d.dataRoot}/network/ipam/*/ 2>/dev/null | grep -E '^[0-9.]+$' || true`], { encoding: 'utf8' }).stdout.trim();
    assert.equal(ipam, '');
  });
});
