/**
 * `berth load` / `berth image load`: POST /images/load with the tar from -i
 * FILE or stdin (which must not be a terminal), quiet unless stdout is a
 * terminal (as docker asks), and the daemon's messages ("Loaded image: …")
 * drawn as docker draws them.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { displayJSONMessages } from '../../format/jsonDisplay.js';
import { ImageApi } from './imageApi.js';
import { platformParam } from './save.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'Load an image from a tar archive or STDIN',
  aliases: ['image load', 'load'],
  args: { kind: 'none' },
  flags: [
    { name: 'input', short: 'i', type: 'string', usage: 'Read from tar archive file, instead of STDIN' },
    {
      name: 'platform',
      type: 'string',
      usage: 'Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
    },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress the load output' },
  ],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const platform = p.string('platform') !== '' ? platformParam(p.string('platform')) : '';
  const file = p.string('input');
  let input: Readable;
  if (file === '') {
    if (ctx.stdin.isTTY === true) throw new Error('requested load from stdin, but stdin is empty');
    input = ctx.stdin;
  } else {
    try {
      await (await open(file, 'r')).close();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(code === 'ENOENT' ? `open ${file}: no such file or directory` : `open ${file}: ${(e as Error).message}`);
    }
    input = createReadStream(file);
  }
  const quiet = p.bool('quiet') || ctx.stdout.isTTY !== true;
  const res = await new ImageApi(ctx.client).imageLoad(input, quiet, platform);
  if (res.headers['content-type'] === 'application/json') {
    await displayJSONMessages(res, ctx.stdout);
  } else {
    await new Promise<void>((resolve, reject) => {
      res.on('data', (c: Buffer) => ctx.stdout.write(c));
      res.on('end', resolve);
      res.on('error', reject);
    });
  }
  return 0;
}
