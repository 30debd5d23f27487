/**
 * `berth rmi` / `berth image rm`: DELETE /images/{name}?force=&noprune= for
 * each image in turn, printing "Untagged:" / "Deleted:" lines. With -f, only
 * non-404 errors fail the command.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { isNotFoundError } from '../../../client/errors.js';
import { errorText } from '../../errors.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  short: 'Remove one or more images',
  aliases: ['image rm', 'image remove', 'rmi'],
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'force', short: 'f', type: 'bool', usage: 'Force removal of the image' },
    { name: 'no-prune', type: 'bool', usage: 'Do not delete untagged parents' },
  ],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const force = p.bool('force');
  const noPrune = p.bool('no-prune');
  let fatal = false;
  const errors: string[] = [];
  for (const img of p.args) {
    try {
      const dels = await ctx.client.imageRemove(img, { force, noPrune });
      for (const d of dels) {
        if (d.Deleted) ctx.out(`Deleted: ${d.Deleted}\n`);
        else ctx.out(`Untagged: ${d.Untagged ?? ''}\n`);
      }
    } catch (e) {
      if (!isNotFoundError(e)) fatal = true;
      errors.push(errorText(e));
    }
  }
  if (errors.length > 0) {
    const text = errors.join('\n');
    if (!force || fatal) throw new Error(text);
    ctx.err(`${text}\n`);
  }
  return 0;
}
