/**
 * `berth network ls`: GET /networks with --filter, sorted by name in natural
 * order and printed in docker's table (NETWORK ID, NAME, DRIVER, SCOPE), `-q`
 * IDs only, `--no-trunc`, or `--format` (table/json/template over ID, Name,
 * Driver, Scope, IPv6, Internal, Labels, CreatedAt).
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { buildFilters, validateFilter, writeFormatted } from '../../format/filters.js';
import { naturalLess } from '../volume/ls.js';
import { NetworkApi, type NetworkSummary } from './networkApi.js';

const FORMAT_HELP =
  "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'List networks',
  aliases: ['network ls', 'network list'],
  args: { kind: 'none' },
  flags: [
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', usage: 'Provide filter values (e.g. "driver=bridge")', validate: validateFilter },
    { name: 'format', type: 'string', usage: FORMAT_HELP },
    { name: 'no-trunc', type: 'bool', usage: 'Do not truncate the output' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display network IDs' },
  ],
};

const HEADERS: Record<string, string> = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
};

function row(n: NetworkSummary, trunc: boolean): Record<string, string> {
  return {
    ID: trunc ? n.Id.slice(0, 12) : n.Id,
    Name: n.Name,
    Driver: n.Driver,
    Scope: n.Scope,
    IPv6: String(n.EnableIPv6),
    Internal: String(n.Internal),
    Labels: Object.entries(n.Labels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join(','),
    CreatedAt: n.Created,
  };
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const list = await new NetworkApi(ctx.client).list(buildFilters(p.list('filter')));
  list.sort((a, b) => naturalLess(a.Name, b.Name));
  const rows = list.map((n) => row(n, !p.bool('no-trunc')));
  const format = p.string('format');
  if (p.bool('quiet')) ctx.out(rows.map((r) => `${r['ID']}\n`).join(''));
  else if (format === '' || format === 'table') ctx.out(writeFormatted('table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}', rows, HEADERS));
  else ctx.out(writeFormatted(format, rows, HEADERS));
  return 0;
}
