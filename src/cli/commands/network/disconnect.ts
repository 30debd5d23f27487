/**
 * `berth network disconnect [-f] NETWORK CONTAINER`: POST
 * /networks/{id}/disconnect.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { NetworkApi } from './networkApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] NETWORK CONTAINER',
  short: 'Disconnect a container from a network',
  args: { kind: 'exact', n: 2 },
  flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Force the container to disconnect from a network' }],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const [network, container] = p.args as [string, string];
  await new NetworkApi(ctx.client).disconnect(network, container, p.bool('force'));
  return 0;
}
