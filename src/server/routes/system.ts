/**
 * server/routes/system: /_ping, /version, /info — what every docker CLI call
 * starts with (version negotiation reads the ping headers).
 */
import { get, head, type Ctx, type Route, COMMON_HEADERS } from '../router.js';
import { API_VERSION, MIN_API_VERSION } from '../middleware/version.js';

export interface SystemBackend {
  version(): Promise<Record<string, unknown>>;
  info(): Promise<Record<string, unknown>>;
}

function ping(ctx: Ctx): void {
  const headers = {
    ...COMMON_HEADERS,
    'Api-Version': API_VERSION,
    'Builder-Version': '1',
    Swarm: 'inactive',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
    'Content-Type': 'text/plain; charset=utf-8',
  };
  if (ctx.req.method === 'HEAD') {
    ctx.res.writeHead(200, { ...headers, 'Content-Length': '0' });
    ctx.res.end();
    return;
  }
  ctx.res.writeHead(200, { ...headers, 'Content-Length': '2' });
  ctx.res.end('OK');
}

export function systemRoutes(b: SystemBackend): Route[] {
  return [
    get('/_ping', ping),
    head('/_ping', ping),
    get('/version', async (ctx) => ctx.json(200, { ...(await b.version()), ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION })),
    get('/info', async (ctx) => ctx.json(200, await b.info())),
  ];
}
