/**
 * containers/healthMonitor: Docker's HEALTHCHECK for running containers
 * (moby daemon/health.go): a probe runs every Interval (StartInterval
 * during StartPeriod) as an exec in the container; a probe that exceeds
 * Timeout is killed and counts as a failure; Retries consecutive failures
 * after the start period make the container unhealthy, one success makes it
 * healthy. The last five results are kept in State.Health.Log and every
 * status change is a `health_status: <status>` event.
 *
 * Owns the probe schedule; records results only through the `save` callback
 * (which runs under the container's lock). Never starts or stops containers.
 */
import { InvalidArgumentError } from '../errdefs/errors.js';
import type { HealthConfig } from '../oci/image.js';
import type { ContainerRecord } from './types.js';

export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_START_INTERVAL_MS = 5_000;
export const DEFAULT_RETRIES = 3;
/** moby's maxLogEntries. */
export const MAX_LOG_ENTRIES = 5;

export type HealthStatusName = 'starting' | 'healthy' | 'unhealthy';

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  Status: HealthStatusName;
  FailingStreak: number;
  Log: HealthLogEntry[];
}

export interface HealthHost {
  /** Runs the probe command in the container (see ExecService.runProbe). */
  probe(id: string, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /** Applies `fn` to the container's record and saves it (under its lock); null if it is gone or not running. */
  save(id: string, fn: (c: ContainerRecord) => void): Promise<ContainerRecord | null>;
  publish(c: ContainerRecord, action: string): void;
}

const NS_PER_MS = 1_000_000;

/**
 * moby's validateHealthCheck (400 with its wording). Durations are nanoseconds. Fields sent as
 * null are dropped first: Go's decoder leaves them at their zero value, and SDKs (docker-py's
 * Healthcheck type) send every field, null where unset.
 */
export function validateHealthcheck(h: HealthConfig | undefined | null): void {
  if (!h) return;
  const rec = h as unknown as Record<string, unknown>;
  for (const k of Object.keys(rec)) if (rec[k] === null) delete rec[k];
  const min = NS_PER_MS; // 1 ms
  const check = (v: number | undefined, what: string): void => {
    if (v === undefined || v === 0) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidArgumentError(`invalid JSON: Healthcheck.${what} must be a number`);
    if (v < min) throw new InvalidArgumentError(`${what} in Healthcheck cannot be less than 1ms`);
  };
  check(h.Interval, 'Interval');
  check(h.Timeout, 'Timeout');
  check(h.StartPeriod, 'StartPeriod');
  check(h.StartInterval, 'StartInterval');
  if (h.Retries !== undefined && h.Retries < 0) throw new InvalidArgumentError('Retries in Healthcheck cannot be negative');
  if (h.Test !== undefined && h.Test !== null && !(Array.isArray(h.Test) && h.Test.every((x) => typeof x === 'string'))) {
    throw new InvalidArgumentError('invalid JSON: Healthcheck.Test must be an array of strings');
  }
}

/** The probe command of a healthcheck, or null when there is none ("NONE" or no test). */
export function probeCommand(h: HealthConfig | undefined | null): string[] | null {
  const t = h?.Test ?? [];
  if (t.length === 0 || t[0] === 'NONE') return null;
  if (t[0] === 'CMD-SHELL') return ['/bin/sh', '-c', t.slice(1).join(' ')];
  if (t[0] === 'CMD') return t.length > 1 ? t.slice(1) : null;
  throw new InvalidArgumentError(`unknown healthcheck type '${t[0] ?? ''}' (expected 'CMD' or 'CMD-SHELL')`);
}

/** State after one probe result (moby handleProbeResult). */
export function applyProbe(
  h: HealthState,
  result: HealthLogEntry,
  opts: { retries: number; startPeriodMs: number; startedAt: string },
): HealthState {
  const out: HealthState = { Status: h.Status, FailingStreak: h.FailingStreak, Log: [...h.Log, result].slice(-MAX_LOG_ENTRIES) };
  if (result.ExitCode === 0) {
    out.FailingStreak = 0;
    out.Status = 'healthy';
    return out;
  }
  // A failure inside the start period of a container that never passed does not count.
  const inStart = h.Status === 'starting' && Date.parse(result.Start) - Date.parse(opts.startedAt) < opts.startPeriodMs;
  if (!inStart) {
    out.FailingStreak++;
    if (out.FailingStreak >= opts.retries) out.Status = 'unhealthy';
  }
  return out;
}

interface Monitor {
  timer: NodeJS.Timeout | undefined;
  stopped: boolean;
}

export class HealthMonitor {
  private readonly monitors = new Map<string, Monitor>();

  constructor(private readonly host: HealthHost) {}

  /** Starts probing a container that just started (no-op without a healthcheck). */
  start(c: ContainerRecord, opts: { resume?: boolean } = {}): void {
    this.stop(c.Id);
    const cmd = probeCommand(c.Config.Healthcheck);
    if (cmd === null) return;
    const m: Monitor = { timer: undefined, stopped: false };
    this.monitors.set(c.Id, m);
    const h = c.Config.Healthcheck ?? {};
    const interval = h.Interval ? h.Interval / NS_PER_MS : DEFAULT_INTERVAL_MS;
    const timeout = h.Timeout ? h.Timeout / NS_PER_MS : DEFAULT_TIMEOUT_MS;
    const startPeriod = h.StartPeriod ? h.StartPeriod / NS_PER_MS : 0;
    const startInterval = h.StartInterval ? h.StartInterval / NS_PER_MS : DEFAULT_START_INTERVAL_MS;
    const retries = h.Retries && h.Retries > 0 ? h.Retries : DEFAULT_RETRIES;
    const startedAt = c.State.StartedAt;
    const next = (status: HealthStatusName): number => {
      // During the start period a container that never passed is probed every StartInterval.
      const inStart = status === 'starting' && Date.now() - Date.parse(startedAt) < startPeriod;
      return inStart ? Math.min(startInterval, interval) : interval;
    };
    const tick = async (): Promise<void> => {
      if (m.stopped) return;
      const start = new Date();
      let r: { exitCode: number; output: string };
      try {
        r = await this.host.probe(c.Id, cmd, timeout);
      } catch (e) {
        r = { exitCode: -1, output: e instanceof Error ? e.message : String(e) };
      }
      if (m.stopped) return;
      const entry: HealthLogEntry = { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: r.exitCode, Output: r.output };
      let before: HealthStatusName = 'starting';
      let after: HealthStatusName = 'starting';
      const saved = await this.host.save(c.Id, (rec) => {
        const cur = (rec.State as { Health?: HealthState }).Health ?? { Status: 'starting', FailingStreak: 0, Log: [] };
        before = cur.Status;
        const nextState = applyProbe(cur, entry, { retries, startPeriodMs: startPeriod, startedAt });
        after = nextState.Status;
        (rec.State as { Health?: HealthState }).Health = nextState;
      });
      if (saved === null || m.stopped) return;
      if (before !== after) this.host.publish(saved, `health_status: ${after}`);
      m.timer = setTimeout(() => void tick(), next(after));
      m.timer.unref();
    };
    const reset = async (): Promise<void> => {
      if (!opts.resume) {
        await this.host.save(c.Id, (rec) => {
          (rec.State as { Health?: HealthState }).Health = { Status: 'starting', FailingStreak: 0, Log: [] };
        });
      }
      if (m.stopped) return;
      const cur = ((c.State as { Health?: HealthState }).Health?.Status ?? 'starting') as HealthStatusName;
      m.timer = setTimeout(() => void tick(), next(opts.resume ? cur : 'starting'));
      m.timer.unref();
    };
    void reset();
  }

  stop(id: string): void {
    const m = this.monitors.get(id);
    if (!m) return;
    m.stopped = true;
    if (m.timer) clearTimeout(m.timer);
    this.monitors.delete(id);
  }

  close(): void {
    for (const id of [...this.monitors.keys()]) this.stop(id);
  }
}
