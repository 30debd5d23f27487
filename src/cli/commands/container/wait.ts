/**
 * `berth wait`: POST /containers/{id}/wait for each container in turn and
 * print its exit code.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { errorText } from '../../errors.js';

export const spec: CommandSpec = {
  usage: 'CONTAINER [CONTAINER...]',
  short: 'Block until one or more containers stop, then print their exit codes',
  aliases: ['container wait', 'wait'],
  args: { kind: 'min', n: 1 },
  flags: [],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const errors: string[] = [];
  for (const name of p.args) {
    try {
      const r = await ctx.client.containerWait(name).result;
      ctx.out(`${r.StatusCode}\n`);
    } catch (e) {
      errors.push(errorText(e));
    }
  }
  if (errors.length > 0) throw new Error(errors.join('\n'));
  return 0;
}
