/**
 * build/builder: a Dockerfile and its context → an image, as Docker's legacy
 * builder does it and says it (`Step N/M : …`, ` ---> <id>`, ` ---> Using
 * cache`, `Successfully built/tagged`), every step an image on the one before
 * (kept, untagged, as intermediate images), cached by content. Stages the
 * target does not need are skipped and independent stages run side by side,
 * their output kept in stage order. A failure or cancellation stops every
 * stage, waits for each to undo what it made (containers, mounts, temporary
 * files), then reports the first error.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, NotFoundError, SystemError, messageOf } from '../errdefs/errors.js';
import type { ContainerService } from '../containers/containerService.js';
import type { AuthConfig } from '../distribution/credentials.js';
import { DOCKER_HUB_AUTH_KEY } from '../distribution/credentials.js';
import type { ImageRecord, ImageStore } from '../images/imageStore.js';
import type { PullOptions } from '../images/puller.js';
import { hostPlatform } from '../oci/image.js';
import { normalizePlatform, parsePlatform, type Platform } from '../oci/platform.js';
import { familiarString, parseNormalizedNamed, withDefaultTag, type Reference } from '../reference/index.js';
import type { OverlaySnapshotter } from '../snapshots/overlaySnapshotter.js';
import { isMounted, unmount } from '../util/mount.js';
import { BuildArgs, platformArgs } from './buildArgs.js';
import type { BuildCache } from './buildCache.js';
import { CacheFromSources } from './cacheFrom.js';
import type { BuildContext } from './buildContext.js';
import type { Dockerfile, LabelInstruction, Stage } from './dockerfile/ast.js';
import { parseDockerfile, parseInstruction } from './dockerfile/parser.js';
import { processWord } from './dockerfile/shellLex.js';
import { dispatch, type Step } from './dispatchers/index.js';
import type { RunRunner } from './dispatchers/run.js';
import type { DispatchContext, StageState } from './dispatchers/types.js';
import { openImageRoot, type ImageRoot } from './imageRoot.js';
import type { BuildOptions } from './options.js';
import { OutputSequencer, outputTo, type BuildOutput, type MessageSink } from './output.js';
import { planStages } from './stagePlan.js';
import type { StepImages } from './stepImages.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface BuilderDeps {
  /** `<data-root>/build`: each build works in its own directory below. */
  dir: string;
  /** `<data-root>/build-mounts`: the directories of RUN --mount=type=cache. */
  cacheMounts: string;
  images: ImageStore;
  snapshots: OverlaySnapshotter;
  containers: ContainerService;
  cache: BuildCache;
  stepImages: StepImages;
  runner: RunRunner;
  pull(ref: Reference, opts: PullOptions): Promise<ImageRecord>;
}

export interface BuildResult {
  imageId: string;
}

function short(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** The credentials X-Registry-Config holds for `domain` (Docker Hub under its historical key too). */
export function authFor(configs: Record<string, AuthConfig>, domain: string): AuthConfig | undefined {
  const keys = domain === 'docker.io' ? [DOCKER_HUB_AUTH_KEY, 'docker.io', 'index.docker.io', 'https://index.docker.io/v1/'] : [domain, `https://${domain}`, `http://${domain}`];
  for (const k of keys) if (configs[k]) return configs[k];
  return undefined;
}

export class Builder {
  constructor(private readonly deps: BuilderDeps) {}

  /**
   * After a daemon crash: mounts under the build directory are detached and the directory
   * emptied; containers a build left are removed.
   */
  async recover(): Promise<void> {
    await mkdir(this.deps.dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.deps.dir)) {
      const bdir = join(this.deps.dir, name);
      for (const sub of await readdir(bdir).catch(() => [] as string[])) {
        const p = join(bdir, sub);
        if (await isMounted(p)) await unmount(p).catch(() => undefined);
      }
      await rm(bdir, { recursive: true, force: true }).catch(() => undefined);
    }
    for (const c of this.deps.containers.list()) {
      if (c.Config.Labels?.['berth.build'] !== undefined) await this.deps.containers.remove(c.Id, { force: true, volumes: true }).catch(() => undefined);
    }
  }

  /** A new build's own directory (context spool, mounts, downloads). */
  async newBuildDir(): Promise<string> {
    const dir = join(this.deps.dir, randomBytes(8).toString('hex'));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /**
   * Parses the Dockerfile (errors are 400s, thrown before any output) and returns the
   * function that runs the build, writing to `sink`.
   */
  async prepare(ctx: BuildContext, opts: BuildOptions): Promise<{ dockerfile: Dockerfile; run: (sink: MessageSink, signal: AbortSignal) => Promise<BuildResult> }> {
    const { name, text } = await ctx.readDockerfile(opts.dockerfile);
    const dockerfile = parseDockerfile(text, { name });
    if (dockerfile.stages.length === 0) throw new InvalidArgumentError('failed to parse Dockerfile: file with no instructions');
    const build = new Build(this.deps, ctx, opts, dockerfile);
    build.plan();
    return { dockerfile, run: (sink, signal) => build.run(sink, signal) };
  }
}

/** One build: its plan, its stages' states and results. */
class Build {
  private plan_!: ReturnType<typeof planStages>;
  private readonly args: BuildArgs;
  private readonly results = new Map<number, Promise<ImageRecord | null>>();
  private readonly settle = new Map<number, { ok: (img: ImageRecord | null) => void; fail: (e: unknown) => void }>();
  private readonly target: Platform;
  private tmpCounter = 0;
  private labelSteps: Step[] = [];
  private cacheFrom: CacheFromSources | null = null;

  constructor(
    private readonly deps: BuilderDeps,
    private readonly ctx: BuildContext,
    private readonly opts: BuildOptions,
    private readonly df: Dockerfile,
  ) {
    const host = normalizePlatform(hostPlatform());
    this.target = opts.platform ?? host;
    this.args = new BuildArgs(opts.buildArgs, platformArgs(this.target, host));
  }

  plan(): void {
    const globals = new Map<string, string>();
    for (const [k, v] of this.args.metaValues()) globals.set(k, v);
    // Meta ARGs as the build will see them, for finding stage references before it runs.
    for (const a of this.df.metaArgs) {
      for (const kv of a.args) {
        const given = this.opts.buildArgs.get(kv.key);
        let v = given ?? undefined;
        if (v === undefined && kv.value !== undefined) {
          try {
            v = processWord(kv.value, globals, this.df.escape).result;
          } catch {
            v = undefined;
          }
        }
        if (v !== undefined) globals.set(kv.key, v);
      }
    }
    const keys = Object.keys(this.opts.labels).sort();
    this.labelSteps = keys.map((k) => {
      const v = this.opts.labels[k] as string;
      const instr: LabelInstruction = { kind: 'label', original: `LABEL ${k}=${v}`, range: { startLine: 0, endLine: 0 }, flags: {}, pairs: [{ key: k, value: v }] };
      return { instr, noExpand: true };
    });
    this.plan_ = planStages(this.df, this.opts.target, globals, this.labelSteps.length);
    for (const i of this.plan_.needed) {
      const p = new Promise<ImageRecord | null>((ok, fail) => this.settle.set(i, { ok, fail }));
      // Only stages that use this one await it; a failure is reported by the stage itself.
      p.catch(() => undefined);
      this.results.set(i, p);
    }
  }

  async run(sink: MessageSink, outer: AbortSignal): Promise<BuildResult> {
    const ac = new AbortController();
    const onOuter = (): void => ac.abort(outer.reason);
    outer.addEventListener('abort', onOuter, { once: true });
    const signal = ac.signal;
    const out = outputTo(sink);
    const p = this.plan_;
    try {
      for (const w of this.df.warnings ?? []) out.err(`[WARNING]: ${w}\n`);
      if ((this.df.warnings ?? []).length > 0) out.err('[WARNING]: Empty continuation lines will become errors in a future release.\n');
      let n = 1;
      for (const a of this.df.metaArgs) {
        out.out(`Step ${n++}/${p.total} : ${a.original}\n`);
        const env = this.args.allowedValues();
        for (const kv of a.args) {
          const v = kv.value === undefined ? undefined : processWord(kv.value, env, this.df.escape).result;
          this.args.addMetaArg(kv.key, v);
        }
      }
      this.cacheFrom = this.cacheSources();
      const seq = new OutputSequencer(sink);
      const tasks = p.needed.map((i) => {
        const slot = seq.slot();
        return this.runStage(i, outputTo(slot.sink), signal).then(
          (img) => {
            slot.close();
            return img;
          },
          (e: unknown) => {
            ac.abort(e);
            slot.close();
            throw e;
          },
        );
      });
      const settled = await Promise.allSettled(tasks);
      seq.flushAll();
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) {
        // The first real failure, not the cancellations it caused.
        const errors = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
        const first = outer.aborted ? new SystemError('Build cancelled') : (errors.find((e) => !(e instanceof DOMException && e.name === 'AbortError')) ?? errors[0]);
        throw first;
      }
      const last = settled[settled.length - 1] as PromiseFulfilledResult<ImageRecord | null>;
      const img = last.value;
      const unused = this.args.unconsumed();
      if (unused.length > 0) out.out(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
      if (!img) throw new SystemError('No image was generated. Is your Dockerfile empty?');
      out.out(`Successfully built ${short(img.id)}\n`);
      for (const ref of this.opts.tags) {
        this.deps.images.tag(img.id, ref);
        out.out(`Successfully tagged ${familiarString(ref)}\n`);
      }
      return { imageId: img.id };
    } finally {
      outer.removeEventListener('abort', onOuter);
    }
  }

  private dispatchContext(out: BuildOutput, signal: AbortSignal, roots: ImageRoot[]): DispatchContext {
    return {
      out,
      signal,
      opts: this.opts,
      context: this.ctx,
      cache: this.deps.cache,
      cacheFrom: this.cacheFrom,
      stepImages: this.deps.stepImages,
      runner: this.deps.runner,
      openRoot: async (img) => {
        const root = await openImageRoot(img, join(this.ctx.dir, `mnt-${this.tmpCounter++}`), { images: this.deps.images, snapshots: this.deps.snapshots });
        roots.push(root);
        return {
          path: root.path,
          release: async () => {
            const i = roots.indexOf(root);
            if (i >= 0) roots.splice(i, 1);
            await root.release();
          },
        };
      },
      fromImage: (name, s) => this.fromImage(name, s, out, signal),
      tempDir: async () => {
        const d = join(this.ctx.dir, `tmp-${this.tmpCounter++}`);
        await mkdir(d, { recursive: true, mode: 0o700 });
        return d;
      },
      cacheMount: async (id, owner) => {
        const d = join(this.deps.cacheMounts, createHash('sha256').update(id).digest('hex').slice(0, 32));
        if (!existsSync(d)) {
          await mkdir(d, { recursive: true, mode: owner.mode });
          await chown(d, owner.uid, owner.gid);
          await chmod(d, owner.mode);
        }
        return d;
      },
    };
  }

  private async runStage(i: number, out: BuildOutput, signal: AbortSignal): Promise<ImageRecord | null> {
    const p = this.plan_;
    const stage = p.stages[i] as Stage;
    const roots: ImageRoot[] = [];
    const d = this.dispatchContext(out, signal, roots);
    try {
      let n = p.firstStep.get(i) as number;
      out.out(`Step ${n++}/${p.total} : ${stage.from.original}\n`);
      const s = await this.initializeStage(d, stage);
      out.out(` ---> ${short(s.image?.id ?? '')}\n`);
      const steps: Step[] = stage.instructions.map((instr) => ({ instr }));
      if (i === p.target) steps.push(...this.labelSteps);
      for (const step of steps) {
        if (signal.aborted) {
          out.out('Build cancelled\n');
          signal.throwIfAborted();
        }
        out.out(`Step ${n++}/${p.total} : ${step.instr.original}\n`);
        await dispatch(d, s, step);
        out.out(` ---> ${short(s.image?.id ?? '')}\n`);
      }
      if (s.image) out.aux(s.image.id);
      this.settle.get(i)?.ok(s.image);
      return s.image;
    } catch (e) {
      this.settle.get(i)?.fail(e);
      throw e;
    } finally {
      for (const r of [...roots]) await r.release().catch(() => undefined);
    }
  }

  /** moby's initializeStage: the base (an earlier stage, scratch, or an image pulled if missing), then its ONBUILD triggers. */
  private async initializeStage(d: DispatchContext, stage: Stage): Promise<StageState> {
    const meta = this.args.metaValues();
    let platform: Platform | null = null;
    if (stage.from.platform !== undefined) {
      const v = processWord(stage.from.platform, meta, this.df.escape).result;
      try {
        platform = parsePlatform(v);
      } catch (e) {
        throw new InvalidArgumentError(`failed to parse platform ${v}: ${messageOf(e)}`);
      }
    }
    const name = processWord(stage.from.image, meta, this.df.escape).result;
    if (name === '') throw new InvalidArgumentError(`base name (${stage.from.image}) should not be blank`);
    let img: ImageRecord | null = null;
    const j = this.stageIndexByName(name, stage.index);
    if (j !== null) img = await this.stageResult(j);
    else if (name.toLowerCase() !== 'scratch') img = await this.baseImage(name, platform ?? this.opts.platform, d.out, d.signal);
    const cfg = img ? structuredClone(img.config.config ?? {}) : {};
    const s: StageState = {
      name: stage.name ?? '',
      index: stage.index,
      image: img,
      runConfig: cfg,
      platform: img ? { os: img.config.os, architecture: img.config.architecture, ...(img.config.variant ? { variant: img.config.variant } : {}) } : (platform ?? this.target),
      args: this.args.forStage(),
      maintainer: '',
      cmdSet: false,
      cacheBusted: false,
      escape: this.df.escape,
    };
    if (!(s.runConfig.Env ?? []).some((e) => e.startsWith('PATH='))) s.runConfig.Env = [...(s.runConfig.Env ?? []), DEFAULT_PATH];
    const triggers = s.runConfig.OnBuild ?? [];
    if (triggers.length > 0) {
      s.runConfig.OnBuild = null;
      d.out.out(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      for (const t of triggers) {
        const instr = parseInstruction(t);
        await dispatch(d, s, { instr });
      }
    }
    return s;
  }

  /** moby's NewImageCache: `--cache-from` names that are not local images are skipped, not errors. */
  private cacheSources(): CacheFromSources | null {
    const found: ImageRecord[] = [];
    for (const name of this.opts.cacheFrom) {
      try {
        const img = this.deps.images.resolve(name);
        if (!found.some((f) => f.id === img.id)) found.push(img);
      } catch (e) {
        if (!(e instanceof NotFoundError) && !(e instanceof InvalidArgumentError)) throw e;
      }
    }
    return found.length > 0 ? new CacheFromSources(found) : null;
  }

  private stageIndexByName(name: string, before: number): number | null {
    const lower = name.toLowerCase();
    for (let j = before - 1; j >= 0; j--) if (this.plan_.stages[j]?.name === lower) return j;
    return null;
  }

  private async stageResult(j: number): Promise<ImageRecord | null> {
    const r = this.results.get(j);
    if (!r) throw new SystemError(`stage ${j} is not part of this build`);
    return r;
  }

  /** moby's stages.get + imageSources.Get for `COPY --from`. */
  private async fromImage(word: string, s: StageState, out: BuildOutput, signal: AbortSignal): Promise<ImageRecord | null> {
    const j = this.stageIndexByName(word, s.index);
    if (j !== null) return this.stageResult(j);
    if (/^-?\d+$/.test(word)) {
      const ix = Number(word);
      if (ix === s.index) throw new InvalidArgumentError('refers to current build stage');
      if (ix < 0 || ix > s.index) throw new InvalidArgumentError('index out of bounds');
      return this.stageResult(ix);
    }
    return this.baseImage(word, this.opts.platform, out, signal);
  }

  /** An image by reference: the local one unless `--pull`, else pulled (moby's PullOptionPreferLocal). */
  private async baseImage(name: string, platform: Platform | null, out: BuildOutput, signal: AbortSignal): Promise<ImageRecord> {
    let ref: Reference;
    try {
      ref = withDefaultTag(parseNormalizedNamed(name));
    } catch (e) {
      throw new InvalidArgumentError(messageOf(e));
    }
    if (!this.opts.pull) {
      try {
        const local = this.deps.images.resolve(name);
        const want = platform;
        if (!want || (normalizePlatform({ os: local.config.os, architecture: local.config.architecture, ...(local.config.variant ? { variant: local.config.variant } : {}) }).architecture === want.architecture)) return local;
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
    const auth = authFor(this.opts.authConfigs, ref.domain);
    const popts: PullOptions = { platform: platform ?? this.target, progress: (m) => out.progress(m), signal };
    if (auth) popts.auth = auth;
    return this.deps.pull(ref, popts);
  }
}
