/**
 * `berth history` / `berth image history`: GET /images/{name}/history and
 * docker's table — IMAGE, CREATED, CREATED BY, SIZE, COMMENT — newest first,
 * with -H/--human, -q, --no-trunc and --format.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { ellipsis, truncateID } from '../../format/display.js';
import { writeFormatted } from '../../format/filters.js';
import { humanDuration, humanSizeWithPrecision } from '../../format/units.js';
import { ImageApi, type HistoryItem } from './imageApi.js';
import { platformParam } from './save.js';

const FORMAT_HELP =
  "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

export const spec: CommandSpec = {
  usage: '[OPTIONS] IMAGE',
  short: 'Show the history of an image',
  aliases: ['image history', 'history'],
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'format', type: 'string', usage: FORMAT_HELP },
    { name: 'human', short: 'H', type: 'bool', usage: 'Print sizes and dates in human readable format', default: true },
    { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
    {
      name: 'platform',
      type: 'string',
      usage: 'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
    },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only show image IDs' },
  ],
};

const HEADERS: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

/** Go's time.Unix(s, 0).Format(time.RFC3339), in local time. */
function rfc3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p2(Math.floor(Math.abs(off) / 60))}:${p2(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}${zone}`;
}

/** Times before 2000 are shown as N/A (docker's "epoch"). */
const EPOCH_2000 = 946684800;

export function historyRow(h: HistoryItem, trunc: boolean, human: boolean, now: number): Record<string, string> {
  const createdAt = rfc3339(h.Created);
  let createdSince = createdAt;
  if (human) createdSince = h.Created <= EPOCH_2000 ? 'N/A' : `${humanDuration(now - h.Created * 1000)} ago`;
  const by = h.CreatedBy.replace(/\t/g, ' ');
  return {
    ID: trunc ? truncateID(h.Id) : h.Id,
    CreatedSince: createdSince,
    CreatedAt: createdAt,
    CreatedBy: trunc ? ellipsis(by, 45) : by,
    Size: human ? humanSizeWithPrecision(h.Size, 3) : String(h.Size),
    Comment: h.Comment,
  };
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const platform = p.string('platform') !== '' ? platformParam(p.string('platform')) : '';
  const items = await new ImageApi(ctx.client).imageHistory(p.args[0] as string, platform);
  const human = p.bool('human');
  const trunc = !p.bool('no-trunc');
  const now = Date.now();
  const rows = items.map((h) => historyRow(h, trunc, human, now));
  let format = p.string('format');
  if (format === '' || format === 'table') {
    if (p.bool('quiet')) format = '{{.ID}}';
    else if (!human) format = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
    else format = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
  }
  ctx.out(writeFormatted(format, rows, HEADERS));
  return 0;
}
