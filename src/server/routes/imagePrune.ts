/**
 * server/routes/imagePrune: `POST /images/prune` (docker image prune). Removes
 * dangling images (no tag), or with `dangling=false` every image, that no
 * container uses, filtered by `until` and `label`/`label!`; reports what went
 * and the layer bytes freed. Removal itself is the image store's (untag, then
 * delete with its blobs and unshared snapshots).
 */
import { InvalidArgumentError } from '../../errdefs/errors.js';
import type { DeleteResponseItem, ImageRecord, ImageStore } from '../../images/imageStore.js';
import { chainIds } from '../../oci/image.js';
import { checkFilterKeys, matchLabels, parseFilters } from '../filters.js';
import { post, type Ctx, type Route } from '../router.js';

export type ImagePruneBackend = Pick<ImageStore, 'list' | 'remove' | 'hasChildren'>;

const GO_DURATION = /^([0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** timetypes.GetTimestamp: a Go duration ("24h", before now), unix seconds, or an RFC 3339 / date string. Milliseconds. */
export function pruneTimestamp(v: string, nowMs: number): number {
  if (GO_DURATION.test(v)) {
    let ms = 0;
    for (const m of v.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    return nowMs - ms;
  }
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`failed to parse value as time or duration: "${v}"`);
  return t;
}

export function imagePruneRoutes(
  b: ImagePruneBackend,
  containersUsing: (imageId: string) => string[],
  layerSize: (chainId: string) => number,
): Route[] {
  const prune = async (ctx: Ctx): Promise<void> => {
    const f = parseFilters(ctx.query.get('filters'));
    checkFilterKeys(f, ['dangling', 'until', 'label', 'label!']);
    let danglingOnly = true;
    const dangling = f.get('dangling');
    if (dangling && dangling.length > 0) {
      const v = (dangling[0] as string).toLowerCase();
      if (['true', '1'].includes(v)) danglingOnly = true;
      else if (['false', '0'].includes(v)) danglingOnly = false;
      else throw new InvalidArgumentError(`invalid filter 'dangling=${dangling[0]}'`);
    }
    const until = f.get('until');
    const untilMs = until && until.length > 0 ? pruneTimestamp(until[0] as string, Date.now()) : null;
    const labels = f.get('label');
    const notLabels = f.get('label!');

    const all = b.list();
    const candidates = all.filter((img: ImageRecord) => {
      // moby prunes dangling heads only: an untagged image with children is an intermediate image
      // (a build's), which goes with its last child (the delete prunes parents).
      if (danglingOnly && (img.tags.length > 0 || b.hasChildren(img.id))) return false;
      if (containersUsing(img.id).length > 0) return false;
      if (untilMs !== null && Date.parse(img.created) >= untilMs) return false;
      const l = img.config.config?.Labels;
      if (labels && !matchLabels(labels, l)) return false;
      if (notLabels && notLabels.length > 0 && notLabels.some((x) => matchLabels([x], l))) return false;
      return true;
    });
    // Bytes freed: the layers no remaining image needs, measured before they go.
    const before = new Map<string, number>();
    for (const img of all) for (const c of chainIds(img.config.rootfs.diff_ids)) if (!before.has(c)) before.set(c, layerSize(c));
    const deleted: DeleteResponseItem[] = [];
    for (const img of candidates) {
      try {
        deleted.push(...(await b.remove(img.id, { force: true, prune: true }, containersUsing)));
      } catch {
        // Gone meanwhile, or taken by a container that just started: skip it, as Docker does.
      }
    }
    const after = new Set<string>();
    for (const img of b.list()) for (const c of chainIds(img.config.rootfs.diff_ids)) after.add(c);
    let reclaimed = 0;
    for (const [c, size] of before) if (!after.has(c)) reclaimed += size;
    ctx.json(200, { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed });
  };
  return [post('/images/prune', prune)];
}
