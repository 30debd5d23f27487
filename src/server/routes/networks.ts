/**
 * server/routes/networks: the network endpoints of the Engine API
 * (`/networks`, create, inspect, remove, connect, disconnect, prune),
 * translating HTTP to the network service. No network logic here.
 */
import type { NetworkService } from '../../network/networkService.js';
import { parseFilters } from '../filters.js';
import { del, get, post, type Route } from '../router.js';

export type NetworkBackend = Pick<NetworkService, 'create' | 'list' | 'resolve' | 'view' | 'remove' | 'prune' | 'connect' | 'disconnect'>;

export function networkRoutes(b: NetworkBackend): Route[] {
  return [
    get('/networks', (ctx) => {
      const list = b.list(parseFilters(ctx.query.get('filters')));
      ctx.json(
        200,
        list.map((n) => b.view(n, false)),
      );
    }),
    post('/networks/create', async (ctx) => {
      ctx.json(201, await b.create(await ctx.readJson()));
    }),
    post('/networks/prune', async (ctx) => {
      ctx.json(200, await b.prune(parseFilters(ctx.query.get('filters'))));
    }),
    get('/networks/:id', (ctx) => {
      ctx.json(200, b.view(b.resolve(ctx.params.id ?? '')));
    }),
    del('/networks/:id', async (ctx) => {
      await b.remove(ctx.params.id ?? '');
      ctx.noContent();
    }),
    post('/networks/:id/connect', async (ctx) => {
      await b.connect(ctx.params.id ?? '', await ctx.readJson());
      ctx.noContent(200);
    }),
    post('/networks/:id/disconnect', async (ctx) => {
      await b.disconnect(ctx.params.id ?? '', await ctx.readJson());
      ctx.noContent(200);
    }),
  ];
}
