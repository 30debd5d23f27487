/**
 * runtime/ociTypes: a typed subset of the OCI runtime spec 1.0.2 `config.json`
 * (runtime-spec config.md, config-linux.md), as runc 1.1 reads it.
 * Types only: no defaults and no logic live here (see spec.ts). Field names are
 * the JSON names, so an OciSpec serialises to config.json as is.
 */

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: OciRoot;
  hostname?: string;
  mounts: OciMount[];
  hooks?: OciHooks;
  annotations?: Record<string, string>;
  linux: OciLinux;
}

export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: OciUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}

export interface OciUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}

export interface OciCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface OciRlimit {
  /** e.g. "RLIMIT_NOFILE" */
  type: string;
  hard: number;
  soft: number;
}

export interface OciRoot {
  /** Relative paths are relative to the bundle directory. */
  path: string;
  readonly?: boolean;
}

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface OciHooks {
  prestart?: OciHook[];
  createRuntime?: OciHook[];
  createContainer?: OciHook[];
  startContainer?: OciHook[];
  poststart?: OciHook[];
  poststop?: OciHook[];
}

export type OciNamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';

export interface OciNamespace {
  type: OciNamespaceType;
  /** Join this existing namespace (e.g. /var/run/netns/NAME) instead of creating one. */
  path?: string;
}

export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface OciLinuxDevice {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciDeviceCgroupRule {
  allow: boolean;
  /** 'a' (all), 'c' or 'b'; absent means all. */
  type?: 'a' | 'c' | 'b';
  /** Absent means any (the "*" of devices.allow). */
  major?: number;
  minor?: number;
  /** Any combination of r, w, m. */
  access?: string;
}

export interface OciMemory {
  limit?: number;
  reservation?: number;
  /** cgroup v1: the memory+swap total (memory.memsw.limit_in_bytes), not swap alone. -1 = unlimited. */
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
}

export interface OciCpu {
  shares?: number;
  quota?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
}

export interface OciPids {
  limit: number;
}

export interface OciWeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

/** A per-device rate (bytes or operations per second). */
export interface OciThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface OciBlockIo {
  weight?: number;
  leafWeight?: number;
  weightDevice?: OciWeightDevice[];
  throttleReadBpsDevice?: OciThrottleDevice[];
  throttleWriteBpsDevice?: OciThrottleDevice[];
  throttleReadIOPSDevice?: OciThrottleDevice[];
  throttleWriteIOPSDevice?: OciThrottleDevice[];
}

export interface OciResources {
  devices?: OciDeviceCgroupRule[];
  memory?: OciMemory;
  cpu?: OciCpu;
  pids?: OciPids;
  blockIO?: OciBlockIo;
  hugepageLimits?: { pageSize: string; limit: number }[];
  unified?: Record<string, string>;
}

export interface OciSeccomp {
  defaultAction: string;
  /** errno for SCMP_ACT_ERRNO/TRACE default actions (runc ≥ 1.1). */
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  syscalls?: { names: string[]; action: string; errnoRet?: number; args?: { index: number; value: number; valueTwo?: number; op: string }[] }[];
}

export interface OciLinux {
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
  sysctl?: Record<string, string>;
  resources?: OciResources;
  /** cgroupfs path, e.g. "/berth/<id>" (absolute: relative to the cgroup mount roots). */
  cgroupsPath?: string;
  namespaces: OciNamespace[];
  devices?: OciLinuxDevice[];
  seccomp?: OciSeccomp;
  rootfsPropagation?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
}

/** `runc state` output (runc 1.1). */
export interface RuntimeState {
  ociVersion: string;
  id: string;
  /** creating | created | running | paused | stopped */
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  /** 0 once stopped. */
  pid: number;
  bundle: string;
  rootfs?: string;
  created?: string;
  owner?: string;
  annotations?: Record<string, string>;
}
