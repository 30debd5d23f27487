import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerStats, locateCgroup, parseIoStat, readCgroupSample, systemCpuNs } from './cgroupStats.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-cg-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function files(root: string, tree: Record<string, string>): Promise<void> {
  for (const [p, content] of Object.entries(tree)) {
    await mkdir(join(root, p, '..'), { recursive: true });
    await writeFile(join(root, p), content);
  }
}

const PROC_STAT = 'cpu  100 0 50 1000 10 0 5 0 0 0\ncpu0 50 0 25 500 5 0 2 0 0 0\n';

describe('cgroup v2 stats (fake unified layout)', () => {
  it('finds the container under the unified root and reads cpu, memory, pids and io', async () => {
    const root = join(dir, 'v2');
    const proc = join(dir, 'proc2');
    await files(root, {
      'cgroup.controllers': 'cpu io memory pids\n',
      'berth/abc/cpu.stat': 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 10\nnr_throttled 3\nthrottled_usec 7000\n',
      'berth/abc/memory.current': '10485760\n',
      'berth/abc/memory.max': '67108864\n',
      'berth/abc/memory.stat': 'anon 4096\nfile 8192\ninactive_file 2048\n',
      'berth/abc/pids.current': '4\n',
      'berth/abc/pids.max': '100\n',
      'berth/abc/io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n',
    });
    await files(proc, { stat: PROC_STAT });
    const loc = await locateCgroup('/berth/abc', root);
    assert.deepEqual(loc, { version: 2, dirs: { unified: join(root, 'berth/abc') } });
    const s = await readCgroupSample(loc, proc);
    assert.equal(s.cpu.totalNs, 2_500_000_000);
    assert.equal(s.cpu.userNs, 2_000_000_000);
    assert.equal(s.cpu.throttledPeriods, 3);
    assert.equal(s.cpu.throttledNs, 7_000_000);
    assert.equal(s.cpu.perCpuNs, null);
    assert.equal(s.memory.usage, 10485760);
    assert.equal(s.memory.limit, 67108864);
    assert.equal(s.memory.stats['inactive_file'], 2048);
    assert.deepEqual(s.pids, { current: 4, limit: 100 });
    assert.deepEqual(s.blkio, [
      { major: 8, minor: 0, op: 'read', value: 4096 },
      { major: 8, minor: 0, op: 'write', value: 8192 },
    ]);
    assert.equal(s.systemNs, 1165 * 10_000_000);
    const doc = dockerStats('/c', 'abc', 2, s, null) as { memory_stats: Record<string, unknown>; precpu_stats: { cpu_usage: { total_usage: number } } };
    assert.equal(doc.memory_stats.max_usage, undefined);
    assert.equal(doc.precpu_stats.cpu_usage.total_usage, 0);
  });

  it('an unlimited memory.max shows the host memory; "max" pids is no limit', async () => {
    const root = join(dir, 'v2b');
    await files(root, { 'cgroup.controllers': '', 'p/x/memory.max': 'max\n', 'p/x/pids.max': 'max\n' });
    const s = await readCgroupSample(await locateCgroup('/p/x', root), join(dir, 'noproc'));
    assert.ok(s.memory.limit > 0);
    assert.equal(s.pids.limit, 0);
  });
});

describe('cgroup v1 stats (fake hybrid layout)', () => {
  it('reads each controller, including comma-joined hierarchies and the blkio throttle fallback', async () => {
    const root = join(dir, 'v1');
    await files(root, {
      'cpu,cpuacct/berth/abc/cpuacct.usage': '3000000000\n',
      'cpu,cpuacct/berth/abc/cpuacct.usage_percpu': '1000000000 2000000000 \n',
      'cpu,cpuacct/berth/abc/cpuacct.stat': 'user 250\nsystem 50\n',
      'cpu,cpuacct/berth/abc/cpu.stat': 'nr_periods 5\nnr_throttled 1\nthrottled_time 999\n',
      'memory/berth/abc/memory.usage_in_bytes': '2048\n',
      'memory/berth/abc/memory.max_usage_in_bytes': '4096\n',
      'memory/berth/abc/memory.failcnt': '2\n',
      'memory/berth/abc/memory.limit_in_bytes': '33554432\n',
      'memory/berth/abc/memory.stat': 'cache 0\ntotal_inactive_file 1024\n',
      'pids/berth/abc/pids.current': '2\n',
      'pids/berth/abc/pids.max': 'max\n',
      'blkio/berth/abc/blkio.io_service_bytes_recursive': 'Total 0\n',
      'blkio/berth/abc/blkio.throttle.io_service_bytes_recursive': '8:0 Read 100\n8:0 Write 200\n8:0 Total 300\nTotal 300\n',
    });
    const loc = await locateCgroup('/berth/abc', root);
    assert.equal(loc.version, 1);
    const s = await readCgroupSample(loc, join(dir, 'noproc'));
    assert.equal(s.cpu.totalNs, 3e9);
    assert.deepEqual(s.cpu.perCpuNs, [1e9, 2e9]);
    assert.equal(s.cpu.userNs, 2.5e9);
    assert.equal(s.cpu.throttledNs, 999);
    assert.equal(s.memory.maxUsage, 4096);
    assert.equal(s.memory.failcnt, 2);
    assert.equal(s.memory.limit, 33554432);
    assert.deepEqual(s.pids, { current: 2, limit: 0 });
    assert.deepEqual(s.blkio.map((b) => b.op), ['Read', 'Write', 'Total']);
  });
});

describe('host CPU and io.stat parsing', () => {
  it('sums user..steal of /proc/stat in ns', () => {
    assert.equal(systemCpuNs(PROC_STAT), 1165 * 10_000_000);
  });
  it('skips malformed io.stat lines', () => {
    assert.deepEqual(parseIoStat('garbage\n'), []);
  });
});
