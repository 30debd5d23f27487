/**
 * `berth pull` / `berth image pull`: POST /images/create?fromImage=&tag= with
 * the stored credentials of the image's registry as `X-Registry-Auth`, and the
 * daemon's JSON progress drawn as docker draws it (per-layer lines redrawn in
 * place on a terminal, plain lines otherwise), then the full reference.
 * `-q` prints only the reference.
 */
import { Writable } from 'node:stream';
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext, OutStream } from '../../context.js';
import { fullName, isNameOnly, parseNormalizedNamed, referenceString, withDefaultTag } from '../../../reference/index.js';
import { displayJSONMessages } from '../../format/jsonDisplay.js';
import { ImageApi } from './imageApi.js';
import { registryAuthFor } from './registryAuth.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  short: 'Download an image from a registry',
  aliases: ['image pull', 'pull'],
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', usage: 'Download all tagged images in the repository' },
    { name: 'disable-content-trust', type: 'bool', usage: 'Skip image verification', default: true },
    { name: 'platform', type: 'string', usage: 'Set platform if server is multi-platform capable', default: process.env['BERTH_DEFAULT_PLATFORM'] ?? '' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress verbose output' },
  ],
};

export const discard = (): OutStream =>
  new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const all = p.bool('all-tags');
  const quiet = p.bool('quiet');
  let ref = parseNormalizedNamed(p.args[0] as string);
  if (all && !isNameOnly(ref)) throw new Error("tag can't be used with --all-tags/-a");
  if (!all && isNameOnly(ref)) {
    ref = withDefaultTag(ref);
    if (!quiet) ctx.out(`Using default tag: ${ref.tag ?? 'latest'}\n`);
  }
  const auth = await registryAuthFor(ctx.env, ref);
  // getAPITagFromNamedRef: the digest, else the tag; none at all for -a.
  const tag = all ? undefined : (ref.digest ?? ref.tag ?? 'latest');
  const body = await new ImageApi(ctx.client).imagePull(fullName(ref), tag, auth, p.string('platform'));
  await displayJSONMessages(body, quiet ? discard() : ctx.stdout);
  ctx.out(`${referenceString(ref)}\n`);
  return 0;
}
