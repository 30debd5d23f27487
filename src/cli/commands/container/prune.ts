/**
 * `berth container prune`: POST /containers/prune after docker's prompt
 * (skipped with -f); prints the deleted IDs and the space reclaimed.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { confirm } from '../../prompt.js';
import { buildFilters, validateFilter } from '../../format/filters.js';
import { humanSize } from '../../format/units.js';
import { ContainerApi } from './containerApi.js';
import { flushed } from './flush.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'Remove all stopped containers',
  aliases: ['container prune'],
  args: { kind: 'none' },
  flags: [
    { name: 'filter', type: 'list', valueName: 'filter', usage: 'Provide filter values (e.g. "until=<timestamp>")', validate: validateFilter },
    { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
  ],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  if (!p.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?', { acceptYes: true }))) {
    return 0;
  }
  const r = await new ContainerApi(ctx.client).prune(buildFilters(p.list('filter')));
  let out = '';
  if (r.ContainersDeleted && r.ContainersDeleted.length > 0) out += `Deleted Containers:\n${r.ContainersDeleted.map((id) => `${id}\n`).join('')}\n`;
  out += `Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`;
  ctx.out(out);
  await flushed(ctx.stdout);
  return 0;
}
