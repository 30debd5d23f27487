/**
 * `berth volume rm [-f] VOLUME...`: DELETE /volumes/{name} for each, one
 * after the other as docker does; prints each name removed and fails with
 * the joined errors of the others (a volume in use is the daemon's 409).
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { errorText } from '../../errors.js';
import { VolumeApi } from './volumeApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  short: 'Remove one or more volumes',
  aliases: ['volume rm', 'volume remove'],
  args: { kind: 'min', n: 1 },
  flags: [{ name: 'force', short: 'f', type: 'bool', usage: 'Force the removal of one or more volumes' }],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const api = new VolumeApi(ctx.client);
  const errors: string[] = [];
  for (const name of p.args) {
    try {
      await api.remove(name, p.bool('force'));
      ctx.out(`${name}\n`);
    } catch (e) {
      errors.push(errorText(e));
    }
  }
  if (errors.length > 0) throw new Error(errors.join('\n'));
  return 0;
}
