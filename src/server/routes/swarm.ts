/**
 * server/routes/swarm: the swarm-mode and plugin endpoints of a Docker engine
 * that is not part of a swarm — which berthd never is. Docker answers these
 * with 503 and a fixed message that clients (docker CLI, SDKs) recognise; the
 * plugin list is simply empty, since berthd loads no managed plugins.
 */
import { NotFoundError, NotImplementedError, UnavailableError } from '../../errdefs/errors.js';
import { del, get, post, type Route } from '../router.js';

/** moby's errNoSwarm, word for word: the docker CLI and SDKs print it as is. */
export const NO_SWARM_MESSAGE =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

function noSwarm(): never {
  throw new UnavailableError(NO_SWARM_MESSAGE);
}

function noSwarmSupport(): never {
  throw new UnavailableError('berthd does not support swarm mode');
}

export function swarmRoutes(): Route[] {
  const managerOnly = ['/nodes', '/services', '/tasks', '/secrets', '/configs'];
  const routes: Route[] = [
    get('/swarm', noSwarm),
    get('/swarm/unlockkey', noSwarm),
    post('/swarm/init', noSwarmSupport),
    post('/swarm/join', noSwarmSupport),
    post('/swarm/leave', () => {
      throw new UnavailableError('This node is not part of a swarm');
    }),
    post('/swarm/update', noSwarm),
    post('/swarm/unlock', noSwarm),
  ];
  for (const p of managerOnly) {
    routes.push(get(p, noSwarm), get(`${p}/:id`, noSwarm), del(`${p}/:id`, noSwarm), post(`${p}/create`, noSwarm), post(`${p}/:id/update`, noSwarm));
  }
  routes.push(get('/services/:id/logs', noSwarm), get('/tasks/:id/logs', noSwarm));
  // Plugins: none are installed, and installing them is not offered.
  routes.push(
    get('/plugins', (ctx) => ctx.json(200, [])),
    get('/plugins/:name/json', (ctx) => {
      throw new NotFoundError(`plugin "${ctx.params['name'] ?? ''}" not found`);
    }),
    get('/plugins/privileges', () => {
      throw new NotImplementedError('berthd does not support managed plugins');
    }),
    post('/plugins/pull', () => {
      throw new NotImplementedError('berthd does not support managed plugins');
    }),
    post('/plugins/create', () => {
      throw new NotImplementedError('berthd does not support managed plugins');
    }),
  );
  return routes;
}
