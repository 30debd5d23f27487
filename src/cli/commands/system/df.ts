/**
 * `berth system df`: GET /system/df, printed as `docker system df` prints it —
 * one row each for images, containers, local volumes and the build cache,
 * with TOTAL, ACTIVE, SIZE and RECLAIMABLE (docker/cli's formatter rules).
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { humanSize } from '../../format/units.js';
import { ImageApi } from '../image/imageApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'Show berth disk usage',
  args: { kind: 'none' },
  flags: [],
};

interface Df {
  LayersSize?: number;
  Images?: Array<{ Size: number; SharedSize: number; Containers: number }> | null;
  Containers?: Array<{ State?: string; SizeRw?: number }> | null;
  Volumes?: Array<{ UsageData?: { Size: number; RefCount: number } | null }> | null;
  BuildCache?: Array<{ Size: number; InUse: boolean; Shared: boolean }> | null;
}

function reclaimable(size: number, free: number): string {
  if (size <= 0) return humanSize(free);
  return `${humanSize(free)} (${Math.floor((100 * free) / size)}%)`;
}

export async function run(ctx: CliContext, _p: ParsedArgs): Promise<number> {
  const df = await new ImageApi(ctx.client).json<Df>('GET', '/system/df');
  const images = df.Images ?? [];
  const containers = df.Containers ?? [];
  const volumes = df.Volumes ?? [];
  const cache = df.BuildCache ?? [];
  const layers = df.LayersSize ?? 0;
  let usedByActive = 0;
  for (const i of images) if (i.Containers > 0) usedByActive += i.Size - Math.max(0, i.SharedSize);
  const rows: string[][] = [['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE']];
  rows.push(['Images', String(images.length), String(images.filter((i) => i.Containers > 0).length), humanSize(layers), reclaimable(layers, Math.max(0, layers - usedByActive))]);
  const cSize = containers.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const cFree = containers.filter((c) => c.State !== 'running').reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  rows.push(['Containers', String(containers.length), String(containers.filter((c) => c.State === 'running').length), humanSize(cSize), reclaimable(cSize, cFree)]);
  const vSize = volumes.reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const vFree = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0);
  rows.push(['Local Volumes', String(volumes.length), String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), humanSize(vSize), reclaimable(vSize, vFree)]);
  const bSize = cache.filter((b) => !b.Shared).reduce((n, b) => n + b.Size, 0);
  const bFree = cache.filter((b) => !b.Shared && !b.InUse).reduce((n, b) => n + b.Size, 0);
  rows.push(['Build Cache', String(cache.length), String(cache.filter((b) => b.InUse).length), humanSize(bSize), humanSize(bFree)]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  ctx.out(
    rows
      .map((r) =>
        r
          .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(Math.max((widths[i] ?? 0) + 3, 10))))
          .join('')
          .trimEnd(),
      )
      .join('\n') + '\n',
  );
  return 0;
}
