/**
 * cli/streams/signals: what `run`/`start -a`/`attach` do with the terminal
 * besides bytes — forward the signals berth receives to the container
 * (docker's sig-proxy), give up after three SIGINT/SIGTERMs, and keep the
 * container's TTY the size of ours (initial resize with retries, then on
 * every SIGWINCH). Installs process listeners; the returned functions remove them.
 */
import type { CliContext } from '../context.js';

/** Signals docker's ForwardAllSignals passes on (all catchable ones but CHLD, PIPE, URG). */
const FORWARDED: NodeJS.Signals[] = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGTERM',
  'SIGALRM',
  'SIGCONT',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGVTALRM',
  'SIGPROF',
  'SIGWINCH',
  'SIGIO',
  'SIGPWR',
  'SIGSYS',
  'SIGXCPU',
  'SIGXFSZ',
];

/**
 * Forwards each received signal as POST /containers/{id}/kill?signal=NAME.
 * Returns a function that stops forwarding.
 */
export function forwardSignals(ctx: CliContext, containerId: string): () => void {
  const handlers: Array<[NodeJS.Signals, () => void]> = [];
  for (const sig of FORWARDED) {
    const h = (): void => {
      ctx.client.containerKill(containerId, sig.slice(3)).catch(() => undefined);
    };
    try {
      process.on(sig, h);
      handlers.push([sig, h]);
    } catch {
      // Not catchable on this platform.
    }
  }
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

/**
 * docker's forceExitAfter3TerminationSignals: the third SIGINT/SIGTERM exits
 * with status 1 after restoring the terminal. Also keeps those signals from
 * killing berth when nothing else listens (the container decides).
 */
export function forceExitAfterThreeSignals(ctx: CliContext, restore: () => void): () => void {
  let count = 0;
  const h = (): void => {
    count++;
    if (count >= 3) {
      ctx.err('\ngot 3 SIGTERM/SIGINTs, forcefully exiting\n');
      restore();
      process.exit(1);
    }
  };
  process.on('SIGINT', h);
  process.on('SIGTERM', h);
  return () => {
    process.off('SIGINT', h);
    process.off('SIGTERM', h);
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * docker's MonitorTtySize: resize now (retrying up to 10 times while the
 * container's TTY is not ready yet), then on every terminal resize.
 */
export function monitorTtySize(ctx: CliContext, resize: (h: number, w: number) => Promise<void>): () => void {
  const resizeNow = async (): Promise<void> => {
    const [h, w] = ctx.ttySize();
    if (h === 0 && w === 0) return;
    await resize(h, w);
  };
  resizeNow().catch(async () => {
    for (let retry = 0; retry < 10; retry++) {
      await sleep((retry + 1) * 10);
      try {
        await resizeNow();
        return;
      } catch {
        // try again
      }
    }
    ctx.err('failed to resize tty, using default size\n');
  });
  const onResize = (): void => {
    resizeNow().catch(() => undefined);
  };
  ctx.stdout.on('resize', onResize);
  return () => {
    ctx.stdout.off('resize', onResize);
  };
}
