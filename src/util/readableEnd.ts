/**
 * util/readableEnd: run a callback when a readable stream has ended — also
 * when it ended before anyone listened. A hijacked socket whose client
 * half-closed with nothing written (`docker run -i … </dev/null`) emits 'end'
 * on its own, at once, even while paused; a listener added later (attach
 * waiting for the container to start, exec waiting for conmon) would never
 * hear it and the container's stdin would stay open for ever. Never reads
 * or changes the stream.
 */
import type { Readable } from 'node:stream';

export function onReadableEnd(stream: Readable, fn: () => void): void {
  if (stream.readableEnded) {
    queueMicrotask(fn);
    return;
  }
  stream.once('end', fn);
}
