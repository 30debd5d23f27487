/**
 * `berth image prune`: POST /images/prune with `dangling=true` (or false for
 * -a) plus --filter, after docker's confirmation prompt unless -f; prints the
 * untagged/deleted list and "Total reclaimed space".
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { confirm } from '../../prompt.js';
import { addFilter, buildFilters, validateFilter } from '../../format/filters.js';
import { humanSize } from '../../format/units.js';
import { ImageApi } from './imageApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'Remove unused images',
  args: { kind: 'none' },
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused images, not just dangling ones' },
    { name: 'filter', type: 'list', valueName: 'filter', usage: 'Provide filter values (e.g. "until=<timestamp>")', validate: validateFilter },
    { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
  ],
};

const ALL_WARNING = 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?';
const DANGLING_WARNING = 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const all = p.bool('all');
  const filters = buildFilters(p.list('filter'));
  addFilter(filters, 'dangling', String(!all));
  // A cancelled prune ends quietly with status 0, as docker's does.
  if (!p.bool('force') && !(await confirm(ctx, all ? ALL_WARNING : DANGLING_WARNING))) return 0;
  const report = await new ImageApi(ctx.client).imagesPrune(filters);
  let reclaimed = 0;
  const deleted = report.ImagesDeleted ?? [];
  if (deleted.length > 0) {
    let out = 'Deleted Images:\n';
    for (const d of deleted) out += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted ?? ''}\n`;
    ctx.out(`${out}\n`);
    reclaimed = report.SpaceReclaimed;
  }
  ctx.out(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
  return 0;
}
