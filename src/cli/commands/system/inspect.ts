/**
 * `berth inspect`: docker's fallback chain — container, image, network,
 * volume, plugin (swarm objects only when GET /info says this is a swarm
 * manager) — or just the `--type` asked for.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { ApiError, isNotFoundError } from '../../../client/errors.js';
import { errorText } from '../../errors.js';
import { inspectAndPrint } from '../../format/inspect.js';
import { INSPECT_FORMAT_HELP } from '../container/inspect.js';

const ALL_TYPES = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];
const SWARM_TYPES = new Set(['service', 'task', 'node', 'secret', 'config']);

export const spec: CommandSpec = {
  usage: '[OPTIONS] NAME|ID [NAME|ID...]',
  short: 'Return low-level information on Berth objects',
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'format', short: 'f', type: 'string', usage: INSPECT_FORMAT_HELP },
    { name: 'size', short: 's', type: 'bool', usage: 'Display total file sizes if the type is container' },
    { name: 'type', type: 'string', usage: 'Only inspect objects of the given type' },
  ],
};

function isSkippable(e: unknown): boolean {
  const msg = errorText(e);
  return isNotFoundError(e) || msg.includes('not supported') || msg.includes('invalid reference format');
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const type = p.string('type');
  if (p.changed('type') && type === '') throw new Error(`type is empty: must be one of "${ALL_TYPES.join('", "')}"`);
  if (type !== '' && !ALL_TYPES.includes(type)) {
    throw new Error(`unknown type: ${JSON.stringify(type)}: must be one of "${ALL_TYPES.join('", "')}"`);
  }
  const size = p.bool('size');
  const c = ctx.client;
  type Getter = ((ref: string) => Promise<{ raw: Buffer }>) | undefined;
  // docker's autodetect order; swarm objects have no getter here (berth has no swarm).
  const chain: Array<{ type: string; get: Getter }> = [
    { type: 'container', get: (r) => c.containerInspect(r, { size }) },
    { type: 'image', get: (r) => c.imageInspect(r) },
    { type: 'network', get: (r) => c.networkInspect(r) },
    { type: 'volume', get: (r) => c.volumeInspect(r) },
    { type: 'service', get: undefined },
    { type: 'task', get: undefined },
    { type: 'node', get: undefined },
    { type: 'plugin', get: (r) => c.pluginInspect(r) },
    { type: 'secret', get: undefined },
    { type: 'config', get: undefined },
  ];
  let swarmManager: boolean | undefined;
  const isSwarmManager = async (): Promise<boolean> => {
    if (swarmManager === undefined) {
      try {
        swarmManager = (await c.info()).Swarm?.ControlAvailable === true;
      } catch (e) {
        ctx.err(`${errorText(e)}\n`);
        swarmManager = false;
      }
    }
    return swarmManager;
  };
  await inspectAndPrint(ctx, p.args, p.string('format'), async (ref) => {
    for (const t of chain) {
      if (type !== '' && t.type !== type) continue;
      if (SWARM_TYPES.has(t.type)) {
        // docker asks GET /info once before trying swarm objects; berth has none to try.
        if (type === '') {
          await isSwarmManager();
          continue;
        }
        throw new ApiError(404, `No such ${t.type}: ${ref}`);
      }
      try {
        const r = await (t.get as NonNullable<Getter>)(ref);
        if (size && t.type !== 'container') ctx.err(`WARNING: --size ignored for ${t.type}\n`);
        return r;
      } catch (e) {
        if (type === '' && isSkippable(e)) continue;
        throw e;
      }
    }
    throw new Error(`Error: No such object: ${ref}`);
  });
  return 0;
}
