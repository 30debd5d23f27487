/**
 * containers/logConfig: a container's HostConfig.LogConfig — validated at
 * create with the daemon's defaults filled in (rotation is on by default:
 * max-size 10m, max-file 3), and read back as the policy the log rotator
 * applies. Pure.
 */
import { InvalidArgumentError } from '../errdefs/errors.js';

export interface LogConfig {
  Type: string;
  Config: Record<string, string>;
}

export interface LogPolicy {
  /** 'none' keeps no log at all. */
  driver: 'json-file' | 'none';
  /** Bytes; -1 is unlimited (no rotation). */
  maxSize: number;
  maxFile: number;
}

export interface LogDefaults {
  'max-size': string;
  'max-file': string;
}

export const BUILTIN_LOG_DEFAULTS: LogDefaults = { 'max-size': '10m', 'max-file': '3' };

/** Drivers whose semantics berth provides with its k8s-file log (what `logs` can read). */
const FILE_DRIVERS = ['json-file', 'k8s-file', 'local'];
const KNOWN_OPTS = ['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag', 'mode', 'max-buffer-size'];

/** go-units RAMInBytes: "10m", "1.5g", "100k", "64" (bytes); -1 stays -1. */
export function parseLogSize(v: string): number {
  if (v.trim() === '-1') return -1;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(v);
  if (m === null) throw new InvalidArgumentError(`invalid size: '${v}'`);
  const mul: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.trunc(Number(m[1]) * (mul[(m[2] ?? '').toLowerCase()] ?? 1));
}

/** The LogConfig stored for a new container: driver defaulted, daemon defaults merged, options checked (400). */
export function normalizeLogConfig(lc: Partial<LogConfig> | undefined | null, defaults: LogDefaults = BUILTIN_LOG_DEFAULTS): LogConfig {
  const type = lc?.Type || 'json-file';
  const given = lc?.Config ?? {};
  if (typeof given !== 'object' || Array.isArray(given)) throw new InvalidArgumentError('invalid JSON: LogConfig.Config must be an object');
  if (type === 'none') {
    if (Object.keys(given).length > 0) throw new InvalidArgumentError('invalid logging opts for driver none');
    return { Type: 'none', Config: {} };
  }
  if (!FILE_DRIVERS.includes(type)) throw new InvalidArgumentError(`failed to create container: logger: no log driver named '${type}' is registered`);
  for (const k of Object.keys(given)) {
    if (!KNOWN_OPTS.includes(k)) throw new InvalidArgumentError(`unknown log opt '${k}' for ${type} log driver`);
  }
  const config: Record<string, string> = { ...given };
  if (config['max-size'] === undefined) {
    config['max-size'] = defaults['max-size'];
    if (config['max-file'] === undefined) config['max-file'] = defaults['max-file'];
  }
  const policy = logPolicy({ Type: type, Config: config });
  if (policy.maxSize === -1 && config['max-file'] !== undefined && policy.maxFile > 1) {
    throw new InvalidArgumentError('max-file cannot be set without max-size');
  }
  return { Type: type, Config: config };
}

/** How a stored LogConfig is applied. */
export function logPolicy(lc: LogConfig | undefined): LogPolicy {
  if (lc?.Type === 'none') return { driver: 'none', maxSize: -1, maxFile: 1 };
  const c = lc?.Config ?? {};
  const maxSize = c['max-size'] !== undefined && c['max-size'] !== '' ? parseLogSize(c['max-size']) : -1;
  if (maxSize === 0) throw new InvalidArgumentError('invalid max-size: must be a positive size, or -1');
  let maxFile = 1;
  if (c['max-file'] !== undefined && c['max-file'] !== '') {
    if (!/^\d+$/.test(c['max-file'])) throw new InvalidArgumentError(`invalid max-file: ${c['max-file']}`);
    maxFile = Number(c['max-file']);
    if (maxFile < 1) throw new InvalidArgumentError('max-file cannot be less than 1');
  }
  return { driver: 'json-file', maxSize, maxFile };
}
