/**
 * `berth network inspect`: GET /networks/{id} for each argument, printed as
 * docker does (indented JSON array, or --format per network).
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { inspectAndPrint } from '../../format/inspect.js';
import { INSPECT_FORMAT_HELP } from '../container/inspect.js';
import { NetworkApi } from './networkApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] NETWORK [NETWORK...]',
  short: 'Display detailed information on one or more networks',
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP },
    { name: 'verbose', short: 'v', type: 'bool', usage: 'Verbose output for diagnostics' },
  ],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const api = new NetworkApi(ctx.client);
  await inspectAndPrint(ctx, p.args, p.string('format'), (id) => api.inspect(id));
  return 0;
}
