/**
 * server/routes/imageEvents: Docker's image events for the image endpoints — pull, push, tag,
 * untag, delete, import, load and save — with the shapes moby's image service (the graphdriver
 * store, Docker's default through v28) gives them (daemon/images LogImageEvent): Type "image",
 * Actor.ID the reference for pull/push ("busybox:latest") and the image ID otherwise, Attributes
 * the image's labels plus `name` (the familiar repository for pull/push, the new tag for tag,
 * the image ID for the rest; a deleted image has no labels left). An import with a name is a
 * tag event, then the import, as moby tags before it logs the import.
 *
 * Wraps the backends the image routes are given, so each successful operation publishes after
 * it succeeded; a failure publishes nothing. Never changes what an operation does or returns.
 */
import type { EventBus } from '../../events/eventBus.js';
import type { ImageRecord } from '../../images/imageStore.js';
import { familiarName, familiarString, withDefaultTag, type Reference } from '../../reference/index.js';
import type { ImageBackend, ImageArchiveBackend, DistributionBackend } from './images.js';
import type { ProgressMessage } from '../../images/progress.js';

export type ImageEventBus = Pick<EventBus, 'publish'>;

type Resolve = (name: string) => ImageRecord;

function publish(bus: ImageEventBus, action: string, id: string, name: string, img: ImageRecord | null): void {
  // Labels first, then name: moby copies the labels and sets "name" over them.
  const attrs: Record<string, string> = { ...(img?.config.config?.Labels ?? {}) };
  if (name !== '') attrs.name = name;
  bus.publish('image', action, id, attrs);
}

function tryResolve(resolve: Resolve, name: string): ImageRecord | null {
  try {
    return resolve(name);
  } catch {
    return null;
  }
}

/** A Proxy that answers `overrides` and hands every other property to `target` (methods bound). */
function decorate<T extends object>(target: T, overrides: Readonly<Record<string, unknown>>): T {
  return new Proxy(target, {
    get(t, p) {
      if (typeof p === 'string' && Object.prototype.hasOwnProperty.call(overrides, p)) return overrides[p];
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** The image store with tag, untag, delete and import events. */
export function imageStoreWithEvents<B extends Pick<ImageBackend, 'resolve' | 'tag' | 'remove' | 'importTar'>>(b: B, bus: ImageEventBus): B {
  const overrides: Pick<ImageBackend, 'tag' | 'remove' | 'importTar'> = {
    tag: (name: string, target: Reference): void => {
      const img = b.resolve(name);
      b.tag(name, target);
      publish(bus, 'tag', img.id, familiarString(target), tryResolve(b.resolve.bind(b), img.id));
    },
    remove: async (...args: Parameters<ImageBackend['remove']>): Promise<Awaited<ReturnType<ImageBackend['remove']>>> => {
      // Looked up first: the labels of an image that is about to go.
      const img = b.resolve(args[0]);
      const items = await b.remove(...args);
      for (const it of items) {
        if (it.Untagged !== undefined) publish(bus, 'untag', img.id, img.id, img);
        if (it.Deleted !== undefined) publish(bus, 'delete', it.Deleted, it.Deleted, null);
      }
      return items;
    },
    importTar: async (...args: Parameters<ImageBackend['importTar']>): Promise<ImageRecord> => {
      const img = await b.importTar(...args);
      // moby tags the imported image (a tag event) before it logs the import.
      const ref = args[1].ref;
      if (ref !== undefined) publish(bus, 'tag', img.id, familiarString(withDefaultTag(ref)), img);
      publish(bus, 'import', img.id, img.id, img);
      return img;
    },
  };
  return decorate(b, overrides);
}

/** Pull and push with their events (once per request, as moby's distribution code logs them). */
export function distributionWithEvents(d: DistributionBackend, resolve: Resolve, bus: ImageEventBus): DistributionBackend {
  const byRef = (action: string, ref: Reference, img: ImageRecord | null): void =>
    publish(bus, action, familiarString(ref), familiarName(ref), img ?? tryResolve(resolve, familiarString(ref)));
  return decorate(d, {
    pull: async (ref: Reference, opts: Parameters<DistributionBackend['pull']>[1]): Promise<ImageRecord> => {
      const img = await d.pull(ref, opts);
      byRef('pull', ref, img);
      return img;
    },
    pullAllTags: async (repo: Reference, opts: Parameters<DistributionBackend['pullAllTags']>[1]): Promise<void> => {
      await d.pullAllTags(repo, opts);
      byRef('pull', repo, null);
    },
    push: async (ref: Reference, opts: Parameters<DistributionBackend['push']>[1]): Promise<void> => {
      await d.push(ref, opts);
      byRef('push', ref, null);
    },
  });
}

/** The images a load made, from its "Loaded image…" lines: IDs as they are, names resolved. */
export function loadedImages(lines: readonly string[], resolve: Resolve): ImageRecord[] {
  const out = new Map<string, ImageRecord>();
  for (const l of lines) {
    const m = /^Loaded image(?: ID)?: (.+)$/.exec(l.trim());
    if (!m) continue;
    const img = tryResolve(resolve, m[1] as string);
    if (img && !out.has(img.id)) out.set(img.id, img);
  }
  return [...out.values()];
}

/** Load and save with one event per image (`select` names the images a save writes). */
export function archiveWithEvents(
  a: ImageArchiveBackend & { select(names: string[]): Map<string, { img: ImageRecord }> },
  resolve: Resolve,
  bus: ImageEventBus,
): ImageArchiveBackend {
  return {
    prepareSave: async (names, opts) => {
      const write = await a.prepareSave(names, opts);
      const images = [...a.select(names).values()].map((e) => e.img);
      return async (out, signal) => {
        await write(out, signal);
        for (const img of images) publish(bus, 'save', img.id, img.id, img);
      };
    },
    load: async (body, opts) => {
      const lines: string[] = [];
      const progress = (m: ProgressMessage): void => {
        const s = (m as { stream?: unknown }).stream;
        if (typeof s === 'string') lines.push(s);
        opts.progress(m);
      };
      await a.load(body, { ...opts, progress });
      for (const img of loadedImages(lines, resolve)) publish(bus, 'load', img.id, img.id, img);
    },
  };
}
