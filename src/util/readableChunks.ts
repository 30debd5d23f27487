/**
 * util/readableChunks: a Readable as an async iterable of the chunks it emits, each as it
 * came. A Readable's own async iterator calls read() with no size, which concatenates every
 * chunk buffered at that moment into a new Buffer: on a fast source (an HTTP body of many
 * small chunks) that is a copy of most bytes for nothing. Backpressure is kept by pausing
 * the stream while `highWater` chunks wait. Leaving the loop early destroys the stream, as
 * the built-in iterator does; an error or a close before the end is thrown.
 */
import type { Readable } from 'node:stream';

export async function* readableChunks(r: Readable, highWater = 16): AsyncGenerator<Buffer, void, undefined> {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onData = (b: Buffer | string): void => {
    queue.push(typeof b === 'string' ? Buffer.from(b) : b);
    if (queue.length >= highWater) r.pause();
    notify();
  };
  const onEnd = (): void => {
    ended = true;
    notify();
  };
  const onError = (e: unknown): void => {
    failure ??= e;
    notify();
  };
  const onClose = (): void => {
    if (!ended) failure ??= Object.assign(new Error('premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    notify();
  };
  r.on('data', onData);
  r.on('end', onEnd);
  r.on('error', onError);
  r.on('close', onClose);
  try {
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) {
        if (queue.length < highWater / 2 && r.isPaused() && !ended) r.resume();
        yield next;
        continue;
      }
      if (failure !== null) throw failure;
      if (ended) return;
      if (r.isPaused()) r.resume();
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    r.off('data', onData);
    r.off('end', onEnd);
    r.off('error', onError);
    r.off('close', onClose);
    if (!ended) r.destroy();
  }
}
