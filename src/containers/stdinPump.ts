/**
 * containers/stdinPump: copies an attached client's stdin into a conmon attach connection, for
 * `attach` and `exec` alike. One write is in flight at a time: the client's stream is paused
 * while conmon takes the bytes, so a fast client cannot queue a whole file in berthd. With
 * `keys` (a TTY), the daemon watches the input for the detach keys as moby does, for API
 * clients (the CLIs match them first). What a detach, the input's end or a failed write means
 * differs between a container and an exec (moby's CopyStreams cases): the caller says, and each
 * runs after every byte read before it has been written.
 * Owns: the copy and the order of events. Never closes the connection or ends the client itself.
 */
import type { Readable } from 'node:stream';
import type { AttachConnection } from '../runtime/attach.js';
import type { EscapeProxy } from '../util/escapeKeys.js';
import { onReadableEnd } from '../util/readableEnd.js';

export interface StdinPumpHandlers {
  /** The detach keys were typed (only with `keys`). */
  onDetach: () => void;
  /** The client's input ended (it half-closed, or closed before the process started). */
  onEnd: () => void | Promise<void>;
  /** conmon did not take a write. */
  onWriteError: () => void;
}

export function pumpStdin(stdin: Readable, conn: AttachConnection, keys: EscapeProxy | undefined, on: StdinPumpHandlers): void {
  let writing: Promise<void> = Promise.resolve();
  let detached = false;
  stdin.on('data', (b: Buffer) => {
    if (detached) return;
    const r = keys?.feed(b) ?? { out: b, detached: false };
    detached = r.detached;
    if (r.out.length > 0) {
      stdin.pause();
      writing = conn.writeStdin(r.out).then(
        () => void stdin.resume(),
        () => on.onWriteError(),
      );
    }
    if (detached) void writing.then(() => on.onDetach());
  });
  onReadableEnd(stdin, () => {
    void writing.then(() => on.onEnd()).catch(() => undefined);
  });
}
