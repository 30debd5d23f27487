/**
 * `berth import`: POST /images/create?fromSrc=-&repo=… with the tarball as the
 * body (a file, or stdin for `-`; a URL is fetched by the daemon), printing the
 * daemon's JSON message stream (the new image ID).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { parseNormalizedNamed } from '../../../reference/index.js';
import type { ImageImportOptions } from '../../../client/types.js';
import { displayJSONMessages } from '../../format/jsonDisplay.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  short: 'Import the contents from a tarball to create a filesystem image',
  aliases: ['image import', 'import'],
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'change', short: 'c', type: 'list', usage: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', usage: 'Set commit message for imported image' },
    { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable', default: process.env['BERTH_DEFAULT_PLATFORM'] ?? '' },
  ],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const source = p.args[0] as string;
  const ref = p.args[1] ?? '';
  let body: Readable | undefined;
  let fromSrc: string;
  if (source === '-') {
    body = ctx.stdin;
    fromSrc = '-';
  } else if (source.startsWith('https://') || source.startsWith('http://')) {
    fromSrc = source;
  } else {
    // Open first so a missing file fails before any request, with Go's wording.
    try {
      const fh = await open(source, 'r');
      await fh.close();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(code === 'ENOENT' ? `open ${source}: no such file or directory` : `open ${source}: ${(e as Error).message}`);
    }
    body = createReadStream(source);
    fromSrc = '-';
  }
  if (ref !== '') parseNormalizedNamed(ref);
  const opts: ImageImportOptions = { fromSrc, changes: p.list('change') };
  if (ref !== '') opts.repo = ref;
  if (p.string('message') !== '') opts.message = p.string('message');
  if (p.string('platform') !== '') opts.platform = p.string('platform');
  const res = await ctx.client.imageImport(body, opts);
  await displayJSONMessages(res, ctx.stdout);
  return 0;
}
