/**
 * `berth start`: without -a/-i, POST /start per container and print its name;
 * with them (one container), docker's attach-then-wait-then-start flow with
 * the container's exit status as ours.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { StatusError, errorText } from '../../errors.js';
import { DetachError, HijackedIOStreamer } from '../../streams/hijack.js';
import { forwardSignals, monitorTtySize } from '../../streams/signals.js';
import { flushed } from './flush.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Start one or more stopped containers',
  aliases: ['container start', 'start'],
  args: { kind: 'min', n: 1 },
  flags: [
    { name: 'attach', short: 'a', type: 'bool', usage: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'interactive', short: 'i', type: 'bool', usage: "Attach container's STDIN" },
  ],
};

async function startAttached(ctx: CliContext, p: ParsedArgs, name: string): Promise<number> {
  const { value: c } = await ctx.client.containerInspect(name);
  const cleanups: Array<() => void> = [];
  let streamer: HijackedIOStreamer | undefined;
  try {
    if (!c.Config.Tty) cleanups.push(forwardSignals(ctx, c.Id));
    const detachKeys = p.string('detach-keys');
    const stdin = p.bool('interactive') && c.Config.OpenStdin;
    const conn = await ctx.client.containerAttach(c.Id, {
      stream: true,
      stdin,
      stdout: true,
      stderr: true,
      ...(detachKeys !== '' ? { detachKeys } : {}),
    });
    streamer = new HijackedIOStreamer({
      conn,
      stdin: stdin ? ctx.stdin : undefined,
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      tty: c.Config.Tty,
      detachKeys: detachKeys !== '' ? detachKeys : undefined,
    });
    const streamDone = streamer.stream();
    streamDone.catch(() => undefined);

    const autoRemove = c.HostConfig.AutoRemove === true;
    const wait = ctx.client.containerWait(c.Id, autoRemove ? 'removed' : 'next-exit');
    const status = wait.result.then(
      (r) => (r.Error && r.Error.Message ? (ctx.err(`Error waiting for container: ${r.Error.Message}\n`), 125) : r.StatusCode),
      (e: unknown) => (ctx.err(`error waiting for container: ${errorText(e)}\n`), 125),
    );
    await wait.ready.catch(() => undefined);

    try {
      await ctx.client.containerStart(c.Id);
    } catch (e) {
      streamer.cancel();
      await streamDone.catch(() => undefined);
      if (autoRemove) await status;
      else wait.cancel();
      throw e;
    }
    if (c.Config.Tty && ctx.stdout.isTTY) {
      cleanups.push(monitorTtySize(ctx, (h, w) => ctx.client.containerResize(c.Id, h, w)));
    }
    try {
      await streamDone;
    } catch (e) {
      if (e instanceof DetachError) return 0;
      throw e;
    }
    return await status;
  } finally {
    streamer?.restoreTerminal();
    for (const f of cleanups.reverse()) f();
  }
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  if (p.bool('attach') || p.bool('interactive')) {
    if (p.args.length > 1) throw new Error('you cannot start and attach multiple containers at once');
    const code = await startAttached(ctx, p, p.args[0] as string);
    await Promise.all([flushed(ctx.stdout), flushed(ctx.stderr)]);
    if (code !== 0) throw new StatusError('', code);
    return 0;
  }
  const failed: string[] = [];
  for (const name of p.args) {
    try {
      await ctx.client.containerStart(name);
      ctx.out(`${name}\n`);
    } catch (e) {
      ctx.err(`${errorText(e)}\n`);
      failed.push(name);
    }
  }
  if (failed.length > 0) throw new Error(`Error: failed to start containers: ${failed.join(', ')}`);
  return 0;
}
