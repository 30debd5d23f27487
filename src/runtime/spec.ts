/**
 * runtime/spec: builds the OCI `config.json` for a container: Docker's defaults
 * (moby daemon/pkg/oci/defaults.go) plus composable SpecOpt edits.
 * Owns the mapping from Docker's knobs (memory-swap, NanoCpus, PidsLimit…) to
 * OCI fields. Pure: it never touches the bundle, the filesystem beyond reading
 * host facts (/proc/self/limits, cgroup mode), or processes. Writing the file is
 * ConmonRuntime.writeSpec's job.
 */
import { existsSync, readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errdefs/errors.js';
import { adaptResourcesForCgroupV2, DEFAULT_V2_CONTROLLERS, type CgroupV2Host } from './cgroupV2Limits.js';
import type {
  OciCapabilities,
  OciDeviceCgroupRule,
  OciMount,
  OciNamespace,
  OciNamespaceType,
  OciResources,
  OciSpec,
} from './ociTypes.js';

export type SpecOpt = (spec: OciSpec) => void;

export const OCI_VERSION = '1.0.2';
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's default capability set (moby daemon/pkg/oci/caps/defaults.go): 14 capabilities. */
export const DEFAULT_CAPABILITIES: readonly string[] = Object.freeze([
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
]);

/** Docker 28+'s masked paths (the per-CPU thermal_throttle dirs are added when present). */
export const DEFAULT_MASKED_PATHS: readonly string[] = Object.freeze([
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/sys/devices/virtual/powercap',
  '/sys/firmware',
]);

export const DEFAULT_READONLY_PATHS: readonly string[] = Object.freeze([
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
]);

/** Docker's /dev/shm size when --shm-size is not given: 64 MiB. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
/** What `runc spec` and a systemd-started dockerd give containers for RLIMIT_NOFILE. */
export const DEFAULT_NOFILE = 1048576;
/** Docker refuses memory limits under 6 MB ("Minimum memory limit allowed is 6MB"). */
export const MIN_MEMORY_LIMIT = 6 * 1024 * 1024;
export const CPU_PERIOD_US = 100000;

export interface DefaultSpecOptions {
  /** Host uses the unified cgroup v2 hierarchy only (adds a cgroup namespace, as Docker does there). Default: detected. */
  cgroupV2?: boolean;
  /** RLIMIT_NOFILE soft=hard. Default: min(1048576, this process's hard limit) — see defaultNofile(). */
  nofile?: number;
  /** On cgroup v2: what the host offers. Default: read from this process's cgroup when v2 is detected; everything when cgroupV2 is forced. */
  cgroupV2Host?: CgroupV2Host;
  /** Receives moby's warnings for limits dropped because cgroup v2 cannot honour them (create's `Warnings`). */
  warnings?: string[];
}

let cgroupV2Cache: boolean | undefined;
/** True on a pure cgroup v2 host (/sys/fs/cgroup is the unified mount). Hybrid v1 hosts (like ours) say false. */
export function isCgroupV2Unified(): boolean {
  cgroupV2Cache ??= existsSync('/sys/fs/cgroup/cgroup.controllers');
  return cgroupV2Cache;
}

let nofileCache: number | undefined;
/**
 * Docker passes its own limits on to containers (it sets no rlimits unless asked); a
 * systemd-started dockerd has 1048576. We write 1048576 explicitly, but never above our
 * own hard limit: raising a hard limit needs CAP_SYS_RESOURCE, which this machine's
 * session lacks (hard limit 20000 here), and runc create would then fail with EPERM.
 */
export function defaultNofile(): number {
  if (nofileCache !== undefined) return nofileCache;
  let hard = DEFAULT_NOFILE;
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
    if (m?.[2] !== undefined && m[2] !== 'unlimited') hard = Math.min(hard, Number(m[2]));
  } catch {
    // Not Linux or /proc missing: keep the default.
  }
  nofileCache = hard;
  return hard;
}

/** Docker's device cgroup rules for an unprivileged container. */
function defaultDeviceRules(): OciDeviceCgroupRule[] {
  const allow = (major: number, minor: number | undefined): OciDeviceCgroupRule =>
    minor === undefined
      ? { allow: true, type: 'c', major, access: 'rwm' }
      : { allow: true, type: 'c', major, minor, access: 'rwm' };
  return [
    { allow: false, access: 'rwm' },
    allow(1, 3), // null
    allow(1, 5), // zero
    allow(1, 7), // full
    allow(1, 8), // random
    allow(1, 9), // urandom
    allow(5, 0), // tty
    allow(5, 1), // console
    allow(5, 2), // ptmx
    allow(136, undefined), // pts/*
    // moby denies /dev/fuse explicitly. (On cgroup v1 this must come before any wildcard
    // allow: the v1 emulator cannot punch a hole in "c *:* m".)
    { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
    // runc then appends its AllowedDevices itself ("c *:* m", "b *:* m" — mknod of any
    // device, as Docker containers have — plus the same char devices and tun).
  ];
}

function defaultMounts(): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${DEFAULT_SHM_SIZE}`],
    },
  ];
}

function thermalThrottlePaths(): string[] {
  const out: string[] = [];
  for (let cpu = 0; cpu < 4096; cpu++) {
    const base = `/sys/devices/system/cpu/cpu${cpu}`;
    if (!existsSync(base)) break;
    if (existsSync(`${base}/thermal_throttle`)) out.push(`${base}/thermal_throttle`);
  }
  return out;
}

/**
 * The spec Docker gives a container before any option is applied. The seccomp
 * profile depends on the container's capabilities, so containers/containerSpec
 * adds it (runtime/seccomp.ts, seccompDefault.ts).
 * TODO(apparmor): Docker also sets the "docker-default" AppArmor profile where AppArmor is on.
 */
export function defaultSpec(opts: DefaultSpecOptions = {}): OciSpec {
  const cgroupV2 = opts.cgroupV2 ?? isCgroupV2Unified();
  const nofile = opts.nofile ?? defaultNofile();
  const caps = (): string[] => [...DEFAULT_CAPABILITIES];
  const namespaces: OciNamespace[] = [
    { type: 'pid' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
    { type: 'network' },
  ];
  // Docker's default cgroupns mode is "private" on cgroup v2 and "host" on v1.
  if (cgroupV2) namespaces.push({ type: 'cgroup' });
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: [],
      env: [DEFAULT_PATH_ENV],
      cwd: '/',
      // Docker no longer fills the inheritable set (CVE-2022-24769).
      capabilities: { bounding: caps(), effective: caps(), permitted: caps() },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }],
      noNewPrivileges: false,
    },
    root: { path: 'rootfs', readonly: false },
    mounts: defaultMounts(),
    linux: {
      namespaces,
      maskedPaths: [...DEFAULT_MASKED_PATHS, ...thermalThrottlePaths()],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
      resources: { devices: defaultDeviceRules() },
    },
  };
}

let cgroupV2HostCache: CgroupV2Host | undefined;
/** moby's sysinfo on v2: the controllers and swap accounting of the daemon's own cgroup. */
export function detectCgroupV2Host(): CgroupV2Host {
  if (cgroupV2HostCache) return cgroupV2HostCache;
  let group = '';
  try {
    group = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '';
  } catch {
    // No /proc: assume the root group.
  }
  const dir = `/sys/fs/cgroup${group === '/' ? '' : group}`;
  let controllers: ReadonlySet<string> = DEFAULT_V2_CONTROLLERS;
  try {
    controllers = new Set(readFileSync(`${dir}/cgroup.controllers`, 'utf8').trim().split(/\s+/).filter((c) => c !== ''));
  } catch {
    // The group vanished or is not ours to read: assume the usual controllers, as runc would try them.
  }
  cgroupV2HostCache = { controllers, swap: group !== '' && existsSync(`${dir}/memory.swap.max`) };
  return cgroupV2HostCache;
}

/**
 * defaultSpec() with every option applied in order. On a cgroup v2 host, limits v2
 * cannot honour (--oom-kill-disable, swappiness, kernel memory, missing controllers)
 * are dropped with moby's warnings into `defaults.warnings`, so runc is never asked
 * for them; on v1 the resources are left as built.
 */
export function buildSpec(opts: readonly SpecOpt[], defaults: DefaultSpecOptions = {}): OciSpec {
  const spec = defaultSpec(defaults);
  for (const opt of opts) opt(spec);
  if (defaults.cgroupV2 ?? isCgroupV2Unified()) {
    const host = defaults.cgroupV2Host ?? (defaults.cgroupV2 === undefined ? detectCgroupV2Host() : {});
    const warnings = adaptResourcesForCgroupV2(resources(spec), host);
    defaults.warnings?.push(...warnings);
  }
  return spec;
}

function resources(spec: OciSpec): OciResources {
  spec.linux.resources ??= {};
  return spec.linux.resources;
}

// ---- process ----

export function withArgs(args: readonly string[]): SpecOpt {
  if (args.length === 0) throw new InvalidArgumentError('No command specified');
  return (spec) => {
    spec.process.args = [...args];
  };
}

/** Sets variables (KEY=VALUE); a KEY already present is replaced in place, so later calls win. */
export function withEnv(env: readonly string[]): SpecOpt {
  return (spec) => {
    const out = [...spec.process.env];
    for (const kv of env) {
      const key = kv.includes('=') ? kv.slice(0, kv.indexOf('=')) : kv;
      const i = out.findIndex((e) => e === key || e.startsWith(`${key}=`));
      if (i >= 0) out[i] = kv;
      else out.push(kv);
    }
    spec.process.env = out;
  };
}

export function withCwd(cwd: string): SpecOpt {
  if (!cwd.startsWith('/')) throw new InvalidArgumentError(`The working directory "${cwd}" is invalid. It needs to be an absolute path`);
  return (spec) => {
    spec.process.cwd = cwd;
  };
}

export interface UserSpec {
  uid: number;
  gid: number;
  additionalGids?: readonly number[];
  umask?: number;
}

export function withUser(user: UserSpec): SpecOpt {
  return (spec) => {
    spec.process.user = { uid: user.uid, gid: user.gid };
    if (user.additionalGids !== undefined && user.additionalGids.length > 0) {
      spec.process.user.additionalGids = [...user.additionalGids];
    }
    if (user.umask !== undefined) spec.process.user.umask = user.umask;
  };
}

/** Note: Docker also adds TERM=xterm for a TTY; that is an env decision, left to the caller (withEnv). */
export function withTerminal(terminal: boolean): SpecOpt {
  return (spec) => {
    spec.process.terminal = terminal;
  };
}

/** Replaces all four capability sets (bounding, effective, permitted; inheritable/ambient stay empty). */
export function withCapabilities(caps: readonly string[]): SpecOpt {
  return (spec) => {
    const c: OciCapabilities = { bounding: [...caps], effective: [...caps], permitted: [...caps] };
    spec.process.capabilities = c;
  };
}

export function withNoNewPrivileges(on: boolean): SpecOpt {
  return (spec) => {
    spec.process.noNewPrivileges = on;
  };
}

// ---- root, identity ----

export function withHostname(hostname: string): SpecOpt {
  return (spec) => {
    spec.hostname = hostname;
  };
}

/** `path` may be absolute or relative to the bundle (default "rootfs"). */
export function withRootfs(path: string, readonly: boolean): SpecOpt {
  return (spec) => {
    spec.root = { path, readonly };
  };
}

export function withAnnotations(annotations: Readonly<Record<string, string>>): SpecOpt {
  return (spec) => {
    spec.annotations = { ...spec.annotations, ...annotations };
  };
}

export function withSysctl(sysctl: Readonly<Record<string, string>>): SpecOpt {
  return (spec) => {
    spec.linux.sysctl = { ...spec.linux.sysctl, ...sysctl };
  };
}

// ---- cgroups ----

/** cgroupfs path such as "/berth/<id>"; ConmonRuntime.delete removes the parent only if it is its cgroupParent. */
export function withCgroupsPath(path: string): SpecOpt {
  return (spec) => {
    spec.linux.cgroupsPath = path;
  };
}

/**
 * Docker's --memory / --memory-swap. `swapBytes` is Docker's MemorySwap: the
 * memory+swap total (OCI `swap` means the same on cgroup v1; runc converts it for v2).
 * Unset or 0 ⇒ twice the memory (Docker's default); -1 ⇒ unlimited swap.
 * limitBytes 0 means no limit (Docker's 0) and leaves memory alone.
 */
export function withMemory(limitBytes: number, swapBytes?: number): SpecOpt {
  if (limitBytes !== 0 && limitBytes < MIN_MEMORY_LIMIT) {
    throw new InvalidArgumentError('Minimum memory limit allowed is 6MB');
  }
  if (swapBytes !== undefined && swapBytes > 0 && limitBytes > 0 && swapBytes < limitBytes) {
    throw new InvalidArgumentError('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (swapBytes !== undefined && swapBytes > 0 && limitBytes === 0) {
    throw new InvalidArgumentError('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  return (spec) => {
    if (limitBytes === 0) return;
    const swap = swapBytes === undefined || swapBytes === 0 ? 2 * limitBytes : swapBytes < 0 ? -1 : swapBytes;
    const r = resources(spec);
    r.memory = { ...r.memory, limit: limitBytes, swap };
  };
}

/** Docker's --cpus (NanoCpus): quota = n × period / 1e9 with period 100 ms. 0 leaves CPU alone. */
export function withNanoCpus(nanoCpus: number): SpecOpt {
  if (nanoCpus < 0) throw new InvalidArgumentError('Range of CPUs is from 0.01 to the number of CPUs available');
  return (spec) => {
    if (nanoCpus === 0) return;
    const r = resources(spec);
    const quota = Math.round((nanoCpus * CPU_PERIOD_US) / 1e9);
    // The kernel rejects quotas under 1 ms.
    r.cpu = { ...r.cpu, period: CPU_PERIOD_US, quota: Math.max(quota, 1000) };
  };
}

/** Docker's --cpu-shares (relative weight; 0 = not set). */
export function withCpuShares(shares: number): SpecOpt {
  return (spec) => {
    if (shares <= 0) return;
    const r = resources(spec);
    r.cpu = { ...r.cpu, shares };
  };
}

/** Docker's --memory-reservation (soft limit); 0 leaves it alone. */
export function withMemoryReservation(bytes: number): SpecOpt {
  if (bytes !== 0 && bytes < MIN_MEMORY_LIMIT) throw new InvalidArgumentError('Minimum memory reservation allowed is 6MB');
  return (spec) => {
    if (bytes <= 0) return;
    const r = resources(spec);
    r.memory = { ...r.memory, reservation: bytes };
  };
}

/** Docker's --oom-kill-disable. */
export function withOomKillDisable(disable: boolean): SpecOpt {
  return (spec) => {
    if (!disable) return;
    const r = resources(spec);
    r.memory = { ...r.memory, disableOOMKiller: true };
  };
}

const CPUSET_RE = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** The CPUs a cpuset list ("0-2,4") names; throws on a malformed list. */
export function parseCpuset(list: string, what = 'cpuset cpus'): number[] {
  if (!CPUSET_RE.test(list)) throw new InvalidArgumentError(`Invalid value ${list} for ${what}`);
  const out = new Set<number>();
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    const end = b ?? a;
    if (end < a) throw new InvalidArgumentError(`Invalid value ${list} for ${what}`);
    for (let i = a; i <= end; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** Docker's --cpuset-cpus / --cpuset-mems ("" leaves them alone). */
export function withCpuset(cpus: string, mems: string): SpecOpt {
  if (cpus !== '') parseCpuset(cpus);
  if (mems !== '') parseCpuset(mems, 'cpuset mems');
  return (spec) => {
    if (cpus === '' && mems === '') return;
    const r = resources(spec);
    r.cpu = { ...r.cpu, ...(cpus !== '' ? { cpus } : {}), ...(mems !== '' ? { mems } : {}) };
  };
}

/** Docker's --pids-limit: > 0 sets it; 0 or -1 means unlimited (nothing written). */
export function withPidsLimit(limit: number): SpecOpt {
  return (spec) => {
    const r = resources(spec);
    if (limit > 0) r.pids = { limit };
    else delete r.pids;
  };
}

// ---- mounts ----

export interface BindMount {
  source: string;
  destination: string;
  /** Default ["rbind", "rprivate"]; "ro" for read-only. A "bind"/"rbind" is added when missing. */
  options?: readonly string[];
}

/** Adds (or replaces, by destination) mounts. Used for /etc/hosts, /etc/hostname, /etc/resolv.conf and volumes. */
export function withMounts(mounts: readonly OciMount[]): SpecOpt {
  return (spec) => {
    const dests = new Set(mounts.map((m) => m.destination));
    spec.mounts = [...spec.mounts.filter((m) => !dests.has(m.destination)), ...mounts.map((m) => ({ ...m }))];
  };
}

export function withBindMounts(binds: readonly BindMount[]): SpecOpt {
  const mounts: OciMount[] = binds.map((b) => {
    if (!b.destination.startsWith('/')) throw new InvalidArgumentError(`invalid mount destination "${b.destination}": not an absolute path`);
    let options = b.options !== undefined ? [...b.options] : ['rbind', 'rprivate'];
    if (!options.includes('bind') && !options.includes('rbind')) options = ['rbind', ...options];
    return { destination: b.destination, type: 'bind', source: b.source, options };
  });
  return withMounts(mounts);
}

/** Path components of a mount destination ("/" 0, "/a" 1, "/a/b" 2). */
function mountDepth(destination: string): number {
  return destination.split('/').filter((p) => p !== '').length;
}

/**
 * A container's own mounts (volumes, binds, --mount tmpfs): they replace any
 * mount at the same destination (a user's /etc/hosts or /dev/shm wins, as in
 * Docker), and all mounts are then ordered parents first (stable), so a
 * volume at /etc cannot hide /etc/hosts and /data/sub lands inside /data.
 */
export function withUserMounts(mounts: readonly OciMount[]): SpecOpt {
  return (spec) => {
    if (mounts.length === 0) return;
    const dests = new Set(mounts.map((m) => m.destination));
    const all = [...spec.mounts.filter((m) => !dests.has(m.destination)), ...mounts.map((m) => ({ ...m }))];
    spec.mounts = all
      .map((m, i) => ({ m, i, d: mountDepth(m.destination) }))
      .sort((a, b) => a.d - b.d || a.i - b.i)
      .map((x) => x.m);
    // As moby: a shared (or slave) bind needs the root's propagation to allow it.
    const opts = mounts.flatMap((m) => m.options ?? []);
    if (opts.some((o) => o === 'shared' || o === 'rshared')) spec.linux.rootfsPropagation = 'rshared';
    else if (opts.some((o) => o === 'slave' || o === 'rslave') && spec.linux.rootfsPropagation !== 'rshared') spec.linux.rootfsPropagation = 'rslave';
  };
}

// ---- namespaces ----

export type NamespaceMode = 'private' | 'host' | { path: string };

/** private: a new namespace; host: share the host's (no entry); {path}: join an existing one. */
export function withNamespace(type: OciNamespaceType, mode: NamespaceMode): SpecOpt {
  return (spec) => {
    const rest = spec.linux.namespaces.filter((n) => n.type !== type);
    if (mode === 'host') spec.linux.namespaces = rest;
    else if (mode === 'private') spec.linux.namespaces = [...rest, { type }];
    else spec.linux.namespaces = [...rest, { type, path: mode.path }];
  };
}

export function withNetworkNamespace(mode: NamespaceMode): SpecOpt {
  return withNamespace('network', mode);
}
