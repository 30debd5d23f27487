/**
 * containers/types: the container record as berthd keeps it, and the Docker
 * Engine API shapes of a container's Config and HostConfig (the subset berth
 * acts on; unknown fields are kept and echoed back by inspect).
 */
import type { HealthConfig } from '../oci/image.js';
import type { MountPoint } from '../volumes/mountSpec.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number | null;
  Shell?: string[] | null;
  [extra: string]: unknown;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount?: number;
}

export interface HostConfig {
  Binds?: string[] | null;
  /** HostConfig.Mounts (api/types/mount.Mount objects), checked by volumes/mountSpec. */
  Mounts?: unknown[] | null;
  VolumesFrom?: string[] | null;
  NetworkMode?: string;
  PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[]> | null;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  PidsLimit?: number | null;
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Init?: boolean | null;
  ShmSize?: number;
  ConsoleSize?: [number, number] | null;
  CpusetCpus?: string;
  CpusetMems?: string;
  BlkioWeight?: number;
  OomKillDisable?: boolean | null;
  OomScoreAdj?: number;
  Devices?: DeviceMapping[] | null;
  Tmpfs?: Record<string, string> | null;
  Ulimits?: Ulimit[] | null;
  SecurityOpt?: string[] | null;
  LogConfig?: { Type: string; Config: Record<string, string> };
  Sysctls?: Record<string, string> | null;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
  [extra: string]: unknown;
}

export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Present while a container with a healthcheck runs (and after, with the last results). */
  Health?: { Status: 'starting' | 'healthy' | 'unhealthy'; FailingStreak: number; Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }> };
}

export interface ContainerRecord {
  Id: string;
  /** With Docker's leading slash: "/web". */
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  /** Image ID (sha256:…). */
  Image: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  State: ContainerState;
  RestartCount: number;
  /** Key of the container's writable snapshot. */
  SnapshotKey: string;
  /** PID of the conmon watching the running container (0 when none). */
  MonitorPid: number;
  /** True once the user stopped it (restart policy `unless-stopped` and recovery honour it). */
  ManuallyStopped: boolean;
  /** Volumes, binds and tmpfs mounts resolved at create (containers/mountPoints). */
  MountPoints?: MountPoint[];
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function initialState(): ContainerState {
  return {
    Status: 'created',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
  };
}
