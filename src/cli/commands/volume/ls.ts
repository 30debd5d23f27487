/**
 * `berth volume ls`: GET /volumes with --filter, sorted by name in natural
 * order and printed in docker's table (DRIVER, VOLUME NAME), `-q` names only,
 * or `--format` (table/json/template over Name, Driver, Scope, Mountpoint,
 * Labels, Links, Size).
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { buildFilters, validateFilter, writeFormatted } from '../../format/filters.js';
import { humanSize } from '../../format/units.js';
import { VolumeApi, type Volume } from './volumeApi.js';

const FORMAT_HELP =
  "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'List volumes',
  aliases: ['volume ls', 'volume list'],
  args: { kind: 'none' },
  flags: [
    { name: 'cluster', type: 'bool', usage: 'Display only cluster volumes, and use cluster volume list formatting' },
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', usage: 'Provide filter values (e.g. "dangling=true")', validate: validateFilter },
    { name: 'format', type: 'string', usage: FORMAT_HELP },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display volume names' },
  ],
};

const HEADERS: Record<string, string> = {
  Name: 'VOLUME NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Group: 'GROUP',
  Availability: 'AVAILABILITY',
  Status: 'STATUS',
};

/** sortorder.NaturalLess: digit runs compare as numbers. */
export function naturalLess(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

function row(v: Volume): Record<string, string> {
  const labels = Object.entries(v.Labels ?? {})
    .map(([k, val]) => `${k}=${val}`)
    .sort()
    .join(',');
  return {
    Name: v.Name,
    Driver: v.Driver,
    Scope: v.Scope,
    Mountpoint: v.Mountpoint,
    Labels: labels,
    Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A',
    Size: v.UsageData ? humanSize(v.UsageData.Size) : 'N/A',
    Group: 'N/A',
    Availability: 'N/A',
    Status: 'N/A',
  };
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const res = await new VolumeApi(ctx.client).list(buildFilters(p.list('filter')));
  // berth has no cluster volumes: --cluster lists none.
  const volumes = p.bool('cluster') ? [] : [...(res.Volumes ?? [])];
  volumes.sort((a, b) => naturalLess(a.Name, b.Name));
  let format = p.string('format');
  if (format === '' || format === 'table') format = p.bool('quiet') ? '{{.Name}}' : 'table {{.Driver}}\t{{.Name}}';
  ctx.out(writeFormatted(format, volumes.map(row), HEADERS));
  return 0;
}
