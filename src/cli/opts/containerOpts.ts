/**
 * cli/opts/containerOpts: the flags `run` and `create` share, and their
 * translation into a POST /containers/create body — field for field what
 * docker v28's `parse()` (cli/command/container/opts.go) sends, including its
 * zero values, so the daemon sees the same JSON from berth and docker. Pure
 * apart from reading --env-file/--label-file and the client's environment.
 */
import { readFileSync } from 'node:fs';
import type { FlagSpec, ParsedArgs } from '../command.js';
import type {
  ContainerCreateRequest,
  EndpointSettings,
  HealthConfig,
  HostConfig,
  PortBinding,
  RestartPolicy,
  Ulimit,
} from '../../client/types.js';
import { ramInBytes } from '../format/units.js';
import { parseGoDuration } from './timestamp.js';
import { deviceMappings, type DeviceMapping } from './deviceOpts.js';
import { bindFromVolumeFlag, parseMountFlag } from './mountOpts.js';

export class ContainerOptsError extends Error {}

/** --device values as HostConfig.Devices (checked as docker does once it knows the daemon is Linux). */
function devicesFromFlags(values: string[]): DeviceMapping[] {
  try {
    return deviceMappings(values);
  } catch (e) {
    throw new ContainerOptsError((e as Error).message);
  }
}

// ---------------------------------------------------------------- value checks

/** opts.ValidateEnv: `KEY` alone takes the client's value when it has one. */
export function validateEnv(value: string, env: NodeJS.ProcessEnv = process.env): string {
  const eq = value.indexOf('=');
  const key = eq >= 0 ? value.slice(0, eq) : value;
  if (key === '') throw new Error(`invalid environment variable: ${value}`);
  if (eq >= 0) return value;
  const v = env[key];
  return v !== undefined ? `${key}=${v}` : value;
}

/** opts.ValidateLabel. */
export function validateLabel(value: string): string {
  const eq = value.indexOf('=');
  const key = (eq >= 0 ? value.slice(0, eq) : value).replace(/^[ \t]+/, '');
  if (key === '') throw new Error(`invalid label '${value}': empty name`);
  if (/[ \t]/.test(key)) throw new Error(`label '${key}' contains whitespaces`);
  return value;
}

/** opts.MemBytes.Set. */
export function validateMemBytes(value: string): string {
  ramInBytes(value);
  return value;
}

/** opts.MemSwapBytes.Set: like MemBytes, and -1 means unlimited. */
export function parseMemSwap(value: string): number {
  if (value === '-1') return -1;
  return ramInBytes(value);
}

/** opts.ParseCPUs: "1.5" → 1500000000 nano-CPUs; exact or an error. */
export function parseCPUs(value: string): number {
  let num: bigint;
  let den: bigint;
  const frac = /^([+-]?)(\d+)\/(\d+)$/.exec(value);
  const dec = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(value);
  if (frac !== null) {
    num = BigInt(frac[2] as string) * (frac[1] === '-' ? -1n : 1n);
    den = BigInt(frac[3] as string);
    if (den === 0n) throw new Error(`failed to parse ${value} as a rational number`);
  } else if (dec !== null && ((dec[2] ?? '') !== '' || (dec[3] ?? '') !== '')) {
    const intPart = dec[2] ?? '';
    const fracPart = dec[3] ?? '';
    const exp = Number(dec[4] ?? '0');
    num = BigInt(`${intPart}${fracPart}` || '0') * (dec[1] === '-' ? -1n : 1n);
    let scale = fracPart.length - exp;
    den = 1n;
    if (scale < 0) {
      num *= 10n ** BigInt(-scale);
      scale = 0;
    }
    den = 10n ** BigInt(scale);
  } else {
    throw new Error(`failed to parse ${value} as a rational number`);
  }
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) throw new Error('value is too precise');
  return Number(nano / den);
}

/** opts.ValidateExtraHost: host:ip or host=ip → host:ip. */
export function validateExtraHost(value: string): string {
  let eq = value.indexOf('=');
  if (eq < 0) eq = value.indexOf(':');
  const k = eq >= 0 ? value.slice(0, eq) : '';
  let v = eq >= 0 ? value.slice(eq + 1) : '';
  if (eq < 0 || k === '' || k.includes(':')) throw new Error(`bad format for add-host: ${JSON.stringify(value)}`);
  if (v !== 'host-gateway') {
    if (v.length > 2 && v.startsWith('[') && v.endsWith(']')) v = v.slice(1, -1);
    if (!isIP(v)) throw new Error(`invalid IP address in add-host: ${JSON.stringify(v)}`);
  }
  return `${k}:${v}`;
}

function isIP(s: string): boolean {
  if (/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s)) return true;
  return s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s) && (s.match(/::/g) ?? []).length <= 1;
}

function validateIP(value: string): string {
  if (!isIP(value.trim())) throw new Error(`IP address is not correctly formatted: ${value}`);
  return value.trim();
}

function validateDuration(value: string): string {
  parseGoDuration(value);
  return value;
}

function validateAttach(value: string): string {
  const v = value.toLowerCase();
  if (v === 'stdin' || v === 'stdout' || v === 'stderr') return v;
  throw new Error('valid streams are STDIN, STDOUT and STDERR');
}

function validatePidsLimit(value: string): string {
  if (!/^[+-]?\d+$/.test(value)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  return value;
}

// ---------------------------------------------------------------- flags

/** docker's addFlags() subset berth supports, with docker's help texts. */
export function containerFlags(env: NodeJS.ProcessEnv = process.env): FlagSpec[] {
  return [
    { name: 'add-host', type: 'list', usage: 'Add a custom host-to-IP mapping (host:ip)', validate: validateExtraHost },
    { name: 'annotation', type: 'list', valueName: 'map', usage: 'Add an annotation to the container (passed through to the OCI runtime)' },
    { name: 'attach', short: 'a', type: 'list', usage: 'Attach to STDIN, STDOUT or STDERR', validate: validateAttach },
    { name: 'cap-add', type: 'list', usage: 'Add Linux capabilities' },
    { name: 'cap-drop', type: 'list', usage: 'Drop Linux capabilities' },
    { name: 'cgroup-parent', type: 'string', usage: 'Optional parent cgroup for the container' },
    { name: 'cgroupns', type: 'string', usage: 'Cgroup namespace to use (host|private)' },
    { name: 'cidfile', type: 'string', usage: 'Write the container ID to the file' },
    { name: 'cpu-period', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) period' },
    { name: 'cpu-quota', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
    { name: 'cpu-rt-period', type: 'int', usage: 'Limit CPU real-time period in microseconds' },
    { name: 'cpu-rt-runtime', type: 'int', usage: 'Limit CPU real-time runtime in microseconds' },
    { name: 'cpu-shares', short: 'c', type: 'int', usage: 'CPU shares (relative weight)' },
    { name: 'cpus', type: 'string', valueName: 'decimal', usage: 'Number of CPUs', validate: (v) => (parseCPUs(v), v) },
    { name: 'cpuset-cpus', type: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
    { name: 'cpuset-mems', type: 'string', usage: 'MEMs in which to allow execution (0-3, 0,1)' },
    { name: 'device', type: 'list', usage: 'Add a host device to the container' },
    { name: 'dns', type: 'list', usage: 'Set custom DNS servers', validate: validateIP },
    { name: 'dns-option', type: 'list', usage: 'Set DNS options' },
    { name: 'dns-opt', type: 'list', usage: 'Set DNS options', hidden: true },
    { name: 'dns-search', type: 'list', usage: 'Set custom DNS search domains' },
    { name: 'domainname', type: 'string', usage: 'Container NIS domain name' },
    { name: 'entrypoint', type: 'string', usage: 'Overwrite the default ENTRYPOINT of the image' },
    { name: 'env', short: 'e', type: 'list', usage: 'Set environment variables', validate: (v) => validateEnv(v, env) },
    { name: 'env-file', type: 'list', usage: 'Read in a file of environment variables' },
    { name: 'expose', type: 'list', usage: 'Expose a port or a range of ports' },
    { name: 'group-add', type: 'list', usage: 'Add additional groups to join' },
    { name: 'health-cmd', type: 'string', usage: 'Command to run to check health' },
    { name: 'health-interval', type: 'string', valueName: 'duration', usage: 'Time between running the check (ms|s|m|h) (default 0s)', validate: validateDuration },
    { name: 'health-retries', type: 'int', usage: 'Consecutive failures needed to report unhealthy' },
    { name: 'health-start-interval', type: 'string', valueName: 'duration', usage: 'Time between running the check during the start period (ms|s|m|h) (default 0s)', validate: validateDuration },
    { name: 'health-start-period', type: 'string', valueName: 'duration', usage: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)', validate: validateDuration },
    { name: 'health-timeout', type: 'string', valueName: 'duration', usage: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)', validate: validateDuration },
    { name: 'hostname', short: 'h', type: 'string', usage: 'Container host name' },
    { name: 'init', type: 'bool', usage: 'Run an init inside the container that forwards signals and reaps processes' },
    { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even if not attached' },
    { name: 'ip', type: 'string', usage: 'IPv4 address (e.g., 172.30.100.104)' },
    { name: 'ip6', type: 'string', usage: 'IPv6 address (e.g., 2001:db8::33)' },
    { name: 'ipc', type: 'string', usage: 'IPC mode to use' },
    { name: 'label', short: 'l', type: 'list', usage: 'Set meta data on a container', validate: validateLabel },
    { name: 'label-file', type: 'list', usage: 'Read in a line delimited file of labels' },
    { name: 'log-driver', type: 'string', usage: 'Logging driver for the container' },
    { name: 'log-opt', type: 'list', usage: 'Log driver options' },
    {
      name: 'mac-address',
      type: 'string',
      usage: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)',
      validate: (v) => {
        if (!/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(v.trim())) throw new Error(`${v} is not a valid mac address`);
        return v.trim().replace(/-/g, ':').toLowerCase();
      },
    },
    { name: 'memory', short: 'm', type: 'string', valueName: 'bytes', usage: 'Memory limit', validate: validateMemBytes },
    { name: 'memory-reservation', type: 'string', valueName: 'bytes', usage: 'Memory soft limit', validate: validateMemBytes },
    {
      name: 'memory-swap',
      type: 'string',
      valueName: 'bytes',
      usage: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
      validate: (v) => (parseMemSwap(v), v),
    },
    { name: 'memory-swappiness', type: 'int', usage: 'Tune container memory swappiness (0 to 100)', default: -1 },
    { name: 'mount', type: 'list', valueName: 'mount', usage: 'Attach a filesystem mount to the container', validate: (v) => (parseMountFlag(v, process.cwd()), v) },
    { name: 'name', type: 'string', usage: 'Assign a name to the container' },
    { name: 'network', type: 'string', valueName: 'network', usage: 'Connect a container to a network' },
    { name: 'net', type: 'string', valueName: 'network', usage: 'Connect a container to a network', hidden: true },
    { name: 'network-alias', type: 'list', usage: 'Add network-scoped alias for the container' },
    { name: 'no-healthcheck', type: 'bool', usage: 'Disable any container-specified HEALTHCHECK' },
    { name: 'oom-kill-disable', type: 'bool', usage: 'Disable OOM Killer' },
    { name: 'oom-score-adj', type: 'int', usage: "Tune host's OOM preferences (-1000 to 1000)" },
    { name: 'pid', type: 'string', usage: 'PID namespace to use' },
    { name: 'pids-limit', type: 'string', valueName: 'int', usage: 'Tune container pids limit (set -1 for unlimited)', validate: validatePidsLimit },
    { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable', default: env['BERTH_DEFAULT_PLATFORM'] ?? '' },
    { name: 'privileged', type: 'bool', usage: 'Give extended privileges to this container' },
    { name: 'publish', short: 'p', type: 'list', usage: "Publish a container's port(s) to the host" },
    { name: 'publish-all', short: 'P', type: 'bool', usage: 'Publish all exposed ports to random ports' },
    {
      name: 'pull',
      type: 'string',
      usage: 'Pull image before running ("always", "missing", "never")',
      default: 'missing',
    },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the pull output' },
    { name: 'read-only', type: 'bool', usage: "Mount the container's root filesystem as read only" },
    { name: 'restart', type: 'string', usage: 'Restart policy to apply when a container exits', default: 'no' },
    { name: 'rm', type: 'bool', usage: 'Automatically remove the container and its associated anonymous volumes when it exits' },
    { name: 'runtime', type: 'string', usage: 'Runtime to use for this container' },
    { name: 'security-opt', type: 'list', usage: 'Security Options' },
    { name: 'shm-size', type: 'string', valueName: 'bytes', usage: 'Size of /dev/shm', validate: validateMemBytes },
    { name: 'stop-signal', type: 'string', usage: 'Signal to stop the container' },
    { name: 'stop-timeout', type: 'int', usage: 'Timeout (in seconds) to stop a container' },
    { name: 'sysctl', type: 'list', valueName: 'map', usage: 'Sysctl options' },
    { name: 'tmpfs', type: 'list', usage: 'Mount a tmpfs directory' },
    { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
    { name: 'ulimit', type: 'list', valueName: 'ulimit', usage: 'Ulimit options' },
    { name: 'user', short: 'u', type: 'string', usage: 'Username or UID (format: <name|uid>[:<group|gid>])' },
    { name: 'userns', type: 'string', usage: 'User namespace to use' },
    { name: 'uts', type: 'string', usage: 'UTS namespace to use' },
    { name: 'volume', short: 'v', type: 'list', usage: 'Bind mount a volume' },
    { name: 'volume-driver', type: 'string', usage: 'Optional volume driver for the container' },
    { name: 'volumes-from', type: 'list', usage: 'Mount volumes from the specified container(s)' },
    { name: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
  ];
}

// ---------------------------------------------------------------- parsing helpers

/** kvfile.Parse: KEY=VALUE lines; `KEY` alone looks up `lookup` (or is dropped). */
export function parseKVFile(
  content: string,
  filename: string,
  lookup: ((key: string) => string | undefined) | undefined,
): string[] {
  const out: string[] = [];
  const lines = content.split('\n');
  lines.forEach((raw, idx) => {
    let line = idx === lines.length - 1 && raw === '' ? '' : raw.replace(/\r$/, '');
    if (idx === 0) line = line.replace(/^\uFEFF/, '');
    line = line.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq >= 0 ? line.slice(0, eq) : line;
    if (key === '') throw new ContainerOptsError(`invalid env file (${filename}): no variable name on line '${line}'`);
    if (/[ \t]/.test(key)) throw new ContainerOptsError(`invalid env file (${filename}): variable '${key}' contains whitespaces`);
    if (eq >= 0) {
      out.push(line);
      return;
    }
    if (lookup) {
      const v = lookup(line);
      if (v !== undefined) out.push(`${key}=${v}`);
    }
  });
  return out;
}

/**
 * docker's parseSecurityOpts: `seccomp=<file>` is read here, on the client, and sent as the
 * profile's compact JSON (the daemon may be on another host); builtin and unconfined stay names.
 */
function readSeccompProfile(opt: string): string {
  const eq = opt.indexOf('=');
  if (eq < 0 || opt.slice(0, eq) !== 'seccomp') return opt;
  const v = opt.slice(eq + 1);
  if (v === 'builtin' || v === 'unconfined' || v === '') return opt;
  let text: string;
  try {
    text = readFileSync(v, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ContainerOptsError(`opening seccomp profile (${v}) failed: open ${v}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  try {
    return `seccomp=${JSON.stringify(JSON.parse(text))}`;
  } catch (e) {
    throw new ContainerOptsError(`compacting json for seccomp profile (${v}) failed: ${(e as Error).message}`);
  }
}

function readKVFiles(files: string[], lookup: ((k: string) => string | undefined) | undefined): string[] {
  const out: string[] = [];
  for (const f of files) {
    let content: string;
    try {
      content = readFileSync(f, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ContainerOptsError(code === 'ENOENT' ? `open ${f}: no such file or directory` : `open ${f}: ${(e as Error).message}`);
    }
    out.push(...parseKVFile(content, f, lookup));
  }
  return out;
}

/**
 * The `-e` list as docker's run/create rebuild it (through a map): one entry
 * per key, last value wins. Kept in first-seen order (docker's is random).
 */
export function dedupeEnv(values: string[]): string[] {
  const order: string[] = [];
  const last = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const k = eq >= 0 ? v.slice(0, eq) : v;
    if (!last.has(k)) order.push(k);
    last.set(k, v);
  }
  return order.map((k) => last.get(k) as string);
}

function kvToMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq >= 0) out[v.slice(0, eq)] = v.slice(eq + 1);
    else out[v] = '';
  }
  return out;
}

/** opts.ParseRestartPolicy. */
export function parseRestartPolicy(policy: string): RestartPolicy {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const colon = policy.indexOf(':');
  const k = colon >= 0 ? policy.slice(0, colon) : policy;
  const v = colon >= 0 ? policy.slice(colon + 1) : '';
  if (colon >= 0 && k === '') throw new ContainerOptsError('invalid restart policy format: no policy provided before colon');
  let count = 0;
  if (v !== '') {
    if (!/^[+-]?\d+$/.test(v)) throw new ContainerOptsError('invalid restart policy format: maximum retry count must be an integer');
    count = Number(v);
  }
  return { Name: k, MaximumRetryCount: count };
}

function parsePortRange(s: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (m === null) throw new Error('invalid port');
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535 || end < start) throw new Error('invalid port range');
  return [start, end];
}

/** nat.ParsePortSpecs for `-p`: exposed ports and their host bindings. */
export function parsePortSpecs(specs: string[]): {
  exposed: Record<string, Record<string, never>>;
  bindings: Record<string, PortBinding[]>;
} {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const raw of specs) {
    const parts = raw.split(':');
    let ip = '';
    let hostPort = '';
    let containerPart: string;
    if (parts.length === 1) containerPart = parts[0] as string;
    else if (parts.length === 2) [hostPort, containerPart] = parts as [string, string];
    else if (parts.length === 3) [ip, hostPort, containerPart] = parts as [string, string, string];
    else {
      ip = parts.slice(0, -2).join(':');
      hostPort = parts[parts.length - 2] as string;
      containerPart = parts[parts.length - 1] as string;
    }
    const slash = containerPart.indexOf('/');
    const containerPort = slash >= 0 ? containerPart.slice(0, slash) : containerPart;
    let proto = slash >= 0 ? containerPart.slice(slash + 1) : '';
    if (containerPort === '') proto = '';
    else if (proto === '') proto = 'tcp';
    proto = proto.toLowerCase();
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new ContainerOptsError(`invalid proto: ${proto}`);
    if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (ip !== '' && !isIP(ip)) throw new ContainerOptsError(`invalid IP address: ${ip}`);
    if (containerPort === '') throw new ContainerOptsError(`no port specified: ${raw}<empty>`);
    let start: number;
    let end: number;
    try {
      [start, end] = parsePortRange(containerPort);
    } catch {
      throw new ContainerOptsError(`invalid containerPort: ${containerPort}`);
    }
    let hStart = 0;
    let hEnd = 0;
    if (hostPort !== '') {
      try {
        [hStart, hEnd] = parsePortRange(hostPort);
      } catch {
        throw new ContainerOptsError(`invalid hostPort: ${hostPort}`);
      }
      if (end - start !== hEnd - hStart && end !== start) {
        throw new ContainerOptsError(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
      }
    }
    const count = end - start + 1;
    for (let i = 0; i < count; i++) {
      const port = `${start + i}/${proto}`;
      let hPort = '';
      if (hostPort !== '') {
        hPort = String(hStart + i);
        if (count === 1 && hStart !== hEnd) hPort += `-${hEnd}`;
      }
      exposed[port] = {};
      (bindings[port] ??= []).push({ HostIp: ip, HostPort: hPort });
    }
  }
  return { exposed, bindings };
}

/** go-units ParseUlimit: name=soft[:hard]. */
export function parseUlimit(value: string): Ulimit {
  const eq = value.indexOf('=');
  if (eq < 0) throw new ContainerOptsError(`invalid ulimit argument: ${value}`);
  const name = value.slice(0, eq);
  const [softS, hardS, extra] = value.slice(eq + 1).split(':');
  if (extra !== undefined) throw new ContainerOptsError(`too many limit value arguments - ${value.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const num = (s: string): number => {
    if (!/^-?\d+$/.test(s)) throw new ContainerOptsError(`invalid ulimit argument: ${value}`);
    return Number(s);
  };
  const soft = num(softS as string);
  const hard = hardS === undefined ? soft : num(hardS);
  if (soft > hard) throw new ContainerOptsError(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Soft: soft, Hard: hard };
}

const NON_USER_DEFINED = new Set(['default', 'bridge', 'host', 'none']);

function isUserDefinedNetwork(mode: string): boolean {
  return !NON_USER_DEFINED.has(mode) && !mode.startsWith('container:');
}

function emptyEndpoint(): EndpointSettings {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

// ---------------------------------------------------------------- the body

export interface ContainerConfigResult {
  body: ContainerCreateRequest;
  /** `--name`, `--platform`, `--pull`, `-q`, `--cidfile`: client-side options. */
  name: string;
  platform: string;
  pull: string;
  quiet: boolean;
  autoRemove: boolean;
}

/**
 * docker's parse(): flags + IMAGE [CMD…] → create request. `ttySize` fills
 * HostConfig.ConsoleSize; `env` serves `--env-file` lookups.
 */
export function buildContainerConfig(
  p: ParsedArgs,
  image: string,
  args: string[],
  ttySize: [number, number],
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): ContainerConfigResult {
  // docker validates --pull before anything else.
  const pull = p.string('pull');
  if (!['always', 'missing', 'never', ''].includes(pull)) {
    throw new ContainerOptsError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  }
  const attach = new Set(p.list('attach'));
  let attachStdin = attach.has('stdin');
  let attachStdout = attach.has('stdout');
  let attachStderr = attach.has('stderr');
  const interactive = p.bool('interactive');
  if (interactive) attachStdin = true;
  if (attach.size === 0) {
    attachStdout = true;
    attachStderr = true;
  }

  const swappiness = p.changed('memory-swappiness') ? p.int('memory-swappiness') : -1;
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw new ContainerOptsError(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);
  }

  // Volumes: a source makes it a bind (or named volume) in Binds; without one it is anonymous (cli/opts/mountOpts).
  let binds: string[] | null = null;
  const volumes: Record<string, Record<string, never>> = {};
  for (const spec of p.list('volume')) {
    let bind: string | null;
    try {
      bind = bindFromVolumeFlag(spec, cwd);
    } catch (e) {
      throw new ContainerOptsError((e as Error).message);
    }
    if (bind === null) volumes[spec] = {};
    else (binds ??= []).push(bind);
  }
  const mounts = p.list('mount').map((m) => parseMountFlag(m, cwd));

  const tmpfs: Record<string, string> = {};
  for (const t of p.list('tmpfs')) {
    const c = t.indexOf(':');
    tmpfs[c >= 0 ? t.slice(0, c) : t] = c >= 0 ? t.slice(c + 1) : '';
  }

  let entrypoint: string[] | null = null;
  if (p.string('entrypoint') !== '') entrypoint = [p.string('entrypoint')];
  else if (p.changed('entrypoint')) entrypoint = [''];

  const { exposed, bindings } = parsePortSpecs(p.list('publish'));
  for (const e of p.list('expose')) {
    if (e.includes(':')) throw new ContainerOptsError(`invalid port format for --expose: ${e}`);
    const slash = e.indexOf('/');
    const port = slash >= 0 ? e.slice(0, slash) : e;
    const proto = (slash >= 0 ? e.slice(slash + 1) : '') || 'tcp';
    let range: [number, number];
    try {
      range = parsePortRange(port);
    } catch (err) {
      throw new ContainerOptsError(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let i = range[0]; i <= range[1]; i++) exposed[`${i}/${proto}`] ??= {};
  }

  const lookupEnv = (k: string): string | undefined => env[k];
  const envFromFiles = readKVFiles(p.list('env-file'), lookupEnv);
  const envFlags = dedupeEnv(p.list('env'));
  const envAll = [...envFromFiles, ...envFlags];
  const labels = kvToMap([...readKVFiles(p.list('label-file'), undefined), ...p.list('label')]);

  const restart = parseRestartPolicy(p.string('restart'));
  const autoRemove = p.bool('rm');
  if (autoRemove && restart.Name !== '' && restart.Name !== 'no') {
    throw new ContainerOptsError('conflicting options: cannot specify both --restart and --rm');
  }

  const logOpts: Record<string, string> = {};
  for (const o of p.list('log-opt')) {
    const eq = o.indexOf('=');
    if (eq < 0) throw new ContainerOptsError(`invalid key/value pair format in logging opts: ${o}`);
    logOpts[o.slice(0, eq)] = o.slice(eq + 1);
  }
  if (p.string('log-driver') === 'none' && Object.keys(logOpts).length > 0) {
    throw new ContainerOptsError('invalid logging opts for driver none');
  }

  const securityOpt = p.list('security-opt').map(readSeccompProfile);
  const sysctls = kvToMap(p.list('sysctl'));
  const annotations = kvToMap(p.list('annotation'));

  // Healthcheck
  let healthcheck: HealthConfig | undefined;
  const durNs = (name: string): number => (p.string(name) === '' ? 0 : parseGoDuration(p.string(name)));
  const hInterval = durNs('health-interval');
  const hTimeout = durNs('health-timeout');
  const hStartPeriod = durNs('health-start-period');
  const hStartInterval = durNs('health-start-interval');
  const hRetries = p.int('health-retries');
  const haveHealth = p.string('health-cmd') !== '' || hInterval !== 0 || hTimeout !== 0 || hStartPeriod !== 0 || hRetries !== 0 || hStartInterval !== 0;
  if (p.bool('no-healthcheck')) {
    if (haveHealth) throw new ContainerOptsError('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (haveHealth) {
    if (hInterval < 0) throw new ContainerOptsError('--health-interval cannot be negative');
    if (hTimeout < 0) throw new ContainerOptsError('--health-timeout cannot be negative');
    if (hRetries < 0) throw new ContainerOptsError('--health-retries cannot be negative');
    if (hStartPeriod < 0) throw new ContainerOptsError('--health-start-period cannot be negative');
    if (hStartInterval < 0) throw new ContainerOptsError('--health-start-interval cannot be negative');
    healthcheck = {};
    if (p.string('health-cmd') !== '') healthcheck.Test = ['CMD-SHELL', p.string('health-cmd')];
    Object.assign(healthcheck, { Interval: hInterval, Timeout: hTimeout, StartPeriod: hStartPeriod, StartInterval: hStartInterval, Retries: hRetries });
  }

  const ulimits = p.list('ulimit').map(parseUlimit);
  const memory = p.string('memory') === '' ? 0 : ramInBytes(p.string('memory'));
  const memoryReservation = p.string('memory-reservation') === '' ? 0 : ramInBytes(p.string('memory-reservation'));
  const memorySwap = p.string('memory-swap') === '' ? 0 : parseMemSwap(p.string('memory-swap'));
  const shmSize = p.string('shm-size') === '' ? 0 : ramInBytes(p.string('shm-size'));
  const nanoCpus = p.string('cpus') === '' ? 0 : parseCPUs(p.string('cpus'));
  const pidsLimit = p.string('pids-limit') === '' ? 0 : Number(p.string('pids-limit'));

  // Networking
  const network = p.string('network') !== '' ? p.string('network') : p.string('net');
  const networkMode = network !== '' ? network : 'default';
  const aliases = p.list('network-alias');
  const endpoints: Record<string, EndpointSettings> = {};
  const ep = emptyEndpoint();
  if (aliases.length > 0) ep.Aliases = [...aliases];
  if (p.string('ip') !== '' || p.string('ip6') !== '') {
    ep.IPAMConfig = {};
    if (p.string('ip') !== '') ep.IPAMConfig.IPv4Address = p.string('ip');
    if (p.string('ip6') !== '') ep.IPAMConfig.IPv6Address = p.string('ip6');
  }
  if (!isUserDefinedNetwork(networkMode) && aliases.length > 0) {
    throw new ContainerOptsError('network-scoped aliases are only supported for user-defined networks');
  }
  if (p.string('mac-address') !== '') ep.MacAddress = p.string('mac-address');
  const hasOptions = ep.Aliases !== null || ep.IPAMConfig !== null || ep.MacAddress !== '';
  // docker omits the endpoint for a single plain --network; "default" always gets one.
  if (network === '' || hasOptions) endpoints[networkMode] = ep;

  const hostConfig: HostConfig = {
    Binds: binds,
    ContainerIDFile: p.string('cidfile'),
    LogConfig: { Type: p.string('log-driver'), Config: logOpts },
    NetworkMode: networkMode,
    PortBindings: bindings,
    RestartPolicy: restart,
    AutoRemove: autoRemove,
    VolumeDriver: p.string('volume-driver'),
    VolumesFrom: p.list('volumes-from').length > 0 ? p.list('volumes-from') : null,
    ConsoleSize: ttySize,
    ...(Object.keys(annotations).length > 0 ? { Annotations: annotations } : {}),
    CapAdd: p.list('cap-add').length > 0 ? p.list('cap-add') : null,
    CapDrop: p.list('cap-drop').length > 0 ? p.list('cap-drop') : null,
    CgroupnsMode: p.string('cgroupns'),
    Dns: p.list('dns'),
    DnsOptions: [...p.list('dns-option'), ...p.list('dns-opt')],
    DnsSearch: p.list('dns-search'),
    ExtraHosts: p.list('add-host').length > 0 ? p.list('add-host') : null,
    GroupAdd: p.list('group-add').length > 0 ? p.list('group-add') : null,
    IpcMode: p.string('ipc'),
    Cgroup: '',
    Links: null,
    OomScoreAdj: p.int('oom-score-adj'),
    PidMode: p.string('pid'),
    Privileged: p.bool('privileged'),
    PublishAllPorts: p.bool('publish-all'),
    ReadonlyRootfs: p.bool('read-only'),
    SecurityOpt: securityOpt.length > 0 ? securityOpt : null,
    ...(Object.keys(tmpfs).length > 0 ? { Tmpfs: tmpfs } : {}),
    UTSMode: p.string('uts'),
    UsernsMode: p.string('userns'),
    ShmSize: shmSize,
    ...(Object.keys(sysctls).length > 0 ? { Sysctls: sysctls } : {}),
    ...(p.string('runtime') !== '' ? { Runtime: p.string('runtime') } : {}),
    Isolation: '',
    CpuShares: p.int('cpu-shares'),
    Memory: memory,
    NanoCpus: nanoCpus,
    CgroupParent: p.string('cgroup-parent'),
    BlkioWeight: 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: p.int('cpu-period'),
    CpuQuota: p.int('cpu-quota'),
    CpuRealtimePeriod: p.int('cpu-rt-period'),
    CpuRealtimeRuntime: p.int('cpu-rt-runtime'),
    CpusetCpus: p.string('cpuset-cpus'),
    CpusetMems: p.string('cpuset-mems'),
    Devices: devicesFromFlags(p.list('device')),
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: memoryReservation,
    MemorySwap: memorySwap,
    MemorySwappiness: swappiness,
    OomKillDisable: p.bool('oom-kill-disable'),
    PidsLimit: pidsLimit,
    Ulimits: ulimits.length > 0 ? ulimits : null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    ...(mounts.length > 0 ? { Mounts: mounts } : {}),
    MaskedPaths: null,
    ReadonlyPaths: null,
    ...(p.changed('init') ? { Init: p.bool('init') } : {}),
  };

  const openStdin = interactive;
  const body: ContainerCreateRequest = {
    Hostname: p.string('hostname'),
    Domainname: p.string('domainname'),
    User: p.string('user'),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ...(Object.keys(exposed).length > 0 ? { ExposedPorts: exposed } : {}),
    Tty: p.bool('tty'),
    OpenStdin: openStdin,
    // When allocating stdin in attached mode, close stdin at client disconnect.
    StdinOnce: openStdin && attachStdin,
    Env: envAll.length > 0 ? envAll : null,
    Cmd: args.length > 0 ? args : null,
    ...(healthcheck !== undefined ? { Healthcheck: healthcheck } : {}),
    Image: image,
    Volumes: volumes,
    WorkingDir: p.string('workdir'),
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: labels,
    ...(p.string('stop-signal') !== '' ? { StopSignal: p.string('stop-signal') } : {}),
    ...(p.changed('stop-timeout') ? { StopTimeout: p.int('stop-timeout') } : {}),
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: endpoints },
  };

  return { body, name: p.string('name'), platform: p.string('platform'), pull, quiet: p.bool('quiet'), autoRemove };
}
