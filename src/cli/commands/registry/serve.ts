/**
 * `berth registry serve`: runs the OCI distribution registry (src/registry)
 * in this process until SIGTERM/SIGINT. Prints one line once listening.
 * Holds no registry logic: flags in, RegistryServer out.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { StatusError } from '../../errors.js';

export const DEFAULT_REGISTRY_ROOT = '/var/lib/berth-registry';

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'Run an OCI distribution registry server',
  args: { kind: 'none' },
  flags: [
    { name: 'addr', type: 'string', usage: 'Address to listen on (HOST:PORT; port 0 picks a free one)', default: '127.0.0.1:5000' },
    { name: 'root', type: 'string', usage: 'Directory for the registry\'s blobs and metadata', default: DEFAULT_REGISTRY_ROOT },
    { name: 'htpasswd', type: 'string', usage: 'htpasswd file (bcrypt) of users allowed to log in (re-read when it changes)' },
    { name: 'acl', type: 'string', usage: 'Access list: which user may pull/push/delete which repositories (re-read when it changes; needs --htpasswd)' },
    { name: 'token-issuer', type: 'string', usage: 'Issue bearer tokens from /token under this issuer/service name (needs --htpasswd)' },
    { name: 'token-realm', type: 'string', usage: 'Token endpoint URL announced to clients (default: <scheme>://<Host>/token)' },
    { name: 'anonymous-pull', type: 'bool', usage: 'Allow pulls without logging in (pushes still need a login)' },
    { name: 'tls-cert', type: 'string', usage: 'TLS certificate file (PEM); serves HTTPS with --tls-key' },
    { name: 'tls-key', type: 'string', usage: 'TLS private key file (PEM)' },
    { name: 'read-only', type: 'bool', usage: 'Refuse pushes and deletes' },
    { name: 'proxy-remote', type: 'string', usage: 'Serve as a pull-through cache of this registry URL' },
    { name: 'proxy-username', type: 'string', usage: 'Username for the remote registry' },
    { name: 'proxy-password', type: 'string', usage: 'Password for the remote registry (or env BERTH_PROXY_PASSWORD)' },
  ],
};

/** "127.0.0.1:5000", "[::1]:5000", ":5000", "5000" → host and port. */
export function parseAddr(addr: string): { host: string; port: number } {
  let host: string;
  let port: string;
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr);
  if (m !== null) {
    host = m[1] as string;
    port = m[2] as string;
  } else if (/^\d+$/.test(addr)) {
    host = '0.0.0.0';
    port = addr;
  } else {
    const i = addr.lastIndexOf(':');
    if (i < 0) throw new StatusError(`invalid --addr "${addr}": expected HOST:PORT`, 125);
    host = addr.slice(0, i) || '0.0.0.0';
    port = addr.slice(i + 1);
  }
  const n = Number(port);
  if (!/^\d+$/.test(port) || n > 65535) throw new StatusError(`invalid --addr "${addr}": bad port "${port}"`, 125);
  return { host, port: n };
}

async function readOrFail(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new StatusError(`cannot read ${what} "${path}": ${(e as Error).message}`, 1);
  }
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const { host, port } = parseAddr(p.string('addr') || '127.0.0.1:5000');
  const root = p.string('root') || DEFAULT_REGISTRY_ROOT;
  const certPath = p.string('tls-cert');
  const keyPath = p.string('tls-key');
  if ((certPath === '') !== (keyPath === '')) throw new StatusError('--tls-cert and --tls-key go together', 125);
  const issuer = p.string('token-issuer');
  const htpasswdPath = p.string('htpasswd');
  if (issuer !== '' && htpasswdPath === '') throw new StatusError('--token-issuer needs --htpasswd (the users tokens are issued to)', 125);
  const aclPath = p.string('acl');
  if (aclPath !== '' && htpasswdPath === '') throw new StatusError('--acl needs --htpasswd (the users it names)', 125);

  const { mkdir } = await import('node:fs/promises');
  await mkdir(root, { recursive: true });
  const [{ RegistryServer }, { Htpasswd }, { Acl }, { ReloadingFile }, { loadOrCreateKey }, { AUTH_FILE_RECHECK_MS }] = await Promise.all([
    import('../../../registry/server.js'),
    import('../../../registry/htpasswd.js'),
    import('../../../registry/acl.js'),
    import('../../../registry/reloadingFile.js'),
    import('../../../registry/token.js'),
    import('../../../registry/limits.js'),
  ]);
  type Opts = Parameters<typeof RegistryServer.open>[0];
  const opts: Opts = { root, readOnly: p.bool('read-only') };
  const log = (line: string): void => ctx.err(`${line}\n`);
  const reload = (what: string): { what: string; checkMs: number; log: typeof log } => ({ what, checkMs: AUTH_FILE_RECHECK_MS, log });
  const fatal = (e: unknown): never => {
    throw new StatusError((e as Error).message, 1);
  };
  if (htpasswdPath !== '') {
    const htpasswd = await ReloadingFile.load(htpasswdPath, (text, src) => Htpasswd.parse(text, src), reload('htpasswd file')).catch(fatal);
    const auth: NonNullable<Opts['auth']> = { htpasswd, anonymousPull: p.bool('anonymous-pull') };
    if (aclPath !== '') auth.acl = await ReloadingFile.load(aclPath, (text, src) => Acl.parse(text, src), reload('ACL file')).catch(fatal);
    if (issuer !== '') {
      auth.token = { issuer, key: await loadOrCreateKey(join(root, 'token.key')) };
      if (p.string('token-realm') !== '') auth.token.realm = p.string('token-realm');
    }
    opts.auth = auth;
  }
  if (certPath !== '') {
    opts.tls = { cert: await readOrFail(certPath, 'TLS certificate'), key: await readOrFail(keyPath, 'TLS key') };
  }
  const remote = p.string('proxy-remote');
  if (remote !== '') {
    const { PullThrough } = await import('../../../registry/proxy.js');
    const creds =
      p.string('proxy-username') !== ''
        ? { username: p.string('proxy-username'), password: p.string('proxy-password') || (ctx.env['BERTH_PROXY_PASSWORD'] ?? '') }
        : undefined;
    opts.proxy = (registry) => new PullThrough(registry, remote, creds);
  }
  opts.log = log;

  const server = await RegistryServer.open(opts);
  let address;
  try {
    address = await server.listen(host, port);
  } catch (e) {
    await server.close();
    throw new StatusError(`cannot listen on ${host}:${port}: ${(e as Error).message}`, 1);
  }
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const scheme = opts.tls !== undefined ? 'https' : 'http';
  const extras = [`root ${root}`, `auth ${server.authMode}`];
  if (opts.readOnly) extras.push('read-only');
  if (remote !== '') extras.push(`proxy ${remote}`);
  ctx.out(`berth registry listening on ${scheme}://${shown}:${address.port} (${extras.join(', ')})\n`);

  // The handlers stay until the server is closed, so a second signal does not kill a clean stop.
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await stopped;
    await server.close();
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
  return 0;
}
