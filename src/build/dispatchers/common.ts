/**
 * build/dispatchers/common: what every dispatcher shares — word expansion with
 * the stage's ENV and allowed build args (recording which variables a step
 * used, for its cache key), the shell prefix of `#(nop)` history entries, and
 * the cache-or-run wrapper that turns a step into an image: look the key up,
 * print ` ---> Using cache` on a hit, else make the image and remember it.
 */
import type { ImageRecord } from '../../images/imageStore.js';
import { formatPlatform } from '../../oci/platform.js';
import { cacheKey, type CacheKeyInput } from '../cacheKey.js';
import { processWord, expandWords } from '../dockerfile/shellLex.js';
import { storedConfig } from '../stepImages.js';
import type { DispatchContext, StageState } from './types.js';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export function shellOf(s: StageState): string[] {
  const sh = s.runConfig.Shell;
  return sh && sh.length > 0 ? [...sh] : [...DEFAULT_SHELL];
}

/** moby's dispatch(): ENV first, then the allowed build args ENV does not shadow. */
export function expansionEnv(s: StageState): Map<string, string> {
  const env = new Map<string, string>();
  const list = s.runConfig.Env ?? [];
  for (const e of [...list, ...s.args.filterAllowed(list)]) {
    const i = e.indexOf('=');
    const k = i < 0 ? e : e.slice(0, i);
    if (!env.has(k)) env.set(k, i < 0 ? '' : e.slice(i + 1));
  }
  return env;
}

/** Expands words for one step and remembers the values of the variables they used. */
export class Expander {
  readonly used = new Map<string, string>();
  private readonly env: Map<string, string>;

  constructor(private readonly s: StageState) {
    this.env = expansionEnv(s);
  }

  word(w: string): string {
    const r = processWord(w, this.env, this.s.escape);
    for (const k of r.matched) this.used.set(k, this.env.get(k) ?? '');
    return r.result;
  }

  words(w: string): string[] {
    const r = processWord(w, this.env, this.s.escape);
    for (const k of r.matched) this.used.set(k, this.env.get(k) ?? '');
    return expandWords(w, this.env, this.s.escape);
  }
}

/** `/bin/sh -c #(nop)  CMD ["sh"]`: moby's withCmdComment (two arguments, hence two spaces). */
export function nopComment(s: StageState, comment: string): string {
  return [...shellOf(s), '#(nop) ', comment].join(' ');
}

/** `/bin/sh -c #(nop) WORKDIR /app`: moby's withCmdCommentString (one argument), for WORKDIR, COPY, ADD. */
export function nopCommentString(s: StageState, comment: string): string {
  return [...shellOf(s), `#(nop) ${comment}`].join(' ');
}

export function setImage(s: StageState, img: ImageRecord): void {
  s.image = img;
}

export function imageIdOf(s: StageState): string {
  return s.image?.id ?? '';
}

/**
 * How a `--cache-from` image may supply a step: 'layer' for a step that changes files and whose
 * `created_by` decides its layer, 'meta' for a config-only step (its config is this build's own),
 * 'no' when the history text does not say all the result depends on (mounts, --chmod, exec form…).
 */
export type CacheFromUse = 'layer' | 'meta' | 'no';

/**
 * Runs a step through the cache: a hit sets the stage's image and prints ` ---> Using cache`;
 * then, on a miss, the `--cache-from` images; a miss of both (or --no-cache) makes the image with
 * `make` and records it under the key.
 */
export async function cachedStep(
  d: DispatchContext,
  s: StageState,
  key: Omit<CacheKeyInput, 'parent' | 'platform'>,
  description: string,
  make: () => Promise<ImageRecord>,
  fromSources: CacheFromUse = 'no',
): Promise<void> {
  const k = cacheKey({ parent: imageIdOf(s), platform: formatPlatform(s.platform), ...key });
  if (!d.opts.noCache && !s.cacheBusted) {
    const hit = d.cache.lookup(k);
    if (hit) {
      d.out.out(' ---> Using cache\n');
      setImage(s, hit);
      return;
    }
    const m = fromSources !== 'no' && d.cacheFrom ? d.cacheFrom.match(s.image, description, s.platform, fromSources === 'layer') : null;
    if (m) {
      const parent = imageIdOf(s);
      const img = await d.stepImages.restore(s.image, s.platform, s.runConfig, s.maintainer, m.source, m.entry, m.layerIndex);
      d.out.out(' ---> Using cache\n');
      d.cache.store(k, img.id, parent, description);
      setImage(s, img);
      return;
    }
    s.cacheBusted = true;
  }
  d.signal.throwIfAborted();
  const parent = imageIdOf(s);
  const img = await make();
  d.cache.store(k, img.id, parent, description);
  setImage(s, img);
}

/** moby's commit(): a metadata-only step — the new config, one `#(nop)` history entry, no layer. */
export async function commitMeta(d: DispatchContext, s: StageState, comment: string, used: ReadonlyMap<string, string> = new Map(), extra: Record<string, string | boolean> = {}): Promise<void> {
  const createdBy = nopComment(s, comment);
  const config = storedConfig(s.runConfig);
  await cachedStep(
    d,
    s,
    { step: `${createdBy}\n${JSON.stringify(config)}\n${s.maintainer}`, vars: used, extra },
    createdBy,
    () => d.stepImages.configOnly(s.image, s.platform, s.runConfig, createdBy, s.maintainer),
    'meta',
  );
}
