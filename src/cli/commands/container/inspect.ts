/**
 * `berth container inspect`: GET /containers/{id}/json for each argument,
 * printed as docker does (indented JSON array, or --format per container).
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { inspectAndPrint } from '../../format/inspect.js';

export const INSPECT_FORMAT_HELP =
  "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

export const spec: CommandSpec = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Display detailed information on one or more containers',
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP },
    { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes' },
  ],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const size = p.bool('size');
  await inspectAndPrint(ctx, p.args, p.string('format'), (ref) => ctx.client.containerInspect(ref, { size }));
  return 0;
}
