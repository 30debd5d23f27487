/**
 * server/routes/volumes: the volume endpoints of the Engine API —
 * GET /volumes, POST /volumes/create, GET /volumes/{name},
 * DELETE /volumes/{name}, POST /volumes/prune — translating HTTP to the
 * volume service. Request shapes are checked here; everything else is the
 * service's.
 */
import { InvalidArgumentError, UnavailableError } from '../../errdefs/errors.js';
import type { VolumeService } from '../../volumes/volumeService.js';
import { boolParam, parseFilters } from '../filters.js';
import { compareVersions } from '../middleware/version.js';
import { del, get, post, type Route } from '../router.js';

export type VolumeBackend = Pick<VolumeService, 'create' | 'get' | 'list' | 'present' | 'remove' | 'prune'>;

function stringMap(v: unknown, field: string): Record<string, string> | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw new InvalidArgumentError(`invalid JSON: ${field} must be an object of strings`);
  }
  return v as Record<string, string>;
}

export function volumeRoutes(b: VolumeBackend): Route[] {
  return [
    get('/volumes', async (ctx) => {
      const list = b.list(parseFilters(ctx.query.get('filters')));
      ctx.json(200, { Volumes: await Promise.all(list.map((v) => b.present(v))), Warnings: null });
    }),
    post('/volumes/create', async (ctx) => {
      const body = (await ctx.readJson()) ?? {};
      if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidArgumentError('invalid JSON: request body must be an object');
      const r = body as Record<string, unknown>;
      for (const k of ['Name', 'Driver']) {
        if (r[k] !== undefined && r[k] !== null && typeof r[k] !== 'string') throw new InvalidArgumentError(`invalid JSON: ${k} must be a string`);
      }
      if (r.ClusterVolumeSpec !== undefined && r.ClusterVolumeSpec !== null && compareVersions(ctx.apiVersion, '1.42') >= 0) {
        throw new UnavailableError('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
      }
      const { volume } = await b.create({
        name: (r.Name as string | undefined) ?? '',
        driver: (r.Driver as string | undefined) ?? '',
        options: stringMap(r.DriverOpts, 'DriverOpts'),
        labels: stringMap(r.Labels, 'Labels'),
      });
      ctx.json(201, await b.present(volume));
    }),
    post('/volumes/prune', async (ctx) => {
      const filters = parseFilters(ctx.query.get('filters'));
      // Before API 1.42 a prune took every unused volume, named ones too.
      if (compareVersions(ctx.apiVersion, '1.42') < 0) filters.set('all', ['true']);
      ctx.json(200, await b.prune(filters));
    }),
    get('/volumes/:name', async (ctx) => {
      ctx.json(200, await b.present(b.get(ctx.params.name ?? ''), { usage: boolParam(ctx.query, 'usage') }));
    }),
    del('/volumes/:name', async (ctx) => {
      await b.remove(ctx.params.name ?? '', { force: boolParam(ctx.query, 'force') });
      ctx.noContent();
    }),
  ];
}
