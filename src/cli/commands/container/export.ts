/**
 * `berth export`: GET /containers/{id}/export, the tar to -o FILE or to
 * stdout (never to a terminal, as docker refuses).
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { ContainerApi } from './containerApi.js';
import { flushed } from './flush.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] CONTAINER',
  short: "Export a container's filesystem as a tar archive",
  aliases: ['container export', 'export'],
  args: { kind: 'exact', n: 1 },
  flags: [{ name: 'output', short: 'o', type: 'string', usage: 'Write to a file, instead of STDOUT' }],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const out = p.string('output');
  if (out === '' && ctx.stdout.isTTY) throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const res = await new ContainerApi(ctx.client).export(p.args[0] as string);
  if (out !== '') {
    await pipeline(res, createWriteStream(out));
  } else {
    for await (const chunk of res) {
      if (!ctx.stdout.write(chunk as Buffer)) await new Promise((r) => ctx.stdout.once('drain', r));
    }
    await flushed(ctx.stdout);
  }
  return 0;
}
