/**
 * `berth diff`: GET /containers/{id}/changes, one "<A|C|D> <path>" line each.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { ContainerApi } from './containerApi.js';
import { flushed } from './flush.js';

export const spec: CommandSpec = {
  usage: 'CONTAINER',
  short: "Inspect changes to files or directories on a container's filesystem",
  aliases: ['container diff', 'diff'],
  args: { kind: 'exact', n: 1 },
  flags: [],
};

const KIND = ['C', 'A', 'D'];

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const changes = (await new ContainerApi(ctx.client).changes(p.args[0] as string)) ?? [];
  ctx.out(changes.map((c) => `${KIND[c.Kind] ?? '?'} ${c.Path}\n`).join(''));
  await flushed(ctx.stdout);
  return 0;
}
