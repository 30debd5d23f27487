/**
 * server/routes/images: the image endpoints of the Engine API. Image names may
 * hold slashes (`localhost:5000/a/b`), so these paths are matched by hand
 * after the `/images/` prefix, as Docker's `{name:.*}` routes do.
 */
import { InvalidArgumentError, NotFoundError, NotImplementedError, messageOf } from '../../errdefs/errors.js';
import type { ImageRecord, ImageStore } from '../../images/imageStore.js';
import { familiarString, joinTagOrDigest, parseNormalizedNamed, withDefaultTag, type Reference } from '../../reference/index.js';
import { parsePlatform } from '../../oci/platform.js';
import { decodeRegistryAuth } from '../../distribution/credentials.js';
import type { PullOptions } from '../../images/puller.js';
import type { PushOptions } from '../../images/pusher.js';
import type { AuthConfig } from '../../distribution/credentials.js';
import type { Progress, ProgressMessage } from '../../images/progress.js';
import { boolParam, checkFilterKeys, matchLabels, parseFilters } from '../filters.js';
import { pruneTimestamp } from './imagePrune.js';
import { del, get, post, type Ctx, type Route, COMMON_HEADERS } from '../router.js';
import { jsonLine } from '../streams.js';
import type { Readable, Writable } from 'node:stream';

export type ImageBackend = Pick<ImageStore, 'list' | 'resolve' | 'importTar' | 'tag' | 'remove' | 'layerSizes' | 'getById' | 'hasChildren'>;

export interface ImageArchiveBackend {
  /**
   * Checks `names` (404 for an unknown one, before anything is written) and
   * returns the writer of their `docker save` tar.
   */
  prepareSave(names: string[], opts: { platform?: string }): Promise<(out: Writable, signal: AbortSignal) => Promise<void>>;
  /** `docker load` of a docker-save or OCI-layout tar; every blob verified. */
  load(body: Readable, opts: { quiet: boolean; signal: AbortSignal; progress: Progress }): Promise<void>;
}

export interface DistributionBackend {
  pull(ref: Reference, opts: PullOptions): Promise<ImageRecord>;
  pullAllTags(repo: Reference, opts: PullOptions): Promise<void>;
  push(ref: Reference, opts: PushOptions): Promise<void>;
  /** Resolves to the identity token to hand back, if the registry gave one. */
  login(auth: AuthConfig): Promise<string | undefined>;
}

/**
 * Streams progress as Docker does: the status line waits for the first
 * message, so a failure before any progress is a plain HTTP error (the docker
 * CLI reads 404s there); a failure after it is an `errorDetail` message.
 */
async function progressStream(ctx: Ctx, work: (progress: Progress) => Promise<void>): Promise<void> {
  let started = false;
  const send = (m: ProgressMessage | { errorDetail: { message: string }; error: string }): void => {
    if (!started) {
      started = true;
      ctx.res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json' });
    }
    ctx.res.write(jsonLine(m));
  };
  try {
    await work(send);
  } catch (e) {
    if (!started) throw e;
    send({ errorDetail: { message: messageOf(e) }, error: messageOf(e) });
  }
  if (!started) ctx.res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json' });
  ctx.res.end();
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function repoTags(img: ImageRecord): string[] {
  return img.tags.map((t) => familiarString(parseNormalizedNamed(t)));
}

function repoDigests(img: ImageRecord): string[] {
  return img.repoDigests.map((d) => {
    const at = d.indexOf('@');
    return `${familiarString(parseNormalizedNamed(d.slice(0, at)))}${d.slice(at)}`;
  });
}

/**
 * moby's image list window: `before=IMG` and `until=TIME` keep images created
 * strictly earlier (the earliest bound wins), `since=IMG` strictly later (the
 * latest wins). An unknown image is a 404 from `createdOf`, as in moby.
 */
export function createdWindow(f: Map<string, string[]>, createdOf: (ref: string) => number, nowMs = Date.now()): { after: number | null; before: number | null } {
  let before: number | null = null;
  let after: number | null = null;
  const bound = (t: number): void => {
    if (before === null || t < before) before = t;
  };
  for (const v of f.get('before') ?? []) bound(createdOf(v));
  for (const v of f.get('until') ?? []) bound(pruneTimestamp(v, nowMs));
  for (const v of f.get('since') ?? []) {
    const t = createdOf(v);
    if (after === null || t > after) after = t;
  }
  return { after, before };
}

export function summary(img: ImageRecord, containers: number): Record<string, unknown> {
  return {
    Id: img.id,
    ParentId: img.parent,
    RepoTags: repoTags(img),
    RepoDigests: repoDigests(img),
    Created: Math.floor(Date.parse(img.created) / 1000),
    Size: img.size,
    SharedSize: -1,
    Labels: img.config.config?.Labels ?? {},
    Containers: containers,
  };
}

function inspect(img: ImageRecord): Record<string, unknown> {
  const cfg = img.config.config ?? {};
  return {
    Id: img.id,
    RepoTags: repoTags(img),
    RepoDigests: repoDigests(img),
    Parent: img.parent,
    Comment: img.config.history?.[img.config.history.length - 1]?.comment ?? '',
    Created: img.created,
    DockerVersion: '',
    Author: img.config.author ?? '',
    Config: {
      Hostname: '',
      Domainname: '',
      User: cfg.User ?? '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: cfg.Env ?? null,
      Cmd: cfg.Cmd ?? null,
      Image: '',
      Volumes: cfg.Volumes ?? null,
      WorkingDir: cfg.WorkingDir ?? '',
      Entrypoint: cfg.Entrypoint ?? null,
      OnBuild: cfg.OnBuild ?? null,
      Labels: cfg.Labels ?? null,
      ...(cfg.ExposedPorts ? { ExposedPorts: cfg.ExposedPorts } : {}),
      ...(cfg.StopSignal ? { StopSignal: cfg.StopSignal } : {}),
      ...(cfg.Healthcheck ? { Healthcheck: cfg.Healthcheck } : {}),
    },
    Architecture: img.config.architecture,
    ...(img.config.variant ? { Variant: img.config.variant } : {}),
    Os: img.config.os,
    Size: img.size,
    GraphDriver: { Name: 'overlay2', Data: null },
    RootFS: { Type: 'layers', Layers: img.config.rootfs.diff_ids },
    Metadata: { LastTagTime: img.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
}

/**
 * Docker's history: one row per history entry, a layer's unpacked size on the entries that made one;
 * as moby, the newest rows take the IDs (and tags) of the image and its parents, one per row.
 */
function history(img: ImageRecord, sizes: number[], byId: (id: string) => ImageRecord | null): Record<string, unknown>[] {
  const h = img.config.history ?? [];
  let layer = 0;
  const rows = h.map((e) => ({
    Id: '<missing>',
    Created: e.created ? Math.floor(Date.parse(e.created) / 1000) : 0,
    CreatedBy: e.created_by ?? '',
    Tags: null as string[] | null,
    Size: e.empty_layer ? 0 : (sizes[layer++] ?? 0),
    Comment: e.comment ?? '',
  }));
  const out = rows.reverse();
  let cur: ImageRecord | null = img;
  for (const row of out) {
    if (!cur) break;
    row.Id = cur.id;
    row.Tags = cur === img || cur.tags.length > 0 ? repoTags(cur) : null;
    cur = cur.parent ? byId(cur.parent) : null;
  }
  return out;
}

export function imageRoutes(
  b: ImageBackend,
  containersUsing: (imageId: string) => string[],
  dist?: DistributionBackend,
  archive?: ImageArchiveBackend,
): Route[] {
  const save = async (ctx: Ctx, names: string[]): Promise<void> => {
    if (!archive) throw new NotImplementedError('saving images is not available');
    if (names.length === 0) throw new InvalidArgumentError('no images to save');
    const platform = ctx.query.get('platform');
    const write = await archive.prepareSave(names, platform ? { platform } : {});
    ctx.res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/x-tar' });
    await write(ctx.res, ctx.signal);
    ctx.res.end();
  };
  const load = async (ctx: Ctx): Promise<void> => {
    if (!archive) throw new NotImplementedError('loading images is not available');
    const quiet = boolParam(ctx.query, 'quiet');
    await progressStream(ctx, (progress) => archive.load(ctx.req, { quiet, signal: ctx.signal, progress }));
  };

  const listImages = (ctx: Ctx): void => {
    const f = parseFilters(ctx.query.get('filters'));
    checkFilterKeys(f, ['dangling', 'label', 'before', 'since', 'reference', 'until']);
    let list = b.list();
    const dangling = f.get('dangling');
    // As moby: an untagged image others were built on is an intermediate image, shown with all=1 only;
    // dangling ones are untagged with no children.
    const danglingImg = (i: ImageRecord): boolean => i.tags.length === 0 && !b.hasChildren(i.id);
    if (dangling && dangling.length) {
      const want = dangling[0] === 'true' || dangling[0] === '1';
      list = list.filter((i) => danglingImg(i) === want);
    } else if (!boolParam(ctx.query, 'all')) {
      list = list.filter((i) => i.tags.length > 0 || !b.hasChildren(i.id));
    }
    const labels = f.get('label');
    if (labels) list = list.filter((i) => matchLabels(labels, i.config.config?.Labels));
    const refs = f.get('reference');
    if (refs) {
      const globs = refs.map((r) => new RegExp(`^${r.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(:.*)?$`));
      list = list.filter((i) => repoTags(i).some((t) => globs.some((g) => g.test(t))));
    }
    const { after, before } = createdWindow(f, (ref) => Date.parse(b.resolve(ref).created));
    if (after !== null) list = list.filter((i) => Date.parse(i.created) > after);
    if (before !== null) list = list.filter((i) => Date.parse(i.created) < before);
    ctx.json(200, list.map((i) => summary(i, containersUsing(i.id).length)));
  };

  const create = async (ctx: Ctx): Promise<void> => {
    const q = ctx.query;
    const fromSrc = q.get('fromSrc');
    if (fromSrc === null) {
      const fromImage = q.get('fromImage');
      if (!fromImage) throw new InvalidArgumentError('one of fromImage or fromSrc is required');
      if (!dist) throw new NotImplementedError('pulling images is not available');
      const tag = q.get('tag') ?? '';
      const named = parseNormalizedNamed(fromImage);
      // The API's rule: no tag anywhere means every tag (`docker pull -a`); the CLI sends "latest" otherwise.
      const allTags = tag === '' && named.tag === undefined && named.digest === undefined;
      const ref = tag ? joinTagOrDigest(fromImage, tag) : withDefaultTag(named);
      const platform = parsePlatform(q.get('platform'));
      const auth = decodeRegistryAuth(headerValue(ctx.req.headers['x-registry-auth']));
      await progressStream(ctx, async (progress) => {
        const opts: PullOptions = { platform, progress, signal: ctx.signal };
        if (auth) opts.auth = auth;
        if (allTags) await dist.pullAllTags(named, opts);
        else await dist.pull(ref, opts);
      });
      return;
    }
    if (fromSrc !== '-') throw new NotImplementedError('importing from a URL is not implemented; send the tar in the body (fromSrc=-)');
    const repo = q.get('repo') ?? '';
    const tag = q.get('tag') ?? '';
    let ref;
    if (repo) {
      ref = parseNormalizedNamed(tag ? `${repo}:${tag}` : repo);
      if (ref.digest !== undefined) throw new InvalidArgumentError('cannot import digest reference');
    }
    const changes = q.getAll('changes');
    const opts: Parameters<ImageBackend['importTar']>[1] = { changes, message: q.get('message') ?? '', signal: ctx.signal };
    if (ref) opts.ref = ref;
    // Validate everything before the status line: bad input gets a real HTTP error.
    const { applyChanges } = await import('../../images/changes.js');
    applyChanges({}, changes);
    let img: ImageRecord;
    try {
      img = await b.importTar(ctx.req, opts);
    } catch (e) {
      // Drain what the client still sends, so it reads our answer instead of a reset.
      ctx.req.resume();
      throw e;
    }
    ctx.res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json' });
    ctx.res.end(jsonLine({ status: img.id }));
  };

  /** /images/{name}/{json|history|tag|push|get} and DELETE /images/{name}. */
  const byName = async (ctx: Ctx): Promise<void> => {
    const rest = ctx.params['*'] ?? '';
    const method = ctx.req.method;
    if (method === 'DELETE') {
      const items = await b.remove(rest, { force: boolParam(ctx.query, 'force'), prune: !boolParam(ctx.query, 'noprune') }, containersUsing);
      ctx.json(200, items);
      return;
    }
    const m = /^(.+)\/(json|history|tag|push|get)$/.exec(rest);
    if (!m) throw new NotFoundError('page not found');
    const name = m[1] as string;
    const action = m[2];
    if (method === 'GET' && action === 'json') return ctx.json(200, inspect(b.resolve(name)));
    if (method === 'GET' && action === 'get') return save(ctx, [name]);
    if (method === 'GET' && action === 'history') {
      const img = b.resolve(name);
      return ctx.json(200, history(img, b.layerSizes(img), (id) => b.getById(id)));
    }
    if (method === 'POST' && action === 'tag') {
      const repo = ctx.query.get('repo') ?? '';
      const tag = ctx.query.get('tag') ?? '';
      if (!repo) throw new InvalidArgumentError('repository name must have at least one component');
      let target;
      try {
        target = withDefaultTag(parseNormalizedNamed(tag ? `${repo}:${tag}` : repo));
      } catch (e) {
        throw new InvalidArgumentError(messageOf(e));
      }
      b.tag(name, target);
      ctx.noContent(201);
      return;
    }
    if (method === 'POST' && action === 'push') {
      if (!dist) throw new NotImplementedError('pushing images is not available');
      const tag = ctx.query.get('tag') ?? '';
      let ref: Reference;
      try {
        ref = parseNormalizedNamed(tag ? `${name}:${tag}` : name);
      } catch (e) {
        throw new InvalidArgumentError(messageOf(e));
      }
      const authHeader = headerValue(ctx.req.headers['x-registry-auth']);
      const auth = decodeRegistryAuth(authHeader);
      await progressStream(ctx, async (progress) => {
        const opts: PushOptions = { progress, signal: ctx.signal };
        if (auth) opts.auth = auth;
        await dist.push(ref, opts);
      });
      return;
    }
    throw new NotFoundError('page not found');
  };

  const login = async (ctx: Ctx): Promise<void> => {
    if (!dist) throw new NotImplementedError('registry login is not available');
    const body = (await ctx.readJson()) as Record<string, unknown>;
    const auth: AuthConfig = {};
    for (const k of ['username', 'password', 'serveraddress', 'identitytoken', 'registrytoken'] as const) {
      if (typeof body[k] === 'string' && body[k] !== '') auth[k] = body[k] as string;
    }
    const identityToken = await dist.login(auth);
    ctx.json(200, { Status: 'Login Succeeded', IdentityToken: identityToken ?? '' });
  };

  return [
    post('/auth', login),
    get('/images/json', listImages),
    get('/images/get', (ctx) => save(ctx, ctx.query.getAll('names'))),
    post('/images/load', load),
    post('/images/create', create),
    get('/images/*', byName),
    post('/images/*', byName),
    del('/images/*', byName),
  ];
}
