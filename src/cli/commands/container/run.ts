/**
 * `berth run`: docker v28's runContainer — create (pulling if missing),
 * attach (hijacked) BEFORE start, wait (next-exit, or removed with --rm) also
 * before start, start, then TTY resizing and signal proxying; exits with the
 * container's status. `-d` prints the full ID. Errors: 125 for daemon/usage
 * problems, 126/127 when the command cannot be run.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { WaitHandle } from '../../../client/engineClient.js';
import type { CliContext } from '../../context.js';
import { StatusError, errorText, toRunStatusError, withHelp } from '../../errors.js';
import { createContainer } from '../../flows/createContainer.js';
import { buildContainerConfig, containerFlags, type ContainerConfigResult } from '../../opts/containerOpts.js';
import { DetachError, HijackedIOStreamer } from '../../streams/hijack.js';
import { forceExitAfterThreeSignals, forwardSignals, monitorTtySize } from '../../streams/signals.js';
import { flushed } from './flush.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create and run a new container from an image',
  aliases: ['container run', 'run'],
  interspersed: false,
  args: { kind: 'min', n: 1 },
  flags: [
    ...containerFlags(),
    { name: 'detach', short: 'd', type: 'bool', usage: 'Run container in background and print container ID' },
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'help', type: 'bool', usage: 'Print usage' },
    { name: 'sig-proxy', type: 'bool', usage: 'Proxy received signals to the process', default: true },
  ],
};

/** Waits for the container per docker's waitExitOrRemoved; never rejects (125 on failure). */
function waitStatus(ctx: CliContext, wait: WaitHandle): Promise<number> {
  return wait.result.then(
    (r) => {
      if (r.Error && r.Error.Message) {
        ctx.err(`Error waiting for container: ${r.Error.Message}\n`);
        return 125;
      }
      return r.StatusCode;
    },
    (e: unknown) => {
      ctx.err(`error waiting for container: ${errorText(e)}\n`);
      return 125;
    },
  );
}

export async function runContainer(ctx: CliContext, p: ParsedArgs, cfg: ContainerConfigResult): Promise<number> {
  const config = cfg.body;
  const detach = p.bool('detach');
  if (!detach) {
    if (config.Tty && config.AttachStdin && !ctx.stdin.isTTY) throw new Error('the input device is not a TTY');
  } else {
    if (p.list('attach').length !== 0) throw new Error('conflicting options: cannot specify both --attach and --detach');
    config.AttachStdin = false;
    config.AttachStdout = false;
    config.AttachStderr = false;
    config.StdinOnce = false;
  }

  let id: string;
  try {
    id = await createContainer(ctx, cfg);
  } catch (e) {
    throw toRunStatusError(e, ctx.bin);
  }

  const cleanups: Array<() => void> = [];
  let streamer: HijackedIOStreamer | undefined;
  try {
    if (p.bool('sig-proxy')) cleanups.push(forwardSignals(ctx, id));
    cleanups.push(forceExitAfterThreeSignals(ctx, () => streamer?.restoreTerminal()));

    const attach = config.AttachStdin || config.AttachStdout || config.AttachStderr;
    // Detached: the ID is all stdout ever shows (docker prints it before start returns).
    if (!attach) ctx.out(`${id}\n`);

    let streamDone: Promise<void> | undefined;
    const detachKeys = p.string('detach-keys');
    const attaching = attach
      ? ctx.client.containerAttach(id, {
          stream: true,
          stdin: config.AttachStdin,
          stdout: config.AttachStdout,
          stderr: config.AttachStderr,
          ...(detachKeys !== '' ? { detachKeys } : {}),
        })
      : undefined;
    // The wait is registered before start, so a fast exit cannot be missed. Docker's CLI
    // asks for it once the attach is up; both only have to be in place before the start, so
    // the wait goes out beside the attach, each on its own connection (one round trip less).
    const wait = ctx.client.containerWait(id, cfg.autoRemove ? 'removed' : 'next-exit');
    if (attaching !== undefined) {
      let conn: Awaited<typeof attaching>;
      try {
        conn = await attaching;
      } catch (e) {
        wait.cancel();
        throw e;
      }
      streamer = new HijackedIOStreamer({
        conn,
        stdin: config.AttachStdin ? ctx.stdin : undefined,
        stdout: config.AttachStdout ? ctx.stdout : undefined,
        stderr: config.AttachStderr ? (config.Tty ? ctx.stdout : ctx.stderr) : undefined,
        tty: config.Tty,
        detachKeys: detachKeys !== '' ? detachKeys : undefined,
      });
      streamDone = streamer.stream();
      streamDone.catch(() => undefined);
    }
    const status = waitStatus(ctx, wait);
    await wait.ready.catch(() => undefined);

    try {
      await ctx.client.containerStart(id);
    } catch (e) {
      if (streamer !== undefined) {
        streamer.cancel();
        await streamDone?.catch(() => undefined);
      }
      if (cfg.autoRemove) await status;
      else wait.cancel();
      throw toRunStatusError(e, ctx.bin);
    }

    if (!attach || streamer === undefined || streamDone === undefined) {
      wait.cancel();
      return 0;
    }

    if (config.Tty && ctx.stdout.isTTY) {
      cleanups.push(monitorTtySize(ctx, (h, w) => ctx.client.containerResize(id, h, w)));
    }

    const first = await Promise.race([
      streamDone.then(
        () => ({ kind: 'stream' as const, err: undefined as unknown }),
        (err: unknown) => ({ kind: 'stream' as const, err }),
      ),
      status.then((code) => ({ kind: 'status' as const, code })),
    ]);
    if (first.kind === 'stream') {
      if (first.err !== undefined) {
        if (first.err instanceof DetachError) return 0;
        throw first.err;
      }
      return await status;
    }
    // The container exited; let the output drain unless none was attached.
    if (!config.AttachStdout && !config.AttachStderr) streamer.cancel();
    await streamDone.catch(() => undefined);
    return first.code;
  } finally {
    streamer?.restoreTerminal();
    for (const c of cleanups.reverse()) c();
  }
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const [image, ...args] = p.args as [string, ...string[]];
  let cfg: ContainerConfigResult;
  try {
    cfg = buildContainerConfig(p, image, args, ctx.ttySize(), ctx.env);
  } catch (e) {
    throw new StatusError(withHelp(e, ctx.bin, 'run'), 125);
  }
  const code = await runContainer(ctx, p, cfg);
  await Promise.all([flushed(ctx.stdout), flushed(ctx.stderr)]);
  if (code !== 0) throw new StatusError('', code);
  return 0;
}
