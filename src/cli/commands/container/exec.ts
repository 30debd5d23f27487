/**
 * `berth exec`: docker v28's RunExec — inspect the container (so "No such
 * container" wins), check the TTY, create the exec, then either start it
 * detached or start it hijacked, stream, keep the TTY size, and exit with
 * the exec's exit code from exec inspect.
 */
import { readFileSync } from 'node:fs';
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { StatusError } from '../../errors.js';
import { dedupeEnv, parseKVFile, validateEnv } from '../../opts/containerOpts.js';
import { DetachError, HijackedIOStreamer } from '../../streams/hijack.js';
import { monitorTtySize } from '../../streams/signals.js';
import { ContainerApi, type ExecCreateConfig } from './containerApi.js';
import { flushed } from './flush.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  short: 'Execute a command in a running container',
  aliases: ['container exec', 'exec'],
  interspersed: false,
  args: { kind: 'min', n: 2 },
  flags: [
    { name: 'detach', short: 'd', type: 'bool', usage: 'Detached mode: run command in the background' },
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'env', short: 'e', type: 'list', usage: 'Set environment variables', validate: (v) => validateEnv(v) },
    { name: 'env-file', type: 'list', usage: 'Read in a file of environment variables' },
    { name: 'interactive', short: 'i', type: 'bool', usage: 'Keep STDIN open even if not attached' },
    { name: 'privileged', type: 'bool', usage: 'Give extended privileges to the command' },
    { name: 'tty', short: 't', type: 'bool', usage: 'Allocate a pseudo-TTY' },
    { name: 'user', short: 'u', type: 'string', usage: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { name: 'workdir', short: 'w', type: 'string', usage: 'Working directory inside the container' },
  ],
};

function readEnvFiles(files: string[], env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const f of files) {
    let content: string;
    try {
      content = readFileSync(f, 'utf8');
    } catch (e) {
      throw new Error((e as NodeJS.ErrnoException).code === 'ENOENT' ? `open ${f}: no such file or directory` : `open ${f}: ${(e as Error).message}`);
    }
    out.push(...parseKVFile(content, f, (k) => env[k]));
  }
  return out;
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const [container, ...cmd] = p.args as [string, ...string[]];
  const detach = p.bool('detach');
  const tty = p.bool('tty');
  const envAll = [...readEnvFiles(p.list('env-file'), ctx.env), ...dedupeEnv(p.list('env'))];
  const cfg: ExecCreateConfig & { Detach: boolean } = {
    User: p.string('user'),
    Privileged: p.bool('privileged'),
    Tty: tty,
    AttachStdin: !detach && p.bool('interactive'),
    AttachStderr: !detach,
    AttachStdout: !detach,
    Detach: detach,
    DetachKeys: p.string('detach-keys'),
    Env: envAll.length > 0 ? envAll : null,
    WorkingDir: p.string('workdir'),
    Cmd: cmd,
  };
  const api = new ContainerApi(ctx.client);
  // "No such container" takes precedence over a TTY complaint.
  await ctx.client.containerInspect(container);
  if (!detach && cfg.AttachStdin && tty && !ctx.stdin.isTTY) throw new Error('the input device is not a TTY');
  if (tty) cfg.ConsoleSize = ctx.ttySize();
  const { Id: execId } = await api.execCreate(container, cfg);
  if (execId === '') throw new Error('exec ID empty');
  const startOpts: { Tty: boolean; ConsoleSize?: [number, number] } = { Tty: tty };
  if (cfg.ConsoleSize) startOpts.ConsoleSize = cfg.ConsoleSize;
  if (detach) {
    await api.execStartDetached(execId, startOpts);
    return 0;
  }

  const conn = await api.execAttach(execId, startOpts);
  const detachKeys = p.string('detach-keys');
  const streamer = new HijackedIOStreamer({
    conn,
    stdin: cfg.AttachStdin ? ctx.stdin : undefined,
    stdout: ctx.stdout,
    stderr: tty ? ctx.stdout : ctx.stderr,
    tty,
    detachKeys: detachKeys !== '' ? detachKeys : undefined,
  });
  const cleanups: Array<() => void> = [];
  try {
    const done = streamer.stream();
    if (tty && ctx.stdin.isTTY) cleanups.push(monitorTtySize(ctx, (h, w) => api.execResize(execId, h, w)));
    try {
      await done;
    } catch (e) {
      // As the docker CLI: a detached exec ends with the escape error (message, status 1).
      if (e instanceof DetachError) throw new StatusError(e.message, 1);
      throw e;
    }
  } finally {
    streamer.restoreTerminal();
    conn.close();
    for (const f of cleanups.reverse()) f();
    await Promise.all([flushed(ctx.stdout), flushed(ctx.stderr)]);
  }
  const r = await api.execInspect(execId);
  const status = r.ExitCode ?? 0;
  if (status !== 0) throw new StatusError('', status);
  return 0;
}
