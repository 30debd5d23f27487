import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resourceWarnings, resourcesOf } from './containerSpec.js';
import { V2_WARNINGS } from '../runtime/cgroupV2Limits.js';
import type { ContainerRecord } from './types.js';
import type { HostConfig } from './types.js';

const MiB = 1024 * 1024;

function record(h: HostConfig): ContainerRecord {
  return { Id: 'a'.repeat(64), Config: {}, HostConfig: h } as unknown as ContainerRecord;
}

describe('resourceWarnings (create\'s Warnings)', () => {
  it('on cgroup v2, --oom-kill-disable gets moby\'s warning', () => {
    const c = record({ Memory: 64 * MiB, MemorySwap: 128 * MiB, OomKillDisable: true });
    assert.deepEqual(resourceWarnings(c, { cgroupV2: true }), [V2_WARNINGS.oomKillDisable]);
  });

  it('on cgroup v2 without swap accounting, a swap limit gets moby\'s warning', () => {
    const c = record({ Memory: 64 * MiB, MemorySwap: 128 * MiB });
    assert.deepEqual(resourceWarnings(c, { cgroupV2: true, cgroupV2Host: { swap: false } }), [V2_WARNINGS.swap]);
  });

  it('on cgroup v1 (this host) there is nothing to warn about', () => {
    const c = record({ Memory: 64 * MiB, MemorySwap: 128 * MiB, OomKillDisable: true, PidsLimit: 10, CpuShares: 512 });
    assert.deepEqual(resourceWarnings(c, { cgroupV2: false }), []);
  });

  it('resourcesOf (runc update) still carries --oom-kill-disable on this v1 host', () => {
    const c = record({ Memory: 64 * MiB, MemorySwap: 128 * MiB, OomKillDisable: true });
    assert.equal(resourcesOf(c).memory?.disableOOMKiller, true);
  });
});
