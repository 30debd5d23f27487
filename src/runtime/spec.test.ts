import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../errdefs/errors.js';
import {
  DEFAULT_CAPABILITIES,
  buildSpec,
  defaultSpec,
  withAnnotations,
  withArgs,
  withBindMounts,
  withCgroupsPath,
  withCpuShares,
  withCwd,
  withEnv,
  withHostname,
  withMemory,
  withNanoCpus,
  withNetworkNamespace,
  withPidsLimit,
  withRootfs,
  withUserMounts,
  withTerminal,
  withUser,
} from './spec.js';

const MiB = 1024 * 1024;

describe('defaultSpec', () => {
  it('gives Docker’s 14 default capabilities in bounding, effective and permitted, none inheritable', () => {
    const s = defaultSpec({ cgroupV2: false, nofile: 1048576 });
    assert.equal(DEFAULT_CAPABILITIES.length, 14);
    assert.deepEqual(s.process.capabilities?.bounding, [...DEFAULT_CAPABILITIES]);
    assert.deepEqual(s.process.capabilities?.effective, [...DEFAULT_CAPABILITIES]);
    assert.deepEqual(s.process.capabilities?.permitted, [...DEFAULT_CAPABILITIES]);
    assert.equal(s.process.capabilities?.inheritable, undefined);
    assert.equal(s.process.noNewPrivileges, false);
    assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }]);
    assert.deepEqual(s.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    assert.equal(s.linux.seccomp, undefined);
  });

  it('mounts proc, /dev, devpts, sysfs ro, cgroup ro, mqueue and a 64m /dev/shm like Docker', () => {
    const s = defaultSpec({ cgroupV2: false });
    const byDest = new Map(s.mounts.map((m) => [m.destination, m]));
    assert.deepEqual([...byDest.keys()], ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm']);
    assert.ok(byDest.get('/dev')?.options?.includes('mode=755'));
    assert.ok(byDest.get('/dev')?.options?.includes('size=65536k'));
    for (const o of ['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']) assert.ok(byDest.get('/dev/pts')?.options?.includes(o), o);
    assert.ok(byDest.get('/sys')?.options?.includes('ro'));
    assert.ok(byDest.get('/sys/fs/cgroup')?.options?.includes('ro'));
    assert.ok(byDest.get('/dev/shm')?.options?.includes(`size=${64 * MiB}`));
  });

  it('masks and read-only-mounts Docker’s /proc and /sys paths', () => {
    const s = defaultSpec({ cgroupV2: false });
    for (const p of ['/proc/kcore', '/proc/keys', '/proc/interrupts', '/sys/firmware', '/sys/devices/virtual/powercap']) {
      assert.ok(s.linux.maskedPaths?.includes(p), p);
    }
    assert.deepEqual(s.linux.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  });

  it('creates pid, ipc, uts, mount and network namespaces, plus cgroup only on cgroup v2', () => {
    const v1 = defaultSpec({ cgroupV2: false }).linux.namespaces.map((n) => n.type);
    assert.deepEqual(v1, ['pid', 'ipc', 'uts', 'mount', 'network']);
    const v2 = defaultSpec({ cgroupV2: true }).linux.namespaces.map((n) => n.type);
    assert.deepEqual(v2, ['pid', 'ipc', 'uts', 'mount', 'network', 'cgroup']);
  });

  it('denies all devices first, then allows the standard character devices', () => {
    const rules = defaultSpec({ cgroupV2: false }).linux.resources?.devices ?? [];
    assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
    const allowed = rules.filter((r) => r.allow && r.access === 'rwm').map((r) => `${r.type}:${r.major}:${r.minor ?? '*'}`);
    for (const d of ['c:1:3', 'c:1:5', 'c:1:7', 'c:1:8', 'c:1:9', 'c:5:0', 'c:5:1', 'c:5:2', 'c:136:*']) {
      assert.ok(allowed.includes(d), d);
    }
    assert.ok(!allowed.includes('c:10:229'), 'fuse stays denied');
  });

  it('never asks for a NOFILE hard limit above what this process may grant', () => {
    const s = defaultSpec({ cgroupV2: false });
    const nofile = s.process.rlimits?.[0];
    assert.ok(nofile !== undefined && nofile.hard <= 1048576 && nofile.hard > 0);
  });

  it('returns independent objects each call', () => {
    const a = defaultSpec({ cgroupV2: false });
    a.process.capabilities?.bounding?.push('CAP_SYS_ADMIN');
    a.mounts.pop();
    const b = defaultSpec({ cgroupV2: false });
    assert.equal(b.process.capabilities?.bounding?.includes('CAP_SYS_ADMIN'), false);
    assert.equal(b.mounts.length, 7);
  });
});

describe('SpecOpts', () => {
  it('withArgs, withCwd, withHostname, withTerminal, withRootfs and withCgroupsPath set their fields', () => {
    const s = buildSpec(
      [
        withArgs(['/bin/sh', '-c', 'echo hi']),
        withCwd('/data'),
        withHostname('web'),
        withTerminal(true),
        withRootfs('/var/lib/berth/x/rootfs', true),
        withCgroupsPath('/berth/abc'),
      ],
      { cgroupV2: false },
    );
    assert.deepEqual(s.process.args, ['/bin/sh', '-c', 'echo hi']);
    assert.equal(s.process.cwd, '/data');
    assert.equal(s.hostname, 'web');
    assert.equal(s.process.terminal, true);
    assert.deepEqual(s.root, { path: '/var/lib/berth/x/rootfs', readonly: true });
    assert.equal(s.linux.cgroupsPath, '/berth/abc');
  });

  it('withArgs rejects an empty command and withCwd a relative directory', () => {
    assert.throws(() => withArgs([]), InvalidArgumentError);
    assert.throws(() => withCwd('data'), InvalidArgumentError);
  });

  it('withEnv replaces a variable in place and appends new ones, later calls winning', () => {
    const s = buildSpec([withEnv(['A=1', 'PATH=/bin']), withEnv(['A=2', 'B=x y'])], { cgroupV2: false });
    assert.deepEqual(s.process.env, ['PATH=/bin', 'A=2', 'B=x y']);
  });

  it('withUser sets uid, gid and supplementary groups', () => {
    const s = buildSpec([withUser({ uid: 1000, gid: 100, additionalGids: [10, 20] })], { cgroupV2: false });
    assert.deepEqual(s.process.user, { uid: 1000, gid: 100, additionalGids: [10, 20] });
  });

  it('withMemory doubles the limit for swap when memory-swap is unset, as Docker does', () => {
    const s = buildSpec([withMemory(32 * MiB)], { cgroupV2: false });
    assert.deepEqual(s.linux.resources?.memory, { limit: 32 * MiB, swap: 64 * MiB });
  });

  it('withMemory passes an explicit memory+swap total and -1 as unlimited', () => {
    assert.equal(buildSpec([withMemory(32 * MiB, 48 * MiB)], { cgroupV2: false }).linux.resources?.memory?.swap, 48 * MiB);
    assert.equal(buildSpec([withMemory(32 * MiB, -1)], { cgroupV2: false }).linux.resources?.memory?.swap, -1);
  });

  it('withMemory rejects limits under 6MB and a swap total below the memory limit', () => {
    assert.throws(() => withMemory(4 * MiB), /Minimum memory limit allowed is 6MB/);
    assert.throws(() => withMemory(32 * MiB, 16 * MiB), /memoryswap/);
  });

  it('withMemory(0) leaves memory unlimited', () => {
    assert.equal(buildSpec([withMemory(0)], { cgroupV2: false }).linux.resources?.memory, undefined);
  });

  it('withNanoCpus turns 1.5 CPUs into quota 150000 per 100000 period', () => {
    const s = buildSpec([withNanoCpus(1.5e9), withCpuShares(512)], { cgroupV2: false });
    assert.deepEqual(s.linux.resources?.cpu, { period: 100000, quota: 150000, shares: 512 });
  });

  it('withPidsLimit sets a positive limit and treats 0 or -1 as unlimited', () => {
    assert.deepEqual(buildSpec([withPidsLimit(32)], { cgroupV2: false }).linux.resources?.pids, { limit: 32 });
    assert.equal(buildSpec([withPidsLimit(32), withPidsLimit(-1)], { cgroupV2: false }).linux.resources?.pids, undefined);
  });

  it('withBindMounts adds rbind mounts and replaces a default mount at the same destination', () => {
    const s = buildSpec(
      [
        withBindMounts([
          { source: '/var/lib/berth/c/hosts', destination: '/etc/hosts' },
          { source: '/var/lib/berth/c/resolv.conf', destination: '/etc/resolv.conf', options: ['ro'] },
          { source: '/host/shm', destination: '/dev/shm' },
        ]),
      ],
      { cgroupV2: false },
    );
    const hosts = s.mounts.find((m) => m.destination === '/etc/hosts');
    assert.deepEqual(hosts, { destination: '/etc/hosts', type: 'bind', source: '/var/lib/berth/c/hosts', options: ['rbind', 'rprivate'] });
    assert.deepEqual(s.mounts.find((m) => m.destination === '/etc/resolv.conf')?.options, ['rbind', 'ro']);
    const shm = s.mounts.filter((m) => m.destination === '/dev/shm');
    assert.equal(shm.length, 1);
    assert.equal(shm[0]?.type, 'bind');
  });

  it('withNetworkNamespace: host drops the namespace, a path joins one, private creates one', () => {
    const net = (s: ReturnType<typeof defaultSpec>) => s.linux.namespaces.filter((n) => n.type === 'network');
    assert.deepEqual(net(buildSpec([withNetworkNamespace('host')], { cgroupV2: false })), []);
    assert.deepEqual(net(buildSpec([withNetworkNamespace({ path: '/var/run/netns/x' })], { cgroupV2: false })), [
      { type: 'network', path: '/var/run/netns/x' },
    ]);
    assert.deepEqual(net(buildSpec([withNetworkNamespace('host'), withNetworkNamespace('private')], { cgroupV2: false })), [
      { type: 'network' },
    ]);
  });

  it('withAnnotations merges', () => {
    const s = buildSpec([withAnnotations({ a: '1' }), withAnnotations({ b: '2' })], { cgroupV2: false });
    assert.deepEqual(s.annotations, { a: '1', b: '2' });
  });

  it('serialises to JSON without undefined fields', () => {
    const json = JSON.stringify(buildSpec([withArgs(['true'])], { cgroupV2: false }));
    assert.ok(!json.includes('undefined'));
    assert.equal((JSON.parse(json) as { ociVersion: string }).ociVersion, '1.0.2');
  });
});

describe('withUserMounts (volumes, binds, --mount tmpfs)', () => {
  it('replaces mounts at the same destination and orders parents before children, keeping the rest in place', async () => {
    const spec = buildSpec(
      [
        withBindMounts([{ source: '/c/hosts', destination: '/etc/hosts' }]),
        withUserMounts([
          { destination: '/data/sub', type: 'bind', source: '/v2', options: ['rbind', 'rprivate'] },
          { destination: '/etc', type: 'bind', source: '/v1', options: ['rbind', 'ro', 'rprivate'] },
          { destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
          { destination: '/data', type: 'bind', source: '/v3', options: ['rbind', 'rprivate'] },
        ]),
      ],
      { cgroupV2: false },
    );
    const dests = spec.mounts.map((m) => m.destination);
    assert.ok(dests.indexOf('/etc') < dests.indexOf('/etc/hosts'), 'a volume at /etc must not hide /etc/hosts');
    assert.ok(dests.indexOf('/data') < dests.indexOf('/data/sub'));
    assert.ok(dests.indexOf('/sys') < dests.indexOf('/sys/fs/cgroup'));
    assert.equal(dests.filter((d) => d === '/dev/shm').length, 1);
    assert.deepEqual(spec.mounts.find((m) => m.destination === '/dev/shm')?.options, ['size=1m']);
    assert.equal(spec.linux.rootfsPropagation, undefined);
  });

  it('makes the root propagation shared (or slave) when a bind asks for it, as moby does', () => {
    const shared = buildSpec([withUserMounts([{ destination: '/s', type: 'bind', source: '/h', options: ['rbind', 'rshared'] }])], { cgroupV2: false });
    assert.equal(shared.linux.rootfsPropagation, 'rshared');
    const slave = buildSpec([withUserMounts([{ destination: '/s', type: 'bind', source: '/h', options: ['rbind', 'rslave'] }])], { cgroupV2: false });
    assert.equal(slave.linux.rootfsPropagation, 'rslave');
  });
});
