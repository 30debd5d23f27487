/**
 * daemon/preflight: what berthd needs from the host, checked at start, with
 * an exact line on how to get what is missing (D12).
 */
import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter } from 'node:path';
import { UnavailableError } from '../errdefs/errors.js';
import { seqpacketAvailable } from '../runtime/seqpacket.js';
import { findInDirs } from '../util/process.js';

export async function findExecutable(name: string, extraDirs: string[] = []): Promise<string | null> {
  if (name.includes('/')) {
    return access(name, constants.X_OK).then(
      () => name,
      () => null,
    );
  }
  return findInDirs(name, [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin', '/usr/libexec/podman', ...extraDirs]);
}

export interface HostTools {
  runc: string;
  conmon: string;
}

export async function preflight(runtimeName: string): Promise<HostTools> {
  const missing: string[] = [];
  const packages: string[] = [];
  if (process.getuid?.() !== 0) missing.push('berthd must run as root (uid 0)');
  const runc = await findExecutable(runtimeName);
  if (!runc) {
    missing.push(`OCI runtime "${runtimeName}" not found on PATH`);
    packages.push(runtimeName === 'crun' ? 'crun' : 'runc');
  }
  const conmon = await findExecutable('conmon');
  if (!conmon) {
    missing.push('conmon not found on PATH');
    packages.push('conmon');
  }
  // Layer unpacking makes device nodes and whiteouts with GNU tar and sets xattrs with setfattr.
  // Networking (D6): iproute2, util-linux unshare/flock, iptables, and the CNI plugins berth calls.
  const tools: [string, string][] = [
    ['mount', 'mount'],
    ['umount', 'mount'],
    ['tar', 'tar'],
    ['setfattr', 'attr'],
    ['ip', 'iproute2'],
    ['unshare', 'util-linux'],
    ['flock', 'util-linux'],
    ['iptables', 'iptables'],
    ['iptables-restore', 'iptables'],
    ...(['bridge', 'host-local', 'portmap', 'tuning'] as const).map((p): [string, string] => [`/usr/lib/cni/${p}`, 'containernetworking-plugins']),
  ];
  for (const [tool, pkg] of tools) {
    if (!(await findExecutable(tool))) {
      missing.push(`${tool} not found`);
      packages.push(pkg);
    }
  }
  const fs = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  if (!/\toverlay\n/.test(fs)) missing.push('the kernel has no overlay filesystem (try: modprobe overlay)');
  const cg = await access('/sys/fs/cgroup', constants.R_OK).then(
    () => true,
    () => false,
  );
  if (!cg) missing.push('cgroups are not mounted at /sys/fs/cgroup');
  if (!seqpacketAvailable()) missing.push("native/seqpacket is not built (attaching to conmon's socket needs it): run scripts/setup.sh");
  if (missing.length > 0) {
    const hint = packages.length ? `\n  install with: apt-get install -y ${[...new Set(packages)].join(' ')}` : '';
    throw new UnavailableError(`berthd cannot start:\n  - ${missing.join('\n  - ')}${hint}`);
  }
  return { runc: runc as string, conmon: conmon as string };
}

export async function cgroupVersion(): Promise<'1' | '2'> {
  const ok = await access('/sys/fs/cgroup/cgroup.controllers').then(
    () => true,
    () => false,
  );
  return ok ? '2' : '1';
}
