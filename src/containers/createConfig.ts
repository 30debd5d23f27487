/**
 * containers/createConfig: validates a `POST /containers/create` body and merges
 * the image's runnable config into it the way moby does at create time (so
 * inspect shows the effective Env, Cmd, WorkingDir…). Pure.
 */
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from '../errdefs/errors.js';
import type { ContainerConfigPart, HealthConfig } from '../oci/image.js';
import { probeCommand, validateHealthcheck } from './healthMonitor.js';
import type { ContainerConfig, HostConfig } from './types.js';
import { validateRestartPolicy } from './restartPolicy.js';
import { tweakCapabilities } from '../runtime/capabilities.js';
import { parseSecurityOpts, withOomScoreAdj, withShmSize, withTmpfs, withUlimits } from '../runtime/isolation.js';
import { parseSeccompProfile } from '../runtime/seccomp.js';
import { parseCpuset } from '../runtime/spec.js';
import { messageOf } from '../errdefs/errors.js';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function check(cond: boolean, msg: string): void {
  if (!cond) throw new InvalidArgumentError(msg);
}

/** Type checks on the fields berth acts on; Docker answers 400 on the same mistakes. */
export function validateCreateBody(body: unknown): { config: ContainerConfig; hostConfig: HostConfig } {
  check(typeof body === 'object' && body !== null && !Array.isArray(body), 'invalid JSON: request body must be an object');
  const b = body as Record<string, unknown>;
  const hc = (b.HostConfig ?? {}) as unknown;
  check(typeof hc === 'object' && hc !== null && !Array.isArray(hc), 'invalid JSON: HostConfig must be an object');
  for (const k of ['Cmd', 'Entrypoint', 'Env', 'Shell', 'OnBuild']) {
    const v = b[k];
    check(v === undefined || v === null || isStringArray(v) || (k !== 'Env' && typeof v === 'string'), `invalid JSON: ${k} must be an array of strings`);
  }
  for (const k of ['Image', 'User', 'WorkingDir', 'Hostname', 'Domainname', 'StopSignal']) {
    check(b[k] === undefined || b[k] === null || typeof b[k] === 'string', `invalid JSON: ${k} must be a string`);
  }
  for (const k of ['Tty', 'OpenStdin', 'StdinOnce', 'AttachStdin', 'AttachStdout', 'AttachStderr']) {
    check(b[k] === undefined || b[k] === null || typeof b[k] === 'boolean', `invalid JSON: ${k} must be a boolean`);
  }
  check(b.Labels === undefined || b.Labels === null || (typeof b.Labels === 'object' && !Array.isArray(b.Labels)), 'invalid JSON: Labels must be an object');
  const h = hc as Record<string, unknown>;
  for (const k of ['Memory', 'MemorySwap', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'ShmSize', 'MemoryReservation']) {
    check(h[k] === undefined || h[k] === null || (typeof h[k] === 'number' && Number.isFinite(h[k])), `invalid JSON: HostConfig.${k} must be a number`);
  }
  check(h.PidsLimit === undefined || h.PidsLimit === null || typeof h.PidsLimit === 'number', 'invalid JSON: HostConfig.PidsLimit must be a number');
  if (b.Healthcheck !== undefined && b.Healthcheck !== null && (typeof b.Healthcheck !== 'object' || Array.isArray(b.Healthcheck))) {
    throw new InvalidArgumentError('invalid JSON: Healthcheck must be an object');
  }
  validateHealthcheck(b.Healthcheck as HealthConfig | undefined);
  probeCommand(b.Healthcheck as HealthConfig | undefined);
  const config = { ...b } as ContainerConfig;
  delete config.HostConfig;
  delete config.NetworkingConfig;
  // The old API allowed strings for Cmd/Entrypoint; treat them as the shell-less single word Docker used.
  if (typeof config.Cmd === 'string') config.Cmd = [config.Cmd];
  if (typeof config.Entrypoint === 'string') config.Entrypoint = [config.Entrypoint];
  const hostConfig = { ...(hc as HostConfig) };
  validateHostConfig(hostConfig);
  return { config, hostConfig };
}

function validateHostConfig(h: HostConfig): void {
  if ((h.Memory ?? 0) < 0) throw new InvalidArgumentError('Invalid value for memory: must be positive');
  if (h.Memory && h.Memory < 6 * 1024 * 1024) throw new InvalidArgumentError('Minimum memory limit allowed is 6MB');
  if (h.MemorySwap && h.MemorySwap > 0 && h.Memory && h.MemorySwap < h.Memory) {
    throw new InvalidArgumentError('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (h.MemorySwap && h.MemorySwap > 0 && !h.Memory) {
    throw new InvalidArgumentError('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (h.NanoCpus && (h.CpuQuota || h.CpuPeriod)) {
    throw new InvalidArgumentError('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  const ncpu = availableParallelism();
  if (h.NanoCpus && (h.NanoCpus < 0 || h.NanoCpus > ncpu * 1e9)) {
    throw new InvalidArgumentError(`Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  }
  const cs = h.ConsoleSize;
  if (cs !== undefined && cs !== null && !(Array.isArray(cs) && cs.length === 2 && cs.every((n) => Number.isInteger(n) && n >= 0))) {
    throw new InvalidArgumentError('invalid JSON: HostConfig.ConsoleSize must be [height, width]');
  }
  validateRestartPolicy(h.RestartPolicy);
  const rp = h.RestartPolicy?.Name ?? '';
  for (const [k, list] of [['CapAdd', h.CapAdd], ['CapDrop', h.CapDrop]] as const) {
    if (list !== undefined && list !== null && !isStringArray(list)) throw new InvalidArgumentError(`invalid JSON: HostConfig.${k} must be an array of strings`);
    try {
      tweakCapabilities([], list ?? [], []);
    } catch (e) {
      throw new InvalidArgumentError(`invalid ${k}: ${messageOf(e)}`);
    }
  }
  if (h.SecurityOpt !== undefined && h.SecurityOpt !== null && !isStringArray(h.SecurityOpt)) {
    throw new InvalidArgumentError('invalid JSON: HostConfig.SecurityOpt must be an array of strings');
  }
  const sec = parseSecurityOpts(h.SecurityOpt);
  if (typeof sec.seccomp === 'object' && sec.seccomp.json.trimStart().startsWith('{')) parseSeccompProfile(sec.seccomp.json);
  if ((h.MemoryReservation ?? 0) < 0) throw new InvalidArgumentError('Invalid value for memory reservation: must be positive');
  if (h.MemoryReservation && h.MemoryReservation < 6 * 1024 * 1024) throw new InvalidArgumentError('Minimum memory reservation allowed is 6MB');
  if (h.Memory && h.MemoryReservation && h.MemoryReservation > h.Memory) {
    throw new InvalidArgumentError('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (h.CpusetCpus) {
    const want = parseCpuset(h.CpusetCpus);
    if (want.some((c) => c >= ncpu)) throw new InvalidArgumentError(`Requested CPUs are not available - requested ${h.CpusetCpus}, available: 0-${ncpu - 1}`);
  }
  if (h.CpusetMems) parseCpuset(h.CpusetMems, 'cpuset mems');
  if ((h.CpuShares ?? 0) < 0) throw new InvalidArgumentError('invalid CPU shares: must be positive');
  // The SpecOpt builders check their input when made: build them once here for the 400s.
  withOomScoreAdj(h.OomScoreAdj ?? 0);
  withShmSize(h.ShmSize ?? 0);
  if (h.Tmpfs !== undefined && h.Tmpfs !== null && (typeof h.Tmpfs !== 'object' || Array.isArray(h.Tmpfs))) throw new InvalidArgumentError('invalid JSON: HostConfig.Tmpfs must be an object');
  withTmpfs(h.Tmpfs ?? {});
  if (h.Ulimits !== undefined && h.Ulimits !== null && !Array.isArray(h.Ulimits)) throw new InvalidArgumentError('invalid JSON: HostConfig.Ulimits must be an array');
  withUlimits(h.Ulimits ?? []);
  for (const d of h.Devices ?? []) {
    if (typeof d !== 'object' || d === null || typeof d.PathOnHost !== 'string' || d.PathOnHost === '') throw new InvalidArgumentError('invalid JSON: HostConfig.Devices entries need a PathOnHost');
  }
  if (h.AutoRemove && rp !== '' && rp !== 'no') {
    throw new InvalidArgumentError("Conflicting options: cannot use auto-remove and restart policy ('" + rp + "') together");
  }
  // NetworkMode (user networks, container:NAME) is checked by the network module (network/containerNetworking).
  if (h.NetworkMode !== undefined && typeof h.NetworkMode !== 'string') throw new InvalidArgumentError('invalid JSON: HostConfig.NetworkMode must be a string');
}

/** moby's merge(): the container's own settings win; the image fills the gaps. */
export function mergeImageConfig(config: ContainerConfig, image: ContainerConfigPart): ContainerConfig {
  const out: ContainerConfig = { ...config };
  if (!out.User && image.User) out.User = image.User;
  if (!out.WorkingDir && image.WorkingDir) out.WorkingDir = image.WorkingDir;
  if (!out.StopSignal && image.StopSignal) out.StopSignal = image.StopSignal;
  const env = [...(image.Env ?? [])];
  for (const e of out.Env ?? []) {
    const k = e.split('=')[0];
    const i = env.findIndex((x) => x.split('=')[0] === k);
    if (i >= 0) env[i] = e;
    else env.push(e);
  }
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  out.Env = env;
  const entrypoint = out.Entrypoint && !(out.Entrypoint.length === 1 && out.Entrypoint[0] === '') ? out.Entrypoint : out.Entrypoint ? [] : null;
  if (entrypoint === null || entrypoint.length === 0) {
    if (!out.Cmd || out.Cmd.length === 0) {
      out.Cmd = image.Cmd ?? null;
      if (image.ArgsEscaped !== undefined) out.ArgsEscaped = image.ArgsEscaped;
    }
    out.Entrypoint = entrypoint === null ? (image.Entrypoint ?? null) : null;
  } else {
    out.Entrypoint = entrypoint;
  }
  if (image.ExposedPorts) out.ExposedPorts = { ...image.ExposedPorts, ...(out.ExposedPorts ?? {}) };
  if (image.Volumes) out.Volumes = { ...image.Volumes, ...(out.Volumes ?? {}) };
  if (image.Labels) out.Labels = { ...image.Labels, ...(out.Labels ?? {}) };
  if (image.Healthcheck) {
    // moby's merge: the container's own healthcheck wins field by field.
    if (!out.Healthcheck) out.Healthcheck = { ...image.Healthcheck };
    else {
      const h = { ...out.Healthcheck };
      if (!h.Test || h.Test.length === 0) h.Test = image.Healthcheck.Test ?? [];
      if (!h.Interval) h.Interval = image.Healthcheck.Interval ?? 0;
      if (!h.Timeout) h.Timeout = image.Healthcheck.Timeout ?? 0;
      if (!h.StartPeriod) h.StartPeriod = image.Healthcheck.StartPeriod ?? 0;
      if (!h.StartInterval) h.StartInterval = image.Healthcheck.StartInterval ?? 0;
      if (!h.Retries) h.Retries = image.Healthcheck.Retries ?? 0;
      out.Healthcheck = h;
    }
  }
  if (!out.OnBuild && image.OnBuild) out.OnBuild = image.OnBuild;
  return out;
}

/** Path + Args as Docker computes them; 400 when nothing would run. */
export function commandOf(config: ContainerConfig): { path: string; args: string[] } {
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (argv.length === 0) throw new InvalidArgumentError('no command specified');
  return { path: argv[0] as string, args: argv.slice(1) };
}
