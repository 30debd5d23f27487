/**
 * `berth create`: docker's runCreate — the same flags and body as `run`,
 * POST /containers/create (pulling once if the image is missing), then the
 * full container ID on stdout.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { StatusError, withHelp } from '../../errors.js';
import { createContainer } from '../../flows/createContainer.js';
import { buildContainerConfig, containerFlags, type ContainerConfigResult } from '../../opts/containerOpts.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create a new container',
  aliases: ['container create', 'create'],
  interspersed: false,
  args: { kind: 'min', n: 1 },
  flags: [
    ...containerFlags().map((f) =>
      f.name === 'pull' ? { ...f, usage: 'Pull image before creating ("always", "|missing", "never")' } : f,
    ),
    { name: 'help', type: 'bool', usage: 'Print usage' },
  ],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const [image, ...args] = p.args as [string, ...string[]];
  let cfg: ContainerConfigResult;
  try {
    cfg = buildContainerConfig(p, image, args, ctx.ttySize(), ctx.env);
  } catch (e) {
    throw new StatusError(withHelp(e, ctx.bin, 'create'), 125);
  }
  const id = await createContainer(ctx, cfg);
  ctx.out(`${id}\n`);
  return 0;
}
