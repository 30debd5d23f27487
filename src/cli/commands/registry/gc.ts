/**
 * `berth registry gc`: deletes blobs no manifest references from a registry
 * root (src/registry/gc.ts), safe while `berth registry serve` runs on it.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { StatusError } from '../../errors.js';
import { DEFAULT_REGISTRY_ROOT } from './serve.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'Remove blobs that no manifest references',
  args: { kind: 'none' },
  flags: [
    { name: 'root', type: 'string', usage: 'Registry root directory', default: DEFAULT_REGISTRY_ROOT },
    { name: 'dry-run', type: 'bool', usage: 'Only list what would be removed' },
    {
      name: 'grace',
      type: 'string',
      usage: 'Keep unreferenced blobs pushed or used more recently than this (e.g. 30m, 2h, 0s)',
      default: '1h',
    },
  ],
};

/** "90s", "30m", "2h", "1h30m", "0" → milliseconds. */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    if (m.index !== consumed) break;
    const n = Number(m[1]);
    const unit = m[2] as 'ms' | 's' | 'm' | 'h';
    total += n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit];
    consumed += m[0].length;
  }
  if (consumed !== s.length || s === '') throw new StatusError(`invalid duration "${s}" (use e.g. 30m, 2h, 0s)`, 125);
  return total;
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const graceMs = parseDuration(p.string('grace') || '1h');
  const { collectGarbage } = await import('../../../registry/gc.js');
  const report = await collectGarbage(p.string('root') || DEFAULT_REGISTRY_ROOT, {
    dryRun: p.bool('dry-run'),
    graceMs,
    log: (line) => ctx.out(`${line}\n`),
  });
  const verb = report.dryRun ? 'would free' : 'freed';
  ctx.out(`${report.blobsDeleted + report.orphanFiles} blobs, ${verb} ${report.bytesFreed} bytes\n`);
  return 0;
}
