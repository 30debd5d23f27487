/**
 * client/host: turns a daemon address (`-H`, BERTH_HOST) into something to dial.
 * Owns the one place addresses are parsed, so tcp:// can be added here later.
 * Never dials anything.
 */

/** Where berthd listens when nothing else is said. */
export const DEFAULT_SOCKET_PATH = '/run/berth.sock';
export const DEFAULT_HOST = `unix://${DEFAULT_SOCKET_PATH}`;

export interface DaemonHost {
  proto: 'unix';
  /** Path of the unix socket. */
  socketPath: string;
  /** The address as users write it, for messages: `unix:///run/berth.sock`. */
  url: string;
}

export class HostParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostParseError';
  }
}

/**
 * Parses a daemon address. Accepts `unix:///abs/path` (and `unix://` for the
 * default socket); rejects everything else with docker's wording.
 */
export function parseHost(addr: string): DaemonHost {
  const value = addr.trim();
  if (value === '') return { proto: 'unix', socketPath: DEFAULT_SOCKET_PATH, url: DEFAULT_HOST };
  const sep = value.indexOf('://');
  if (sep < 0) throw new HostParseError(`Invalid bind address format: ${value}`);
  const proto = value.slice(0, sep).toLowerCase();
  const rest = value.slice(sep + 3);
  switch (proto) {
    case 'unix': {
      const socketPath = rest === '' ? DEFAULT_SOCKET_PATH : rest;
      if (!socketPath.startsWith('/')) throw new HostParseError(`Invalid bind address format: ${value}`);
      return { proto: 'unix', socketPath, url: `unix://${socketPath}` };
    }
    case 'tcp':
    case 'http':
    case 'https':
    case 'ssh':
    case 'fd':
    case 'npipe':
      throw new HostParseError(`${proto}:// daemon addresses are not supported yet: ${value}`);
    default:
      throw new HostParseError(`Invalid bind address format: ${value}`);
  }
}

/**
 * The daemon address to use: the `-H` flag, else BERTH_HOST, else the default.
 * `env` is a parameter so tests need not touch process.env.
 */
export function resolveHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): DaemonHost {
  if (flag !== undefined && flag !== '') return parseHost(flag);
  const fromEnv = env['BERTH_HOST'];
  if (fromEnv !== undefined && fromEnv !== '') return parseHost(fromEnv);
  return parseHost(DEFAULT_HOST);
}
