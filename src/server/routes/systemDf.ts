/**
 * server/routes/systemDf: `GET /system/df` (docker system df) — the images
 * with the unpacked size of all layers, the containers with their writable
 * layer sizes, the volumes with their usage, and the build cache records;
 * `type` (API 1.42+) limits the answer to some of them. Reads only.
 */
import { InvalidArgumentError } from '../../errdefs/errors.js';
import { get, type Ctx, type Route } from '../router.js';

export interface DfBackend {
  /** ImageSummary objects (Containers filled), and the unpacked size of every layer once. */
  images(): { summaries: Array<Record<string, unknown>>; layersSize: number };
  /** ContainerSummary objects with SizeRw. */
  containers(): Promise<Array<Record<string, unknown>>>;
  /** Volume objects with UsageData. */
  volumes(): Promise<Array<Record<string, unknown>>>;
  buildCache(): Array<Record<string, unknown>>;
}

const TYPES = ['container', 'image', 'volume', 'build-cache'] as const;

export function systemDfRoutes(b: DfBackend): Route[] {
  const df = async (ctx: Ctx): Promise<void> => {
    const asked = ctx.query.getAll('type');
    for (const t of asked) if (!(TYPES as readonly string[]).includes(t)) throw new InvalidArgumentError(`unknown object type: ${t}`);
    const want = (t: (typeof TYPES)[number]): boolean => asked.length === 0 || asked.includes(t);
    const out: Record<string, unknown> = {};
    if (want('image')) {
      const i = b.images();
      out['LayersSize'] = i.layersSize;
      out['Images'] = i.summaries;
    }
    if (want('container')) out['Containers'] = await b.containers();
    if (want('volume')) out['Volumes'] = await b.volumes();
    if (want('build-cache')) out['BuildCache'] = b.buildCache();
    ctx.json(200, out);
  };
  return [get('/system/df', df)];
}
