/**
 * `berth stats`: live resource usage of containers — docker's table (CPU %,
 * MEM USAGE / LIMIT, MEM %, NET I/O, BLOCK I/O, PIDS) computed as docker's
 * stats helpers do. --no-stream prints once (berthd answers a one-shot at
 * once, with a real previous CPU sample); otherwise the table is redrawn
 * every second. Without names: the running containers (all with -a).
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { errorText } from '../../errors.js';
import { writeFormatted } from '../../format/filters.js';
import { bytesSize, humanSizeWithPrecision } from '../../format/units.js';
import { ContainerApi } from './containerApi.js';
import { flushed } from './flush.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] [CONTAINER...]',
  short: 'Display a live stream of container(s) resource usage statistics',
  aliases: ['container stats', 'stats'],
  args: { kind: 'min', n: 0 },
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
    {
      name: 'format',
      type: 'string',
      usage:
        "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
    },
    { name: 'no-stream', type: 'bool', usage: 'Disable streaming stats and only pull the first result' },
    { name: 'no-trunc', type: 'bool', usage: 'Do not truncate output' },
  ],
};

const DEFAULT_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Container: 'CONTAINER',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

interface StatsDoc {
  id?: string;
  name?: string;
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  pids_stats?: { current?: number };
}

/** docker's calculateCPUPercentUnix. */
export function cpuPercent(s: StatsDoc): number {
  const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  let online = s.cpu_stats?.online_cpus ?? 0;
  if (online === 0) online = s.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/** docker's calculateMemUsageUnixNoCache: usage minus the inactive page cache. */
export function memUsage(s: StatsDoc): number {
  const usage = s.memory_stats?.usage ?? 0;
  const st = s.memory_stats?.stats ?? {};
  const v1 = st['total_inactive_file'];
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = st['inactive_file'] ?? 0;
  return v2 < usage ? usage - v2 : usage;
}

export function statsRow(ref: string, s: StatsDoc, trunc: boolean): Record<string, string> {
  const mem = memUsage(s);
  const limit = s.memory_stats?.limit ?? 0;
  let rd = 0;
  let wr = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const c = e.op[0];
    if (c === 'r' || c === 'R') rd += e.value;
    else if (c === 'w' || c === 'W') wr += e.value;
  }
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  const id = s.id ?? '';
  // A container that is not running has a document of zeros, shown as zeros (as the docker CLI does).
  return {
    ID: trunc ? id.slice(0, 12) : id,
    Container: ref,
    Name: (s.name ?? '').replace(/^\//, ''),
    CPUPerc: `${cpuPercent(s).toFixed(2)}%`,
    MemUsage: `${bytesSize(mem)} / ${bytesSize(limit)}`,
    MemPerc: `${(limit !== 0 ? (mem / limit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSizeWithPrecision(rx, 3)} / ${humanSizeWithPrecision(tx, 3)}`,
    BlockIO: `${humanSizeWithPrecision(rd, 3)} / ${humanSizeWithPrecision(wr, 3)}`,
    PIDs: String(s.pids_stats?.current ?? 0),
  };
}

async function sampleAll(ctx: CliContext, api: ContainerApi, refs: string[], trunc: boolean): Promise<{ rows: Array<Record<string, string>>; errors: string[] }> {
  const rows: Array<Record<string, string>> = [];
  const errors: string[] = [];
  const docs = await Promise.all(
    refs.map(async (ref) => {
      try {
        const res = await api.stats(ref, false);
        const chunks: Buffer[] = [];
        for await (const c of res) chunks.push(c as Buffer);
        return { ref, doc: JSON.parse(Buffer.concat(chunks).toString('utf8')) as StatsDoc };
      } catch (e) {
        return { ref, err: errorText(e) };
      }
    }),
  );
  for (const d of docs) {
    if ('doc' in d && d.doc) rows.push(statsRow(d.ref, d.doc, trunc));
    else if ('err' in d && d.err) errors.push(d.err);
  }
  void ctx;
  return { rows, errors };
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const api = new ContainerApi(ctx.client);
  const trunc = !p.bool('no-trunc');
  const format = p.string('format') === '' || p.string('format') === 'table' ? DEFAULT_FORMAT : p.string('format');
  const named = p.args.length > 0;
  const listRefs = async (): Promise<string[]> => {
    if (named) return p.args;
    return (await ctx.client.containerList({ all: p.bool('all') })).map((c) => c.Id);
  };
  const render = (rows: Array<Record<string, string>>): string => (rows.length === 0 && !format.startsWith('table') ? '' : writeFormatted(format, rows, HEADERS));
  if (p.bool('no-stream')) {
    const { rows, errors } = await sampleAll(ctx, api, await listRefs(), trunc);
    if (named && errors.length > 0) throw new Error(errors.join('\n'));
    ctx.out(render(rows));
    await flushed(ctx.stdout);
    return 0;
  }
  let stop = false;
  const onSig = (): void => {
    stop = true;
  };
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  try {
    while (!stop) {
      const { rows, errors } = await sampleAll(ctx, api, await listRefs(), trunc);
      if (named && errors.length === p.args.length) throw new Error(errors.join('\n'));
      // Clear the screen and go home, as docker does between frames.
      ctx.out(`${ctx.stdout.isTTY ? '\x1b[2J\x1b[H' : ''}${render(rows)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
  return 0;
}
