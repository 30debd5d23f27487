/**
 * cli/commands/container/flush: waits until everything written to an output
 * stream has been handed to the OS. When stdout is a socket (a parent process
 * reading us through a socketpair, as Node's child_process does) writes are
 * asynchronous, and the process.exit() that ends every command would drop the
 * tail of a large output.
 */
import type { Writable } from 'node:stream';

export function flushed(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (out.writableEnded || out.destroyed) {
      resolve();
      return;
    }
    // Write callbacks run in order: this one runs once all earlier data is out.
    out.write('', () => resolve());
  });
}
