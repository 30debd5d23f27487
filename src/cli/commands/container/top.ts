/**
 * `berth top`: GET /containers/{id}/top?ps_args= and docker's aligned table
 * (tabwriter minwidth 20, padding 3).
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { Tabwriter } from '../../format/tabwriter.js';
import { ContainerApi } from './containerApi.js';
import { flushed } from './flush.js';

export const spec: CommandSpec = {
  usage: 'CONTAINER [ps OPTIONS]',
  short: 'Display the running processes of a container',
  aliases: ['container top', 'top'],
  interspersed: false,
  args: { kind: 'min', n: 1 },
  flags: [],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const [name, ...psArgs] = p.args as [string, ...string[]];
  const list = await new ContainerApi(ctx.client).top(name, psArgs.join(' '));
  const tw = new Tabwriter({ minwidth: 20, tabwidth: 1, padding: 3, padchar: ' ' });
  tw.write(`${list.Titles.join('\t')}\n`);
  for (const proc of list.Processes) tw.write(`${proc.join('\t')}\n`);
  ctx.out(tw.flush());
  await flushed(ctx.stdout);
  return 0;
}
