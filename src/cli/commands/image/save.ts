/**
 * `berth save` / `berth image save`: GET /images/get?names=… and the tar it
 * returns, to -o FILE (written whole or not at all: a temp file renamed at
 * the end) or to stdout, which must not be a terminal.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { ImageApi } from './imageApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  short: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  aliases: ['image save', 'save'],
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'output', short: 'o', type: 'string', usage: 'Write to a file, instead of STDOUT' },
    {
      name: 'platform',
      type: 'string',
      usage: 'Save only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
    },
  ],
};

/** platforms.Parse + encodePlatforms: "linux/arm64/v8" → the JSON docker's client sends. */
export function platformParam(s: string): string {
  const parts = s.toLowerCase().split('/');
  if (parts.length > 3 || parts.some((x) => !/^[a-z0-9_.-]+$/.test(x))) throw new Error(`invalid platform: "${s}": unknown operating system or architecture: invalid argument`);
  const [os, arch, variant] = parts.length === 1 ? ['linux', parts[0], undefined] : parts;
  const aliases: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', i386: '386' };
  const p: Record<string, string> = { architecture: aliases[arch as string] ?? (arch as string), os: os as string };
  if (variant) p['variant'] = variant;
  return JSON.stringify(p);
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const platform = p.string('platform') !== '' ? platformParam(p.string('platform')) : '';
  const output = p.string('output');
  if (output === '' && ctx.stdout.isTTY === true) throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const body = await new ImageApi(ctx.client).imageSave(p.args, platform);
  if (output === '') {
    await pipeline(body, ctx.stdout, { end: false });
    return 0;
  }
  // atomicwriter: the file appears complete, or not at all.
  const tmp = join(dirname(output), `.${basename(output)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await pipeline(body, createWriteStream(tmp, { mode: 0o600 }));
    await rename(tmp, output);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new Error(`failed to save image: ${(e as Error).message}`);
  }
  return 0;
}
