/**
 * `berth push` / `berth image push`: POST /images/{name}/push?tag= with the
 * stored credentials of the image's registry as `X-Registry-Auth`, the
 * daemon's JSON progress drawn as docker draws it. `-a` pushes every tag of
 * the repository; `-q` prints only the reference.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { fullName, isNameOnly, parseNormalizedNamed, referenceString, withDefaultTag } from '../../../reference/index.js';
import { displayJSONMessages } from '../../format/jsonDisplay.js';
import { ImageApi } from './imageApi.js';
import { registryAuthFor } from './registryAuth.js';
import { discard } from './pull.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] NAME[:TAG]',
  short: 'Upload an image to a registry',
  aliases: ['image push', 'push'],
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', usage: 'Push all tags of an image to the repository' },
    { name: 'disable-content-trust', type: 'bool', usage: 'Skip image signing', default: true },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress verbose output' },
  ],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const all = p.bool('all-tags');
  const quiet = p.bool('quiet');
  let ref = parseNormalizedNamed(p.args[0] as string);
  if (all && !isNameOnly(ref)) throw new Error("tag can't be used with --all-tags/-a");
  if (!all && isNameOnly(ref)) {
    ref = withDefaultTag(ref);
    if (!quiet) ctx.out(`Using default tag: ${ref.tag ?? 'latest'}\n`);
  }
  if (ref.digest !== undefined) throw new Error('cannot push a digest reference');
  const auth = await registryAuthFor(ctx.env, ref);
  const body = await new ImageApi(ctx.client).imagePush(fullName(ref), all ? undefined : (ref.tag ?? 'latest'), auth);
  await displayJSONMessages(body, quiet ? discard() : ctx.stdout);
  if (quiet) ctx.out(`${referenceString(ref)}\n`);
  return 0;
}
