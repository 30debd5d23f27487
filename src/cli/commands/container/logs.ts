/**
 * `berth logs`: GET /containers/{id}/json (to learn Tty), then
 * GET /containers/{id}/logs; raw copy for TTY containers, stdcopy
 * demultiplexing onto stdout/stderr otherwise.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { demuxStream, writeAll } from '../../../client/stdcopy.js';
import type { ContainerLogsOptions } from '../../../client/types.js';
import { getTimestamp } from '../../opts/timestamp.js';
import { flushed } from './flush.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] CONTAINER',
  short: 'Fetch the logs of a container',
  aliases: ['container logs', 'logs'],
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'details', type: 'bool', usage: 'Show extra details provided to logs' },
    { name: 'follow', short: 'f', type: 'bool', usage: 'Follow log output' },
    {
      name: 'since',
      type: 'string',
      usage: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
    { name: 'tail', short: 'n', type: 'string', usage: 'Number of lines to show from the end of the logs', default: 'all' },
    { name: 'timestamps', short: 't', type: 'bool', usage: 'Show timestamps' },
    {
      name: 'until',
      type: 'string',
      usage: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
  ],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const { value: c } = await ctx.client.containerInspect(p.args[0] as string);
  const opts: ContainerLogsOptions = {
    stdout: true,
    stderr: true,
    timestamps: p.bool('timestamps'),
    follow: p.bool('follow'),
    tail: p.string('tail'),
    details: p.bool('details'),
  };
  const now = new Date();
  for (const key of ['since', 'until'] as const) {
    const v = p.string(key);
    if (v === '') continue;
    try {
      opts[key] = getTimestamp(v, now);
    } catch (e) {
      throw new Error(`invalid value for "${key}": ${(e as Error).message}`);
    }
  }
  const body = await ctx.client.containerLogs(c.Id, opts);
  if (c.Config.Tty) {
    for await (const chunk of body) await writeAll(ctx.stdout, chunk as Buffer);
  } else {
    await demuxStream(body, ctx.stdout, ctx.stderr);
  }
  await Promise.all([flushed(ctx.stdout), flushed(ctx.stderr)]);
  return 0;
}
