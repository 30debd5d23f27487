/**
 * daemon/systemInfo: the bodies of /version and /info, from the host and the
 * engine's stores. Fields the docker CLI reads are always present, with Go's
 * zero values where berth has nothing to say (a missing Swarm block makes the
 * CLI probe swarm objects).
 */
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { readFile } from 'node:fs/promises';
import { run } from '../util/process.js';
import { hostPlatform } from '../oci/image.js';
import { API_VERSION, MIN_API_VERSION } from '../server/middleware/version.js';
import type { ContainerService } from '../containers/containerService.js';
import type { ImageStore } from '../images/imageStore.js';

export const BERTH_VERSION = '0.1.0';

async function osName(): Promise<string> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text);
  return m?.[1] ?? 'Linux';
}

async function toolVersion(path: string): Promise<string> {
  try {
    const { stdout } = await run(path, ['--version']);
    const m = /version\s+(\S+)/i.exec(stdout);
    return m?.[1] ?? stdout.split('\n')[0] ?? '';
  } catch {
    return '';
  }
}

export interface SystemInfoDeps {
  dataRoot: string;
  runtimePath: string;
  runtimeName: string;
  conmonPath: string;
  cgroupVersion: '1' | '2';
  containers: ContainerService;
  images: ImageStore;
  id: string;
  /** --userns-remap is on (`info` lists name=userns, as Docker does). */
  userns?: boolean;
  /** `RegistryConfig` as moby reports it (distribution/serviceConfig.ts). */
  registryConfig?: Record<string, unknown>;
}

export class SystemInfo {
  private versions: Promise<{ runtime: string; conmon: string }> | null = null;

  constructor(private readonly d: SystemInfoDeps) {}

  private tools(): Promise<{ runtime: string; conmon: string }> {
    this.versions ??= Promise.all([toolVersion(this.d.runtimePath), toolVersion(this.d.conmonPath)]).then(([runtime, conmon]) => ({
      runtime,
      conmon,
    }));
    return this.versions;
  }

  async version(): Promise<Record<string, unknown>> {
    const t = await this.tools();
    const plat = hostPlatform();
    const details = {
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      Arch: plat.architecture,
      BuildTime: '',
      Experimental: 'false',
      GitCommit: '',
      GoVersion: `node ${process.version}`,
      KernelVersion: release(),
      Os: 'linux',
    };
    return {
      Platform: { Name: 'berth' },
      Components: [
        { Name: 'Engine', Version: BERTH_VERSION, Details: details },
        { Name: this.d.runtimeName, Version: t.runtime, Details: { GitCommit: '' } },
        { Name: 'conmon', Version: t.conmon, Details: { GitCommit: '' } },
      ],
      Version: BERTH_VERSION,
      GitCommit: '',
      GoVersion: `node ${process.version}`,
      Os: 'linux',
      Arch: plat.architecture,
      KernelVersion: release(),
      BuildTime: '',
    };
  }

  async info(): Promise<Record<string, unknown>> {
    const list = this.d.containers.list();
    const running = list.filter((c) => c.State.Running && !c.State.Paused).length;
    const paused = list.filter((c) => c.State.Paused).length;
    return {
      ID: this.d.id,
      Containers: list.length,
      ContainersRunning: running,
      ContainersPaused: paused,
      ContainersStopped: list.length - running - paused,
      Images: this.d.images.count(),
      Driver: 'overlay2',
      DriverStatus: [
        ['Backing Filesystem', 'extfs'],
        ['Supports d_type', 'true'],
        ['Using metacopy', 'false'],
        ['Native Overlay Diff', 'true'],
        ['userxattr', 'false'],
      ],
      Plugins: { Volume: ['local'], Network: ['host', 'null'], Authorization: null, Log: ['k8s-file'] },
      MemoryLimit: true,
      SwapLimit: true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      Debug: false,
      NFd: 0,
      OomKillDisable: this.d.cgroupVersion === '1',
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'k8s-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: this.d.cgroupVersion,
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: await osName(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: arch() === 'x64' ? 'x86_64' : arch(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: this.d.registryConfig ?? { IndexConfigs: {}, InsecureRegistryCIDRs: ['::1/128', '127.0.0.0/8'], Mirrors: [] },
      NCPU: cpus().length,
      MemTotal: totalmem(),
      GenericResources: null,
      DockerRootDir: this.d.dataRoot,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: BERTH_VERSION,
      Runtimes: { [this.d.runtimeName]: { path: this.d.runtimePath } },
      DefaultRuntime: this.d.runtimeName,
      Swarm: {
        NodeID: '',
        NodeAddr: '',
        LocalNodeState: 'inactive',
        ControlAvailable: false,
        Error: '',
        RemoteManagers: null,
      },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: '',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: '' },
      InitCommit: { ID: '' },
      SecurityOptions: ['name=cgroupns', ...(this.d.userns === true ? ['name=userns'] : [])],
      CDISpecDirs: [],
      Containerd: null,
      Warnings: [],
    };
  }
}
