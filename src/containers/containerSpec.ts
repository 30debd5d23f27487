/**
 * containers/containerSpec: from a container record and its mounted rootfs to
 * the OCI runtime spec, plus the files Docker bind-mounts into every container
 * (/etc/hostname, /etc/hosts, /etc/resolv.conf). Writes only in the
 * container's own directory and creates the working directory in its rootfs.
 */
import { mkdir, readFile, writeFile, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveUser } from './userLookup.js';
import type { ContainerRecord } from './types.js';
import {
  buildSpec,
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
  withTerminal,
  withUser,
  type SpecOpt,
} from '../runtime/spec.js';
import type { OciSpec } from '../runtime/ociTypes.js';
import { InvalidArgumentError } from '../errdefs/errors.js';

const HOSTS_BASE = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::\tip6-localnet',
  'ff00::\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/** The host's resolv.conf minus loopback resolvers, which mean nothing inside a netns. */
async function containerResolvConf(hostNetwork: boolean): Promise<string> {
  let text = '';
  try {
    text = await readFile('/etc/resolv.conf', 'utf8');
  } catch {
    text = '';
  }
  if (hostNetwork) return text;
  const lines = text.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\b)/.test(l));
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  return `${lines.join('\n').trim()}\n`;
}

function networkMode(c: ContainerRecord): string {
  const m = c.HostConfig.NetworkMode ?? '';
  return m === '' || m === 'default' ? 'bridge' : m;
}

export async function writeEtcFiles(c: ContainerRecord, dir: string): Promise<void> {
  const hostname = c.Config.Hostname || c.Id.slice(0, 12);
  const hostNet = networkMode(c) === 'host';
  await writeFile(join(dir, 'hostname'), `${hostname}\n`);
  const hosts = hostNet ? await readFile('/etc/hosts', 'utf8').catch(() => HOSTS_BASE.join('\n') + '\n') : HOSTS_BASE.join('\n') + '\n';
  await writeFile(join(dir, 'hosts'), hosts);
  await writeFile(join(dir, 'resolv.conf'), await containerResolvConf(hostNet));
}

/** Docker's NanoCpus, or CpuQuota/CpuPeriod, as a NanoCpus figure. */
function nanoCpus(c: ContainerRecord): number {
  const h = c.HostConfig;
  if (h.NanoCpus) return h.NanoCpus;
  if (h.CpuQuota && h.CpuQuota > 0) return Math.round((h.CpuQuota / (h.CpuPeriod || 100000)) * 1e9);
  return 0;
}

export async function buildContainerSpec(c: ContainerRecord, dir: string, rootfs: string, cgroupParent: string): Promise<OciSpec> {
  const user = await resolveUser(rootfs, c.Config.User ?? '');
  const hostname = c.Config.Hostname || c.Id.slice(0, 12);
  const env = [...(c.Config.Env ?? [])];
  const hasKey = (k: string): boolean => env.some((e) => e.split('=')[0] === k);
  const extra = [`HOSTNAME=${hostname}`];
  if (c.Config.Tty && !hasKey('TERM')) extra.push('TERM=xterm');
  const finalEnv = [...env.filter((e) => !e.startsWith('HOSTNAME=')), ...extra];
  if (!hasKey('HOME')) finalEnv.push(`HOME=${user.home}`);
  const cwd = c.Config.WorkingDir || '/';
  if (!cwd.startsWith('/')) throw new InvalidArgumentError(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
  await ensureDirInRootfs(rootfs, cwd);
  const mode = networkMode(c);
  const opts: SpecOpt[] = [
    withRootfs(rootfs, c.HostConfig.ReadonlyRootfs === true),
    withArgs([c.Path, ...c.Args]),
    withEnv(finalEnv),
    withCwd(cwd),
    withUser({ uid: user.uid, gid: user.gid, additionalGids: user.additionalGids }),
    withHostname(hostname),
    withTerminal(c.Config.Tty === true),
    withCgroupsPath(`${cgroupParent}/${c.Id}`),
    withNetworkNamespace(mode === 'host' ? 'host' : 'private'),
    withBindMounts([
      { source: join(dir, 'hostname'), destination: '/etc/hostname', options: ['rbind', 'rprivate'] },
      { source: join(dir, 'hosts'), destination: '/etc/hosts', options: ['rbind', 'rprivate'] },
      { source: join(dir, 'resolv.conf'), destination: '/etc/resolv.conf', options: ['rbind', 'rprivate'] },
    ]),
  ];
  if (c.HostConfig.Memory) opts.push(withMemory(c.HostConfig.Memory, c.HostConfig.MemorySwap ?? 0));
  const n = nanoCpus(c);
  if (n > 0) opts.push(withNanoCpus(n));
  if (c.HostConfig.CpuShares) opts.push(withCpuShares(c.HostConfig.CpuShares));
  if (c.HostConfig.PidsLimit && c.HostConfig.PidsLimit > 0) opts.push(withPidsLimit(c.HostConfig.PidsLimit));
  const size = c.HostConfig.ConsoleSize;
  if (c.Config.Tty && Array.isArray(size) && size[0] > 0 && size[1] > 0) {
    // The client's terminal size from the start, as Docker does: a resize after start races the first command.
    opts.push((spec) => {
      spec.process.consoleSize = { height: size[0], width: size[1] };
    });
  }
  return buildSpec(opts);
}

/** Docker creates a missing WorkingDir; it must not be created through a symlink out of the rootfs. */
async function ensureDirInRootfs(rootfs: string, dir: string): Promise<void> {
  const parts = dir.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new InvalidArgumentError(`the working directory '${dir}' is invalid`);
  let cur = rootfs;
  for (const p of parts) {
    cur = join(cur, p);
    const st = await lstat(cur).catch(() => null);
    if (st === null) {
      await mkdir(cur, { mode: 0o755 });
    } else if (st.isSymbolicLink()) {
      // runc resolves the cwd inside the container's root; leave symlinked paths to it.
      return;
    } else if (!st.isDirectory()) {
      throw new InvalidArgumentError(`the working directory '${dir}' is not a directory`);
    }
  }
}
