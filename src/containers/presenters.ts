/**
 * containers/presenters: a container record as the Engine API shows it
 * (`GET /containers/{id}/json` and the `GET /containers/json` summary), with
 * Docker's field names, zero values and status strings. Pure.
 */
import type { ContainerRecord } from './types.js';
import { emptyEndpointView, type ContainerNetworkView } from '../network/containerNetworking.js';
import { mountsJson } from './mountPoints.js';
import type { GraphDriverData } from './graphDriver.js';

/** Docker's go-units HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

export function statusText(c: ContainerRecord, now = Date.now()): string {
  const st = c.State;
  if (st.Status === 'removing') return 'Removal In Progress';
  if (st.Status === 'dead') return 'Dead';
  if (st.Restarting) return `Restarting (${st.ExitCode}) ${humanDuration(now - Date.parse(st.FinishedAt))} ago`;
  if (st.Running) {
    const up = `Up ${humanDuration(now - Date.parse(st.StartedAt))}`;
    if (st.Paused) return `${up} (Paused)`;
    // Docker's Health.String(): "health: starting" while starting.
    if (st.Health) return `${up} (${st.Health.Status === 'starting' ? 'health: starting' : st.Health.Status})`;
    return up;
  }
  if (st.Status === 'created' || st.StartedAt.startsWith('0001')) return 'Created';
  return `Exited (${st.ExitCode}) ${humanDuration(now - Date.parse(st.FinishedAt))} ago`;
}

function networkName(c: ContainerRecord): string {
  const m = c.HostConfig.NetworkMode ?? '';
  return m === '' || m === 'default' ? 'bridge' : m;
}

export function inspectContainer(
  c: ContainerRecord,
  dir: string,
  logPath: string,
  execIds: string[] = [],
  network: ContainerNetworkView | null = null,
  graphDriver: GraphDriverData | null = null,
): Record<string, unknown> {
  const net = networkName(c);
  return {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: {
      Status: c.State.Status,
      Running: c.State.Running,
      Paused: c.State.Paused,
      Restarting: c.State.Restarting,
      OOMKilled: c.State.OOMKilled,
      Dead: c.State.Dead,
      Pid: c.State.Pid,
      ExitCode: c.State.ExitCode,
      Error: c.State.Error,
      StartedAt: c.State.StartedAt,
      FinishedAt: c.State.FinishedAt,
      ...(c.State.Health ? { Health: c.State.Health } : {}),
    },
    Image: c.Image,
    ResolvConfPath: `${dir}/resolv.conf`,
    HostnamePath: `${dir}/hostname`,
    HostsPath: `${dir}/hosts`,
    LogPath: logPath,
    Name: c.Name,
    RestartCount: c.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: execIds.length > 0 ? execIds : null,
    HostConfig: {
      Binds: null,
      ContainerIDFile: '',
      LogConfig: { Type: 'k8s-file', Config: {} },
      NetworkMode: c.HostConfig.NetworkMode || 'bridge',
      PortBindings: {},
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: false,
      VolumeDriver: '',
      VolumesFrom: null,
      CapAdd: null,
      CapDrop: null,
      CgroupnsMode: 'host',
      Dns: [],
      DnsOptions: [],
      DnsSearch: [],
      ExtraHosts: null,
      GroupAdd: null,
      IpcMode: 'private',
      Cgroup: '',
      Links: null,
      OomScoreAdj: 0,
      PidMode: '',
      Privileged: false,
      PublishAllPorts: false,
      ReadonlyRootfs: false,
      SecurityOpt: null,
      UTSMode: '',
      UsernsMode: typeof c.HostConfig['UsernsMode'] === 'string' ? c.HostConfig['UsernsMode'] : '',
      ShmSize: 67108864,
      Runtime: 'runc',
      Isolation: '',
      CpuShares: 0,
      Memory: 0,
      NanoCpus: 0,
      CgroupParent: '',
      BlkioWeight: 0,
      CpuPeriod: 0,
      CpuQuota: 0,
      CpusetCpus: '',
      CpusetMems: '',
      MemoryReservation: 0,
      MemorySwap: 0,
      MemorySwappiness: null,
      OomKillDisable: null,
      PidsLimit: null,
      Ulimits: null,
      ...c.HostConfig,
    },
    GraphDriver: { Name: 'overlay2', Data: graphDriver },
    Mounts: mountsJson(c),
    Config: {
      Hostname: c.Config.Hostname ?? '',
      Domainname: c.Config.Domainname ?? '',
      User: c.Config.User ?? '',
      AttachStdin: c.Config.AttachStdin ?? false,
      AttachStdout: c.Config.AttachStdout ?? false,
      AttachStderr: c.Config.AttachStderr ?? false,
      Tty: c.Config.Tty ?? false,
      OpenStdin: c.Config.OpenStdin ?? false,
      StdinOnce: c.Config.StdinOnce ?? false,
      Env: c.Config.Env ?? null,
      Cmd: c.Config.Cmd ?? null,
      Image: c.Config.Image ?? '',
      Volumes: c.Config.Volumes ?? null,
      WorkingDir: c.Config.WorkingDir ?? '',
      Entrypoint: c.Config.Entrypoint ?? null,
      OnBuild: c.Config.OnBuild ?? null,
      Labels: c.Config.Labels ?? {},
      ...(c.Config.ExposedPorts ? { ExposedPorts: c.Config.ExposedPorts } : {}),
      ...(c.Config.StopSignal ? { StopSignal: c.Config.StopSignal } : {}),
      ...(c.Config.StopTimeout !== undefined && c.Config.StopTimeout !== null ? { StopTimeout: c.Config.StopTimeout } : {}),
      ...(c.Config.Healthcheck ? { Healthcheck: c.Config.Healthcheck } : {}),
    },
    NetworkSettings: network?.NetworkSettings ?? {
      SandboxID: '',
      SandboxKey: '',
      Ports: {},
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: '',
      Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      MacAddress: '',
      Networks: { [net]: emptyEndpointView() },
    },
  };
}

export function summarizeContainer(c: ContainerRecord, imageRef: string, network: ContainerNetworkView | null = null): Record<string, unknown> {
  return {
    Id: c.Id,
    Names: [c.Name],
    Image: imageRef,
    ImageID: c.Image,
    Command: c.Args.length ? `${c.Path} ${c.Args.join(' ')}` : c.Path,
    Created: Math.floor(Date.parse(c.Created) / 1000),
    Ports: network?.Ports ?? [],
    Labels: c.Config.Labels ?? {},
    State: c.State.Status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.HostConfig.NetworkMode || 'bridge' },
    NetworkSettings: { Networks: network?.Networks ?? { [networkName(c)]: emptyEndpointView() } },
    Mounts: mountsJson(c),
  };
}
