/**
 * daemon/idleTrim: gives memory back to the kernel when berthd goes idle. glibc
 * keeps freed pages in its malloc arena (4-7 MB after start-up or a burst of
 * requests, measured) until malloc_trim(3) returns them; bin/berthd runs with one
 * arena, as malloc_trim cannot shrink the other arenas' free tops (B98). V8 keeps
 * its young generation grown and its old one fragmented until its own memory
 * reducer runs, seconds later and not always; a LowMemoryNotification (native/engine's
 * reduceHeap) compacts both at once (B99).
 *
 * A timer looks at the process's CPU time once a second and trims (on the thread
 * pool, through native/engine) after a quiet second that follows busier ones, or
 * that follows a bulk release (util/memoryReleased: an unpack thread ended, pooled
 * buffers freed). Start-up counts as busy. The heap is reduced first, in the same
 * quiet second, when enough work has run since the last reduction to be worth its
 * ~30 ms pause on the event loop, or after a bulk release. Owns only that timer;
 * does nothing without the addon; never keeps the process alive (decisions B56).
 */
import { takeMemoryReleased } from '../util/memoryReleased.js';
import { nativeEngine } from '../util/nativeEngine.js';

/** CPU time (µs) in one interval below which the daemon counts as idle. */
const IDLE_CPU_US = 10_000;
/** CPU time (µs) since the last trim that makes another one worth it. */
const BUSY_CPU_US = 50_000;
/**
 * CPU time (µs) since the last heap reduction that makes another one worth it: its pause
 * (~30 ms) then costs at most ~15 % of the work before it, however the quiet seconds fall.
 */
const HEAP_BUSY_CPU_US = 200_000;

export interface IdleTrim {
  stop(): void;
}

/** What the timer uses; the defaults are the addon's calls and the process's CPU clock (tests pass their own). */
export interface IdleTrimDeps {
  trim?: () => Promise<boolean>;
  reduceHeap?: () => void;
  cpuUsage?: () => NodeJS.CpuUsage;
  /** Whether start-up counts as busy, so the first quiet interval trims (default true). */
  startUpWasBusy?: boolean;
}

export function startIdleTrim(intervalMs = 1000, deps: IdleTrimDeps = {}): IdleTrim {
  const engine = deps.trim === undefined ? nativeEngine() : null;
  const trim = deps.trim ?? (engine !== null ? () => engine.mallocTrim() : null);
  if (trim === null) return { stop: () => undefined };
  const reduceHeap = deps.reduceHeap ?? ((): void => engine?.reduceHeap?.());
  const cpuUsage = deps.cpuUsage ?? (() => process.cpuUsage());
  const startUp = deps.startUpWasBusy ?? true;
  let last = cpuUsage();
  let busySinceTrim = startUp ? BUSY_CPU_US : 0;
  let busySinceReduce = startUp ? HEAP_BUSY_CPU_US : 0;
  let trimming = false;
  const timer = setInterval(() => {
    const now = cpuUsage();
    const used = now.user - last.user + (now.system - last.system);
    last = now;
    busySinceTrim += used;
    busySinceReduce += used;
    if (used >= IDLE_CPU_US || trimming) return;
    // Read only in a quiet second, so a release during busy seconds waits for the quiet one.
    const released = takeMemoryReleased();
    if (busySinceTrim < BUSY_CPU_US && !released) return;
    busySinceTrim = 0;
    if (busySinceReduce >= HEAP_BUSY_CPU_US || released) {
      busySinceReduce = 0;
      // Before the trim, so the pages the collection frees are among those it returns.
      reduceHeap();
    }
    trimming = true;
    trim()
      .catch(() => false)
      .finally(() => {
        trimming = false;
        // The collection's and the trim's own CPU is not activity.
        last = cpuUsage();
      });
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
