/**
 * server/routes/containers: the container endpoints of the Engine API,
 * translating HTTP (query params, hijacked streams, stdcopy framing) to the
 * container service. No lifecycle logic here.
 */
import { PassThrough, type Readable } from 'node:stream';
import { InvalidArgumentError } from '../../errdefs/errors.js';
import type { ContainerService, WaitCondition } from '../../containers/containerService.js';
import { inspectContainer, summarizeContainer } from '../../containers/presenters.js';
import { usesVolume } from '../../containers/mountPoints.js';
import type { ContainerRecord } from '../../containers/types.js';
import { boolParam, checkFilterKeys, matchLabels, parseFilters } from '../filters.js';
import { del, get, head, post, put, type Ctx, type Route, COMMON_HEADERS } from '../router.js';
import { StdStream, stdcopyFrame } from '../streams.js';
import { compareVersions } from '../middleware/version.js';
import { parseTimestampNs } from '../../runtime/logs.js';
import { detachKeysToBytes } from '../../util/escapeKeys.js';

export type ContainerBackend = Pick<
  ContainerService,
  | 'create'
  | 'start'
  | 'stop'
  | 'restart'
  | 'kill'
  | 'pause'
  | 'unpause'
  | 'rename'
  | 'update'
  | 'wait'
  | 'remove'
  | 'attach'
  | 'resize'
  | 'logs'
  | 'get'
  | 'list'
  | 'dir'
  | 'logPath'
  | 'graphDriver'
  | 'archiveStat'
  | 'archiveGet'
  | 'archivePut'
  | 'changes'
  | 'export'
  | 'prune'
  | 'networkView'
> & { execs: Pick<ContainerService['execs'], 'idsFor'>; stats: Pick<ContainerService['stats'], 'sample' | 'stream' | 'top'> };

/** Resolves an image ID to the name the user knows it by, for `ps`. */
export type ImageNamer = (imageId: string, configured: string) => string;

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`invalid value for ${name}: ${v}`);
  return n;
}

/**
 * Docker's `since`/`until` as nanoseconds: unix seconds with up to nine fraction digits (what the
 * CLIs send, to the nanosecond of a `logs -t` timestamp) or RFC 3339.
 */
function timeParam(q: URLSearchParams, name: string): bigint | undefined {
  const v = q.get(name);
  if (v === null || v === '' || v === '0') return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m) return BigInt(m[1] ?? '0') * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
  const ns = parseTimestampNs(v);
  if (ns !== null) return ns;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError(`invalid value for ${name}: ${v}`);
  return BigInt(d.getTime()) * 1_000_000n;
}

/** Docker's log timestamps: RFC 3339 in UTC with exactly nine fraction digits. */
function dockerTimestamp(ts: string): string {
  const ns = parseTimestampNs(ts);
  if (ns === null) return ts;
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
}

/** Consumes what is left of a request body (bounded: 64 MiB, 30 s). */
function drain(req: Readable): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let n = 0;
    const done = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      resolve();
    };
    const onData = (c: Buffer): void => {
      n += c.length;
      if (n > 64 * 1024 * 1024) done();
    };
    const timer = setTimeout(done, 30_000);
    req.on('data', onData);
    req.once('end', done);
    req.once('close', done);
    req.once('error', done);
    req.resume();
  });
}

/** X-Docker-Container-Path-Stat: base64 of the stat JSON. */
function statHeader(st: object): string {
  return Buffer.from(JSON.stringify(st)).toString('base64');
}

/** moby's create route: mount options newer than the client's API version are refused, not ignored. */
function checkMountsForVersion(body: unknown, version: string): void {
  const mounts = (body as { HostConfig?: { Mounts?: unknown } } | null)?.HostConfig?.Mounts;
  if (!Array.isArray(mounts)) return;
  for (const m of mounts as Array<{ Type?: unknown; BindOptions?: { ReadOnlyForceRecursive?: unknown } | null; VolumeOptions?: { Subpath?: unknown } | null } | null>) {
    if (compareVersions(version, '1.44') < 0 && m?.Type === 'bind' && m.BindOptions?.ReadOnlyForceRecursive === true) {
      throw new InvalidArgumentError('BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer');
    }
    if (compareVersions(version, '1.45') < 0 && typeof m?.VolumeOptions?.Subpath === 'string' && m.VolumeOptions.Subpath !== '') {
      throw new InvalidArgumentError('VolumeOptions.Subpath needs API v1.45 or newer');
    }
  }
}

function multiplexed(ctx: Ctx): boolean {
  return compareVersions(ctx.apiVersion, '1.42') >= 0;
}

function filterContainers(list: ContainerRecord[], ctx: Ctx): ContainerRecord[] {
  const f = parseFilters(ctx.query.get('filters'));
  checkFilterKeys(f, ['id', 'name', 'status', 'label', 'exited', 'ancestor', 'before', 'since', 'network', 'health', 'is-task', 'volume', 'publish', 'expose', 'isolation']);
  const limit = intParam(ctx.query, 'limit');
  // As Docker: a limit (`ps -n N`, `ps -l`) covers stopped containers too.
  const all = boolParam(ctx.query, 'all') || (limit !== undefined && limit > 0);
  let out = list;
  const status = f.get('status');
  if (status) {
    for (const s of status) {
      if (!['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'].includes(s)) {
        throw new InvalidArgumentError(`invalid filter 'status=${s}'`);
      }
    }
    out = out.filter((c) => status.includes(c.State.Status));
  } else if (!all) {
    out = out.filter((c) => c.State.Running || c.State.Restarting);
  }
  const ids = f.get('id');
  if (ids) out = out.filter((c) => ids.some((i) => c.Id.startsWith(i)));
  const names = f.get('name');
  if (names) out = out.filter((c) => names.some((n) => new RegExp(n.replace(/^\//, '')).test(c.Name.slice(1))));
  const exited = f.get('exited');
  if (exited) out = out.filter((c) => c.State.Status === 'exited' && exited.includes(String(c.State.ExitCode)));
  const labels = f.get('label');
  if (labels) out = out.filter((c) => matchLabels(labels, c.Config.Labels));
  const ancestors = f.get('ancestor');
  if (ancestors) out = out.filter((c) => ancestors.some((a) => c.Config.Image === a || c.Image === a || c.Image.startsWith(`sha256:${a}`)));
  const volumes = f.get('volume');
  if (volumes) out = out.filter((c) => volumes.some((v) => usesVolume(c, v)));
  const health = f.get('health');
  if (health) {
    for (const h of health) {
      if (!['starting', 'healthy', 'unhealthy', 'none'].includes(h)) {
        throw new InvalidArgumentError(`Unrecognised filter value for health: ${h}`);
      }
    }
    out = out.filter((c) => {
      const st = c.State.Running && c.State.Health ? c.State.Health.Status : 'none';
      return health.includes(st);
    });
  }
  if (limit !== undefined && limit > 0) out = out.slice(0, limit);
  return out;
}

export function containerRoutes(b: ContainerBackend, imageName: ImageNamer): Route[] {
  return [
    post('/containers/create', async (ctx) => {
      const body = await ctx.readJson();
      const name = ctx.query.get('name') ?? undefined;
      const old = compareVersions(ctx.apiVersion, '1.44') < 0;
      checkMountsForVersion(body, ctx.apiVersion);
      ctx.json(201, await b.create(name || undefined, body, { defaultReadOnlyNonRecursive: old }));
    }),
    get('/containers/json', (ctx) => {
      const list = filterContainers(b.list(), ctx);
      // Containers share a few images: name each (image, configured name) pair once per
      // request, not once per container (an image lookup is a SQLite read plus a config parse).
      const names = new Map<string, string>();
      const nameOf = (c: ContainerRecord): string => {
        const key = `${c.Image}\n${c.Config.Image ?? ''}`;
        let n = names.get(key);
        if (n === undefined) {
          n = imageName(c.Image, c.Config.Image ?? '');
          names.set(key, n);
        }
        return n;
      };
      ctx.json(
        200,
        list.map((c) => summarizeContainer(c, nameOf(c), b.networkView(c))),
      );
    }),
    get('/containers/:id/json', (ctx) => {
      const c = b.get(ctx.params.id ?? '');
      ctx.json(200, inspectContainer(c, b.dir(c.Id), b.logPath(c.Id), b.execs.idsFor(c.Id), b.networkView(c), b.graphDriver(c)));
    }),
    post('/containers/:id/start', async (ctx) => {
      await b.start(ctx.params.id ?? '');
      ctx.noContent();
    }),
    post('/containers/:id/stop', async (ctx) => {
      const t = intParam(ctx.query, 't') ?? intParam(ctx.query, 'timeout');
      const opts: { timeout?: number; signal?: string } = {};
      if (t !== undefined) opts.timeout = t;
      const sig = ctx.query.get('signal');
      if (sig) opts.signal = sig;
      await b.stop(ctx.params.id ?? '', opts);
      ctx.noContent();
    }),
    post('/containers/:id/restart', async (ctx) => {
      const t = intParam(ctx.query, 't') ?? intParam(ctx.query, 'timeout');
      const opts: { timeout?: number; signal?: string } = {};
      if (t !== undefined) opts.timeout = t;
      const sig = ctx.query.get('signal');
      if (sig) opts.signal = sig;
      await b.restart(ctx.params.id ?? '', opts);
      ctx.noContent();
    }),
    post('/containers/:id/pause', async (ctx) => {
      await b.pause(ctx.params.id ?? '');
      ctx.noContent();
    }),
    post('/containers/:id/unpause', async (ctx) => {
      await b.unpause(ctx.params.id ?? '');
      ctx.noContent();
    }),
    post('/containers/:id/rename', async (ctx) => {
      await b.rename(ctx.params.id ?? '', ctx.query.get('name') ?? '');
      ctx.noContent();
    }),
    post('/containers/:id/update', async (ctx) => {
      const body = await ctx.readJson();
      ctx.json(200, await b.update(ctx.params.id ?? '', body));
    }),
    post('/containers/:id/kill', async (ctx) => {
      await b.kill(ctx.params.id ?? '', ctx.query.get('signal') ?? undefined);
      ctx.noContent();
    }),
    post('/containers/:id/wait', async (ctx) => {
      const cond = (ctx.query.get('condition') || 'not-running') as WaitCondition;
      if (!['not-running', 'next-exit', 'removed'].includes(cond)) {
        throw new InvalidArgumentError(`invalid condition: "${cond}"`);
      }
      const pending = b.wait(ctx.params.id ?? '', cond, ctx.signal);
      // Headers go out at once: the docker CLI starts the container only after the wait is registered.
      ctx.res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json' });
      ctx.res.flushHeaders();
      const result = await pending;
      ctx.res.end(`${JSON.stringify(result)}\n`);
    }),
    del('/containers/:id', async (ctx) => {
      await b.remove(ctx.params.id ?? '', { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') });
      ctx.noContent();
    }),
    post('/containers/:id/resize', async (ctx) => {
      const h = intParam(ctx.query, 'h');
      const w = intParam(ctx.query, 'w');
      if (h === undefined || w === undefined || h < 0 || w < 0) throw new InvalidArgumentError('invalid resize parameters: h and w are required');
      await b.resize(ctx.params.id ?? '', h, w);
      ctx.json(200, {});
    }),
    post('/containers/:id/attach', async (ctx) => {
      const c = b.get(ctx.params.id ?? '');
      const tty = c.Config.Tty === true;
      const wantStdin = boolParam(ctx.query, 'stdin');
      const wantStdout = boolParam(ctx.query, 'stdout');
      const wantStderr = boolParam(ctx.query, 'stderr');
      const wantLogs = boolParam(ctx.query, 'logs');
      const wantStream = boolParam(ctx.query, 'stream');
      const mux = !tty && multiplexed(ctx);
      const keysParam = ctx.query.get('detachKeys') ?? '';
      let detachKeys: number[] | undefined;
      try {
        if (keysParam !== '') detachKeys = detachKeysToBytes(keysParam);
      } catch {
        throw new InvalidArgumentError(`Invalid detach keys (${keysParam}) provided`);
      }
      const { input, output } = ctx.hijack(
        tty ? 'application/vnd.docker.raw-stream' : mux ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream',
      );
      await new Promise<void>((resolve) => {
        const write = (stream: number, chunk: Buffer): void => {
          if (output.writableEnded || output.destroyed) return;
          // As moby: a non-TTY stream is always stdcopy-framed; only the content type depends on the version.
          output.write(tty ? chunk : stdcopyFrame(stream, chunk));
        };
        const done = (): void => {
          if (!output.writableEnded && !output.destroyed) output.end();
          resolve();
        };
        const sink = {
          ...(wantStdout ? { stdout: (b2: Buffer) => write(StdStream.stdout, b2) } : {}),
          ...(wantStderr ? { stderr: (b2: Buffer) => write(tty ? StdStream.stdout : StdStream.stderr, b2) } : {}),
          end: done,
        };
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        output.on('error', () => resolve());
        // As moby: `logs` replays what the container has logged so far, then `stream` (false
        // unless asked for) goes on with the live output; without it the answer ends here.
        const replay = async (): Promise<void> => {
          if (!wantLogs || (!wantStdout && !wantStderr)) return;
          const { entries } = b.logs(c.Id, { follow: false, stdout: wantStdout, stderr: wantStderr, tail: -1, signal: ctx.signal });
          for await (const e of entries) {
            if (e.stream === 'stdout' ? !wantStdout : !wantStderr) continue;
            write(e.stream === 'stdout' || tty ? StdStream.stdout : StdStream.stderr, e.data);
          }
        };
        replay().then(
          () => {
            if (!wantStream) return done();
            return b.attach(c.Id, { stdin: wantStdin ? (input as Readable | null) : null, sink, signal: ctx.signal, ...(detachKeys ? { detachKeys } : {}) });
          },
          () => done(),
        ).catch(() => done());
      });
    }),
    get('/containers/:id/stats', async (ctx) => {
      const id = ctx.params.id ?? '';
      // stream defaults to true; one-shot (or stream=false) answers once, at once.
      const streamRaw = ctx.query.get('stream');
      const stream = !(streamRaw !== null && streamRaw !== '' && !boolParam(ctx.query, 'stream')) && !boolParam(ctx.query, 'one-shot');
      if (!stream) {
        const doc = await b.stats.sample(id);
        const text = `${JSON.stringify(doc)}\n`;
        ctx.res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        ctx.res.end(text);
        return;
      }
      b.get(id);
      ctx.res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json' });
      ctx.res.flushHeaders();
      for await (const doc of b.stats.stream(id, ctx.signal)) {
        if (ctx.res.destroyed) break;
        ctx.res.write(`${JSON.stringify(doc)}\n`);
      }
      ctx.res.end();
    }),
    head('/containers/:id/archive', async (ctx) => {
      const st = await b.archiveStat(ctx.params.id ?? '', ctx.query.get('path') ?? '');
      ctx.res.writeHead(200, { ...COMMON_HEADERS, 'X-Docker-Container-Path-Stat': statHeader(st) });
      ctx.res.end();
    }),
    get('/containers/:id/archive', async (ctx) => {
      await b.archiveGet(ctx.params.id ?? '', ctx.query.get('path') ?? '', ctx.res, (st) => {
        ctx.res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': statHeader(st) });
      });
    }),
    put('/containers/:id/archive', async (ctx) => {
      // The tar reader destroys its input when it stops early; that must not be the request
      // (a destroyed request takes its socket, and the answer, with it).
      const body = new PassThrough();
      ctx.req.pipe(body);
      try {
        await b.archivePut(ctx.params.id ?? '', ctx.query.get('path') ?? '', body, {
          noOverwriteDirNonDir: boolParam(ctx.query, 'noOverwriteDirNonDir'),
          copyUIDGID: boolParam(ctx.query, 'copyUIDGID'),
        });
      } catch (e) {
        // Read the rest of a refused upload, so the (keep-alive) connection stays usable.
        ctx.req.unpipe(body);
        await drain(ctx.req);
        throw e;
      }
      ctx.json(200, {});
    }),
    get('/containers/:id/changes', async (ctx) => {
      const changes = await b.changes(ctx.params.id ?? '');
      ctx.json(200, changes.length > 0 ? changes : null);
    }),
    get('/containers/:id/export', async (ctx) => {
      let started = false;
      const out = ctx.res;
      const origWrite = out.write.bind(out);
      // Headers go out with the first tar bytes, so an early error is still an HTTP error.
      out.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
        if (!started) {
          started = true;
          out.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/x-tar' });
        }
        return (origWrite as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof out.write;
      await b.export(ctx.params.id ?? '', out);
    }),
    post('/containers/prune', async (ctx) => {
      ctx.json(200, await b.prune(parseFilters(ctx.query.get('filters'))));
    }),
    get('/containers/:id/top', async (ctx) => {
      ctx.json(200, await b.stats.top(ctx.params.id ?? '', ctx.query.get('ps_args') ?? ''));
    }),
    get('/containers/:id/logs', async (ctx) => {
      const q = ctx.query;
      const stdout = boolParam(q, 'stdout');
      const stderr = boolParam(q, 'stderr');
      if (!stdout && !stderr) throw new InvalidArgumentError('Bad parameters: you must choose at least one stream');
      const tailRaw = q.get('tail');
      const tail = tailRaw === null || tailRaw === '' || tailRaw === 'all' ? -1 : Number(tailRaw);
      if (!Number.isInteger(tail)) throw new InvalidArgumentError(`invalid value for tail: ${tailRaw}`);
      const req: Parameters<ContainerBackend['logs']>[1] = {
        follow: boolParam(q, 'follow'),
        stdout,
        stderr,
        tail,
        signal: ctx.signal,
      };
      const since = timeParam(q, 'since');
      const until = timeParam(q, 'until');
      if (since !== undefined) req.since = since;
      if (until !== undefined) req.until = until;
      const timestamps = boolParam(q, 'timestamps');
      const { tty, entries } = b.logs(ctx.params.id ?? '', req);
      // As moby: frames whenever there is no TTY; the content type says so from API 1.42.
      const mux = !tty;
      ctx.res.writeHead(200, {
        ...COMMON_HEADERS,
        'Content-Type': mux && multiplexed(ctx) ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream',
      });
      ctx.res.flushHeaders();
      for await (const e of entries) {
        if ((e.stream === 'stdout' && !stdout) || (e.stream === 'stderr' && !stderr)) continue;
        const data = timestamps ? Buffer.concat([Buffer.from(`${dockerTimestamp(e.timeNano)} `), e.data]) : e.data;
        const chunk = mux ? stdcopyFrame(e.stream === 'stdout' ? StdStream.stdout : StdStream.stderr, data) : data;
        if (!ctx.res.write(chunk)) await new Promise((r) => ctx.res.once('drain', r));
        if (ctx.signal.aborted) break;
      }
      ctx.res.end();
    }),
  ];
}
