/**
 * server/routes/build: `POST /build` as the docker CLI's legacy builder sends
 * it (`DOCKER_BUILDKIT=0 docker build`): options in the query (JSON-encoded
 * buildargs/labels/cachefrom/ulimits, possibly empty strings), the context tar
 * as the body (or `remote`), credentials in `X-Registry-Config`; the answer is
 * Docker's JSON message stream. As moby's postBuild: a failure before the
 * first message is a plain HTTP error (bad context, bad Dockerfile: 400); one
 * after it is an `errorDetail` message. `q` keeps the output back and sends
 * only the image ID. A client that hangs up cancels the build.
 * Also `POST /build/prune` (builder prune).
 */
import type { Readable } from 'node:stream';
import { InvalidArgumentError, NotImplementedError, messageOf } from '../../errdefs/errors.js';
import type { AuthConfig } from '../../distribution/credentials.js';
import { parsePlatform } from '../../oci/platform.js';
import { parseNormalizedNamed, referenceString, withDefaultTag, type Reference } from '../../reference/index.js';
import type { Ulimit } from '../../containers/types.js';
import type { CacheRecord, PruneReport } from '../../build/buildCache.js';
import { RunFailedError } from '../../build/dispatchers/run.js';
import { defaultBuildOptions, type BuildOptions } from '../../build/options.js';
import type { PreparedBuild } from '../../build/buildService.js';
import type { BuildMessage } from '../../build/output.js';
import { boolParam } from '../filters.js';
import { COMMON_HEADERS, post, type Ctx, type Route } from '../router.js';
import { jsonLine, type JsonMessage } from '../streams.js';

export interface BuildBackend {
  prepare(body: Readable, opts: BuildOptions, remote: string, signal: AbortSignal): Promise<PreparedBuild>;
  prune(all: boolean): Promise<PruneReport>;
  records(): CacheRecord[];
}

function jsonParam<T>(q: URLSearchParams, name: string, what: string, check: (v: unknown) => v is T): T | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new InvalidArgumentError(`error reading ${what}: ${messageOf(e)}`);
  }
  if (v === null) return undefined;
  if (!check(v)) throw new InvalidArgumentError(`error reading ${what}: unexpected JSON`);
  return v;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function intParam(q: URLSearchParams, name: string): number {
  const v = q.get(name);
  if (v === null || v === '') return 0;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`invalid ${name}: ${v}`);
  return n;
}

/** moby's sanitizeRepoAndTags: valid references, no digests, tagged, without duplicates. */
export function sanitizeTags(names: string[]): Reference[] {
  const seen = new Set<string>();
  const out: Reference[] = [];
  for (const n of names) {
    if (n === '') continue;
    let ref: Reference;
    try {
      ref = parseNormalizedNamed(n);
    } catch (e) {
      throw new InvalidArgumentError(messageOf(e));
    }
    if (ref.digest !== undefined) throw new InvalidArgumentError('build tag cannot contain a digest');
    ref = withDefaultTag(ref);
    const key = referenceString(ref);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(ref);
    }
  }
  return out;
}

/** X-Registry-Config: base64url JSON of registry → AuthConfig; undecodable means none (as moby). */
export function decodeRegistryConfig(header: string | undefined): Record<string, AuthConfig> {
  if (!header) return {};
  try {
    const json = Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    const v = JSON.parse(json) as unknown;
    if (!isObject(v)) return {};
    const out: Record<string, AuthConfig> = {};
    for (const [k, a] of Object.entries(v)) {
      if (!isObject(a)) continue;
      const auth: AuthConfig = {};
      for (const f of ['username', 'password', 'identitytoken', 'registrytoken', 'serveraddress'] as const) {
        const s = a[f];
        if (typeof s === 'string' && s !== '') auth[f] = s;
      }
      if (typeof a['auth'] === 'string' && a['auth'] !== '' && !auth.username) {
        const plain = Buffer.from(a['auth'], 'base64').toString('utf8');
        const i = plain.indexOf(':');
        if (i > 0) {
          auth.username = plain.slice(0, i);
          auth.password = plain.slice(i + 1);
        }
      }
      out[k] = auth;
    }
    return out;
  } catch {
    return {};
  }
}

/** The query of `POST /build` → BuildOptions (400 on anything malformed, before the body is read). */
export function buildOptionsFrom(q: URLSearchParams, registryConfig: string | undefined): { opts: BuildOptions; quiet: boolean; remote: string } {
  const o = defaultBuildOptions();
  if (q.getAll('securityopt').some((s) => s !== '')) throw new InvalidArgumentError('security options are not supported on linux');
  const version = q.get('version') ?? '';
  if (version !== '' && version !== '1') {
    if (version === '2') throw new NotImplementedError('BuildKit is not supported by berth: use the legacy builder (DOCKER_BUILDKIT=0)');
    throw new InvalidArgumentError(`invalid version "${version}"`);
  }
  if (boolParam(q, 'squash')) throw new InvalidArgumentError('squash is only supported with experimental mode');
  o.dockerfile = q.get('dockerfile') || 'Dockerfile';
  o.tags = sanitizeTags(q.getAll('t'));
  o.noCache = boolParam(q, 'nocache');
  o.pull = boolParam(q, 'pull');
  o.forceRemove = boolParam(q, 'forcerm');
  const rm = q.get('rm');
  o.remove = o.forceRemove || rm === null || rm === '' ? true : boolParam(q, 'rm');
  o.target = q.get('target') ?? '';
  o.networkMode = q.get('networkmode') ?? '';
  if (!['', 'default', 'bridge', 'none', 'host'].includes(o.networkMode)) throw new InvalidArgumentError(`network ${o.networkMode} not found`);
  const platform = q.get('platform') ?? '';
  if (platform !== '') o.platform = parsePlatform(platform);
  o.extraHosts = q.getAll('extrahosts').filter((h) => h !== '');
  for (const h of o.extraHosts) if (!/^[^:]+:.+$/.test(h)) throw new InvalidArgumentError(`invalid extra host: ${h}`);
  o.shmSize = intParam(q, 'shmsize');
  o.memory = intParam(q, 'memory');
  o.memorySwap = intParam(q, 'memswap');
  o.cpuShares = intParam(q, 'cpushares');
  o.cpuPeriod = intParam(q, 'cpuperiod');
  o.cpuQuota = intParam(q, 'cpuquota');
  o.cpuSetCpus = q.get('cpusetcpus') ?? '';
  o.cpuSetMems = q.get('cpusetmems') ?? '';
  const args = jsonParam(q, 'buildargs', 'build args', isObject);
  for (const [k, v] of Object.entries(args ?? {})) {
    if (v !== null && typeof v !== 'string') throw new InvalidArgumentError(`error reading build args: the value of ${k} is not a string`);
    o.buildArgs.set(k, v);
  }
  const labels = jsonParam(q, 'labels', 'labels', isObject);
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (typeof v !== 'string') throw new InvalidArgumentError(`error reading labels: the value of ${k} is not a string`);
    o.labels[k] = v;
  }
  const cacheFrom = jsonParam(q, 'cachefrom', 'cache-from', (v): v is unknown[] => Array.isArray(v)) ?? [];
  for (const c of cacheFrom) {
    if (typeof c !== 'string') throw new InvalidArgumentError('error reading cache-from: each entry must be an image reference');
    if (c !== '') o.cacheFrom.push(c);
  }
  const ulimits = jsonParam(q, 'ulimits', 'ulimit settings', (v): v is unknown[] => Array.isArray(v)) ?? [];
  for (const u of ulimits) {
    if (!isObject(u) || typeof u['Name'] !== 'string' || typeof u['Soft'] !== 'number' || typeof u['Hard'] !== 'number') {
      throw new InvalidArgumentError('error reading ulimit settings: each ulimit needs Name, Soft and Hard');
    }
    o.ulimits.push({ Name: u['Name'], Soft: u['Soft'], Hard: u['Hard'] } as Ulimit);
  }
  const secretIds = jsonParam(q, 'berthsecrets', 'secrets', (v): v is unknown[] => Array.isArray(v)) ?? [];
  for (const id of secretIds) {
    if (typeof id !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(id)) throw new InvalidArgumentError(`invalid secret id ${JSON.stringify(id)}`);
    o.secrets.set(id, Buffer.alloc(0));
  }
  o.authConfigs = decodeRegistryConfig(registryConfig);
  return { opts: o, quiet: boolParam(q, 'q'), remote: q.get('remote') ?? '' };
}

function errorMessage(e: unknown): JsonMessage {
  const message = messageOf(e);
  return e instanceof RunFailedError ? { errorDetail: { code: e.exitCode, message }, error: message } : { errorDetail: { message }, error: message };
}

export function buildRoutes(b: BuildBackend): Route[] {
  const build = async (ctx: Ctx): Promise<void> => {
    const header = ctx.req.headers['x-registry-config'];
    const { opts, quiet, remote } = buildOptionsFrom(ctx.query, Array.isArray(header) ? header[0] : header);
    // A client that hangs up while a RUN prints nothing only half-closes the socket as far as the
    // server sees (no write fails yet): its end of the stream is the hang-up.
    const hangup = new AbortController();
    const onEnd = (): void => hangup.abort(new Error('client disconnected'));
    const socket = ctx.req.socket;
    socket.once('end', onEnd);
    const signal = AbortSignal.any([ctx.signal, hangup.signal]);
    let prepared: PreparedBuild;
    try {
      prepared = await b.prepare(ctx.req, opts, remote, signal);
    } catch (e) {
      socket.off('end', onEnd);
      // Drain what the client still sends, so it reads our answer instead of a reset.
      ctx.req.resume();
      throw e;
    }
    if (remote !== '') ctx.req.resume();
    const held: BuildMessage[] = [];
    let open = true;
    // Build output is small: a slow reader's share is buffered by Node rather than pausing the build.
    const write = (m: BuildMessage | JsonMessage): void => {
      if (open) ctx.res.write(jsonLine(m as JsonMessage));
    };
    ctx.res.on('close', () => {
      open = false;
    });
    ctx.res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    let imageId = '';
    let failure: unknown = null;
    try {
      imageId = (await prepared.run((m) => (quiet ? held.push(m) : write(m)), signal)).imageId;
    } catch (e) {
      failure = e;
    }
    socket.off('end', onEnd);
    // Cleaned up before the last message: a client that sees the end finds nothing left behind.
    await prepared.close().catch(() => undefined);
    if (failure !== null) {
      if (quiet) for (const m of held) write(m);
      write(errorMessage(failure));
    } else if (quiet) write({ stream: `${imageId}\n` });
    if (open) ctx.res.end();
  };

  const prune = async (ctx: Ctx): Promise<void> => {
    const all = boolParam(ctx.query, 'all');
    ctx.json(200, await b.prune(all));
  };

  return [post('/build', build), post('/build/prune', prune)];
}
