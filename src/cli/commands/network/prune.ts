/**
 * `berth network prune [-f] [--filter]`: POST /networks/prune after docker's
 * prompt (skipped with -f); prints the names of the networks removed.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { confirm } from '../../prompt.js';
import { buildFilters, validateFilter } from '../../format/filters.js';
import { flushed } from '../container/flush.js';
import { NetworkApi } from './networkApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'Remove all unused networks',
  args: { kind: 'none' },
  flags: [
    { name: 'filter', type: 'list', valueName: 'filter', usage: 'Provide filter values (e.g. "until=<timestamp>")', validate: validateFilter },
    { name: 'force', short: 'f', type: 'bool', usage: 'Do not prompt for confirmation' },
  ],
};

const WARNING = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?';

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  if (!p.bool('force') && !(await confirm(ctx, WARNING))) return 0;
  const r = await new NetworkApi(ctx.client).prune(buildFilters(p.list('filter')));
  const deleted = r.NetworksDeleted ?? [];
  if (deleted.length > 0) ctx.out(`Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}`);
  await flushed(ctx.stdout);
  return 0;
}
