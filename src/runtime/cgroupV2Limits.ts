/**
 * runtime/cgroupV2Limits: what a container's limits become on a unified (cgroup v2)
 * host. Two pure functions over the OCI `linux.resources` berth builds (runtime/spec):
 *  - cgroupV2Writes: the interface files and values runc 1.1's libcontainer/cgroups/fs2
 *    writes for them, in runc's order (pids, memory, io, cpu, cpuset) — the v2 file
 *    layout, so it can be tested on this v1 host and compared with a v2 host's cgroup;
 *  - adaptResourcesForCgroupV2: drops what v2 cannot honour, with moby's warning text
 *    (verifyPlatformContainerResources with pkg/sysinfo's cgroup v2 answers), or throws
 *    where moby refuses (CPU real-time).
 * Never touches the filesystem: host facts (controllers, swap accounting, BFQ) come in
 * as arguments. runc writes the files; this module only says what they will be.
 * Device rules are not files on v2 (runc loads an eBPF program), so they are not listed.
 */
import { InvalidArgumentError } from '../errdefs/errors.js';
import type { OciResources, OciThrottleDevice } from './ociTypes.js';

/** One write runc makes into the container's cgroup directory (io.max is written once per device and kind). */
export interface CgroupV2Write {
  file: string;
  value: string;
}

/** What the unified hierarchy offers the daemon (moby's sysinfo on v2). Defaults: everything. */
export interface CgroupV2Host {
  /** Controllers in the daemon's cgroup.controllers. Default: memory, cpu, cpuset, io, pids. */
  controllers?: ReadonlySet<string>;
  /** memory.swap.max exists (swap accounting on). Default true. */
  swap?: boolean;
  /** io.bfq.weight exists (BFQ scheduler): runc writes the blkio weight there unconverted. */
  bfqWeight?: boolean;
  /** io.bfq.weight takes per-device lines (its content is "default N", kernel 5.4+). */
  bfqDeviceWeight?: boolean;
}

export const DEFAULT_V2_CONTROLLERS: ReadonlySet<string> = new Set(['cpuset', 'cpu', 'io', 'memory', 'pids']);

/** The unlimited value of a v2 limit file. */
const MAX = 'max';
const DEFAULT_CFS_PERIOD = 100000;

/** runc's numToStr: 0 = not set (nothing written), -1 = "max". */
function limitValue(n: number | undefined): string | undefined {
  if (n === undefined || n === 0) return undefined;
  return n === -1 ? MAX : String(n);
}

/**
 * OCI's (and Docker's) swap is memory+swap; v2's memory.swap.max is swap alone.
 * Mirrors runc's ConvertMemorySwapToCgroupV2Value.
 */
export function swapToCgroupV2(memorySwap: number, memory: number): number {
  if (memory === -1 && memorySwap === 0) return -1;
  if (memorySwap === -1 || memorySwap === 0) return memorySwap;
  if (memory === 0 || memory === -1) throw new InvalidArgumentError('unable to set swap limit without memory limit');
  if (memory < 0) throw new InvalidArgumentError(`invalid memory value: ${memory}`);
  if (memorySwap < memory) throw new InvalidArgumentError('memory+swap limit should be >= memory limit');
  return memorySwap - memory;
}

/** cpu.shares [2, 262144] to cpu.weight [1, 10000], as runc 1.1 (integer arithmetic). */
export function sharesToCpuWeight(shares: number): number {
  if (shares === 0) return 0;
  // moby clamps shares to at least 2 before runc sees them; below that runc's unsigned maths would wrap.
  const s = Math.max(shares, 2);
  return 1 + Math.floor(((s - 2) * 9999) / 262142);
}

/** blkio weight [10, 1000] to io.weight [1, 10000], as runc 1.1. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** The files runc 1.1 (fs2 driver) writes for these resources, in its order. */
export function cgroupV2Writes(r: OciResources, host: CgroupV2Host = {}): CgroupV2Write[] {
  const out: CgroupV2Write[] = [];
  const w = (file: string, value: string): void => {
    out.push({ file, value });
  };

  // pids
  const pids = limitValue(r.pids?.limit);
  if (pids !== undefined) w('pids.max', pids);

  // memory: swap first, so lowering memory.max below the old swap ceiling never fails.
  const mem = r.memory ?? {};
  const limit = mem.limit ?? 0;
  const ociSwap = mem.swap ?? 0;
  const reservation = mem.reservation ?? 0;
  if (limit !== 0 || ociSwap !== 0 || reservation !== 0) {
    const swap = swapToCgroupV2(ociSwap, limit);
    // Swap equal to memory means "no swap": runc writes an explicit 0, never "".
    const swapValue = limitValue(swap) ?? (swap === 0 && ociSwap > 0 ? '0' : undefined);
    if (swapValue !== undefined) w('memory.swap.max', swapValue);
    const max = limitValue(limit);
    if (max !== undefined) w('memory.max', max);
    const low = limitValue(reservation);
    if (low !== undefined) w('memory.low', low);
  }
  // memory.oom.group: runc 1.1's fs2 never writes it (only a `unified` entry or the systemd driver can).

  // io
  const io = r.blockIO ?? {};
  const weight = io.weight ?? 0;
  if (weight !== 0) {
    if (host.bfqWeight === true) w('io.bfq.weight', String(weight));
    else w('io.weight', String(blkioWeightToIoWeight(weight)));
  }
  if (host.bfqWeight === true && host.bfqDeviceWeight === true) {
    for (const d of io.weightDevice ?? []) {
      if (d.weight !== undefined) w('io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`);
    }
  }
  const ioMax = (devices: readonly OciThrottleDevice[] | undefined, key: string): void => {
    for (const d of devices ?? []) w('io.max', `${d.major}:${d.minor} ${key}=${d.rate}`);
  };
  ioMax(io.throttleReadBpsDevice, 'rbps');
  ioMax(io.throttleWriteBpsDevice, 'wbps');
  ioMax(io.throttleReadIOPSDevice, 'riops');
  ioMax(io.throttleWriteIOPSDevice, 'wiops');

  // cpu
  const cpu = r.cpu ?? {};
  const cpuWeight = sharesToCpuWeight(cpu.shares ?? 0);
  const quota = cpu.quota ?? 0;
  const period = cpu.period ?? 0;
  if (cpuWeight !== 0) w('cpu.weight', String(cpuWeight));
  if (quota !== 0 || period !== 0) {
    w('cpu.max', `${quota > 0 ? String(quota) : MAX} ${period !== 0 ? period : DEFAULT_CFS_PERIOD}`);
  }

  // cpuset
  if (cpu.cpus !== undefined && cpu.cpus !== '') w('cpuset.cpus', cpu.cpus);
  if (cpu.mems !== undefined && cpu.mems !== '') w('cpuset.mems', cpu.mems);
  return out;
}

/** moby's warnings, verbatim (daemon/daemon_unix.go verifyPlatformContainerResources). */
export const V2_WARNINGS = Object.freeze({
  memory: 'Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.',
  swap: 'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.',
  swappiness: 'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.',
  reservation: 'Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.',
  kernelMemory: 'Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.',
  oomKillDisable: 'Your kernel does not support OomKillDisable. OomKillDisable discarded.',
  pids: 'Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.',
  cpuShares: 'Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.',
  cpuCfs: 'Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.',
  cpuset: 'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.',
  blkioWeight: 'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
  blkioWeightDevice: 'Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.',
  readBps: 'Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.',
  writeBps: 'Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.',
  readIops: 'Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.',
  writeIops: 'Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.',
});

/** moby's validateResources error on v2 (no CPU real-time group scheduling there). */
export const V2_REALTIME_ERROR = 'kernel does not support CPU real-time scheduler';

/**
 * Removes from `r` (in place) what a cgroup v2 host cannot honour and returns moby's
 * warnings, in moby's order. Throws InvalidArgumentError (400) for CPU real-time, as moby does.
 */
export function adaptResourcesForCgroupV2(r: OciResources, host: CgroupV2Host = {}): string[] {
  const has = (c: string): boolean => (host.controllers ?? DEFAULT_V2_CONTROLLERS).has(c);
  const warnings: string[] = [];
  const cpu = r.cpu;
  if (cpu && ((cpu.realtimePeriod ?? 0) !== 0 || (cpu.realtimeRuntime ?? 0) !== 0)) {
    throw new InvalidArgumentError(V2_REALTIME_ERROR);
  }
  if (cpu) {
    delete cpu.realtimePeriod;
    delete cpu.realtimeRuntime;
  }

  const mem = r.memory;
  if (mem) {
    if ((mem.limit ?? 0) > 0 && !has('memory')) {
      warnings.push(V2_WARNINGS.memory);
      delete mem.limit;
      delete mem.swap;
    }
    if ((mem.limit ?? 0) > 0 && mem.swap !== undefined && mem.swap !== -1 && host.swap === false) {
      warnings.push(V2_WARNINGS.swap);
      // moby's -1 ("unlimited") would make runc write memory.swap.max, which is missing here.
      delete mem.swap;
    }
    // moby's fixMemorySwappiness: -1 means unset, silently.
    if (mem.swappiness !== undefined && mem.swappiness !== -1) warnings.push(V2_WARNINGS.swappiness);
    delete mem.swappiness;
    if ((mem.reservation ?? 0) > 0 && !has('memory')) {
      warnings.push(V2_WARNINGS.reservation);
      delete mem.reservation;
    }
    if ((mem.kernel ?? 0) > 0 || (mem.kernelTCP ?? 0) > 0) warnings.push(V2_WARNINGS.kernelMemory);
    delete mem.kernel;
    delete mem.kernelTCP;
    // No v2 file disables the OOM killer; moby warns only when asked to disable it.
    if (mem.disableOOMKiller === true) warnings.push(V2_WARNINGS.oomKillDisable);
    delete mem.disableOOMKiller;
    if (Object.keys(mem).length === 0) delete r.memory;
  }

  if (r.pids && !has('pids')) {
    if (r.pids.limit > 0) warnings.push(V2_WARNINGS.pids);
    delete r.pids;
  }

  if (cpu && !has('cpu')) {
    if ((cpu.shares ?? 0) > 0) warnings.push(V2_WARNINGS.cpuShares);
    if ((cpu.period ?? 0) !== 0 || (cpu.quota ?? 0) !== 0) warnings.push(V2_WARNINGS.cpuCfs);
    delete cpu.shares;
    delete cpu.period;
    delete cpu.quota;
  }
  if (cpu && !has('cpuset') && ((cpu.cpus ?? '') !== '' || (cpu.mems ?? '') !== '')) {
    warnings.push(V2_WARNINGS.cpuset);
    delete cpu.cpus;
    delete cpu.mems;
  }
  if (cpu && Object.keys(cpu).length === 0) delete r.cpu;

  const io = r.blockIO;
  if (io) {
    // v2 has no leaf weights.
    delete io.leafWeight;
    if (!has('io')) {
      const drop = (present: boolean, warning: string): void => {
        if (present) warnings.push(warning);
      };
      drop((io.weight ?? 0) > 0, V2_WARNINGS.blkioWeight);
      drop((io.weightDevice?.length ?? 0) > 0, V2_WARNINGS.blkioWeightDevice);
      drop((io.throttleReadBpsDevice?.length ?? 0) > 0, V2_WARNINGS.readBps);
      drop((io.throttleWriteBpsDevice?.length ?? 0) > 0, V2_WARNINGS.writeBps);
      drop((io.throttleReadIOPSDevice?.length ?? 0) > 0, V2_WARNINGS.readIops);
      drop((io.throttleWriteIOPSDevice?.length ?? 0) > 0, V2_WARNINGS.writeIops);
      delete r.blockIO;
    } else if (Object.keys(io).length === 0) {
      delete r.blockIO;
    }
  }
  return warnings;
}
