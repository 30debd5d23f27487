/**
 * `berth update`: docker's runUpdate — the changed resource flags and
 * --restart become one POST /containers/{id}/update body, sent for each
 * container; prints each name updated, errors after.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { runForEach } from '../../flows/parallel.js';
import { parseCPUs, parseMemSwap, parseRestartPolicy, validateMemBytes } from '../../opts/containerOpts.js';
import { ramInBytes } from '../../format/units.js';
import { ContainerApi } from './containerApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Update configuration of one or more containers',
  aliases: ['container update', 'update'],
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'blkio-weight', type: 'int', valueName: 'uint16', usage: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
    { name: 'cpu-period', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) period' },
    { name: 'cpu-quota', type: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
    { name: 'cpu-rt-period', type: 'int', usage: 'Limit the CPU real-time period in microseconds' },
    { name: 'cpu-rt-runtime', type: 'int', usage: 'Limit the CPU real-time runtime in microseconds' },
    { name: 'cpu-shares', short: 'c', type: 'int', usage: 'CPU shares (relative weight)' },
    { name: 'cpus', type: 'string', valueName: 'decimal', usage: 'Number of CPUs', validate: (v) => (parseCPUs(v), v) },
    { name: 'cpuset-cpus', type: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
    { name: 'cpuset-mems', type: 'string', usage: 'MEMs in which to allow execution (0-3, 0,1)' },
    { name: 'memory', short: 'm', type: 'string', valueName: 'bytes', usage: 'Memory limit', validate: validateMemBytes },
    { name: 'memory-reservation', type: 'string', valueName: 'bytes', usage: 'Memory soft limit', validate: validateMemBytes },
    { name: 'memory-swap', type: 'string', valueName: 'bytes', usage: "Swap limit equal to memory plus swap: -1 to enable unlimited swap", validate: (v) => (parseMemSwap(v), v) },
    { name: 'pids-limit', type: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },
    { name: 'restart', type: 'string', usage: 'Restart policy to apply when a container exits' },
  ],
};

const FLAGS = ['blkio-weight', 'cpu-period', 'cpu-quota', 'cpu-rt-period', 'cpu-rt-runtime', 'cpu-shares', 'cpus', 'cpuset-cpus', 'cpuset-mems', 'memory', 'memory-reservation', 'memory-swap', 'pids-limit', 'restart'];

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  if (!FLAGS.some((f) => p.changed(f))) throw new Error('you must provide one or more flags when using this command');
  const mem = (name: string): number => (p.string(name) === '' ? 0 : ramInBytes(p.string(name)));
  const body: Record<string, unknown> = {
    BlkioWeight: p.int('blkio-weight'),
    CpusetCpus: p.string('cpuset-cpus'),
    CpusetMems: p.string('cpuset-mems'),
    CpuShares: p.int('cpu-shares'),
    Memory: mem('memory'),
    MemoryReservation: mem('memory-reservation'),
    MemorySwap: p.string('memory-swap') === '' ? 0 : parseMemSwap(p.string('memory-swap')),
    KernelMemory: 0,
    CpuPeriod: p.int('cpu-period'),
    CpuQuota: p.int('cpu-quota'),
    CpuRealtimePeriod: p.int('cpu-rt-period'),
    CpuRealtimeRuntime: p.int('cpu-rt-runtime'),
    NanoCpus: p.string('cpus') === '' ? 0 : parseCPUs(p.string('cpus')),
    RestartPolicy: p.changed('restart') ? parseRestartPolicy(p.string('restart')) : { Name: '', MaximumRetryCount: 0 },
  };
  if (p.changed('pids-limit')) body.PidsLimit = p.int('pids-limit');
  const api = new ContainerApi(ctx.client);
  const warnings: string[] = [];
  const err = await runForEach(ctx, p.args, async (id) => {
    const r = await api.update(id, body);
    warnings.push(...(r.Warnings ?? []));
  });
  for (const w of warnings) ctx.err(`${w}\n`);
  if (err !== undefined) throw new Error(err);
  return 0;
}
