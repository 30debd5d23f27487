/**
 * `berth attach`: docker's RunAttach — wait registered first, inspect (must be
 * running), hijacked attach, stream until the output ends, then exit with the
 * container's status.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import type { ContainerInspect } from '../../../client/types.js';
import { StatusError } from '../../errors.js';
import { DetachError, HijackedIOStreamer } from '../../streams/hijack.js';
import { forwardSignals, monitorTtySize } from '../../streams/signals.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] CONTAINER',
  short: 'Attach local standard input, output, and error streams to a running container',
  aliases: ['container attach', 'attach'],
  args: { kind: 'exact', n: 1 },
  flags: [
    { name: 'detach-keys', type: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'no-stdin', type: 'bool', usage: 'Do not attach STDIN' },
    { name: 'sig-proxy', type: 'bool', usage: 'Proxy all received signals to the process', default: true },
  ],
};

async function inspectRunning(ctx: CliContext, name: string): Promise<ContainerInspect> {
  const { value: c } = await ctx.client.containerInspect(name);
  if (!c.State.Running) throw new Error('You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new Error('You cannot attach to a paused container, unpause it first');
  if (c.State.Restarting) throw new Error('You cannot attach to a restarting container, wait until it is running');
  return c;
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const name = p.args[0] as string;
  const wait = ctx.client.containerWait(name);
  const cleanups: Array<() => void> = [() => wait.cancel()];
  let streamer: HijackedIOStreamer | undefined;
  try {
    const c = await inspectRunning(ctx, name);
    if (!p.bool('no-stdin') && c.Config.Tty && !ctx.stdin.isTTY) throw new Error('the input device is not a TTY');
    const detachKeys = p.string('detach-keys');
    const stdin = !p.bool('no-stdin') && c.Config.OpenStdin;
    if (p.bool('sig-proxy') && !c.Config.Tty) cleanups.push(forwardSignals(ctx, name));
    const conn = await ctx.client.containerAttach(name, {
      stream: true,
      stdin,
      stdout: true,
      stderr: true,
      ...(detachKeys !== '' ? { detachKeys } : {}),
    });
    cleanups.push(() => conn.close());
    await inspectRunning(ctx, name);
    if (c.Config.Tty && ctx.stdout.isTTY) {
      // docker nudges the size (+1) first so the program redraws, then sets it.
      const [h, w] = ctx.ttySize();
      await ctx.client.containerResize(name, h + 1, w + 1).catch(() => undefined);
      cleanups.push(monitorTtySize(ctx, (hh, ww) => ctx.client.containerResize(name, hh, ww)));
    }
    streamer = new HijackedIOStreamer({
      conn,
      stdin: stdin ? ctx.stdin : undefined,
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      tty: c.Config.Tty,
      detachKeys: detachKeys !== '' ? detachKeys : undefined,
    });
    try {
      await streamer.stream();
    } catch (e) {
      // The docker CLI (28) ends a detached attach with the escape error: its message, status 1.
      if (e instanceof DetachError) throw new StatusError(e.message, 1);
      throw e;
    }
    const r = await wait.result;
    if (r.Error && r.Error.Message) throw new Error(r.Error.Message);
    if (r.StatusCode !== 0) throw new StatusError('', r.StatusCode);
    return 0;
  } finally {
    streamer?.restoreTerminal();
    for (const f of cleanups.reverse()) f();
  }
}
