import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { allCapabilities, tweakCapabilities } from './capabilities.js';
import { devNumbers, parseSecurityOpts, withInit, withPrivileged, withShmSize, withTmpfs, withUlimits } from './isolation.js';
import { kernelAtLeast, toOciSeccomp } from './seccomp.js';
import { DEFAULT_SECCOMP_PROFILE } from './seccompDefault.js';
import { DEFAULT_CAPABILITIES, buildSpec, withArgs } from './spec.js';

describe('capabilities (moby TweakCapabilities)', () => {
  it('adds and drops in any spelling; ALL works both ways; unknown is refused', () => {
    const caps = tweakCapabilities(DEFAULT_CAPABILITIES, ['net_admin', 'CAP_SYS_TIME'], ['chown']);
    assert.ok(caps.includes('CAP_NET_ADMIN') && caps.includes('CAP_SYS_TIME'));
    assert.ok(!caps.includes('CAP_CHOWN'));
    assert.deepEqual(tweakCapabilities(DEFAULT_CAPABILITIES, ['KILL'], ['ALL']), ['CAP_KILL']);
    const all = tweakCapabilities(DEFAULT_CAPABILITIES, ['ALL'], ['SYS_ADMIN']);
    assert.equal(all.length, allCapabilities().length - 1);
    assert.throws(() => tweakCapabilities(DEFAULT_CAPABILITIES, ['NOPE'], []), /unknown capability: "CAP_NOPE"/);
  });
});

describe('seccomp: Docker’s default profile for one container', () => {
  const names = (caps: readonly string[]): Set<string> =>
    new Set((toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: caps, arch: 'amd64', kernel: '6.1.0' }).syscalls ?? []).flatMap((s) => (s.action === 'SCMP_ACT_ALLOW' && !s.args ? s.names : [])));
  it('refuses by default with EPERM and lists the x86 architectures', () => {
    const s = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernel: '6.1.0' });
    assert.equal(s.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(s.defaultErrnoRet, 1);
    assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  });
  it('allows the ordinary calls, keeps mount/unshare for CAP_SYS_ADMIN, arch_prctl for amd64 only', () => {
    const def = names(DEFAULT_CAPABILITIES);
    for (const n of ['read', 'write', 'execve', 'clone3', 'arch_prctl', 'ptrace'].slice(0, 5)) if (n !== 'clone3') assert.ok(def.has(n), n);
    assert.ok(!def.has('mount'));
    assert.ok(!def.has('unshare'));
    assert.ok(names([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']).has('mount'));
    assert.ok(def.has('ptrace'), 'ptrace on kernels >= 4.8');
    const arm = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES, arch: 'arm64', kernel: '6.1.0' });
    assert.ok(!(arm.syscalls ?? []).some((s) => s.names.includes('arch_prctl')));
  });
  it('answers clone3 with ENOSYS without CAP_SYS_ADMIN, so libc falls back to clone', () => {
    const s = toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernel: '6.1.0' });
    const c3 = (s.syscalls ?? []).find((x) => x.names.includes('clone3') && x.action === 'SCMP_ACT_ERRNO');
    assert.equal(c3?.errnoRet, 38);
  });
  it('compares kernel versions', () => {
    assert.ok(kernelAtLeast('4.8', '6.18.0-rc1'));
    assert.ok(!kernelAtLeast('4.8', '4.4.0'));
    assert.ok(kernelAtLeast('4.8', '4.8.1'));
  });
});

describe('isolation SpecOpts', () => {
  it('--privileged: all caps, no masked paths, writable /sys, no seccomp, every device allowed', () => {
    const s = buildSpec([withArgs(['sh']), withPrivileged()], { cgroupV2: false });
    assert.deepEqual(s.process.capabilities?.bounding, allCapabilities());
    assert.deepEqual(s.linux.maskedPaths, []);
    assert.deepEqual(s.linux.readonlyPaths, []);
    assert.ok(!s.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
    assert.deepEqual(s.linux.resources?.devices, [{ allow: true, access: 'rwm' }]);
    assert.ok((s.linux.devices ?? []).some((d) => d.path === '/dev/null'));
  });
  it('--tmpfs gets noexec,nosuid,nodev unless overridden; --shm-size sets /dev/shm', () => {
    const s = buildSpec([withArgs(['sh']), withTmpfs({ '/run': 'size=1m', '/x': 'exec' }), withShmSize(1024 * 1024)], { cgroupV2: false });
    assert.deepEqual(s.mounts.find((m) => m.destination === '/run')?.options, ['noexec', 'nosuid', 'nodev', 'size=1m']);
    assert.deepEqual(s.mounts.find((m) => m.destination === '/x')?.options, ['nosuid', 'nodev', 'exec']);
    assert.ok(s.mounts.find((m) => m.destination === '/dev/shm')?.options?.includes('size=1048576'));
  });
  it('--ulimit replaces a default of the same type and refuses unknown names', () => {
    const s = buildSpec([withArgs(['sh']), withUlimits([{ Name: 'nofile', Soft: 100, Hard: 200 }, { Name: 'nproc', Soft: 5, Hard: 5 }])], { cgroupV2: false, nofile: 1000 });
    assert.deepEqual(s.process.rlimits, [
      { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 },
      { type: 'RLIMIT_NPROC', soft: 5, hard: 5 },
    ]);
    assert.throws(() => withUlimits([{ Name: 'bogus', Soft: 1, Hard: 1 }]), /invalid ulimit type: bogus/);
  });
  it('--init runs the command under the bind-mounted init', () => {
    const s = buildSpec([withArgs(['sleep', '1']), withInit('/usr/bin/tini-static')], { cgroupV2: false });
    assert.deepEqual(s.process.args, ['/sbin/docker-init', '--', 'sleep', '1']);
    assert.equal(s.mounts.find((m) => m.destination === '/sbin/docker-init')?.source, '/usr/bin/tini-static');
  });
  it('parses --security-opt like moby and refuses the unknown', () => {
    assert.equal(parseSecurityOpts(['no-new-privileges']).noNewPrivileges, true);
    assert.equal(parseSecurityOpts(['no-new-privileges=false']).noNewPrivileges, false);
    assert.equal(parseSecurityOpts(['seccomp=unconfined']).seccomp, 'unconfined');
    assert.deepEqual(parseSecurityOpts(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']).seccomp, { json: '{"defaultAction":"SCMP_ACT_ALLOW"}' });
    assert.equal(parseSecurityOpts(['apparmor=unconfined']).seccomp, 'default');
    assert.throws(() => parseSecurityOpts(['bogus']), /invalid --security-opt 1: "bogus"/);
    assert.throws(() => parseSecurityOpts(['bogus=1']), /invalid --security-opt 2: "bogus=1"/);
  });
  it('splits a dev_t into major and minor', () => {
    assert.deepEqual(devNumbers((1 << 8) | 3), { major: 1, minor: 3 });
    assert.deepEqual(devNumbers((136 << 8) | 0x1234 & 0xff | ((0x1234 >> 8) << 20)), { major: 136, minor: 0x1234 });
  });
});
