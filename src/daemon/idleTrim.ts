/**
 * daemon/idleTrim: gives memory back to the kernel when berthd goes idle. glibc
 * keeps freed pages in its malloc arena (4-7 MB after start-up or a burst of
 * requests, measured) until malloc_trim(3) returns them; bin/berthd runs with one
 * arena, as malloc_trim cannot shrink the other arenas' free tops (B98). A timer
 * looks at the process's CPU time once a second and trims (on the thread pool,
 * through native/engine) after a quiet second that follows busier ones, or that
 * follows a bulk release (util/memoryReleased: an unpack thread ended, pooled
 * buffers freed). Owns only that timer; does nothing without the addon; never
 * keeps the process alive (decisions B56).
 */
import { takeMemoryReleased } from '../util/memoryReleased.js';
import { nativeEngine } from '../util/nativeEngine.js';

/** CPU time (µs) in one interval below which the daemon counts as idle. */
const IDLE_CPU_US = 10_000;
/** CPU time (µs) since the last trim that makes another one worth it. */
const BUSY_CPU_US = 50_000;

export interface IdleTrim {
  stop(): void;
}

/** What the timer uses; the defaults are the addon's malloc_trim and the process's CPU clock (tests pass their own). */
export interface IdleTrimDeps {
  trim?: () => Promise<boolean>;
  cpuUsage?: () => NodeJS.CpuUsage;
}

export function startIdleTrim(intervalMs = 1000, deps: IdleTrimDeps = {}): IdleTrim {
  const engine = nativeEngine();
  const trim = deps.trim ?? (engine !== null ? () => engine.mallocTrim() : null);
  if (trim === null) return { stop: () => undefined };
  const cpuUsage = deps.cpuUsage ?? (() => process.cpuUsage());
  let last = cpuUsage();
  let busySinceTrim = 0;
  let trimming = false;
  const timer = setInterval(() => {
    const now = cpuUsage();
    const used = now.user - last.user + (now.system - last.system);
    last = now;
    busySinceTrim += used;
    if (used >= IDLE_CPU_US || trimming) return;
    // Read only in a quiet second, so a release during busy seconds waits for the quiet one.
    const released = takeMemoryReleased();
    if (busySinceTrim < BUSY_CPU_US && !released) return;
    busySinceTrim = 0;
    trimming = true;
    trim()
      .catch(() => false)
      .finally(() => {
        trimming = false;
        // The trim's own CPU is not activity.
        last = cpuUsage();
      });
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
