/**
 * `berth kill`: POST /containers/{id}/kill?signal= for each container in
 * parallel; prints each name signalled, errors after.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { runForEach } from '../../flows/parallel.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Kill one or more running containers',
  aliases: ['container kill', 'kill'],
  args: { kind: 'min', n: 1 },
  flags: [{ name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' }],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const signal = p.string('signal');
  const err = await runForEach(ctx, p.args, (id) => ctx.client.containerKill(id, signal === '' ? undefined : signal));
  if (err !== undefined) throw new Error(err);
  return 0;
}
