/**
 * `berth volume create [OPTIONS] [VOLUME]`: POST /volumes/create with the
 * driver, `-o` driver options and labels; prints the volume's name (a new
 * random one when none was given), as docker does.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { validateLabel } from '../../opts/containerOpts.js';
import { VolumeApi } from './volumeApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] [VOLUME]',
  short: 'Create a volume',
  args: { kind: 'max', n: 1 },
  flags: [
    { name: 'driver', short: 'd', type: 'string', usage: 'Specify volume driver name', default: 'local' },
    { name: 'label', type: 'list', usage: 'Set metadata for a volume', validate: validateLabel },
    { name: 'name', type: 'string', usage: 'Specify volume name', hidden: true },
    { name: 'opt', short: 'o', type: 'list', valueName: 'map', usage: 'Set driver specific options' },
  ],
};

/** opts.MapOpts / ConvertKVStringsToMap: "k=v" → {k: v}; "k" → {k: ""}. */
function toMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) out[v] = '';
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  let name = p.string('name');
  if (p.args.length === 1) {
    if (name !== '') throw new Error('conflicting options: cannot specify a volume-name through both --name and as a positional arg');
    name = p.args[0] as string;
  }
  const v = await new VolumeApi(ctx.client).create({
    Driver: p.string('driver'),
    DriverOpts: toMap(p.list('opt')),
    Labels: toMap(p.list('label')),
    Name: name,
  });
  ctx.out(`${v.Name}\n`);
  return 0;
}
