/**
 * `berth network rm [-f] NETWORK...`: DELETE /networks/{id} for each, one
 * after the other as docker does; prints each name removed and fails with
 * the joined errors of the others (with -f, a missing network is no error).
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { isNotFoundError } from '../../../client/errors.js';
import { errorText } from '../../errors.js';
import { NetworkApi } from './networkApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] NETWORK [NETWORK...]',
  short: 'Remove one or more networks',
  aliases: ['network rm', 'network remove'],
  args: { kind: 'min', n: 1 },
  flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Do not error if the network does not exist' }],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const api = new NetworkApi(ctx.client);
  const errors: string[] = [];
  for (const name of p.args) {
    try {
      await api.remove(name);
      ctx.out(`${name}\n`);
    } catch (e) {
      if (p.bool('force') && isNotFoundError(e)) continue;
      errors.push(errorText(e));
    }
  }
  if (errors.length > 0) throw new Error(errors.join('\n'));
  return 0;
}
