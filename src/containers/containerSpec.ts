/**
 * containers/containerSpec: from a container record and its mounted rootfs to
 * the OCI runtime spec, plus the files Docker bind-mounts into every container
 * (/etc/hostname, /etc/hosts, /etc/resolv.conf). Writes only in the
 * container's own directory and creates the working directory in its rootfs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { groupAddOf, resolveUser } from './userLookup.js';
import type { ContainerRecord } from './types.js';
import {
  buildSpec,
  isCgroupV2Unified,
  withArgs,
  withBindMounts,
  withCapabilities,
  withCgroupsPath,
  withCpuShares,
  withCpuset,
  withCwd,
  withEnv,
  withHostname,
  withMemory,
  withMemoryReservation,
  withNanoCpus,
  withNetworkNamespace,
  withNoNewPrivileges,
  withOomKillDisable,
  withPidsLimit,
  withRootfs,
  withSysctl,
  withTerminal,
  withUser,
  DEFAULT_CAPABILITIES,
  type DefaultSpecOptions,
  type NamespaceMode,
  type SpecOpt,
} from '../runtime/spec.js';
import {
  findInitBinary,
  parseSecurityOpts,
  withDevices,
  withInit,
  withOomScoreAdj,
  withPathLists,
  withPrivileged,
  withSeccomp,
  withShmSize,
  withTmpfs,
  withUlimits,
} from '../runtime/isolation.js';
import { tweakCapabilities } from '../runtime/capabilities.js';
import { parseSeccompProfile, toOciSeccomp } from '../runtime/seccomp.js';
import { DEFAULT_SECCOMP_PROFILE } from '../runtime/seccompDefault.js';
import type { OciResources, OciSpec } from '../runtime/ociTypes.js';
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
function containerResolvConf(hostNetwork: boolean): string {
  let text = '';
  try {
    text = readFileSync('/etc/resolv.conf', 'utf8');
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

/**
 * Writes /etc/hostname, /etc/hosts and /etc/resolv.conf of the container
 * into its directory: `net` holds what the network module made of its
 * networks (network/containerNetworking); without it, a loopback-only default.
 */
export function writeEtcFiles(c: ContainerRecord, dir: string, net?: { hostname: string; hosts: string; resolv: string }): Promise<void> {
  // Three small files on the path of every start, written synchronously: an async writeFile is
  // three thread-pool round trips (open, write, close), each costing more than the write (B86).
  if (net) {
    writeFileSync(join(dir, 'hostname'), net.hostname);
    writeFileSync(join(dir, 'hosts'), net.hosts);
    writeFileSync(join(dir, 'resolv.conf'), net.resolv);
    return Promise.resolve();
  }
  const hostname = c.Config.Hostname || c.Id.slice(0, 12);
  const hostNet = networkMode(c) === 'host';
  const base = HOSTS_BASE.join('\n') + '\n';
  let hosts = base;
  if (hostNet) {
    try {
      hosts = readFileSync('/etc/hosts', 'utf8');
    } catch {
      hosts = base;
    }
  }
  writeFileSync(join(dir, 'hostname'), `${hostname}\n`);
  writeFileSync(join(dir, 'hosts'), hosts);
  writeFileSync(join(dir, 'resolv.conf'), containerResolvConf(hostNet));
  return Promise.resolve();
}

/** Docker's NanoCpus, or CpuQuota/CpuPeriod, as a NanoCpus figure. */
function nanoCpus(c: ContainerRecord): number {
  const h = c.HostConfig;
  if (h.NanoCpus) return h.NanoCpus;
  if (h.CpuQuota && h.CpuQuota > 0) return Math.round((h.CpuQuota / (h.CpuPeriod || 100000)) * 1e9);
  return 0;
}

export async function buildContainerSpec(c: ContainerRecord, dir: string, rootfs: string, cgroupParent: string, netns?: NamespaceMode): Promise<OciSpec> {
  const user = await resolveUser(rootfs, c.Config.User ?? '', groupAddOf(c.HostConfig));
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
  const h = c.HostConfig;
  const sec = parseSecurityOpts(h.SecurityOpt);
  const caps = h.Privileged ? [] : tweakCapabilities(DEFAULT_CAPABILITIES, h.CapAdd ?? [], h.CapDrop ?? []);
  const opts: SpecOpt[] = [
    withRootfs(rootfs, h.ReadonlyRootfs === true),
    withArgs([c.Path, ...c.Args]),
    withEnv(finalEnv),
    withCwd(cwd),
    withUser({ uid: user.uid, gid: user.gid, additionalGids: user.additionalGids }),
    withHostname(hostname),
    withTerminal(c.Config.Tty === true),
    withCgroupsPath(`${cgroupParent}/${c.Id}`),
    withNetworkNamespace(netns ?? (mode === 'host' ? 'host' : 'private')),
    withBindMounts([
      { source: join(dir, 'hostname'), destination: '/etc/hostname', options: ['rbind', 'rprivate'] },
      { source: join(dir, 'hosts'), destination: '/etc/hosts', options: ['rbind', 'rprivate'] },
      { source: join(dir, 'resolv.conf'), destination: '/etc/resolv.conf', options: ['rbind', 'rprivate'] },
    ]),
    ...resourceOpts(c),
    withShmSize(h.ShmSize ?? 0),
    withTmpfs(h.Tmpfs ?? {}),
    withUlimits(h.Ulimits ?? []),
    withOomScoreAdj(h.OomScoreAdj ?? 0),
    withNoNewPrivileges(sec.noNewPrivileges),
  ];
  if (h.Sysctls && Object.keys(h.Sysctls).length > 0) opts.push(withSysctl(h.Sysctls));
  if (h.Privileged) {
    opts.push(withPrivileged());
  } else {
    opts.push(withCapabilities(caps));
    if (sec.unmaskSystemPaths) opts.push(withPathLists([], []));
    else opts.push(withPathLists(h.MaskedPaths, h.ReadonlyPaths));
    opts.push(withSeccomp(seccompFor(sec.seccomp, caps)));
  }
  if (h.Devices && h.Devices.length > 0) opts.push(withDevices(h.Devices));
  if (h.Init === true) {
    const init = findInitBinary();
    if (init === null) throw new InvalidArgumentError('--init: no init binary found on the host (install Debian\'s tini or catatonit)');
    opts.push(withInit(init));
  }
  const size = h.ConsoleSize;
  if (c.Config.Tty && Array.isArray(size) && size[0] > 0 && size[1] > 0) {
    // The client's terminal size from the start, as Docker does: a resize after start races the first command.
    opts.push((spec) => {
      spec.process.consoleSize = { height: size[0], width: size[1] };
    });
  }
  return buildSpec(opts);
}

/** The seccomp profile a container gets: Docker's default, none, or the user's (JSON, or a file path on the daemon's host). */
function seccompFor(choice: 'default' | 'unconfined' | { json: string }, caps: readonly string[]): ReturnType<typeof toOciSeccomp> | undefined {
  if (choice === 'unconfined') return undefined;
  if (choice === 'default') return toOciSeccomp(DEFAULT_SECCOMP_PROFILE, { capabilities: caps });
  let text = choice.json;
  if (!text.trimStart().startsWith('{')) {
    try {
      text = readFileSync(text, 'utf8');
    } catch (e) {
      throw new InvalidArgumentError(`opening seccomp profile (${choice.json}) failed: ${(e as Error).message}`);
    }
  }
  return toOciSeccomp(parseSeccompProfile(text), { capabilities: caps });
}

/** The cgroup settings of a container (create, and `update` of a running one). */
export function resourceOpts(c: ContainerRecord): SpecOpt[] {
  const h = c.HostConfig;
  const opts: SpecOpt[] = [];
  if (h.Memory) opts.push(withMemory(h.Memory, h.MemorySwap ?? 0));
  if (h.MemoryReservation) opts.push(withMemoryReservation(h.MemoryReservation));
  if (h.OomKillDisable) opts.push(withOomKillDisable(true));
  const n = nanoCpus(c);
  if (n > 0) opts.push(withNanoCpus(n));
  if (h.CpuShares) opts.push(withCpuShares(h.CpuShares));
  if (h.CpusetCpus || h.CpusetMems) opts.push(withCpuset(h.CpusetCpus ?? '', h.CpusetMems ?? ''));
  if (h.PidsLimit && h.PidsLimit > 0) opts.push(withPidsLimit(h.PidsLimit));
  return opts;
}

/** The OCI resources `runc update` gets for a container (unset limits are lifted where runc can). */
export function resourcesOf(c: ContainerRecord): OciResources {
  const r = buildSpec(resourceOpts(c)).linux.resources ?? {};
  delete r.devices;
  // runc update: -1 lifts a pids limit (0 would mean "unchanged").
  if (!r.pids) r.pids = { limit: -1 };
  return r;
}

/** moby's create warnings for limits this host's cgroups cannot honour (cgroup v2 only: none on v1). */
export function resourceWarnings(c: ContainerRecord, defaults: DefaultSpecOptions = {}): string[] {
  // On create's path: a v1 host has nothing to warn about, so it builds nothing.
  if (!(defaults.cgroupV2 ?? isCgroupV2Unified())) return [];
  const warnings: string[] = [];
  buildSpec(resourceOpts(c), { ...defaults, warnings });
  return warnings;
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

