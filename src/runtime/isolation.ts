/**
 * runtime/isolation: the SpecOpts for Docker's isolation knobs — --privileged,
 * --device, --tmpfs, --shm-size, --ulimit, --oom-score-adj, --init,
 * --security-opt (no-new-privileges, seccomp, systempaths), masked/readonly
 * path overrides — mapped as moby's daemon/oci_linux.go maps them.
 * Reads host facts only (device nodes under /dev, the init binary); never
 * writes anything.
 */
import { existsSync, lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, SystemError } from '../errdefs/errors.js';
import { allCapabilities } from './capabilities.js';
import type { OciDeviceCgroupRule, OciLinuxDevice, OciMount, OciRlimit, OciSeccomp } from './ociTypes.js';
import type { SpecOpt } from './spec.js';

/** Linux dev_t → major/minor (glibc's gnu_dev_major/minor). */
export function devNumbers(rdev: number): { major: number; minor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  return {
    major: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0),
    minor: (lo & 0xff) | ((lo >>> 12) & 0xfff00),
  };
}

function deviceOf(path: string, st: Stats, inContainer: string): OciLinuxDevice | null {
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : st.isFIFO() ? 'p' : null;
  if (type === null) return null;
  const { major, minor } = devNumbers(st.rdev);
  return { path: inContainer, type, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** Device nodes under `dir` (recursively), as runc's HostDevices lists them. */
export function hostDevices(dir = '/dev'): OciLinuxDevice[] {
  const out: OciLinuxDevice[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      if (['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev'].includes(name)) continue;
      out.push(...hostDevices(p));
      continue;
    }
    if (p === '/dev/console') continue;
    const d = deviceOf(p, st, p);
    if (d) out.push(d);
  }
  return out;
}

/** Docker's --privileged: every capability, every host device, no masked paths, /sys and cgroups writable, no seccomp. */
export function withPrivileged(): SpecOpt {
  return (spec) => {
    const all = allCapabilities();
    spec.process.capabilities = { bounding: [...all], effective: [...all], permitted: [...all] };
    spec.linux.maskedPaths = [];
    spec.linux.readonlyPaths = [];
    for (const m of spec.mounts) {
      if (m.destination === '/sys' || m.destination === '/sys/fs/cgroup') m.options = (m.options ?? []).filter((o) => o !== 'ro');
    }
    const byPath = new Map((spec.linux.devices ?? []).map((d) => [d.path, d]));
    for (const d of hostDevices()) if (!byPath.has(d.path)) byPath.set(d.path, d);
    spec.linux.devices = [...byPath.values()];
    spec.linux.resources ??= {};
    spec.linux.resources.devices = [{ allow: true, access: 'rwm' }];
    delete spec.linux.seccomp;
  };
}

export interface DeviceRequest {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** Docker's --device host[:container][:rwm]; a host directory adds every device under it. */
export function withDevices(devs: readonly DeviceRequest[]): SpecOpt {
  const devices: OciLinuxDevice[] = [];
  const rules: OciDeviceCgroupRule[] = [];
  for (const d of devs) {
    const perms = d.CgroupPermissions || 'rwm';
    if (!/^[rwm]{1,3}$/.test(perms)) throw new InvalidArgumentError(`invalid device mode: ${perms}`);
    const target = d.PathInContainer || d.PathOnHost;
    if (!target.startsWith('/')) throw new InvalidArgumentError(`invalid device path in container: ${target}`);
    // A host device that is missing or not a device is a start-time failure in Docker (the spec
    // is built at start): a system error (500), as moby wraps every spec error.
    let st: Stats;
    try {
      st = statSync(d.PathOnHost);
    } catch (e) {
      throw new SystemError(`error gathering device information while adding custom device "${d.PathOnHost}": ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    const found: OciLinuxDevice[] = [];
    if (st.isDirectory()) {
      for (const hd of hostDevices(d.PathOnHost)) found.push({ ...hd, path: join(target, hd.path.slice(d.PathOnHost.length)) });
    } else {
      const one = deviceOf(d.PathOnHost, st, target);
      if (one === null) throw new SystemError(`error gathering device information while adding custom device "${d.PathOnHost}": not a device node`);
      found.push(one);
    }
    for (const f of found) {
      devices.push(f);
      if (f.type === 'c' || f.type === 'b') rules.push({ allow: true, type: f.type, major: f.major, minor: f.minor, access: perms });
    }
  }
  return (spec) => {
    if (devices.length === 0) return;
    const dests = new Set(devices.map((d) => d.path));
    spec.linux.devices = [...(spec.linux.devices ?? []).filter((d) => !dests.has(d.path)), ...devices];
    spec.linux.resources ??= {};
    spec.linux.resources.devices = [...(spec.linux.resources.devices ?? []), ...rules];
  };
}

/** Docker's --tmpfs /path[:options]: noexec,nosuid,nodev unless the options say otherwise. */
export function withTmpfs(tmpfs: Readonly<Record<string, string>>): SpecOpt {
  const mounts: OciMount[] = [];
  for (const [dest, opts] of Object.entries(tmpfs)) {
    if (!dest.startsWith('/')) throw new InvalidArgumentError(`invalid mount config for type "tmpfs": invalid mount path: '${dest}' mount path must be absolute`);
    const user = opts === '' ? [] : opts.split(',');
    const base = ['noexec', 'nosuid', 'nodev'].filter((o) => !user.some((u) => u === o || u === o.slice(2) || `no${u}` === o));
    mounts.push({ destination: dest, type: 'tmpfs', source: 'tmpfs', options: [...base, ...user] });
  }
  return (spec) => {
    const dests = new Set(mounts.map((m) => m.destination));
    spec.mounts = [...spec.mounts.filter((m) => !dests.has(m.destination)), ...mounts];
  };
}

/** Docker's --shm-size (bytes; 0 keeps the 64 MiB default). */
export function withShmSize(bytes: number): SpecOpt {
  if (bytes < 0) throw new InvalidArgumentError('SHM size can not be less than 0');
  return (spec) => {
    if (bytes === 0) return;
    for (const m of spec.mounts) {
      if (m.destination !== '/dev/shm') continue;
      m.options = [...(m.options ?? []).filter((o) => !o.startsWith('size=')), `size=${bytes}`];
    }
  };
}

const RLIMITS = ['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];

/** Docker's --ulimit name=soft[:hard]; an entry replaces a default of the same type. */
export function withUlimits(ulimits: ReadonlyArray<{ Name: string; Soft: number; Hard: number }>): SpecOpt {
  const rl: OciRlimit[] = ulimits.map((u) => {
    if (!RLIMITS.includes(u.Name)) throw new InvalidArgumentError(`invalid ulimit type: ${u.Name}`);
    if (u.Soft > u.Hard && u.Hard !== -1) throw new InvalidArgumentError(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    // -1 is "unlimited"; 2^63 is as good as RLIM_INFINITY and survives JSON numbers.
    const v = (n: number): number => (n < 0 ? 2 ** 63 : n);
    return { type: `RLIMIT_${u.Name.toUpperCase()}`, soft: v(u.Soft), hard: v(u.Hard) };
  });
  return (spec) => {
    if (rl.length === 0) return;
    const types = new Set(rl.map((r) => r.type));
    spec.process.rlimits = [...(spec.process.rlimits ?? []).filter((r) => !types.has(r.type)), ...rl];
  };
}

export function withOomScoreAdj(adj: number): SpecOpt {
  if (!Number.isInteger(adj) || adj < -1000 || adj > 1000) throw new InvalidArgumentError(`Invalid value ${adj}, range for oom score adj is [-1000, 1000]`);
  return (spec) => {
    if (adj !== 0) spec.process.oomScoreAdj = adj;
  };
}

export function withSeccomp(profile: OciSeccomp | undefined): SpecOpt {
  return (spec) => {
    if (profile === undefined) delete spec.linux.seccomp;
    else spec.linux.seccomp = profile;
  };
}

/** Replaces the masked and/or read-only path lists (HostConfig.MaskedPaths / ReadonlyPaths). */
export function withPathLists(masked: readonly string[] | null | undefined, readonly: readonly string[] | null | undefined): SpecOpt {
  return (spec) => {
    if (masked !== null && masked !== undefined) spec.linux.maskedPaths = [...masked];
    if (readonly !== null && readonly !== undefined) spec.linux.readonlyPaths = [...readonly];
  };
}

/** Where Docker mounts its init inside the container. */
export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';
/** Static init binaries berth can bind-mount into any image (Debian's tini-static, catatonit). */
export const INIT_CANDIDATES = ['/usr/bin/tini-static', '/usr/bin/docker-init', '/usr/libexec/docker/docker-init', '/usr/bin/catatonit', '/usr/libexec/podman/catatonit'];

export function findInitBinary(candidates: readonly string[] = INIT_CANDIDATES): string | null {
  return candidates.find((p) => existsSync(p)) ?? null;
}

/** Docker's --init: the init, bind-mounted read-only, runs the command as its child (`docker-init -- cmd…`). */
export function withInit(hostBinary: string): SpecOpt {
  return (spec) => {
    spec.mounts = [
      ...spec.mounts.filter((m) => m.destination !== INIT_PATH_IN_CONTAINER),
      { destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: hostBinary, options: ['rbind', 'ro', 'rprivate'] },
    ];
    spec.process.args = [INIT_PATH_IN_CONTAINER, '--', ...spec.process.args];
  };
}

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** undefined: the default profile; 'unconfined': none; else a profile (Docker's JSON format). */
  seccomp: 'default' | 'unconfined' | { json: string };
  /** systempaths=unconfined: no masked or read-only paths. */
  unmaskSystemPaths: boolean;
  writableCgroups: boolean | undefined;
}

function parseBool(v: string, opt: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new InvalidArgumentError(`invalid --security-opt 2: "${opt}"`);
}

/** Parses HostConfig.SecurityOpt as moby's parseSecurityOpt does (400 with its wording). */
export function parseSecurityOpts(opts: readonly string[] | null | undefined): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, seccomp: 'default', unmaskSystemPaths: false, writableCgroups: undefined };
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') {
      // label=disable's old spelling: SELinux labels are not used here.
      continue;
    }
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : '';
    if (sep === '') throw new InvalidArgumentError(`invalid --security-opt 1: "${opt}"`);
    const i = opt.indexOf(sep);
    const key = opt.slice(0, i);
    const value = opt.slice(i + 1);
    switch (key) {
      case 'no-new-privileges':
        out.noNewPrivileges = parseBool(value, opt);
        break;
      case 'seccomp':
        out.seccomp = value === 'unconfined' ? 'unconfined' : value === 'builtin' || value === '' ? 'default' : { json: value };
        break;
      case 'apparmor':
      case 'label':
        // No AppArmor or SELinux on this engine: accepted and ignored, as Docker does without them.
        break;
      case 'systempaths':
        if (value !== 'unconfined') throw new InvalidArgumentError(`invalid --security-opt 2: "${opt}"`);
        out.unmaskSystemPaths = true;
        break;
      case 'writable-cgroups':
        out.writableCgroups = parseBool(value, opt);
        break;
      default:
        throw new InvalidArgumentError(`invalid --security-opt 2: "${opt}"`);
    }
  }
  return out;
}
