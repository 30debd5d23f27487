/**
 * `berth ps` / `berth container ls`: GET /containers/json and docker's
 * table — CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES — with
 * docker's truncation (12-char IDs, 20-char quoted COMMAND with "…"), `-q`,
 * `--format` (table/json/template) and `-s`.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { familiarString, isIdentifier, makeReference, parseNormalizedNamed } from '../../../reference/index.js';
import type { ContainerSummary } from '../../../client/types.js';
import { displayablePorts, ellipsis, goQuote, truncateID } from '../../format/display.js';
import { buildFilters, goTimeString, validateFilter, writeFormatted } from '../../format/filters.js';
import { DOCKER_TABLE, Tabwriter } from '../../format/tabwriter.js';
import { humanSince, humanSizeWithPrecision } from '../../format/units.js';

const FORMAT_HELP =
  "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'List containers',
  aliases: ['container ls', 'container list', 'container ps', 'ps'],
  args: { kind: 'none' },
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Show all containers (default shows just running)' },
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', usage: 'Filter output based on conditions provided', validate: validateFilter },
    { name: 'format', type: 'string', usage: FORMAT_HELP },
    { name: 'last', short: 'n', type: 'int', usage: 'Show n last created containers (includes all states)', default: -1 },
    { name: 'latest', short: 'l', type: 'bool', usage: 'Show the latest created container (includes all states)' },
    { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only display container IDs' },
    { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' },
  ],
};

const HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
};

/** formatter.ContainerContext.Image: familiar name, digest dropped when truncating. */
export function displayImage(c: ContainerSummary, trunc: boolean): string {
  if (!c.Image) return '<no image>';
  if (trunc) {
    const t = truncateID(c.ImageID ?? '');
    if (t === truncateID(c.Image)) return t;
    if (!isIdentifier(c.Image)) {
      try {
        const ref = parseNormalizedNamed(c.Image);
        // The digest is dropped when truncating; the tag (if any) is kept.
        return familiarString(makeReference(ref.domain, ref.path, ref.tag));
      } catch {
        // not a reference: shown as is
      }
    }
  }
  return c.Image;
}

/** formatter.ContainerContext.Names. */
export function displayNames(names: string[] | null | undefined, trunc: boolean): string {
  let list = (names ?? []).map((n) => n.slice(1));
  if (trunc) {
    const primary = list.find((n) => n.split('/').length === 1);
    if (primary !== undefined) list = [primary];
  }
  return list.join(',');
}

export function containerRow(c: ContainerSummary, trunc: boolean, now: number = Date.now()): Record<string, string> {
  const command = goQuote(trunc ? ellipsis(c.Command ?? '', 20) : (c.Command ?? ''));
  const srw = humanSizeWithPrecision(c.SizeRw ?? 0, 3);
  const size = (c.SizeRootFs ?? 0) > 0 ? `${srw} (virtual ${humanSizeWithPrecision(c.SizeRootFs ?? 0, 3)})` : srw;
  const labels = Object.entries(c.Labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(',');
  const mounts = (c.Mounts ?? []).map((m) => {
    const n = m.Name ? m.Name : (m.Source ?? '');
    return trunc ? ellipsis(n, 15) : n;
  });
  return {
    ID: trunc ? truncateID(c.Id) : c.Id,
    Image: displayImage(c, trunc),
    Command: command,
    CreatedAt: goTimeString(c.Created),
    RunningFor: humanSince(c.Created, now),
    Ports: displayablePorts(c.Ports),
    State: c.State ?? '',
    Status: c.Status ?? '',
    Size: size,
    Names: displayNames(c.Names, trunc),
    Labels: labels,
    Mounts: mounts.join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).join(','),
  };
}

/** The default table, column by column (no template engine needed). */
export function renderContainerTable(rows: Array<Record<string, string>>, withSize: boolean): string {
  const cols = ['ID', 'Image', 'Command', 'RunningFor', 'Status', 'Ports', 'Names'];
  if (withSize) cols.push('Size');
  const tw = new Tabwriter(DOCKER_TABLE);
  tw.write(`${cols.map((c) => HEADERS[c]).join('\t')}\n`);
  for (const r of rows) tw.write(`${cols.map((c) => r[c] ?? '').join('\t')}\n`);
  return tw.flush();
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const format = p.string('format');
  const quiet = p.bool('quiet');
  if (format !== '' && quiet) ctx.err('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
  let limit = p.int('last');
  if (p.bool('latest') && limit === -1) limit = 1;
  let size = p.bool('size');
  if (format !== '' && !quiet && !size && !p.changed('size') && format.includes('.Size')) size = true;

  const containers = await ctx.client.containerList({
    all: p.bool('all'),
    limit,
    size,
    filters: buildFilters(p.list('filter')),
  });
  const trunc = !p.bool('no-trunc');
  const now = Date.now();
  const rows = containers.map((c) => containerRow(c, trunc, now));
  if (quiet) {
    ctx.out(rows.map((r) => `${r['ID']}\n`).join(''));
  } else if (format === '' || format === 'table') {
    ctx.out(renderContainerTable(rows, size));
  } else {
    ctx.out(writeFormatted(format, rows, HEADERS));
  }
  return 0;
}
