/**
 * containers/statsService: `stats` and `top` for containers. Stats are read
 * from the container's cgroup on request; the previous reading of each
 * container is cached (a first one is taken shortly after the container starts), so a
 * one-shot answer carries a real precpu_stats at once instead of sampling
 * twice a second apart as Docker does. Network counters come from the
 * container's own /proc/<pid>/net/dev (netStats). `top` runs the host's ps and keeps
 * the rows whose PID is in the container's cgroup (moby's ContainerTop).
 * Knows nothing of HTTP; never changes a container.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, InvalidArgumentError, SystemError, messageOf } from '../errdefs/errors.js';
import { dockerStats, locateCgroup, readCgroupSample, type CgroupLocation, type CgroupSample } from '../runtime/cgroupStats.js';
import { run } from '../util/process.js';
import { readNetworkStats } from './netStats.js';
import type { ContainerRecord } from './types.js';

/** Docker's streaming interval. */
export const STATS_INTERVAL_MS = 1000;

/**
 * How long after a start the first reading is taken. It reads ~15 pseudo-files synchronously (a few
 * ms of the event loop): right after the start it would land where a short-lived container's exit
 * is waiting to be handled (`docker run --rm` of a quick command), so it waits; one that exits first
 * is never read.
 */
const FIRST_SAMPLE_DELAY_MS = 250;

export interface StatsHost {
  get(ref: string): ContainerRecord;
  cgroupParent: string;
  /** Publishes a container event (Docker logs "top"). */
  publish(c: ContainerRecord, action: string): void;
}

export class StatsService {
  private readonly last = new Map<string, CgroupSample>();
  private readonly where = new Map<string, CgroupLocation>();
  private readonly firstSample = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly host: StatsHost,
    private readonly cgroupRoot = '/sys/fs/cgroup',
    private readonly procRoot = '/proc',
  ) {}

  private async location(c: ContainerRecord): Promise<CgroupLocation> {
    let loc = this.where.get(c.Id);
    if (!loc) {
      loc = await locateCgroup(`${this.host.cgroupParent}/${c.Id}`, this.cgroupRoot);
      this.where.set(c.Id, loc);
    }
    return loc;
  }

  /** A first reading soon after a container starts, so the first one-shot has something to compare with. */
  started(c: ContainerRecord): void {
    const id = c.Id;
    this.where.delete(id);
    this.last.delete(id);
    clearTimeout(this.firstSample.get(id));
    const timer = setTimeout(() => {
      this.firstSample.delete(id);
      void this.takeFirstSample(id);
    }, FIRST_SAMPLE_DELAY_MS);
    timer.unref();
    this.firstSample.set(id, timer);
  }

  private async takeFirstSample(id: string): Promise<void> {
    try {
      const c = this.host.get(id);
      // A request since the start has already left a reading; a stopped container has nothing to read.
      if (this.last.has(id) || !c.State.Running || c.State.Restarting) return;
      const sample = await readCgroupSample(await this.location(c), this.procRoot);
      if (!this.last.has(id)) this.last.set(id, sample);
    } catch {
      // Gone or not readable: the first request reads without a previous sample.
    }
  }

  forget(id: string): void {
    clearTimeout(this.firstSample.get(id));
    this.firstSample.delete(id);
    this.last.delete(id);
    this.where.delete(id);
  }

  /** Docker's stats document of a container now (zeros for one that is not running). */
  async sample(ref: string): Promise<Record<string, unknown>> {
    return (await this.sampleAfter(ref, undefined)).doc;
  }

  /**
   * One stats document. `streamPre` is the stream's own previous reading: a stream's precpu must be
   * the sample it sent last, whatever one-shot requests did to the shared cache in between.
   */
  private async sampleAfter(ref: string, streamPre: CgroupSample | undefined): Promise<{ doc: Record<string, unknown>; cur?: CgroupSample }> {
    const c = this.host.get(ref);
    if (!c.State.Running || c.State.Restarting) {
      return { doc: {
        name: c.Name,
        id: c.Id,
        read: '0001-01-01T00:00:00Z',
        preread: '0001-01-01T00:00:00Z',
        pids_stats: {},
        blkio_stats: {},
        num_procs: 0,
        storage_stats: {},
        cpu_stats: { cpu_usage: { total_usage: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
        precpu_stats: { cpu_usage: { total_usage: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
        memory_stats: {},
      } };
    }
    const loc = await this.location(c);
    let cur: CgroupSample;
    try {
      cur = await readCgroupSample(loc, this.procRoot);
    } catch (e) {
      throw new SystemError(`cannot read the stats of container ${c.Id}: ${messageOf(e)}`, { cause: e });
    }
    const cached = this.last.get(c.Id) ?? null;
    // Keep the older sample when this one is too close to it to measure anything.
    if (!cached || cur.readAt - cached.readAt >= 100) this.last.set(c.Id, cur);
    const pre = streamPre ?? cached;
    const doc = dockerStats(c.Name, c.Id, loc.version, cur, pre && pre.readAt < cur.readAt ? pre : null);
    const networks = await readNetworkStats(c.State.Pid, c.HostConfig.NetworkMode || 'bridge', this.procRoot);
    if (networks !== null) doc['networks'] = networks;
    return { doc, cur };
  }

  /** Samples every STATS_INTERVAL_MS until the signal aborts or the container stops. */
  async *stream(ref: string, signal: AbortSignal): AsyncGenerator<Record<string, unknown>> {
    let pre: CgroupSample | undefined;
    for (;;) {
      if (signal.aborted) return;
      const { doc, cur } = await this.sampleAfter(ref, pre);
      pre = cur;
      yield doc;
      const c = this.host.get(ref);
      if (!c.State.Running) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, STATS_INTERVAL_MS);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  /** PIDs in the container's cgroup (host PID namespace). */
  async pids(c: ContainerRecord): Promise<number[]> {
    const loc = await this.location(c);
    const dir = loc.version === 2 ? loc.dirs['unified'] : (loc.dirs['pids'] ?? loc.dirs['memory'] ?? loc.dirs['cpu']);
    let text = '';
    try {
      text = await readFile(join(dir ?? '', 'cgroup.procs'), 'utf8');
    } catch (e) {
      throw new SystemError(`cannot list the processes of container ${c.Id}: ${messageOf(e)}`, { cause: e });
    }
    return text
      .split('\n')
      .filter((l) => /^\d+$/.test(l.trim()))
      .map(Number);
  }

  /** moby's ContainerTop: `ps <args>` on the host, rows of the container's PIDs. */
  async top(ref: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    const c = this.host.get(ref);
    if (!c.State.Running) throw new ConflictError(`container ${c.Id} is not running`);
    if (c.State.Restarting) throw new ConflictError(`Container ${c.Id} is restarting, wait until the container is running`);
    const args = psArgs.trim() === '' ? ['-ef'] : psArgs.trim().split(/\s+/);
    const pids = new Set(await this.pids(c));
    let out: string;
    try {
      out = (await run('ps', args, { env: { ...process.env, LC_ALL: 'C' } })).stdout;
    } catch (e) {
      throw new SystemError(`Error running ps: ${messageOf(e)}`, { cause: e });
    }
    const result = parsePs(out, pids);
    this.host.publish(c, 'top');
    return result;
  }
}

/** Parses ps output and keeps the rows of `pids`; the last column keeps its spaces (moby parsePSOutput). */
export function parsePs(output: string, pids: ReadonlySet<number>): { Titles: string[]; Processes: string[][] } {
  const lines = output.split('\n');
  const titles = (lines[0] ?? '').trim().split(/\s+/).filter(Boolean);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new InvalidArgumentError(`Couldn't find PID field in ps output`);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const pid = Number(fields[pidIndex]);
    if (!Number.isInteger(pid) || !pids.has(pid)) continue;
    const row = fields.slice(0, titles.length - 1);
    row.push(fields.slice(titles.length - 1).join(' '));
    processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}
