import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../errdefs/errors.js';
import type { OciResources } from './ociTypes.js';
import {
  V2_REALTIME_ERROR,
  V2_WARNINGS,
  adaptResourcesForCgroupV2,
  blkioWeightToIoWeight,
  cgroupV2Writes,
  sharesToCpuWeight,
  swapToCgroupV2,
  type CgroupV2Write,
} from './cgroupV2Limits.js';
import { buildSpec, withCpuShares, withCpuset, withMemory, withMemoryReservation, withNanoCpus, withOomKillDisable, withPidsLimit, type SpecOpt } from './spec.js';

const MiB = 1024 * 1024;

/** The v2 files a `docker run` option set ends up as: berth's SpecOpts, then runc's fs2 writes. */
function filesFor(opts: readonly SpecOpt[]): CgroupV2Write[] {
  const r = buildSpec(opts, { cgroupV2: true }).linux.resources ?? {};
  return cgroupV2Writes(r);
}

describe('cgroupV2Writes: Docker options to v2 files (runc 1.1 fs2)', () => {
  it('--memory 64m: swap defaults to memory+swap = 128m, so memory.swap.max is 64m', () => {
    assert.deepEqual(filesFor([withMemory(64 * MiB)]), [
      { file: 'memory.swap.max', value: String(64 * MiB) },
      { file: 'memory.max', value: String(64 * MiB) },
    ]);
  });

  it('--memory 64m --memory-swap 128m', () => {
    assert.deepEqual(filesFor([withMemory(64 * MiB, 128 * MiB)]), [
      { file: 'memory.swap.max', value: '67108864' },
      { file: 'memory.max', value: '67108864' },
    ]);
  });

  it('--memory 64m --memory-swap 64m: no swap is an explicit 0', () => {
    assert.deepEqual(filesFor([withMemory(64 * MiB, 64 * MiB)]), [
      { file: 'memory.swap.max', value: '0' },
      { file: 'memory.max', value: '67108864' },
    ]);
  });

  it('--memory 64m --memory-swap -1: unlimited swap is "max"', () => {
    assert.deepEqual(filesFor([withMemory(64 * MiB, -1)]), [
      { file: 'memory.swap.max', value: 'max' },
      { file: 'memory.max', value: '67108864' },
    ]);
  });

  it('--memory-swap -1 alone writes nothing (Docker ignores swap without memory)', () => {
    assert.deepEqual(filesFor([withMemory(0, -1)]), []);
  });

  it('--memory-reservation 32m is memory.low', () => {
    assert.deepEqual(filesFor([withMemoryReservation(32 * MiB)]), [{ file: 'memory.low', value: String(32 * MiB) }]);
  });

  it('--cpus 1.5 is cpu.max "150000 100000"', () => {
    assert.deepEqual(filesFor([withNanoCpus(1.5e9)]), [{ file: 'cpu.max', value: '150000 100000' }]);
  });

  it('--cpu-shares 512 is cpu.weight 20 (1024 → 39, runc 1.1 conversion)', () => {
    assert.deepEqual(filesFor([withCpuShares(512)]), [{ file: 'cpu.weight', value: '20' }]);
    assert.equal(sharesToCpuWeight(1024), 39);
    assert.equal(sharesToCpuWeight(2), 1);
    assert.equal(sharesToCpuWeight(262144), 10000);
    assert.equal(sharesToCpuWeight(0), 0);
  });

  it('--pids-limit 10 is pids.max 10; an OCI -1 is "max"', () => {
    assert.deepEqual(filesFor([withPidsLimit(10)]), [{ file: 'pids.max', value: '10' }]);
    assert.deepEqual(cgroupV2Writes({ pids: { limit: -1 } }), [{ file: 'pids.max', value: 'max' }]);
  });

  it('--cpuset-cpus 0 (and --cpuset-mems 0)', () => {
    assert.deepEqual(filesFor([withCpuset('0', '')]), [{ file: 'cpuset.cpus', value: '0' }]);
    assert.deepEqual(filesFor([withCpuset('0-1', '0')]), [
      { file: 'cpuset.cpus', value: '0-1' },
      { file: 'cpuset.mems', value: '0' },
    ]);
  });

  it('--blkio-weight 300 is io.weight 2930, or io.bfq.weight 300 under BFQ', () => {
    assert.deepEqual(cgroupV2Writes({ blockIO: { weight: 300 } }), [{ file: 'io.weight', value: '2930' }]);
    assert.deepEqual(cgroupV2Writes({ blockIO: { weight: 300 } }, { bfqWeight: true }), [{ file: 'io.bfq.weight', value: '300' }]);
    assert.equal(blkioWeightToIoWeight(10), 1);
    assert.equal(blkioWeightToIoWeight(1000), 10000);
  });

  it('--blkio-weight-device goes to io.bfq.weight only when BFQ takes device lines', () => {
    const r: OciResources = { blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 200 }] } };
    assert.deepEqual(cgroupV2Writes(r), []);
    assert.deepEqual(cgroupV2Writes(r, { bfqWeight: true }), []);
    assert.deepEqual(cgroupV2Writes(r, { bfqWeight: true, bfqDeviceWeight: true }), [{ file: 'io.bfq.weight', value: '8:0 200' }]);
  });

  it('--device-read-bps/--device-write-bps/--device-read-iops/--device-write-iops are io.max lines, one per device and kind', () => {
    const r: OciResources = {
      blockIO: {
        throttleReadBpsDevice: [
          { major: 8, minor: 0, rate: 1048576 },
          { major: 8, minor: 16, rate: 2097152 },
        ],
        throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 524288 }],
        throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 50 }],
      },
    };
    assert.deepEqual(cgroupV2Writes(r), [
      { file: 'io.max', value: '8:0 rbps=1048576' },
      { file: 'io.max', value: '8:16 rbps=2097152' },
      { file: 'io.max', value: '8:0 wbps=524288' },
      { file: 'io.max', value: '8:0 riops=100' },
      { file: 'io.max', value: '8:0 wiops=50' },
    ]);
  });

  it('a full option set comes out in runc order: pids, memory, io, cpu, cpuset', () => {
    const r = buildSpec(
      [withCpuset('0', ''), withCpuShares(1024), withNanoCpus(0.5e9), withMemory(64 * MiB, 96 * MiB), withMemoryReservation(16 * MiB), withPidsLimit(5)],
      { cgroupV2: true },
    ).linux.resources ?? {};
    r.blockIO = { weight: 500 };
    assert.deepEqual(cgroupV2Writes(r), [
      { file: 'pids.max', value: '5' },
      { file: 'memory.swap.max', value: String(32 * MiB) },
      { file: 'memory.max', value: String(64 * MiB) },
      { file: 'memory.low', value: String(16 * MiB) },
      { file: 'io.weight', value: '4950' },
      { file: 'cpu.weight', value: '39' },
      { file: 'cpu.max', value: '50000 100000' },
      { file: 'cpuset.cpus', value: '0' },
    ]);
  });

  it('a quota of -1 with a period is "max <period>"', () => {
    assert.deepEqual(cgroupV2Writes({ cpu: { quota: -1, period: 50000 } }), [{ file: 'cpu.max', value: 'max 50000' }]);
  });

  it('swap conversion refuses what runc refuses', () => {
    assert.equal(swapToCgroupV2(0, -1), -1);
    assert.equal(swapToCgroupV2(-1, 64), -1);
    assert.throws(() => swapToCgroupV2(128, 0), /unable to set swap limit without memory limit/);
    assert.throws(() => swapToCgroupV2(32, 64), /memory\+swap limit should be >= memory limit/);
  });
});

describe('adaptResourcesForCgroupV2: what v2 cannot honour', () => {
  it('--oom-kill-disable is dropped with moby\'s warning; the memory limit stays', () => {
    const r: OciResources = { memory: { limit: 64 * MiB, swap: 128 * MiB, disableOOMKiller: true } };
    assert.deepEqual(adaptResourcesForCgroupV2(r), [V2_WARNINGS.oomKillDisable]);
    assert.deepEqual(r, { memory: { limit: 64 * MiB, swap: 128 * MiB } });
  });

  it('--memory-swappiness and --kernel-memory are dropped with warnings; swappiness -1 silently', () => {
    const r: OciResources = { memory: { swappiness: 60, kernel: 64 * MiB } };
    assert.deepEqual(adaptResourcesForCgroupV2(r), [V2_WARNINGS.swappiness, V2_WARNINGS.kernelMemory]);
    assert.deepEqual(r, {});
    const quiet: OciResources = { memory: { limit: 64 * MiB, swappiness: -1 } };
    assert.deepEqual(adaptResourcesForCgroupV2(quiet), []);
    assert.deepEqual(quiet, { memory: { limit: 64 * MiB } });
    assert.equal(V2_WARNINGS.swappiness, 'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
  });

  it('--cpu-rt-runtime/--cpu-rt-period are refused (400), as moby does', () => {
    assert.throws(
      () => adaptResourcesForCgroupV2({ cpu: { realtimeRuntime: 950000 } }),
      (e: unknown) => e instanceof InvalidArgumentError && e.message === V2_REALTIME_ERROR,
    );
  });

  it('without swap accounting the swap limit goes, with moby\'s warning; -1 needs none', () => {
    const r: OciResources = { memory: { limit: 64 * MiB, swap: 128 * MiB } };
    assert.deepEqual(adaptResourcesForCgroupV2(r, { swap: false }), [V2_WARNINGS.swap]);
    assert.deepEqual(r, { memory: { limit: 64 * MiB } });
    assert.deepEqual(cgroupV2Writes(r), [{ file: 'memory.max', value: '67108864' }]);
    assert.deepEqual(adaptResourcesForCgroupV2({ memory: { limit: 64 * MiB, swap: -1 } }, { swap: false }), []);
  });

  it('missing controllers drop their limits with moby\'s warnings (blkio weight without io)', () => {
    const r: OciResources = {
      memory: { limit: 64 * MiB, swap: 128 * MiB, reservation: 32 * MiB },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' },
      pids: { limit: 10 },
      blockIO: { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] },
      devices: [{ allow: false, access: 'rwm' }],
    };
    assert.deepEqual(adaptResourcesForCgroupV2(r, { controllers: new Set() }), [
      V2_WARNINGS.memory,
      V2_WARNINGS.reservation,
      V2_WARNINGS.pids,
      V2_WARNINGS.cpuShares,
      V2_WARNINGS.cpuCfs,
      V2_WARNINGS.cpuset,
      V2_WARNINGS.blkioWeight,
      V2_WARNINGS.readBps,
    ]);
    assert.deepEqual(r, { devices: [{ allow: false, access: 'rwm' }] });
    assert.equal(V2_WARNINGS.blkioWeight, 'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
  });

  it('leaves everything v2 supports alone', () => {
    const r: OciResources = {
      memory: { limit: 64 * MiB, swap: 128 * MiB, reservation: 32 * MiB },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' },
      pids: { limit: 10 },
      blockIO: { weight: 300 },
    };
    const before = structuredClone(r);
    assert.deepEqual(adaptResourcesForCgroupV2(r), []);
    assert.deepEqual(r, before);
  });

  it('through buildSpec: cgroupV2 drops --oom-kill-disable into the warnings sink; v1 keeps it', () => {
    const warnings: string[] = [];
    const v2 = buildSpec([withMemory(64 * MiB), withOomKillDisable(true)], { cgroupV2: true, warnings });
    assert.deepEqual(warnings, [V2_WARNINGS.oomKillDisable]);
    assert.equal(v2.linux.resources?.memory?.disableOOMKiller, undefined);
    const v1Warnings: string[] = [];
    const v1 = buildSpec([withMemory(64 * MiB), withOomKillDisable(true)], { cgroupV2: false, warnings: v1Warnings });
    assert.deepEqual(v1Warnings, []);
    assert.equal(v1.linux.resources?.memory?.disableOOMKiller, true);
  });
});
