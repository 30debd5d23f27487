/**
 * `berth builder prune`: POST /build/prune (`all=1` for -a) after docker's
 * confirmation prompt unless -f; prints the deleted cache records and
 * "Total reclaimed space", as `docker builder prune` does.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
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

/** prompt.Confirm: the first line of stdin, "y" (any case) means yes; end of input means no. */
async function confirm(ctx: CliContext, message: string): Promise<boolean> {
  ctx.out(`${message} [y/N] `);
  const stdin = ctx.stdin;
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const finish = (s: string): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      resolve(s);
    };
    const onData = (b: Buffer | string): void => {
      buf += typeof b === 'string' ? b : b.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(buf.slice(0, nl));
    };
    const onEnd = (): void => finish(buf);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  });
  return line.trim().toLowerCase() === 'y';
}

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
