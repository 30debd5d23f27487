/**
 * build/dispatchers/run: RUN, as moby's dispatchRun — the command through the
 * stage's SHELL (or exec form as given), the stage's ENV plus its allowed
 * build args, no entrypoint, no healthcheck — executed as a real container
 * from the step's image through the container service, its output streamed,
 * its writable layer committed as the step's image, the container removed.
 * BuildKit's heredocs (`RUN <<EOF`) and `--network` are honoured. The history
 * and cache see the command as `|N K=V… /bin/sh -c cmd` (prependEnvOnCmd).
 * A failure or a cancelled build removes the container; nothing is left.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readlinkSync } from 'node:fs';
import { chmod, chown, lstat, readdir, rmdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { PassThrough, Readable } from 'node:stream';
import { SystemError, messageOf } from '../../errdefs/errors.js';
import type { ContainerService } from '../../containers/containerService.js';
import type { HostConfig } from '../../containers/types.js';
import type { ImageRecord } from '../../images/imageStore.js';
import type { OverlaySnapshotter } from '../../snapshots/overlaySnapshotter.js';
import { writeUpperAsLayer } from '../../archive/upperToLayer.js';
import type { RunInstruction } from '../dockerfile/ast.js';
import { parseHeredocWord } from '../dockerfile/parser.js';
import { parseMount, type RunMount } from '../dockerfile/runFlags.js';
import { resolveInScope } from '../scopedPath.js';
import { prependEnvOnCmd } from '../buildArgs.js';
import type { BuildOutput } from '../output.js';
import { cachedStep, Expander, shellOf, type CacheFromUse } from './common.js';
import { resolveCmdLine } from './metadata.js';
import type { DispatchContext, StageState } from './types.js';

/** A RUN whose command exited non-zero: the JSON error carries the exit code (jsonmessage.JSONError). */
export class RunFailedError extends SystemError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface RunSpec {
  image: ImageRecord;
  cmd: string[];
  env: string[];
  workingDir: string;
  user: string;
  hostConfig: HostConfig;
  /** Fed to the command's stdin (a heredoc script run by its interpreter). */
  stdin?: Buffer;
  /** Keep the container after success (`rm=0`). */
  keep: boolean;
  /** Where build mounts were: the empty mount points runc made there are not part of the layer. */
  mountTargets?: string[];
}

export interface RunRunner {
  /**
   * Runs `spec` in a new container, streaming its output to `out`; on exit 0 hands the
   * container's upper directory to `commit`. The container is removed afterwards (unless
   * `keep` and it succeeded) and at once when `signal` aborts.
   */
  run(spec: RunSpec, out: BuildOutput, signal: AbortSignal, commit: (upperDir: string) => Promise<ImageRecord>): Promise<ImageRecord>;
}

/** Waits at most `ms` for `p` (output still in flight after the exit). */
function within(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    void p.then(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

export class ContainerRunRunner implements RunRunner {
  constructor(
    private readonly containers: ContainerService,
    private readonly snapshots: OverlaySnapshotter,
  ) {}

  async run(spec: RunSpec, out: BuildOutput, signal: AbortSignal, commit: (upperDir: string) => Promise<ImageRecord>): Promise<ImageRecord> {
    signal.throwIfAborted();
    const body: Record<string, unknown> = {
      Image: spec.image.id,
      Cmd: spec.cmd,
      Entrypoint: [''],
      Env: spec.env,
      WorkingDir: spec.workingDir,
      User: spec.user,
      Healthcheck: { Test: ['NONE'] },
      AttachStdout: true,
      AttachStderr: true,
      Labels: { 'berth.build': 'step' },
      HostConfig: spec.hostConfig,
    };
    if (spec.stdin) Object.assign(body, { OpenStdin: true, StdinOnce: true, AttachStdin: true });
    const { Id: id } = await this.containers.create(undefined, body);
    out.out(` ---> Running in ${id.slice(0, 12)}\n`);
    let removing: Promise<void> | null = null;
    const remove = (): Promise<void> => (removing ??= this.containers.remove(id, { force: true, volumes: true }).catch(() => undefined));
    const onAbort = (): void => void remove();
    signal.addEventListener('abort', onAbort, { once: true });
    let ok = false;
    try {
      const dec = { out: new StringDecoder('utf8'), err: new StringDecoder('utf8') };
      let ended!: () => void;
      const done = new Promise<void>((r) => (ended = r));
      const stdin = spec.stdin ? Readable.from([spec.stdin]) : null;
      await this.containers.attach(id, {
        stdin,
        signal,
        sink: {
          stdout: (b) => out.out(dec.out.write(b)),
          stderr: (b) => out.err(dec.err.write(b)),
          end: () => ended(),
        },
      });
      const waiting = this.containers.wait(id, 'next-exit', signal);
      // An aborted wait never resolves: the abort itself ends the step.
      const aborted = new Promise<never>((_resolve, reject) => {
        if (signal.aborted) reject(signal.reason as Error);
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      });
      aborted.catch(() => undefined);
      await Promise.race([this.containers.start(id), aborted]);
      const r = await Promise.race([waiting, aborted]);
      await within(done, 3000);
      out.out(dec.out.end());
      out.err(dec.err.end());
      signal.throwIfAborted();
      if (r.StatusCode !== 0) {
        throw new RunFailedError(`The command '${spec.cmd.join(' ')}' returned a non-zero code: ${r.StatusCode}`, r.StatusCode);
      }
      const c = this.containers.get(id);
      const upper = this.snapshots.fsPath(c.SnapshotKey);
      await removeMountStubs(upper, spec.mountTargets ?? []);
      const img = await commit(upper);
      ok = true;
      return img;
    } catch (e) {
      signal.throwIfAborted();
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!ok || !spec.keep) {
        await remove();
        if (ok) out.out(` ---> Removed intermediate container ${id.slice(0, 12)}\n`);
      }
    }
  }
}

/**
 * The empty files and directories runc made in the container's layer to mount build mounts on:
 * BuildKit leaves them out of the image, and so does berth (only when they are still empty).
 */
async function removeMountStubs(upper: string, targets: readonly string[]): Promise<void> {
  for (const t of targets) {
    const rel = t.replace(/^\/+/, '');
    if (rel === '' || rel.split('/').includes('..')) continue;
    const p = join(upper, rel);
    const st = await lstat(p).catch(() => null);
    if (!st) continue;
    if (st.isDirectory() && (await readdir(p)).length === 0) await rmdir(p).catch(() => undefined);
    else if (st.isFile() && st.size === 0) await unlink(p).catch(() => undefined);
  }
}

/** A fingerprint of a context subtree (a bind mount's content). */
function contextDigest(d: DispatchContext, path: string): string {
  const ctx = d.context;
  const rel = ctx.resolve(path.replace(/^\/+/, '') || '.');
  const top = ctx.get(rel);
  if (!top) return 'missing';
  const h = createHash('sha256');
  h.update(`${top.type} ${top.mode} ${top.sha256}\n`);
  if (top.type === 'dir') for (const e of ctx.walk(rel)) if (!ctx.ignored(e.path)) h.update(`${e.path} ${e.type} ${e.mode} ${e.sha256 || e.linkname}\n`);
  return h.digest('hex');
}

interface PreparedMounts {
  mounts: Array<{ Type: string; Source?: string; Target: string; ReadOnly?: boolean; TmpfsOptions?: { SizeBytes?: number } }>;
  env: string[];
}

/** BuildKit's RUN mounts as container mounts: cache dirs, secret files, binds of the context or an image, tmpfs. */
async function prepareMounts(d: DispatchContext, s: StageState, list: RunMount[]): Promise<PreparedMounts> {
  const out: PreparedMounts = { mounts: [], env: [] };
  const abs = (t: string): string => (t.startsWith('/') ? t : `/${s.runConfig.WorkingDir ?? ''}/${t}`.replace(/\/+/g, '/'));
  for (const m of list) {
    if (m.type === 'cache') {
      const target = abs(m.target ?? '');
      const dir = await d.cacheMount(m.id ?? target, { uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o755 });
      out.mounts.push({ Type: 'bind', Source: dir, Target: target, ReadOnly: m.readOnly });
    } else if (m.type === 'secret') {
      const id = m.id ?? (m.target ? m.target.slice(m.target.lastIndexOf('/') + 1) : '');
      const data = d.opts.secrets.get(id);
      if (data === undefined) {
        if (m.required) throw new SystemError(`secret ${id} not found`);
        continue;
      }
      if (m.env) out.env.push(`${m.env}=${data.toString('utf8')}`);
      if (m.env && !m.target) continue;
      const file = join(await d.tempDir(), 'secret');
      await writeFile(file, data, { mode: m.mode ?? 0o400 });
      await chown(file, m.uid ?? 0, m.gid ?? 0);
      await chmod(file, m.mode ?? 0o400);
      out.mounts.push({ Type: 'bind', Source: file, Target: abs(m.target ?? `/run/secrets/${id}`), ReadOnly: true });
    } else if (m.type === 'bind') {
      const target = abs(m.target ?? '');
      if (m.from) {
        const img = await d.fromImage(m.from, s);
        const root = await d.openRoot(img);
        const src = resolveInScope(m.source ?? '/', (rel) => {
          const st = lstatSync(join(root.path, rel), { throwIfNoEntry: false });
          return !st ? null : st.isSymbolicLink() ? { symlink: true, target: readlinkSync(join(root.path, rel)) } : { symlink: false };
        });
        // An image's files are never written: the mount is read-only whatever was asked.
        out.mounts.push({ Type: 'bind', Source: join(root.path, src), Target: target, ReadOnly: true });
      } else {
        const dir = await d.tempDir();
        const src = await d.context.materialize(m.source ?? '/', dir);
        out.mounts.push({ Type: 'bind', Source: src, Target: target, ReadOnly: m.readOnly });
      }
    } else if (m.type === 'tmpfs') {
      out.mounts.push({ Type: 'tmpfs', Target: abs(m.target ?? ''), ...(m.sizeLimit ? { TmpfsOptions: { SizeBytes: m.sizeLimit } } : {}) });
    }
  }
  return out;
}

/** The command a RUN runs and what its heredocs feed it (BuildKit's dispatchRun). */
function runCommand(s: StageState, c: RunInstruction): { cmd: string[]; stdin?: Buffer } {
  if (c.heredocs.length === 0 || c.command.json) return { cmd: resolveCmdLine(s, c.command) };
  const first = c.heredocs[0];
  if (first && parseHeredocWord(c.command.shell.trim()) !== undefined) {
    const data = first.content;
    if (data.startsWith('#!')) {
      // A script with its own interpreter: run the interpreter with the script on stdin
      // (BuildKit mounts it as a file; reading it from stdin needs no mount).
      const line = data.slice(2, data.indexOf('\n') < 0 ? data.length : data.indexOf('\n')).trim();
      const argv = line.split(/\s+/).filter((w) => w !== '');
      return { cmd: argv, stdin: Buffer.from(data, 'utf8') };
    }
    return { cmd: [...shellOf(s), data] };
  }
  let script = c.command.shell;
  for (const h of c.heredocs) script += `\n${h.content}${h.name}`;
  return { cmd: [...shellOf(s), script] };
}

export function hostConfigFor(d: DispatchContext, c: RunInstruction): HostConfig {
  const o = d.opts;
  const hc: HostConfig = {};
  let mode = o.networkMode === 'default' ? '' : o.networkMode;
  if (c.network === 'none' || c.network === 'host') mode = c.network;
  if (mode) hc.NetworkMode = mode;
  if (o.extraHosts.length > 0) hc.ExtraHosts = [...o.extraHosts];
  if (o.ulimits.length > 0) hc.Ulimits = o.ulimits;
  if (o.shmSize > 0) hc.ShmSize = o.shmSize;
  if (o.memory > 0) hc.Memory = o.memory;
  if (o.memorySwap !== 0) hc.MemorySwap = o.memorySwap;
  if (o.cpuShares > 0) hc.CpuShares = o.cpuShares;
  if (o.cpuSetCpus) hc.CpusetCpus = o.cpuSetCpus;
  if (o.cpuSetMems) hc.CpusetMems = o.cpuSetMems;
  if (o.cpuPeriod > 0) hc.CpuPeriod = o.cpuPeriod;
  if (o.cpuQuota > 0) hc.CpuQuota = o.cpuQuota;
  if (c.security === 'insecure') hc.Privileged = true;
  return hc;
}

export async function dispatchRun(d: DispatchContext, s: StageState, c: RunInstruction): Promise<void> {
  const x = new Expander(s);
  const mounts = (c.flags['mount'] ?? []).map((m) => {
    try {
      return parseMount(m, (w) => x.word(w));
    } catch (e) {
      throw new SystemError(messageOf(e));
    }
  });
  for (const m of mounts) if (m.type === 'ssh') throw new SystemError('RUN --mount=type=ssh is not supported by berth');
  const { cmd, stdin } = runCommand(s, c);
  const env = s.runConfig.Env ?? [];
  const buildArgs = s.args.filterAllowed(env);
  const saveCmd = buildArgs.length > 0 ? prependEnvOnCmd(s.args, buildArgs, cmd) : cmd;
  const createdBy = saveCmd.join(' ');
  // Bind mounts feed the command: their content is part of the key (cache and secret contents are not).
  const bindDigests: string[] = [];
  for (const m of mounts) {
    if (m.type !== 'bind') continue;
    if (m.from) bindDigests.push(`from ${(await d.fromImage(m.from, s))?.id ?? 'scratch'} ${m.source ?? '/'}`);
    else bindDigests.push(`context ${m.source ?? '/'} ${contextDigest(d, m.source ?? '/')}`);
  }
  const step = JSON.stringify(['RUN', saveCmd, stdin ? stdin.toString('utf8') : '', c.network ?? '', c.security ?? '', mounts, bindDigests]);
  // The history text (`|N K=V… /bin/sh -c cmd`) decides the result only for a plain shell-form RUN:
  // exec form loses its word boundaries in the join, and mounts, stdin scripts and flags are not in it.
  const reusable: CacheFromUse = !c.command.json && !stdin && mounts.length === 0 && c.network === undefined && c.security === undefined ? 'layer' : 'no';
  await cachedStep(d, s, { step, vars: x.used }, createdBy, async () => {
    if (!s.image) throw new SystemError('Please provide a source image with `from` prior to run');
    const prepared = await prepareMounts(d, s, mounts);
    const hostConfig = hostConfigFor(d, c);
    if (prepared.mounts.length > 0) hostConfig['Mounts'] = prepared.mounts;
    const spec: RunSpec = {
      image: s.image,
      cmd,
      env: [...env, ...buildArgs, ...prepared.env],
      workingDir: s.runConfig.WorkingDir ?? '',
      user: s.runConfig.User ?? '',
      hostConfig,
      keep: !d.opts.remove,
      mountTargets: prepared.mounts.map((m) => m.Target),
    };
    if (stdin) spec.stdin = stdin;
    const parent = s.image;
    return d.runner.run(spec, d.out, d.signal, async (upper) => {
      const layer = new PassThrough();
      const writing = writeUpperAsLayer(upper, layer).catch((e: unknown) => {
        layer.destroy(e as Error);
        throw e;
      });
      const [img] = await Promise.all([d.stepImages.withLayer(parent, s.platform, s.runConfig, createdBy, s.maintainer, layer), writing]);
      return img;
    });
  }, reusable);
}
