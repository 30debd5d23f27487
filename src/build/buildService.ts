/**
 * build/buildService: the daemon's build entry points — receive a context
 * (the request body, or a remote URL: a tar, a plain Dockerfile or a git
 * repository), parse the Dockerfile, hand back a prepared build to run, and
 * clean up after it whatever happened: every mount under the build's
 * directory is detached before the directory goes. Also the cache's
 * prune and df views. Knows nothing of HTTP.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError } from '../errdefs/errors.js';
import { unmount } from '../util/mount.js';
import type { Builder, BuildResult } from './builder.js';
import type { BuildCache, CacheRecord, PruneReport } from './buildCache.js';
import { BuildContext } from './buildContext.js';
import { isGitURL, isURL } from './download.js';
import { gitContextTar } from './gitContext.js';
import { MAX_DOCKERFILE_BYTES } from './limits.js';
import type { BuildOptions } from './options.js';
import type { MessageSink } from './output.js';
import { defaultRootsFetch } from '../util/extraCaCerts.js';

export interface PreparedBuild {
  run(sink: MessageSink, signal: AbortSignal): Promise<BuildResult>;
  /** Always called: removes the context and everything the build left in its directory. */
  close(): Promise<void>;
}

/** Mount points at or below `dir`, deepest first (from /proc/self/mountinfo). */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const out: string[] = [];
  for (const line of info.split('\n')) {
    const mp = (line.split(' ')[4] ?? '').replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp === dir || mp.startsWith(`${dir}/`)) out.push(mp);
  }
  return out.sort().reverse();
}

/** Unmounts what is left under `dir`, then removes it. */
export async function removeBuildDir(dir: string): Promise<void> {
  for (const m of await mountsUnder(dir)) await unmount(m).catch(() => undefined);
  if ((await mountsUnder(dir)).length > 0) return;
  await rm(dir, { recursive: true, force: true });
}

export class BuildService {
  constructor(
    private readonly builder: Builder,
    private readonly cache: BuildCache,
    /** Largest context accepted (uncompressed tar bytes). */
    readonly maxContextBytes: number,
    /** RUN --mount=type=cache directories: `builder prune -a` empties them. */
    private readonly cacheMounts: string,
  ) {}

  /**
   * Reads the context and parses the Dockerfile; a bad context or Dockerfile throws
   * (InvalidArgument → 400) with nothing left behind.
   */
  async prepare(body: Readable, opts: BuildOptions, remote: string, signal: AbortSignal): Promise<PreparedBuild> {
    const dir = await this.builder.newBuildDir();
    let ctx: BuildContext | null = null;
    try {
      ctx = remote === '' ? await BuildContext.fromTar(body, { dir, maxBytes: this.maxContextBytes, signal }) : await this.remoteContext(remote, dir, signal);
      // berth's --secret travels in the context; no COPY may see it.
      for (const id of [...opts.secrets.keys()]) {
        const name = `.berth-secret.${id}`;
        const e = ctx.get(name);
        if (e && e.type === 'file') opts.secrets.set(id, await ctx.readFile(e));
        else opts.secrets.delete(id);
        ctx.hide(name);
      }
      const prepared = await this.builder.prepare(ctx, opts);
      return {
        run: (sink, sig) => prepared.run(sink, sig),
        close: () => removeBuildDir(dir),
      };
    } catch (e) {
      await removeBuildDir(dir);
      throw e;
    }
  }

  /** moby's Detect for `remote`: a git URL (fetched with git), or an http(s) URL of a tar or a plain Dockerfile. */
  private async remoteContext(remote: string, dir: string, signal: AbortSignal): Promise<BuildContext> {
    if (isGitURL(remote)) {
      const tar = join(dir, 'git.tar');
      await gitContextTar(remote, dir, tar, signal);
      // The checkout is packed; only the tar's index is kept, as for any context.
      await rm(join(dir, 'git'), { recursive: true, force: true });
      const ctx = await BuildContext.fromTar(createReadStream(tar), { dir: join(dir, 'ctx'), maxBytes: this.maxContextBytes, signal });
      await rm(tar, { force: true });
      return ctx;
    }
    if (!isURL(remote)) throw new InvalidArgumentError(`remoteURL (${remote}) could not be recognized as URL`);
    let res: Response;
    try {
      res = await (await defaultRootsFetch())(remote, { signal, redirect: 'follow' });
    } catch (e) {
      signal.throwIfAborted();
      throw new InvalidArgumentError(`failed to GET ${remote}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`);
    }
    if (res.status < 200 || res.status >= 400) throw new InvalidArgumentError(`failed to GET ${remote} with status ${res.status} ${res.statusText}`);
    const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const file = join(dir, 'remote');
    const limit = this.maxContextBytes;
    let n = 0;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    await pipeline(
      body,
      async function* (src: AsyncIterable<Buffer>) {
        for await (const c of src) {
          n += c.length;
          if (n > limit) throw new InvalidArgumentError(`the build context is larger than the limit of ${limit} bytes`);
          yield c;
        }
      },
      createWriteStream(file, { mode: 0o600 }),
    );
    if (type === 'text/plain') {
      if (n > MAX_DOCKERFILE_BYTES) throw new InvalidArgumentError(`the Dockerfile is larger than ${MAX_DOCKERFILE_BYTES} bytes`);
      const text = await readFile(file, 'utf8');
      await rm(file, { force: true });
      return BuildContext.withDockerfile(join(dir, 'ctx'), text);
    }
    const ctx = await BuildContext.fromTar(createReadStream(file), { dir: join(dir, 'ctx'), maxBytes: limit, signal });
    await rm(file, { force: true });
    return ctx;
  }

  async prune(all: boolean): Promise<PruneReport> {
    const report = await this.cache.prune({ all });
    if (all) await rm(this.cacheMounts, { recursive: true, force: true });
    return report;
  }

  records(): CacheRecord[] {
    return this.cache.records();
  }
}
