/**
 * containers/restartPolicy: Docker's restart-policy decision and back-off
 * (moby restartmanager): 100 ms after the first exit, doubling up to one
 * minute, reset once a run lasted 10 s. Pure: the caller owns timers and state.
 */
import { InvalidArgumentError } from '../errdefs/errors.js';
import type { RestartPolicy } from './types.js';

export const DEFAULT_RESTART_DELAY_MS = 100;
export const MAX_RESTART_DELAY_MS = 60_000;
/** A run this long resets the back-off. */
export const RESET_AFTER_MS = 10_000;

export interface RestartDecision {
  restart: boolean;
  /** The back-off to wait before restarting, and to remember for the next exit. */
  delayMs: number;
}

export function normalizePolicy(p: RestartPolicy | undefined): RestartPolicy {
  const name = p?.Name ?? '';
  return { Name: name === '' ? 'no' : name, MaximumRetryCount: p?.MaximumRetryCount ?? 0 };
}

/** Checks a RestartPolicy as moby's ValidateRestartPolicy does (400 with its wording). */
export function validateRestartPolicy(p: RestartPolicy | undefined): void {
  if (p === undefined || p === null) return;
  const name = p.Name ?? '';
  const max = p.MaximumRetryCount ?? 0;
  if (typeof max !== 'number' || !Number.isInteger(max)) throw new InvalidArgumentError('invalid JSON: RestartPolicy.MaximumRetryCount must be an integer');
  switch (name) {
    case '':
    case 'no':
    case 'always':
    case 'unless-stopped':
      if (max !== 0) throw new InvalidArgumentError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
      return;
    case 'on-failure':
      if (max < 0) throw new InvalidArgumentError('invalid restart policy: maximum retry count cannot be negative');
      return;
    default:
      throw new InvalidArgumentError(`invalid restart policy: unknown policy '${String(name)}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

/**
 * Whether a container that just exited restarts, and after how long.
 * `previousDelayMs` is the back-off of the last restart (0 for none).
 */
export function decideRestart(
  policy: RestartPolicy | undefined,
  exit: { exitCode: number; ranForMs: number; manuallyStopped: boolean; restartCount: number },
  previousDelayMs: number,
): RestartDecision {
  const p = normalizePolicy(policy);
  let delay = exit.ranForMs >= RESET_AFTER_MS ? 0 : previousDelayMs;
  delay = delay === 0 ? DEFAULT_RESTART_DELAY_MS : Math.min(delay * 2, MAX_RESTART_DELAY_MS);
  if (exit.manuallyStopped) return { restart: false, delayMs: delay };
  let restart = false;
  switch (p.Name) {
    case 'always':
    case 'unless-stopped':
      restart = true;
      break;
    case 'on-failure': {
      const max = p.MaximumRetryCount ?? 0;
      restart = exit.exitCode !== 0 && (max === 0 || exit.restartCount < max);
      break;
    }
    default:
      restart = false;
  }
  return { restart, delayMs: delay };
}

/** Whether berthd starts this stopped container when it (re)starts (moby's ShouldRestart on daemon start). */
export function restartOnDaemonStart(policy: RestartPolicy | undefined, state: { exitCode: number; manuallyStopped: boolean; restartCount: number; wasRestarting: boolean }): boolean {
  const p = normalizePolicy(policy);
  // `always` brings back even a container the user stopped, when the daemon starts (Docker's documented difference).
  if (p.Name === 'always') return true;
  if (state.manuallyStopped) return false;
  if (p.Name === 'unless-stopped') return true;
  if (p.Name === 'on-failure') {
    const max = p.MaximumRetryCount ?? 0;
    return state.wasRestarting && state.exitCode !== 0 && (max === 0 || state.restartCount < max);
  }
  return false;
}
