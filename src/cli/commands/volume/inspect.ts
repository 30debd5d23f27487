/**
 * `berth volume inspect`: GET /volumes/{name} for each argument, printed as
 * docker does (indented JSON array, or --format per volume).
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { inspectAndPrint } from '../../format/inspect.js';
import { INSPECT_FORMAT_HELP } from '../container/inspect.js';
import { VolumeApi } from './volumeApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  short: 'Display detailed information on one or more volumes',
  args: { kind: 'min', n: 1 },
  flags: [{ name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP }],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const api = new VolumeApi(ctx.client);
  await inspectAndPrint(ctx, p.args, p.string('format'), (name) => api.inspect(name));
  return 0;
}
