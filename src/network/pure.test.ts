import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contains, formatIPv4, formatPrefix, lastAddress, overlaps, parseCidrAddress, parseIPv4, parsePrefix } from './cidr.js';
import { allocateSubnet, defaultAddressPools, parseAddressPool } from './addressPool.js';
import { parsePortKey, parsePortRange, portRequests, portSummary, portsView, validatePortBindings } from './portSpec.js';
import {
  buildResponse,
  formatErrorResponse,
  parseQuery,
  reverseNameToIPv4,
  RCODE_NXDOMAIN,
  TYPE_A,
  TYPE_PTR,
  DnsFormatError,
} from './dnsCodec.js';
import { buildHosts, buildResolvConf, parseResolvConf, upstreamResolvers } from './etcFiles.js';
import { chainNames, renderRules } from './firewall.js';
import { confList, ipamRange } from './conflist.js';
import type { NetworkRecord } from './types.js';

const kind = (k: string) => (e: unknown) => (e as { kind?: string }).kind === k;

describe('cidr', () => {
  it('parses and formats IPv4 addresses and prefixes', () => {
    assert.equal(parseIPv4('10.1.2.3'), 0x0a010203);
    assert.equal(parseIPv4('256.1.1.1'), null);
    assert.equal(parseIPv4('1.2.3'), null);
    assert.equal(formatIPv4(0xac110001), '172.17.0.1');
    assert.deepEqual(parseCidrAddress('172.17.0.1/16'), { ip: 0xac110001, bits: 16 });
    assert.equal(formatPrefix(parsePrefix('10.0.0.0/8')), '10.0.0.0/8');
    assert.equal(lastAddress(parsePrefix('10.1.2.0/24')), parseIPv4('10.1.2.255'));
  });
  it('refuses malformed CIDRs and host bits with 400s in Docker words', () => {
    assert.throws(() => parsePrefix('foo'), /invalid CIDR address: foo/);
    assert.throws(() => parsePrefix('10.0.0.0/33'), kind('invalid-argument'));
    assert.throws(() => parsePrefix('10.1.2.3/24'), /invalid subnet 10.1.2.3\/24: it should be 10.1.2.0\/24/);
  });
  it('knows containment and overlap', () => {
    const a = parsePrefix('10.1.0.0/16');
    assert.ok(contains(a, parseIPv4('10.1.200.3') as number));
    assert.ok(!contains(a, parseIPv4('10.2.0.1') as number));
    assert.ok(overlaps(a, parsePrefix('10.1.5.0/24')));
    assert.ok(overlaps(parsePrefix('10.0.0.0/8'), a));
    assert.ok(!overlaps(a, parsePrefix('10.2.0.0/16')));
  });
});

describe('address pools', () => {
  it("has Docker's defaults and parses the flag", () => {
    const d = defaultAddressPools();
    assert.equal(d.length, 16);
    assert.equal(formatPrefix(d[0]!.base), '172.17.0.0/16');
    assert.equal(d[15]!.size, 20);
    const p = parseAddressPool('base=10.10.0.0/16,size=24');
    assert.equal(formatPrefix(p.base), '10.10.0.0/16');
    assert.equal(p.size, 24);
    assert.throws(() => parseAddressPool('base=10.10.0.0/16,size=8'), /size must be between 16 and 30/);
    assert.throws(() => parseAddressPool('size=24'), /base is missing/);
    assert.throws(() => parseAddressPool('base=nope,size=24'), /invalid CIDR address/);
  });
  it('hands out the first subnet that overlaps nothing in use', () => {
    const pools = [parseAddressPool('base=10.10.0.0/16,size=24')];
    assert.equal(formatPrefix(allocateSubnet(pools, [])!), '10.10.0.0/24');
    const used = [parsePrefix('10.10.0.0/24'), parsePrefix('10.10.1.0/24'), parsePrefix('10.10.3.0/24')];
    assert.equal(formatPrefix(allocateSubnet(pools, used)!), '10.10.2.0/24');
    // A wide route over the first half pushes past it at once.
    assert.equal(formatPrefix(allocateSubnet(pools, [parsePrefix('10.10.0.0/17')])!), '10.10.128.0/24');
    assert.equal(allocateSubnet(pools, [parsePrefix('10.0.0.0/8')]), null);
    const two = [parseAddressPool('base=10.10.0.0/24,size=24'), parseAddressPool('base=10.20.0.0/16,size=24')];
    assert.equal(formatPrefix(allocateSubnet(two, [parsePrefix('10.10.0.0/24')])!), '10.20.0.0/24');
  });
});

describe('port specs', () => {
  it('parses port keys and ranges', () => {
    assert.deepEqual(parsePortKey('80/tcp'), { port: 80, proto: 'tcp' });
    assert.deepEqual(parsePortKey('53/UDP'), { port: 53, proto: 'udp' });
    assert.deepEqual(parsePortKey('8080'), { port: 8080, proto: 'tcp' });
    assert.equal(parsePortKey('0/tcp'), null);
    assert.equal(parsePortKey('aa80'), null);
    assert.equal(parsePortKey('80/icmp'), null);
    assert.deepEqual(parsePortRange('8000-8010'), [8000, 8010]);
    assert.equal(parsePortRange('8010-8000'), null);
    assert.deepEqual(parsePortRange('0'), [0, 0]);
    assert.equal(parsePortRange('70000'), null);
  });
  it("validates PortBindings with moby's messages", () => {
    validatePortBindings({ '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostPort: '' }], '81/tcp': null });
    assert.throws(() => validatePortBindings({ 'aa80/tcp': [] }), /invalid port specification: "aa80\/tcp"/);
    assert.throws(() => validatePortBindings({ '80/tcp': [{ HostPort: 'x' }] }), /invalid port specification: "x"/);
    assert.throws(() => validatePortBindings({ '80/tcp': [{ HostIp: '::1', HostPort: '1' }] }), kind('invalid-argument'));
  });
  it('turns bindings, exposed ports and -P into requests', () => {
    const reqs = portRequests({ '80/tcp': {}, '443/tcp': {} }, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostPort: '' }] }, true);
    assert.deepEqual(reqs, [
      { containerPort: 53, proto: 'udp', hostIp: '', hostPortStart: 0, hostPortEnd: 0 },
      { containerPort: 80, proto: 'tcp', hostIp: '127.0.0.1', hostPortStart: 8080, hostPortEnd: 8080 },
      { containerPort: 443, proto: 'tcp', hostIp: '', hostPortStart: 0, hostPortEnd: 0 },
    ]);
    assert.deepEqual(portRequests({ '443/tcp': {} }, {}, false), []);
  });
  it("shapes inspect's Ports and ps's summary", () => {
    const granted = [{ containerPort: 80, proto: 'tcp' as const, hostIp: '', hostPort: 8080 }];
    assert.deepEqual(portsView({ '80/tcp': {}, '81/tcp': {} }, { '80/tcp': [{ HostPort: '8080' }] }, granted), {
      '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }],
      '81/tcp': null,
    });
    assert.deepEqual(portSummary({ '80/tcp': {}, '81/tcp': {} }, granted), [
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { PrivatePort: 81, Type: 'tcp' },
    ]);
  });
});

/** A query as dig would send it: ID, RD set, one question. */
function query(name: string, type: number, id = 0x1234): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, type, 0, 1])]);
}

describe('DNS codec', () => {
  it('reads a query and answers it with an A record pointing back at the question', () => {
    const q = parseQuery(query('Web.Example', TYPE_A));
    assert.equal(q.id, 0x1234);
    assert.equal(q.recursionDesired, true);
    assert.deepEqual(q.questions, [{ name: 'web.example', type: TYPE_A, class: 1 }]);
    const r = buildResponse(q, 0, [{ name: 'web.example', type: TYPE_A, ttl: 600, ipv4: 0x0a000002 }], { authoritative: true });
    assert.equal(r.readUInt16BE(0), 0x1234);
    assert.equal(r.readUInt16BE(2) & 0x8000, 0x8000);
    assert.equal(r.readUInt16BE(2) & 0x0400, 0x0400);
    assert.equal(r.readUInt16BE(6), 1);
    // header 12 + question (13 + 4) + pointer 2 + type/class/ttl/len 10 + 4 bytes of address
    assert.equal(r.length, 12 + 17 + 2 + 10 + 4);
    assert.deepEqual([...r.subarray(r.length - 16, r.length - 14)], [0xc0, 12]);
    assert.deepEqual([...r.subarray(r.length - 4)], [10, 0, 0, 2]);
  });
  it('answers NXDOMAIN and PTR records', () => {
    const q = parseQuery(query('nope', TYPE_A, 7));
    const r = buildResponse(q, RCODE_NXDOMAIN, []);
    assert.equal(r.readUInt16BE(2) & 0xf, RCODE_NXDOMAIN);
    assert.equal(r.readUInt16BE(6), 0);
    const p = parseQuery(query('2.0.0.10.in-addr.arpa', TYPE_PTR));
    assert.equal(reverseNameToIPv4(p.questions[0]!.name), 0x0a000002);
    const pr = buildResponse(p, 0, [{ name: p.questions[0]!.name, type: TYPE_PTR, ttl: 600, target: 'web' }]);
    assert.deepEqual([...pr.subarray(pr.length - 5)], [3, 0x77, 0x65, 0x62, 0]);
    assert.equal(reverseNameToIPv4('example.com'), null);
  });
  it('follows compression pointers and refuses loops and truncation', () => {
    // question name is a pointer to itself: a loop
    const loop = Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
    assert.throws(() => parseQuery(loop), DnsFormatError);
    assert.throws(() => parseQuery(Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0x61])), DnsFormatError);
    assert.throws(() => parseQuery(Buffer.alloc(5)), DnsFormatError);
    const fe = formatErrorResponse(loop);
    assert.ok(fe);
    assert.equal(fe.readUInt16BE(2) & 0xf, 1);
    assert.equal(formatErrorResponse(Buffer.alloc(3)), null);
  });
});

describe('etc files', () => {
  it('writes /etc/hosts with extra hosts and own addresses', () => {
    const t = buildHosts({ extra: [['db', '10.0.0.9']], own: [{ ip: '172.17.0.2', names: ['abc123'] }] });
    assert.match(t, /^127\.0\.0\.1\tlocalhost\n/);
    assert.match(t, /10\.0\.0\.9\tdb\n172\.17\.0\.2\tabc123\n$/);
    assert.equal(buildHosts({ base: '1.2.3.4 h\n', extra: [], own: [] }), '1.2.3.4 h\n');
  });
  it("derives resolv.conf from the host's, without loopback resolvers", () => {
    const host = 'nameserver 127.0.0.53\nnameserver 10.9.9.9\nsearch corp.example\noptions edns0\n';
    assert.deepEqual(parseResolvConf(host), { nameservers: ['127.0.0.53', '10.9.9.9'], search: ['corp.example'], options: ['edns0'] });
    const priv = buildResolvConf({ hostText: host, mode: 'private', dns: [], search: [], options: [] });
    assert.match(priv, /nameserver 10\.9\.9\.9\n/);
    assert.doesNotMatch(priv, /127\.0\.0\.53/);
    assert.match(priv, /search corp\.example\n/);
    const only = buildResolvConf({ hostText: 'nameserver 127.0.0.53\n', mode: 'private', dns: [], search: [], options: [] });
    assert.match(only, /nameserver 8\.8\.8\.8\nnameserver 8\.8\.4\.4\n/);
    const over = buildResolvConf({ hostText: host, mode: 'private', dns: ['1.1.1.1'], search: ['a.b'], options: ['ndots:2'] });
    assert.equal(over, '# Generated by berth.\nnameserver 1.1.1.1\nsearch a.b\noptions ndots:2\n');
    const emb = buildResolvConf({ hostText: host, mode: 'embedded', embedded: '10.5.0.1', dns: ['1.1.1.1'], search: [], options: [] });
    assert.match(emb, /nameserver 10\.5\.0\.1\n/);
    assert.match(emb, /options edns0 ndots:0\n/);
    assert.equal(buildResolvConf({ hostText: host, mode: 'host', dns: [], search: [], options: [] }), host);
    assert.deepEqual(upstreamResolvers(host, []), ['127.0.0.53', '10.9.9.9']);
    assert.deepEqual(upstreamResolvers(host, ['9.9.9.9']), ['9.9.9.9']);
  });
});

describe('firewall rules', () => {
  it('renders NAT, forwarding accepts and two-stage isolation per network', () => {
    const c = chainNames('t0');
    const text = renderRules(c, [
      { bridge: 'b0', subnet: '10.1.0.0/24', internal: false, masquerade: true, icc: true },
      { bridge: 'b1', subnet: '10.2.0.0/24', internal: true, masquerade: true, icc: true },
    ]);
    assert.match(text, /^\*filter\n:BERTH-FWD-t0 - \[0:0\]\n/);
    assert.match(text, /-A BERTH-FWD-t0 -o b0 -m conntrack --ctstate DNAT -j ACCEPT\n/);
    assert.match(text, /-A BERTH-FWD-t0 -i b0 -j ACCEPT\n/);
    assert.match(text, /-A BERTH-FWD-t0 -i b1 -o b1 -j ACCEPT\n/);
    assert.doesNotMatch(text, /-A BERTH-FWD-t0 -i b1 -j ACCEPT/);
    assert.match(text, /-A BERTH-ISO1-t0 -i b0 ! -o b0 -j BERTH-ISO2-t0\n/);
    assert.match(text, /-A BERTH-ISO1-t0 -i b1 ! -o b1 -j DROP\n-A BERTH-ISO1-t0 ! -i b1 -o b1 -j DROP\n/);
    assert.match(text, /-A BERTH-ISO2-t0 -o b0 -j DROP\n-A BERTH-ISO2-t0 -o b1 -j DROP\n/);
    assert.match(text, /\*nat\n:BERTH-NAT-t0 - \[0:0\]\n-A BERTH-NAT-t0 -s 10\.1\.0\.0\/24 ! -o b0 -j MASQUERADE\nCOMMIT\n$/);
    // established traffic leaves first; the isolation jump comes after the DNAT accepts: published ports cross networks
    assert.match(text, /:BERTH-ISO2-t0 - \[0:0\]\n-A BERTH-FWD-t0 -o b0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n/);
    assert.ok(text.indexOf('--ctstate DNAT') < text.indexOf('-j BERTH-ISO1-t0'));
    assert.doesNotMatch(text, /-o b1 -m conntrack --ctstate RELATED,ESTABLISHED/);
  });
});

describe('CNI plugin list', () => {
  const n: NetworkRecord = {
    Id: 'a'.repeat(64),
    Name: 'app',
    Driver: 'bridge',
    Created: '',
    Scope: 'local',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '10.3.0.0/24', Gateway: '10.3.0.1', IPRange: '10.3.0.128/25' }] },
    Internal: false,
    Attachable: false,
    Options: { 'com.docker.network.driver.mtu': '1400' },
    Labels: {},
    Bridge: 'br-aaaaaaaaaaaa',
    UserSubnet: true,
  };
  it('is bridge + host-local (range clipped to host addresses), then tuning and portmap when asked', () => {
    const l = confList(n, { ipamDir: '/d', mac: '02:00:00:00:00:01', portmap: true });
    assert.equal(l.name, n.Id);
    assert.deepEqual(
      l.plugins.map((p) => p.type),
      ['bridge', 'tuning', 'portmap'],
    );
    const b = l.plugins[0] as Record<string, unknown>;
    assert.equal(b.isGateway, true);
    assert.equal(b.ipMasq, false);
    assert.equal(b.mtu, 1400);
    assert.deepEqual((b.ipam as { ranges: unknown }).ranges, [[{ subnet: '10.3.0.0/24', gateway: '10.3.0.1', rangeStart: '10.3.0.128', rangeEnd: '10.3.0.254' }]]);
    assert.deepEqual(ipamRange({ ...n, IPAM: { ...n.IPAM, Config: [{ Subnet: '10.3.0.0/24', Gateway: '10.3.0.1' }] } }), { subnet: '10.3.0.0/24', gateway: '10.3.0.1' });
  });
  it('gives internal networks no default route, no gateway role and no portmap', () => {
    const l = confList({ ...n, Internal: true }, { ipamDir: '/d', portmap: true });
    assert.deepEqual(
      l.plugins.map((p) => p.type),
      ['bridge'],
    );
    const b = l.plugins[0] as unknown as { isGateway: boolean; ipam: { routes: unknown[] } };
    assert.equal(b.isGateway, false);
    assert.deepEqual(b.ipam.routes, []);
  });
});
