/**
 * `berth tag`: POST /images/{source}/tag?repo=<full name>&tag=<tag>, with the
 * docker client's reference checks.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { fullName, parseAnyReference, parseNormalizedNamed, withDefaultTag } from '../../../reference/index.js';

export const spec: CommandSpec = {
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  aliases: ['image tag', 'tag'],
  interspersed: false,
  args: { kind: 'exact', n: 2 },
  flags: [],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const [source, target] = p.args as [string, string];
  try {
    parseAnyReference(source);
  } catch (e) {
    throw new Error(`Error parsing reference: ${JSON.stringify(source)} is not a valid repository/tag: ${(e as Error).message}`);
  }
  let ref;
  try {
    ref = parseNormalizedNamed(target);
  } catch (e) {
    throw new Error(`Error parsing reference: ${JSON.stringify(target)} is not a valid repository/tag: ${(e as Error).message}`);
  }
  if (ref.digest !== undefined) throw new Error('refusing to create a tag with a digest reference');
  ref = withDefaultTag(ref);
  await ctx.client.imageTag(source, fullName(ref), ref.tag);
  return 0;
}
