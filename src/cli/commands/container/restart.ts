/**
 * `berth restart`: POST /containers/{id}/restart?t=&signal= for each
 * container in parallel; prints each name restarted, errors after.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { runForEach } from '../../flows/parallel.js';
import { ContainerApi } from './containerApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Restart one or more containers',
  aliases: ['container restart', 'restart'],
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' },
    { name: 'time', type: 'int', usage: 'Seconds to wait before killing the container (deprecated: use --timeout)', hidden: true },
    { name: 'timeout', short: 't', type: 'int', usage: 'Seconds to wait before killing the container' },
  ],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  if (p.changed('time') && p.changed('timeout')) throw new Error('conflicting options: cannot specify both --timeout and --time');
  if (p.changed('time')) ctx.err('Flag --time has been deprecated, use --timeout instead\n');
  const opts: { timeout?: number; signal?: string } = {};
  if (p.changed('timeout')) opts.timeout = p.int('timeout');
  else if (p.changed('time')) opts.timeout = p.int('time');
  if (p.string('signal') !== '') opts.signal = p.string('signal');
  const api = new ContainerApi(ctx.client);
  const err = await runForEach(ctx, p.args, (id) => api.restart(id, opts));
  if (err !== undefined) throw new Error(err);
  return 0;
}
