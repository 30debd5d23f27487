/**
 * `berth image inspect`: GET /images/{name}/json for each argument, printed
 * as docker does (indented JSON array, or --format per image).
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { inspectAndPrint } from '../../format/inspect.js';
import { INSPECT_FORMAT_HELP } from '../container/inspect.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  short: 'Display detailed information on one or more images',
  args: { kind: 'min', n: 1 },
  flags: [{ name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP }],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  await inspectAndPrint(ctx, p.args, p.string('format'), (ref) => ctx.client.imageInspect(ref));
  return 0;
}
