/**
 * `berth rename`: POST /containers/{id}/rename?name=; prints nothing.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { errorText } from '../../errors.js';
import { ContainerApi } from './containerApi.js';

export const spec: CommandSpec = {
  usage: 'CONTAINER NEW_NAME',
  short: 'Rename a container',
  aliases: ['container rename', 'rename'],
  args: { kind: 'exact', n: 2 },
  flags: [],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const oldName = (p.args[0] as string).trim();
  const newName = (p.args[1] as string).trim();
  if (oldName === '' || newName === '') throw new Error('Error: Neither old nor new names may be empty');
  try {
    await new ContainerApi(ctx.client).rename(oldName, newName);
  } catch (e) {
    throw new Error(`${errorText(e)}\nError: failed to rename container named ${oldName}`);
  }
  return 0;
}
