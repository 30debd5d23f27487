/**
 * server/routes/exec: the exec endpoints of the Engine API — create, start
 * (hijacked, stdcopy-framed unless TTY, or detached), resize and inspect —
 * translating HTTP to the exec service. No lifecycle logic here.
 */
import type { Readable } from 'node:stream';
import { InvalidArgumentError, messageOf } from '../../errdefs/errors.js';
import type { ExecService, ExecStartOptions } from '../../containers/execService.js';
import { compareVersions } from '../middleware/version.js';
import { get, post, type Ctx, type Route } from '../router.js';
import { StdStream, stdcopyFrame } from '../streams.js';

export type ExecBackend = Pick<ExecService, 'create' | 'claim' | 'start' | 'resize' | 'inspect'>;

/** Reads exactly `n` bytes from a hijacked connection (the request body precedes stdin on it). */
function readExactly(stream: Readable, n: number, signal: AbortSignal): Promise<Buffer> {
  if (n === 0) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const cleanup = (): void => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      signal.removeEventListener('abort', onEnd);
    };
    const onEnd = (): void => {
      cleanup();
      reject(new InvalidArgumentError('request body ended early'));
    };
    const onReadable = (): void => {
      for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) {
        const need = n - got;
        if (chunk.length > need) {
          parts.push(chunk.subarray(0, need));
          stream.unshift(chunk.subarray(need));
          got = n;
        } else {
          parts.push(chunk);
          got += chunk.length;
        }
        if (got >= n) {
          cleanup();
          resolve(Buffer.concat(parts));
          return;
        }
      }
    };
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    signal.addEventListener('abort', onEnd, { once: true });
    onReadable();
  });
}

function parseStartBody(raw: unknown): { detach: boolean; tty: boolean | undefined; consoleSize: [number, number] | null | undefined } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidArgumentError('invalid JSON: request body must be an object');
  const b = raw as Record<string, unknown>;
  if (b.Detach !== undefined && typeof b.Detach !== 'boolean') throw new InvalidArgumentError('invalid JSON: Detach must be a boolean');
  if (b.Tty !== undefined && typeof b.Tty !== 'boolean') throw new InvalidArgumentError('invalid JSON: Tty must be a boolean');
  const cs = b.ConsoleSize;
  if (cs !== undefined && cs !== null && !(Array.isArray(cs) && cs.length === 2 && cs.every((x) => Number.isInteger(x) && x >= 0))) {
    throw new InvalidArgumentError('invalid JSON: ConsoleSize must be [height, width]');
  }
  return { detach: b.Detach === true, tty: b.Tty as boolean | undefined, consoleSize: cs as [number, number] | null | undefined };
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`invalid value for ${name}: ${v}`);
  return n;
}

async function startExec(b: ExecBackend, ctx: Ctx): Promise<void> {
  const id = ctx.params.id ?? '';
  // Node marks requests that came through the server's 'upgrade' event.
  const upgrade = (ctx.req as { upgrade?: boolean }).upgrade === true;
  // Without an upgrade the body is an ordinary request body; with one it travels on the socket.
  let body = upgrade ? undefined : parseStartBody(await ctx.readJson());
  // 404/409 while an ordinary error response is still possible.
  const e = b.claim(id);
  const opts: ExecStartOptions = { detach: body?.detach ?? false };
  if (body?.detach) {
    if (body.consoleSize !== undefined) opts.consoleSize = body.consoleSize;
    await b.start(e, opts);
    ctx.noContent(200);
    return;
  }
  const tty = e.Tty;
  const mux = compareVersions(ctx.apiVersion, '1.42') >= 0;
  const { input, output } = ctx.hijack(tty || !mux ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
  const write = (stream: number, chunk: Buffer): void => {
    if (output.writableEnded || output.destroyed) return;
    // As moby: a non-TTY exec is always stdcopy-framed; only the content type depends on the version.
    output.write(tty ? chunk : stdcopyFrame(stream, chunk));
  };
  const end = (): void => {
    if (!output.writableEnded && !output.destroyed) output.end();
  };
  output.on('error', () => undefined);
  try {
    if (upgrade && input) {
      const len = Number(ctx.req.headers['content-length'] ?? '0');
      if (Number.isInteger(len) && len > 0) {
        const raw = await readExactly(input, len, ctx.signal);
        try {
          body = parseStartBody(JSON.parse(raw.toString('utf8') || '{}') as unknown);
        } catch (err) {
          throw new InvalidArgumentError(`invalid JSON: ${messageOf(err)}`);
        }
        if (body.consoleSize !== undefined) opts.consoleSize = body.consoleSize;
      }
    } else if (body?.consoleSize !== undefined) {
      opts.consoleSize = body.consoleSize;
    }
    await b.start(e, opts, {
      stdin: upgrade ? (input as Readable | null) : null,
      sink: {
        stdout: (buf) => write(StdStream.stdout, buf),
        stderr: (buf) => write(tty ? StdStream.stdout : StdStream.stderr, buf),
        end,
      },
      signal: ctx.signal,
    });
  } catch (err) {
    // After the hijack the status line is gone: Docker writes the error into the stream.
    write(StdStream.stdout, Buffer.from(`${messageOf(err)}\r\n`));
  } finally {
    end();
  }
}

export function execRoutes(b: ExecBackend): Route[] {
  return [
    post('/containers/:id/exec', async (ctx) => {
      const body = await ctx.readJson();
      ctx.json(201, b.create(ctx.params.id ?? '', body));
    }),
    post('/exec/:id/start', (ctx) => startExec(b, ctx)),
    post('/exec/:id/resize', async (ctx) => {
      const h = intParam(ctx.query, 'h');
      const w = intParam(ctx.query, 'w');
      if (h === undefined || w === undefined || h < 0 || w < 0) throw new InvalidArgumentError('invalid resize parameters: h and w are required');
      await b.resize(ctx.params.id ?? '', h, w);
      ctx.json(200, {});
    }),
    get('/exec/:id/json', (ctx) => {
      ctx.json(200, b.inspect(ctx.params.id ?? ''));
    }),
  ];
}
