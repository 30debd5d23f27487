/**
 * images/unpackPool: where layer blobs are unpacked — a few long-lived worker threads
 * (util/workerPool) shared by pull, load and commit, so the daemon's event loop never
 * decompresses, hashes or creates files (D9), and a thread's compiled code is reused
 * from layer to layer instead of booting a fresh thread per layer. At most
 * UNPACK_THREADS layers unpack at once; the others wait their turn. When the compiled
 * worker is absent (TypeScript sources under tsx) layers unpack inline, under the same
 * limit.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { WorkerPool, type RunOptions } from '../util/workerPool.js';
import { unpackLayerFile, type UnpackFileRequest, type UnpackFileResult } from './unpackLayerFile.js';

/** One thread per CPU, at most 4: each unpack also keeps a libuv pool thread busy with inflate. */
export const UNPACK_THREADS = Math.max(1, Math.min(4, availableParallelism()));

export interface UnpackRunner {
  /**
   * Whether a job may read a blob that is still downloading (UnpackFileRequest.growing): only
   * on threads, where waiting for the download blocks the thread and not the event loop.
   */
  readonly streams: boolean;
  /** Unpacks one blob; rejects with the unpack's own error, or the signal's reason once the unpack has stopped. */
  run(req: UnpackFileRequest, opts?: RunOptions): Promise<UnpackFileResult>;
  /** Starts up to `n` threads ahead of the unpacks that will need them. */
  warm(n: number): void;
  /** Ends the threads; running and waiting unpacks fail. */
  close(): Promise<void>;
}

/**
 * An idle thread lives this long: long enough to serve the rest of a burst warm (the next
 * layer or the next pull of a script, its code compiled), short enough that an idle daemon
 * does not keep its memory — each thread is a Node isolate of ~8 MB resident (decisions B80).
 */
const IDLE_MS = 5_000;

/** Inline fallback with the same limit and the same progress throttle as the worker side. */
class InlineRunner implements UnpackRunner {
  readonly streams = false;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run(req: UnpackFileRequest, opts: RunOptions = {}): Promise<UnpackFileResult> {
    if (this.active >= this.size) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      opts.signal?.throwIfAborted();
      let last = 0;
      const onRead = (n: number): void => {
        const now = Date.now();
        if (now - last < 100) return;
        last = now;
        opts.onProgress?.(n);
      };
      return await unpackLayerFile(req, onRead, opts.signal);
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  warm(): void {}

  async close(): Promise<void> {}
}

class ThreadRunner implements UnpackRunner {
  readonly streams = true;
  private readonly pool: WorkerPool<UnpackFileRequest, UnpackFileResult>;

  constructor(url: URL, size: number) {
    this.pool = new WorkerPool<UnpackFileRequest, UnpackFileResult>({ url, size, idleMs: IDLE_MS, name: 'unpack' });
  }

  warm(n: number): void {
    this.pool.warm(n);
  }

  run(req: UnpackFileRequest, opts: RunOptions = {}): Promise<UnpackFileResult> {
    return this.pool.run(req, opts);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** A runner over `size` threads, or inline when the compiled worker is absent. */
export function createUnpackRunner(size = UNPACK_THREADS): UnpackRunner {
  const url = new URL('./unpackWorker.js', import.meta.url);
  return existsSync(url) ? new ThreadRunner(url, size) : new InlineRunner(size);
}

let shared: UnpackRunner | null = null;

/** The daemon's one runner: every LayerUnpacker shares its threads and its limit. */
export function sharedUnpackRunner(): UnpackRunner {
  shared ??= createUnpackRunner();
  return shared;
}
