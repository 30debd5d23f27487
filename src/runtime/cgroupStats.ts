/**
 * runtime/cgroupStats: reads a container's resource usage from its cgroup —
 * the v1 hierarchies (cpu, cpuacct, memory, pids, blkio) or the v2 unified
 * files (cpu.stat, memory.current/max/stat, pids.*, io.stat) — and shapes
 * it into Docker's stats JSON (moby daemon/stats_collector + api/types
 * StatsResponse). Read-only; every file root is a parameter so tests can
 * point it at a fake layout.
 */
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';

/** One reading of a container's counters, plus the host CPU time at that moment. */
export interface CgroupSample {
  /** When it was read (ms since the epoch). */
  readAt: number;
  cpu: {
    totalNs: number;
    userNs: number;
    systemNs: number;
    /** v1 only (cpuacct.usage_percpu). */
    perCpuNs: number[] | null;
    periods: number;
    throttledPeriods: number;
    throttledNs: number;
  };
  /** Host CPU time (all CPUs) from /proc/stat, in ns. */
  systemNs: number;
  onlineCpus: number;
  memory: {
    usage: number;
    maxUsage: number | null;
    failcnt: number | null;
    limit: number;
    stats: Record<string, number>;
  };
  pids: { current: number; limit: number };
  blkio: Array<{ major: number; minor: number; op: string; value: number }>;
}

export interface CgroupLocation {
  version: 1 | 2;
  /** v2: the container's directory. v1: controller name → the container's directory in that hierarchy. */
  dirs: Record<string, string>;
}

const NS_PER_TICK = 1e9 / 100; // USER_HZ is 100 on Linux

/**
 * Reads a cgroup or /proc pseudo-file synchronously. They are made by the kernel on read (no disk,
 * microseconds each); the async form cost four thread-pool round trips per file (open, fstat,
 * read, close), ~14 files per sample, which under load made up most of a one-shot stats answer.
 */
async function readText(p: string): Promise<string | null> {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

async function readNum(p: string): Promise<number> {
  const t = await readText(p);
  if (t === null) return 0;
  const v = t.trim();
  if (v === 'max') return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat) → map. */
export function parseKeyValues(text: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/**
 * Where a container's cgroup is: cgroupsPath (e.g. "/berth/<id>") under the v2 root, or
 * under each v1 hierarchy (a hierarchy dir may be a comma-joined name like "cpu,cpuacct").
 */
export async function locateCgroup(cgroupsPath: string, root = '/sys/fs/cgroup'): Promise<CgroupLocation> {
  const rel = cgroupsPath.replace(/^\/+/, '');
  if ((await readText(join(root, 'cgroup.controllers'))) !== null) return { version: 2, dirs: { unified: join(root, rel) } };
  const dirs: Record<string, string> = {};
  let entries: string[] = [];
  try {
    entries = await readdir(root);
  } catch {
    entries = [];
  }
  for (const e of entries) for (const ctl of e.split(',')) if (dirs[ctl] === undefined) dirs[ctl] = join(root, e, rel);
  return { version: 1, dirs };
}

/** Total host CPU time in ns from /proc/stat's "cpu" line (user … steal), as moby's getSystemCPUUsage. */
export function systemCpuNs(procStat: string): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  const f = line.trim().split(/\s+/).slice(1, 8).map(Number);
  return f.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0) * NS_PER_TICK;
}

async function hostFacts(procRoot: string): Promise<{ systemNs: number; onlineCpus: number }> {
  return { systemNs: systemCpuNs((await readText(join(procRoot, 'stat'))) ?? ''), onlineCpus: availableParallelism() };
}

async function readV1(dirs: Record<string, string>): Promise<Omit<CgroupSample, 'readAt' | 'systemNs' | 'onlineCpus'>> {
  const acct = dirs['cpuacct'] ?? '';
  const cpu = dirs['cpu'] ?? '';
  const mem = dirs['memory'] ?? '';
  const pids = dirs['pids'] ?? '';
  const blk = dirs['blkio'] ?? '';
  const [total, percpu, acctStat, cpuStat, usage, maxUsage, failcnt, limit, memStat, pidsCur, pidsMax] = await Promise.all([
    readNum(join(acct, 'cpuacct.usage')),
    readText(join(acct, 'cpuacct.usage_percpu')),
    readText(join(acct, 'cpuacct.stat')),
    readText(join(cpu, 'cpu.stat')),
    readNum(join(mem, 'memory.usage_in_bytes')),
    readNum(join(mem, 'memory.max_usage_in_bytes')),
    readNum(join(mem, 'memory.failcnt')),
    readNum(join(mem, 'memory.limit_in_bytes')),
    readText(join(mem, 'memory.stat')),
    readNum(join(pids, 'pids.current')),
    readNum(join(pids, 'pids.max')),
  ]);
  const as = parseKeyValues(acctStat);
  const cs = parseKeyValues(cpuStat);
  // CFQ's file is empty without that scheduler; the throttle one always counts.
  let blkText = await readText(join(blk, 'blkio.io_service_bytes_recursive'));
  if (blkText === null || !/\d+:\d+ \w+ \d+/.test(blkText)) blkText = await readText(join(blk, 'blkio.throttle.io_service_bytes_recursive'));
  const blkio: CgroupSample['blkio'] = [];
  for (const line of (blkText ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) blkio.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3] as string, value: Number(m[4]) });
  }
  const hostMem = totalmem();
  return {
    cpu: {
      totalNs: total,
      userNs: (as['user'] ?? 0) * NS_PER_TICK,
      systemNs: (as['system'] ?? 0) * NS_PER_TICK,
      perCpuNs: percpu === null ? null : percpu.trim().split(/\s+/).filter(Boolean).map(Number),
      periods: cs['nr_periods'] ?? 0,
      throttledPeriods: cs['nr_throttled'] ?? 0,
      throttledNs: cs['throttled_time'] ?? 0,
    },
    memory: {
      usage,
      maxUsage,
      failcnt,
      // An unlimited v1 cgroup says 9223372036854771712: show the host's memory, as Docker does.
      limit: limit > 0 && limit < hostMem ? limit : hostMem,
      stats: parseKeyValues(memStat),
    },
    pids: { current: pidsCur, limit: pidsMax },
    blkio,
  };
}

/** io.stat lines ("8:0 rbytes=1 wbytes=2 rios=3 …") → Docker's io_service_bytes_recursive (lower-case ops). */
export function parseIoStat(text: string | null): CgroupSample['blkio'] {
  const out: CgroupSample['blkio'] = [];
  for (const line of (text ?? '').split('\n')) {
    const parts = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(parts[0] ?? '');
    if (!dev) continue;
    const kv = Object.fromEntries(parts.slice(1).map((p) => p.split('=') as [string, string]));
    out.push({ major: Number(dev[1]), minor: Number(dev[2]), op: 'read', value: Number(kv['rbytes'] ?? 0) });
    out.push({ major: Number(dev[1]), minor: Number(dev[2]), op: 'write', value: Number(kv['wbytes'] ?? 0) });
  }
  return out;
}

async function readV2(dir: string): Promise<Omit<CgroupSample, 'readAt' | 'systemNs' | 'onlineCpus'>> {
  const [cpuStat, current, max, memStat, pidsCur, pidsMax, io] = await Promise.all([
    readText(join(dir, 'cpu.stat')),
    readNum(join(dir, 'memory.current')),
    readText(join(dir, 'memory.max')),
    readText(join(dir, 'memory.stat')),
    readNum(join(dir, 'pids.current')),
    readNum(join(dir, 'pids.max')),
    readText(join(dir, 'io.stat')),
  ]);
  const cs = parseKeyValues(cpuStat);
  const limitText = (max ?? 'max').trim();
  return {
    cpu: {
      totalNs: (cs['usage_usec'] ?? 0) * 1000,
      userNs: (cs['user_usec'] ?? 0) * 1000,
      systemNs: (cs['system_usec'] ?? 0) * 1000,
      perCpuNs: null,
      periods: cs['nr_periods'] ?? 0,
      throttledPeriods: cs['nr_throttled'] ?? 0,
      throttledNs: (cs['throttled_usec'] ?? 0) * 1000,
    },
    memory: {
      usage: current,
      maxUsage: null,
      failcnt: null,
      limit: limitText === 'max' || limitText === '' ? totalmem() : Number(limitText),
      stats: parseKeyValues(memStat),
    },
    pids: { current: pidsCur, limit: pidsMax },
    blkio: parseIoStat(io),
  };
}

/** Reads the counters of the cgroup at `loc` now. */
export async function readCgroupSample(loc: CgroupLocation, procRoot = '/proc'): Promise<CgroupSample> {
  const [body, host] = await Promise.all([loc.version === 2 ? readV2(loc.dirs['unified'] ?? '') : readV1(loc.dirs), hostFacts(procRoot)]);
  return { readAt: Date.now(), ...body, ...host };
}

function cpuJson(s: CgroupSample | null): Record<string, unknown> {
  if (s === null) {
    return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  }
  const usage: Record<string, unknown> = { total_usage: s.cpu.totalNs, usage_in_kernelmode: s.cpu.systemNs, usage_in_usermode: s.cpu.userNs };
  if (s.cpu.perCpuNs !== null) usage.percpu_usage = s.cpu.perCpuNs;
  return {
    cpu_usage: usage,
    system_cpu_usage: s.systemNs,
    online_cpus: s.onlineCpus,
    throttling_data: { periods: s.cpu.periods, throttled_periods: s.cpu.throttledPeriods, throttled_time: s.cpu.throttledNs },
  };
}

function zeroTime(): string {
  return '0001-01-01T00:00:00Z';
}

/** Docker's StatsResponse for `cur`, with `pre` as precpu_stats (null: zeros, as a first sample). */
export function dockerStats(name: string, id: string, version: 1 | 2, cur: CgroupSample, pre: CgroupSample | null): Record<string, unknown> {
  const memory: Record<string, unknown> = { usage: cur.memory.usage, stats: cur.memory.stats, limit: cur.memory.limit };
  if (version === 1) {
    memory.max_usage = cur.memory.maxUsage ?? 0;
    memory.failcnt = cur.memory.failcnt ?? 0;
  }
  return {
    name,
    id,
    read: new Date(cur.readAt).toISOString(),
    preread: pre ? new Date(pre.readAt).toISOString() : zeroTime(),
    pids_stats: cur.pids.limit > 0 ? { current: cur.pids.current, limit: cur.pids.limit } : { current: cur.pids.current },
    blkio_stats: {
      io_service_bytes_recursive: cur.blkio.length > 0 ? cur.blkio : null,
      io_serviced_recursive: null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuJson(cur),
    precpu_stats: cpuJson(pre),
    memory_stats: memory,
  };
}
