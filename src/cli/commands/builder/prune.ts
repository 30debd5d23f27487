/**
 * `berth builder prune`: POST /build/prune (`all=1` for -a) after docker's
 * confirmation prompt unless -f; prints the deleted cache records and
 * "Total reclaimed space", as `docker builder prune` does.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { confirm } from '../../prompt.js';
import { humanSize } from '../../format/units.js';
import { ImageApi } from '../image/imageApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'Remove build cache',
  args: { kind: 'none' },
  flags: [
    { name: 'all', short: 'a', type: 'bool', usage: 'Remove all unused build cache, not just dangling ones' },
    { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
  ],
};

const WARNING = 'WARNING! This will remove all dangling build cache.\nAre you sure you want to continue?';
const ALL_WARNING = 'WARNING! This will remove all build cache.\nAre you sure you want to continue?';

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const all = p.bool('all');
  if (!p.bool('force') && !(await confirm(ctx, all ? ALL_WARNING : WARNING))) return 0;
  const report = await new ImageApi(ctx.client).json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune', {
    query: all ? [['all', '1']] : [],
  });
  const deleted = report.CachesDeleted ?? [];
  if (deleted.length > 0) ctx.out(`Deleted build cache objects:\n${deleted.map((d) => `${d}\n`).join('')}\n`);
  ctx.out(`Total reclaimed space: ${humanSize(report.SpaceReclaimed)}\n`);
  return 0;
}
