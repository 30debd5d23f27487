/**
 * util/workerPool: a small pool of long-lived worker threads that run one job at a
 * time each, for heavy byte work that must stay off the event loop (D9). Jobs queue
 * in order; at most `size` threads exist; a thread idle for `idleMs` is ended, and an
 * idle thread never keeps the process alive (unref). A job's AbortSignal is passed on
 * to the thread, which stops the job and answers; only a thread that does not answer
 * in time is terminated. A thread whose job failed, or that crashed, is never given
 * another job (its state is not trusted): a fresh one takes the next.
 *
 * The pool owns its threads and nothing else; it never interprets a job. The worker
 * side of the protocol is `serveWorkerJobs` below.
 *
 *   main → worker: {t:'job', id, req} · {t:'abort', id} · {t:'quit'} (idle: end by yourself)
 *   worker → main: {t:'progress', id, value} · {t:'done', id, res} · {t:'error', id, kind, message}
 */
import { parentPort, Worker } from 'node:worker_threads';
import {
  ConflictError,
  EngineError,
  errorKind,
  ForbiddenError,
  InvalidArgumentError,
  messageOf,
  NotFoundError,
  NotImplementedError,
  SystemError,
  UnauthorizedError,
  UnavailableError,
  type ErrorKind,
} from '../errdefs/errors.js';
import { memoryReleased } from './memoryReleased.js';

type ToWorker<Req> = { t: 'job'; id: number; req: Req } | { t: 'abort'; id: number } | { t: 'quit' };
type FromWorker<Res> =
  | { t: 'progress'; id: number; value: number }
  | { t: 'done'; id: number; res: Res }
  | { t: 'error'; id: number; kind: ErrorKind; message: string };

export interface WorkerPoolOptions {
  /** The worker script, which calls `serveWorkerJobs`. */
  url: URL;
  /** Most threads at once (and so most jobs running at once). */
  size: number;
  /** An idle thread is ended after this long (default 10 s). */
  idleMs?: number;
  /** After an abort, how long a thread may take to stop its job before it is terminated (default 5 s). */
  abortGraceMs?: number;
  /** Names the threads (`berth <name>`), for profiles and debuggers. */
  name?: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Called with the numbers the job reports (throttled by the worker side). */
  onProgress?: (value: number) => void;
}

interface Job<Req, Res> {
  id: number;
  req: Req;
  opts: RunOptions;
  resolve: (r: Res) => void;
  reject: (e: Error) => void;
  onAbort: () => void;
  settled: boolean;
}

interface Slot<Req, Res> {
  worker: Worker;
  job: Job<Req, Res> | null;
  idle: NodeJS.Timeout | null;
  abortTimer: NodeJS.Timeout | null;
  retired: boolean;
}

/** Rebuilds a typed error from what crossed the thread boundary. */
function errorOf(kind: ErrorKind, message: string): EngineError {
  switch (kind) {
    case 'not-found':
      return new NotFoundError(message);
    case 'conflict':
      return new ConflictError(message);
    case 'invalid-argument':
      return new InvalidArgumentError(message);
    case 'unauthorized':
      return new UnauthorizedError(message);
    case 'forbidden':
      return new ForbiddenError(message);
    case 'unavailable':
      return new UnavailableError(message);
    case 'not-implemented':
      return new NotImplementedError(message);
    default:
      return new SystemError(message);
  }
}

function abortError(signal: AbortSignal | undefined): Error {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r : new SystemError('cancelled');
}

export class WorkerPool<Req, Res> {
  private readonly slots: Slot<Req, Res>[] = [];
  private readonly queue: Job<Req, Res>[] = [];
  private nextId = 1;
  private readonly idleMs: number;
  private readonly abortGraceMs: number;

  constructor(private readonly opts: WorkerPoolOptions) {
    if (!(opts.size >= 1)) throw new InvalidArgumentError(`worker pool size must be at least 1, got ${opts.size}`);
    this.idleMs = opts.idleMs ?? 10_000;
    this.abortGraceMs = opts.abortGraceMs ?? 5_000;
  }

  /** Threads alive now (busy or idle). */
  get threads(): number {
    return this.slots.length;
  }

  /** Jobs running now. */
  get running(): number {
    return this.slots.filter((s) => s.job !== null).length;
  }

  /** Jobs waiting for a thread. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Runs one job. Rejects with the job's own error (its kind kept), with the signal's
   * reason when aborted — only after the thread has stopped working on it — or with a
   * SystemError when the thread died.
   */
  run(req: Req, opts: RunOptions = {}): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const signal = opts.signal;
      if (signal?.aborted === true) {
        reject(abortError(signal));
        return;
      }
      const job: Job<Req, Res> = {
        id: this.nextId++,
        req,
        opts,
        resolve,
        reject,
        settled: false,
        onAbort: () => this.abort(job),
      };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.dispatch();
    });
  }

  /**
   * Starts threads ahead of jobs (up to `n`, within the size), so their start-up overlaps
   * whatever the caller does before the jobs come (a download). They idle as usual.
   */
  warm(n: number): void {
    while (this.slots.length < Math.min(n, this.opts.size)) {
      try {
        this.park(this.spawn());
      } catch {
        return; // run() will report it, with the job that needs the thread
      }
    }
  }

  /** Ends every thread now; running and queued jobs fail. The pool can be used again afterwards. */
  async close(): Promise<void> {
    for (const job of this.queue.splice(0)) this.settle(job, new SystemError('worker pool closed'));
    await Promise.all(
      [...this.slots].map((s) => {
        if (s.job) this.settle(s.job, new SystemError('worker pool closed'));
        return this.retire(s);
      }),
    );
  }

  private settle(job: Job<Req, Res>, err: Error | null, res?: Res): void {
    if (job.settled) return;
    job.settled = true;
    job.opts.signal?.removeEventListener('abort', job.onAbort);
    if (err) job.reject(err);
    else job.resolve(res as Res);
  }

  private abort(job: Job<Req, Res>): void {
    const qi = this.queue.indexOf(job);
    if (qi !== -1) {
      // Never started: nothing to stop.
      this.queue.splice(qi, 1);
      this.settle(job, abortError(job.opts.signal));
      return;
    }
    const slot = this.slots.find((s) => s.job === job);
    if (!slot || slot.abortTimer) return;
    slot.worker.postMessage({ t: 'abort', id: job.id } satisfies ToWorker<Req>);
    // The job answers (an error) once it has stopped; a thread that does not is ended.
    slot.abortTimer = setTimeout(() => {
      void this.retire(slot).then(() => this.settle(job, abortError(job.opts.signal)));
    }, this.abortGraceMs);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null && !s.retired);
      if (!slot) {
        if (this.slots.length >= this.opts.size) return;
        try {
          slot = this.spawn();
        } catch (e) {
          const job = this.queue.shift() as Job<Req, Res>;
          this.settle(job, new SystemError(`cannot start a worker thread: ${messageOf(e)}`));
          continue;
        }
      }
      const job = this.queue.shift() as Job<Req, Res>;
      if (slot.idle) clearTimeout(slot.idle);
      slot.idle = null;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ t: 'job', id: job.id, req: job.req } satisfies ToWorker<Req>);
    }
  }

  private spawn(): Slot<Req, Res> {
    const worker = new Worker(this.opts.url, { name: `berth ${this.opts.name ?? 'worker'}` });
    const slot: Slot<Req, Res> = { worker, job: null, idle: null, abortTimer: null, retired: false };
    this.slots.push(slot);
    worker.on('message', (m: FromWorker<Res>) => this.onMessage(slot, m));
    worker.on('error', (e) => this.onDeath(slot, `worker thread failed: ${e.message}`));
    worker.on('exit', (code) => {
      // The thread's isolate went back to malloc: let the idle trim return it (B98).
      memoryReleased();
      this.onDeath(slot, `worker thread exited with code ${code}`);
    });
    return slot;
  }

  private onMessage(slot: Slot<Req, Res>, m: FromWorker<Res>): void {
    const job = slot.job;
    if (!job || m.id !== job.id) return;
    if (m.t === 'progress') {
      if (!job.settled) job.opts.onProgress?.(m.value);
      return;
    }
    if (slot.abortTimer) clearTimeout(slot.abortTimer);
    slot.abortTimer = null;
    slot.job = null;
    if (m.t === 'done') {
      this.settle(job, null, m.res);
      this.park(slot);
    } else {
      this.settle(job, job.opts.signal?.aborted === true ? abortError(job.opts.signal) : errorOf(m.kind, m.message));
      void this.retire(slot);
    }
    this.dispatch();
  }

  /** An idle thread: lets the process exit, and ends after idleMs. */
  private park(slot: Slot<Req, Res>): void {
    if (slot.retired) return;
    queueMicrotask(() => {
      if (slot.job !== null || slot.retired) return;
      slot.worker.unref();
      slot.idle = setTimeout(() => this.dismiss(slot), this.idleMs);
      slot.idle.unref();
    });
  }

  /**
   * Ends an idle thread the gentle way: it closes its port and exits by itself (so
   * `--cpu-prof` can write its profile); one that does not within the grace time is terminated.
   */
  private dismiss(slot: Slot<Req, Res>): void {
    if (slot.job !== null || slot.retired) return;
    this.forget(slot);
    slot.worker.postMessage({ t: 'quit' } satisfies ToWorker<Req>);
    const timer = setTimeout(() => void slot.worker.terminate().catch(() => undefined), this.abortGraceMs);
    timer.unref();
    slot.worker.once('exit', () => clearTimeout(timer));
  }

  private onDeath(slot: Slot<Req, Res>, why: string): void {
    const job = slot.job;
    slot.job = null;
    this.forget(slot);
    if (job) this.settle(job, job.opts.signal?.aborted === true ? abortError(job.opts.signal) : new SystemError(why));
    this.dispatch();
  }

  private forget(slot: Slot<Req, Res>): void {
    slot.retired = true;
    if (slot.idle) clearTimeout(slot.idle);
    if (slot.abortTimer) clearTimeout(slot.abortTimer);
    slot.idle = null;
    slot.abortTimer = null;
    const i = this.slots.indexOf(slot);
    if (i !== -1) this.slots.splice(i, 1);
  }

  private async retire(slot: Slot<Req, Res>): Promise<void> {
    this.forget(slot);
    await slot.worker.terminate().catch(() => undefined);
    this.dispatch();
  }
}

/**
 * The worker side: answers the pool's jobs one at a time with `handler`. Progress
 * values are sent at most every `progressMs` (default 100 ms).
 */
export function serveWorkerJobs<Req, Res>(
  handler: (req: Req, onProgress: (value: number) => void, signal: AbortSignal) => Promise<Res>,
  progressMs = 100,
): void {
  const port = parentPort;
  if (!port) return;
  const running = new Map<number, AbortController>();
  port.on('message', (m: ToWorker<Req>) => {
    if (m.t === 'quit') {
      // Nothing runs (the pool sends this only to idle threads): an empty loop ends the thread.
      port.close();
      return;
    }
    if (m.t === 'abort') {
      running.get(m.id)?.abort(new SystemError('cancelled'));
      return;
    }
    const ac = new AbortController();
    running.set(m.id, ac);
    let last = 0;
    const onProgress = (value: number): void => {
      const now = Date.now();
      if (now - last < progressMs) return;
      last = now;
      port.postMessage({ t: 'progress', id: m.id, value } satisfies FromWorker<Res>);
    };
    handler(m.req, onProgress, ac.signal).then(
      (res) => {
        running.delete(m.id);
        port.postMessage({ t: 'done', id: m.id, res } satisfies FromWorker<Res>);
      },
      (e: unknown) => {
        running.delete(m.id);
        port.postMessage({ t: 'error', id: m.id, kind: errorKind(e), message: messageOf(e) } satisfies FromWorker<Res>);
      },
    );
  });
}
