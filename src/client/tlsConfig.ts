/**
 * client/tlsConfig: the client side of TCP+TLS, decided exactly as the docker
 * CLI does (cli/flags/options.go): `--tlsverify` or DOCKER_TLS_VERIFY turn
 * TLS on and verify the daemon against the CA; `--tls` alone encrypts without
 * verifying; the files default to $DOCKER_CERT_PATH (else ~/.docker)
 * {ca,cert,key}.pem, and a default client cert/key that does not exist is
 * simply not sent. Owns reading those files (errors name the file); never
 * dials.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface ClientTlsFlags {
  tls?: boolean;
  /** undefined: not given (DOCKER_TLS_VERIFY decides). */
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

export interface ClientTls {
  /** Verify the daemon's certificate (and host name) against `ca`. */
  verify: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export class TlsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

/** Whether TLS is on at all (cheap: reads no file); decides tcp's default port. */
export function tlsEnabled(flags: ClientTlsFlags, env: NodeJS.ProcessEnv = process.env): boolean {
  // Any --tlsverify, even =false, turns TLS on (docker: flags.Changed(FlagTLSVerify)).
  return flags.tls === true || flags.tlsverify !== undefined || (env['DOCKER_TLS_VERIFY'] ?? '') !== '' || (env['DOCKER_TLS'] ?? '') !== '';
}

function read(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new TlsConfigError(`Could not read ${what} "${path}": ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
  }
}

/** The TLS settings to dial with, or null for plain TCP. */
export function resolveClientTls(flags: ClientTlsFlags, env: NodeJS.ProcessEnv = process.env): ClientTls | null {
  if (!tlsEnabled(flags, env)) return null;
  const verify = flags.tlsverify ?? (env['DOCKER_TLS_VERIFY'] ?? '') !== '';
  const dir = env['DOCKER_CERT_PATH'] || join(env['HOME'] || homedir(), '.docker');
  const out: ClientTls = { verify };
  if (verify) out.ca = read('CA certificate', flags.tlscacert ?? join(dir, 'ca.pem'));
  // A default client cert/key that is not there is not an error: the daemon may not ask for one.
  const certPath = flags.tlscert ?? (existsSync(join(dir, 'cert.pem')) ? join(dir, 'cert.pem') : undefined);
  const keyPath = flags.tlskey ?? (existsSync(join(dir, 'key.pem')) ? join(dir, 'key.pem') : undefined);
  if ((certPath === undefined) !== (keyPath === undefined)) {
    throw new TlsConfigError(`Could not load X509 key pair: ${certPath === undefined ? 'a key without a certificate' : 'a certificate without a key'} (--tlscert and --tlskey go together)`);
  }
  if (certPath !== undefined && keyPath !== undefined) {
    out.cert = read('client certificate', certPath);
    out.key = read('client key', keyPath);
  }
  return out;
}
