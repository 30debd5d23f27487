/**
 * client/host: turns a daemon address (`-H`, BERTH_HOST, DOCKER_HOST) into
 * something to dial: a unix socket or a TCP host and port. Owns the one place
 * addresses are parsed. Never dials anything.
 */

/** Where berthd listens when nothing else is said. */
export const DEFAULT_SOCKET_PATH = '/run/berth.sock';
export const DEFAULT_HOST = `unix://${DEFAULT_SOCKET_PATH}`;

export interface DaemonHost {
  proto: 'unix' | 'tcp';
  /** Path of the unix socket; '' for tcp (dial through EngineClient.openRequest, never by hand). */
  socketPath: string;
  /** tcp only: host name or IP (no brackets) and port. */
  tcpHost?: string;
  port?: number;
  /** The address as users write it, for messages: `unix:///run/berth.sock`, `tcp://127.0.0.1:2376`. */
  url: string;
}

export class HostParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostParseError';
  }
}

/** docker's ports: 2376 is TLS, 2375 plain. */
function defaultTcpPort(tls: boolean): number {
  return tls ? 2376 : 2375;
}

/**
 * Parses a daemon address. Accepts `unix:///abs/path` (and `unix://` for the
 * default socket) and `tcp://host[:port]` (port 2376 with TLS, else 2375;
 * `tcp://` alone is localhost); rejects everything else with docker's wording.
 */
export function parseHost(addr: string, tls = false): DaemonHost {
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
    case 'tcp': {
      const m = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]*)(?::(\d*))?\/?$/.exec(rest);
      if (!m) throw new HostParseError(`Invalid bind address format: ${value}`);
      const tcpHost = (m[1] ?? '').replace(/^\[|\]$/g, '') || 'localhost';
      const port = m[2] === undefined || m[2] === '' ? defaultTcpPort(tls) : Number(m[2]);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new HostParseError(`Invalid bind address format: ${value}`);
      const shown = tcpHost.includes(':') ? `[${tcpHost}]` : tcpHost;
      return { proto: 'tcp', socketPath: '', tcpHost, port, url: `tcp://${shown}:${port}` };
    }
    case 'http':
    case 'https':
    case 'ssh':
    case 'fd':
    case 'npipe':
      throw new HostParseError(`${proto}:// daemon addresses are not supported: ${value}`);
    default:
      throw new HostParseError(`Invalid bind address format: ${value}`);
  }
}

/**
 * The daemon address to use: the `-H` flag, else BERTH_HOST, else DOCKER_HOST
 * (so one variable serves both CLIs), else the default socket. `env` is a
 * parameter so tests need not touch process.env; `tls` picks tcp's default port.
 */
export function resolveHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, tls = false): DaemonHost {
  if (flag !== undefined && flag !== '') return parseHost(flag, tls);
  for (const name of ['BERTH_HOST', 'DOCKER_HOST']) {
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv !== '') return parseHost(fromEnv, tls);
  }
  return parseHost(DEFAULT_HOST);
}
