/**
 * `berth rm`: DELETE /containers/{id}?force=&v=&link= for each container in
 * parallel; with -f a missing container is reported but not a failure.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { isNotFoundError } from '../../../client/errors.js';
import { runForEach } from '../../flows/parallel.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Remove one or more containers',
  aliases: ['container rm', 'container remove', 'rm'],
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'force', short: 'f', type: 'bool', usage: 'Force the removal of a running container (uses SIGKILL)' },
    { name: 'link', short: 'l', type: 'bool', usage: 'Remove the specified link' },
    { name: 'volumes', short: 'v', type: 'bool', usage: 'Remove anonymous volumes associated with the container' },
  ],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const force = p.bool('force');
  const err = await runForEach(
    ctx,
    p.args,
    async (name) => {
      const id = name.replace(/^\/+|\/+$/g, '');
      if (id === '') throw new Error('container name cannot be empty');
      await ctx.client.containerRemove(id, { force, volumes: p.bool('volumes'), link: p.bool('link') });
    },
    (e) => force && isNotFoundError(e),
  );
  if (err !== undefined) throw new Error(err);
  return 0;
}
