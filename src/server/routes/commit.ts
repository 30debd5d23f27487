/**
 * server/routes/commit: `POST /commit` — a container's writable layer and
 * settings become a new image (docker commit). The container is paused while
 * its layer is read, unless `pause=0`.
 */
import { PassThrough } from 'node:stream';
import { InvalidArgumentError, NotFoundError, messageOf } from '../../errdefs/errors.js';
import type { ContainerRecord } from '../../containers/types.js';
import type { ContainerConfigPart } from '../../oci/image.js';
import type { ImageRecord } from '../../images/imageStore.js';
import type { CommitRequest } from '../../images/committer.js';
import { applyChanges } from '../../images/changes.js';
import { parseNormalizedNamed, type Reference } from '../../reference/index.js';
import { boolParam } from '../filters.js';
import { post, type Route } from '../router.js';

export interface CommitBackend {
  container(ref: string): ContainerRecord;
  image(id: string): ImageRecord | null;
  upperDir(c: ContainerRecord): string;
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  writeLayer(upper: string, out: PassThrough): Promise<void>;
  commit(req: CommitRequest): Promise<ImageRecord>;
}

const CONFIG_KEYS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'Healthcheck', 'OnBuild'] as const;

export function commitRoutes(b: CommitBackend): Route[] {
  return [
    post('/commit', async (ctx) => {
      const q = ctx.query;
      const name = q.get('container') ?? '';
      if (!name) throw new InvalidArgumentError('container is required');
      const c = b.container(name);
      const repo = q.get('repo') ?? '';
      const tag = q.get('tag') ?? '';
      let ref: Reference | undefined;
      if (repo) {
        try {
          ref = parseNormalizedNamed(tag ? `${repo}:${tag}` : repo);
        } catch (e) {
          throw new InvalidArgumentError(messageOf(e));
        }
      } else if (tag) throw new InvalidArgumentError('tag is given without a repository');
      const body = (await ctx.readJson()) as Record<string, unknown>;
      const parent = b.image(c.Image);
      if (!parent) throw new NotFoundError(`No such image: ${c.Image}`);
      const config: ContainerConfigPart = {};
      for (const k of CONFIG_KEYS) {
        const v = body[k] !== undefined && body[k] !== null ? body[k] : c.Config[k];
        if (v !== undefined && v !== null) (config as Record<string, unknown>)[k] = v;
      }
      const changed = applyChanges(config, q.getAll('changes').flatMap((x) => x.split('\n')));
      const pause = q.get('pause') === null ? true : boolParam(q, 'pause');
      const paused = pause && c.State.Running && !c.State.Paused;
      if (paused) await b.pause(c.Id);
      try {
        const layer = new PassThrough();
        const writing = b.writeLayer(b.upperDir(c), layer).catch((e: unknown) => {
          layer.destroy(e as Error);
          throw e;
        });
        const req: CommitRequest = {
          parent,
          layer,
          config: changed,
          createdBy: [c.Path, ...c.Args].join(' '),
          comment: q.get('comment') ?? '',
          author: q.get('author') ?? '',
        };
        if (ref) req.ref = ref;
        const [img] = await Promise.all([b.commit(req), writing]);
        ctx.json(201, { Id: img.id });
      } finally {
        if (paused) await b.unpause(c.Id).catch(() => undefined);
      }
    }),
  ];
}
