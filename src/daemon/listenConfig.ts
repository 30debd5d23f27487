/**
 * daemon/listenConfig: turns berthd's access flags (-H…, --group, --tls,
 * --tlsverify, --tlscacert/--tlscert/--tlskey, --insecure-tcp) into a checked
 * listen configuration before anything starts: addresses parsed, the socket
 * group resolved to a gid, certificate files read and validated. Every refusal
 * names the flag and file at fault. Never opens a socket (daemon/apiListeners
 * does).
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { InvalidArgumentError, messageOf } from '../errdefs/errors.js';
import { run } from '../util/process.js';

export const DEFAULT_UNIX_SOCKET = '/run/berth.sock';
export const DEFAULT_SOCKET_GROUP = 'berth';

export type ListenAddress = { proto: 'unix'; path: string } | { proto: 'tcp'; host: string; port: number };

export interface ServerTls {
  /** Require a client certificate signed by `ca` (--tlsverify). */
  verify: boolean;
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

export interface ListenConfig {
  addresses: ListenAddress[];
  /** Group owning unix sockets (mode 0660); null: root only (0600). */
  socketGid: number | null;
  /** TLS for tcp addresses; null only when --insecure-tcp allowed plain TCP (or there is none). */
  tls: ServerTls | null;
}

export interface ListenFlags {
  hosts: string[];
  /** --group; undefined when not given (then the default group, missing = warning only). */
  group: string | undefined;
  tls: boolean;
  tlsverify: boolean;
  tlscacert: string | undefined;
  tlscert: string | undefined;
  tlskey: string | undefined;
  insecureTcp: boolean;
}

/**
 * Parses one -H value as dockerd does: `unix:///path` (`unix://` = default),
 * a bare absolute path, `tcp://host:port` (port defaults to 2376 with TLS,
 * 2375 without; `tcp://:2376` = all interfaces).
 */
export function parseListenAddress(value: string, tls: boolean): ListenAddress {
  const v = value.trim();
  if (v.startsWith('/')) return { proto: 'unix', path: v };
  const sep = v.indexOf('://');
  if (sep < 0) throw new InvalidArgumentError(`invalid -H "${value}": use unix:///path or tcp://host:port`);
  const proto = v.slice(0, sep).toLowerCase();
  const rest = v.slice(sep + 3);
  if (proto === 'unix') {
    const path = rest === '' ? DEFAULT_UNIX_SOCKET : rest;
    if (!path.startsWith('/')) throw new InvalidArgumentError(`invalid -H "${value}": the unix socket path must be absolute`);
    return { proto: 'unix', path };
  }
  if (proto === 'tcp') {
    const defPort = tls ? 2376 : 2375;
    const m = /^(\[[0-9a-fA-F:.%a-zA-Z]+\]|[^:/[\]]*)(?::(\d*))?\/?$/.exec(rest);
    if (!m) throw new InvalidArgumentError(`invalid -H "${value}": use tcp://host:port`);
    const host = (m[1] ?? '').replace(/^\[|\]$/g, '') || '0.0.0.0';
    const port = m[2] === undefined || m[2] === '' ? defPort : Number(m[2]);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`invalid -H "${value}": bad port`);
    return { proto: 'tcp', host, port };
  }
  throw new InvalidArgumentError(`invalid -H "${value}": only unix:// and tcp:// addresses are supported`);
}

export function formatAddress(a: ListenAddress): string {
  return a.proto === 'unix' ? `unix://${a.path}` : `tcp://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** A group name (or numeric gid) to its gid; null when no such group exists. */
export async function lookupGroup(name: string): Promise<number | null> {
  if (/^\d+$/.test(name)) return Number(name);
  // getent asks NSS, so groups from LDAP/sssd count too; exit 2 = not found.
  const r = await run('getent', ['group', name], { okCodes: [0, 2] });
  if (r.code !== 0) return null;
  const gid = Number(r.stdout.split(':')[2]);
  return Number.isInteger(gid) ? gid : null;
}

async function readFlagFile(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : messageOf(e);
    throw new InvalidArgumentError(`cannot read ${flag} file "${path}": ${why}`);
  }
}

function checkCertificate(flag: string, path: string, pem: Buffer): void {
  try {
    new X509Certificate(pem);
  } catch (e) {
    throw new InvalidArgumentError(`${flag} file "${path}" holds no usable PEM certificate: ${messageOf(e)}`);
  }
}

/** Reads and checks the server's TLS material; throws naming the flag and the file. */
export async function loadServerTls(f: ListenFlags, env: NodeJS.ProcessEnv = process.env): Promise<ServerTls> {
  // dockerd's defaults: $DOCKER_CERT_PATH or ~/.docker, {ca,cert,key}.pem.
  const dir = env['DOCKER_CERT_PATH'] || join(homedir(), '.docker');
  const certPath = f.tlscert ?? join(dir, 'cert.pem');
  const keyPath = f.tlskey ?? join(dir, 'key.pem');
  const cert = await readFlagFile('--tlscert', certPath);
  const key = await readFlagFile('--tlskey', keyPath);
  checkCertificate('--tlscert', certPath, cert);
  const out: ServerTls = { verify: f.tlsverify, cert, key };
  if (f.tlsverify) {
    const caPath = f.tlscacert ?? join(dir, 'ca.pem');
    out.ca = await readFlagFile('--tlscacert', caPath);
    checkCertificate('--tlscacert', caPath, out.ca);
  }
  try {
    // node:tls is loaded only here and in apiListeners: ~0.8 MB resident with https, for TLS listeners only (B100).
    process.getBuiltinModule('node:tls').createSecureContext({ cert, key, ...(out.ca ? { ca: out.ca } : {}), minVersion: 'TLSv1.2' });
  } catch (e) {
    throw new InvalidArgumentError(`cannot use --tlscert "${certPath}" with --tlskey "${keyPath}": ${messageOf(e)}`);
  }
  return out;
}

/** Checks every access flag; warns (loudly) where the operator chose less safety. */
export async function prepareListenConfig(
  f: ListenFlags,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
  lookup: (name: string) => Promise<number | null> = lookupGroup,
): Promise<ListenConfig> {
  const useTls = f.tls || f.tlsverify;
  const hosts = f.hosts.length > 0 ? f.hosts : [`unix://${DEFAULT_UNIX_SOCKET}`];
  const addresses = hosts.map((h) => parseListenAddress(h, useTls));
  const tcp = addresses.filter((a) => a.proto === 'tcp');
  let tls: ServerTls | null = null;
  if (tcp.length > 0) {
    if (useTls) {
      tls = await loadServerTls(f, env);
      if (!f.tlsverify) {
        log.warn(
          { hosts: tcp.map(formatAddress) },
          'TCP API with --tls but without --tlsverify: traffic is encrypted, but anyone who can reach the port controls the engine (root on this host)',
        );
      }
    } else if (f.insecureTcp) {
      for (const a of tcp) {
        log.warn(
          { host: formatAddress(a) },
          `INSECURE: serving the API over plain TCP on ${formatAddress(a)} (--insecure-tcp): anyone who can reach it has root on this host; use --tlsverify`,
        );
      }
    } else {
      throw new InvalidArgumentError(
        `refusing to serve the API on ${tcp.map(formatAddress).join(', ')} without TLS: pass --tlsverify with --tlscacert, --tlscert and --tlskey ` +
          '(or, to let anyone who can reach the port control the engine, --insecure-tcp)',
      );
    }
  }
  let socketGid: number | null = null;
  if (addresses.some((a) => a.proto === 'unix')) {
    const name = f.group ?? DEFAULT_SOCKET_GROUP;
    if (name !== '') {
      socketGid = await lookup(name);
      if (socketGid === null) {
        // dockerd's rule: a group asked for by name must exist; the default one may be missing.
        if (f.group !== undefined && f.group !== DEFAULT_SOCKET_GROUP) {
          throw new InvalidArgumentError(`--group "${name}": no such group`);
        }
        log.warn(
          { group: name },
          `group "${name}" not found: the API socket is root-only (0600); create it (groupadd ${name}, as scripts/setup.sh does) to let its members use berth`,
        );
      }
    }
  }
  return { addresses, socketGid, tls };
}
