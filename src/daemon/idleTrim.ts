/**
 * daemon/idleTrim: gives memory back to the kernel when berthd goes idle. glibc
 * keeps the pages that V8's compiler and GC threads free in their per-thread
 * malloc arenas (4-7 MB after start-up or a burst of requests, measured) until
 * malloc_trim(3) returns them. A timer looks at the process's CPU time once a
 * second and trims (on the thread pool, through native/engine) after a quiet
 * second that follows busier ones. Owns only that timer; does nothing without
 * the addon; never keeps the process alive (decisions B56).
 */
import { nativeEngine } from '../util/nativeEngine.js';

/** CPU time (µs) in one interval below which the daemon counts as idle. */
const IDLE_CPU_US = 10_000;
/** CPU time (µs) since the last trim that makes another one worth it. */
const BUSY_CPU_US = 50_000;

export interface IdleTrim {
  stop(): void;
}

export function startIdleTrim(intervalMs = 1000): IdleTrim {
  const engine = nativeEngine();
  if (engine === null) return { stop: () => undefined };
  let last = process.cpuUsage();
  let busySinceTrim = 0;
  let trimming = false;
  const timer = setInterval(() => {
    const now = process.cpuUsage();
    const used = now.user - last.user + (now.system - last.system);
    last = now;
    busySinceTrim += used;
    if (used >= IDLE_CPU_US || busySinceTrim < BUSY_CPU_US || trimming) return;
    busySinceTrim = 0;
    trimming = true;
    engine
      .mallocTrim()
      .catch(() => false)
      .finally(() => {
        trimming = false;
        // The trim's own CPU is not activity.
        last = process.cpuUsage();
      });
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
