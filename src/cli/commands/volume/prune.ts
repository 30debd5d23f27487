/**
 * `berth volume prune [-a] [-f] [--filter]`: POST /volumes/prune after
 * docker's prompt (skipped with -f) — anonymous volumes only unless -a
 * (filter all=true); prints the deleted names and the space reclaimed.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { confirm } from '../../prompt.js';
import { addFilter, buildFilters, validateFilter } from '../../format/filters.js';
import { humanSize } from '../../format/units.js';
import { flushed } from '../container/flush.js';
import { VolumeApi } from './volumeApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'Remove unused local volumes',
  args: { kind: 'none' },
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused volumes, not just anonymous ones' },
    { name: 'filter', type: 'list', valueName: 'filter', usage: 'Provide filter values (e.g. "label=<label>")', validate: validateFilter },
    { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
  ],
};

const ANONYMOUS_WARNING = 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?';
const ALL_WARNING = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?';

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const filters = buildFilters(p.list('filter'));
  const all = p.bool('all');
  if (all) {
    if (filters['all'] !== undefined) throw new Error('conflicting options: cannot specify both --all and --filter all=1');
    addFilter(filters, 'all', 'true');
  }
  // A cancelled prune ends quietly with status 0, as `image prune` does.
  if (!p.bool('force') && !(await confirm(ctx, all ? ALL_WARNING : ANONYMOUS_WARNING))) return 0;
  const report = await new VolumeApi(ctx.client).prune(filters);
  let out = '';
  let reclaimed = 0;
  const deleted = report.VolumesDeleted ?? [];
  if (deleted.length > 0) {
    out += `Deleted Volumes:\n${deleted.map((n) => `${n}\n`).join('')}\n`;
    reclaimed = report.SpaceReclaimed;
  }
  out += `Total reclaimed space: ${humanSize(reclaimed)}\n`;
  ctx.out(out);
  await flushed(ctx.stdout);
  return 0;
}
