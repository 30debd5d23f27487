/**
 * `berth pause`: POST /containers/{id}/pause for each container in parallel;
 * prints each name paused, errors after.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { runForEach } from '../../flows/parallel.js';
import { ContainerApi } from './containerApi.js';

export const spec: CommandSpec = {
  usage: 'CONTAINER [CONTAINER...]',
  short: 'Pause all processes within one or more containers',
  aliases: ['container pause', 'pause'],
  args: { kind: 'min', n: 1 },
  flags: [],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const api = new ContainerApi(ctx.client);
  const err = await runForEach(ctx, p.args, (id) => api.pause(id));
  if (err !== undefined) throw new Error(err);
  return 0;
}
