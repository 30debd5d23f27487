/**
 * test/integration/access/certs: a throwaway PKI made with openssl for the
 * TCP+TLS tests — a CA, a server certificate for 127.0.0.1 (or the given addresses), a client
 * certificate, one signed by another CA, and one that expired in 2020 (made
 * with `openssl ca -startdate/-enddate`: OpenSSL 3.0's x509 cannot back-date).
 * Also lays the client files out as DOCKER_CERT_PATH expects ({ca,cert,key}.pem).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  wrongCaCert: string;
  wrongCaKey: string;
  expiredCert: string;
  expiredKey: string;
  /** A DOCKER_CERT_PATH directory with ca.pem, cert.pem, key.pem for the good client. */
  dockerCertPath: string;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}.pem`);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=${name}`, '-days', '2'], dir);
  return { cert, key };
}

function signed(dir: string, ca: { cert: string; key: string }, name: string, subj: string, ext: string): { cert: string; key: string } {
  const key = join(dir, `${name}-key.pem`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', subj], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', extFile], dir);
  return { cert, key };
}

/** `serverIps`: the addresses the server certificate is valid for (its IP subjectAltNames). */
export function makePki(serverIps: readonly string[] = ['127.0.0.1']): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pki-'));
  try {
    const ca = makeCa(dir, 'ca');
    const sans = [...serverIps.map((ip) => `IP:${ip}`), 'DNS:localhost'].join(',');
    const server = signed(dir, ca, 'server', '/CN=berthd', `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\n`);
    const client = signed(dir, ca, 'client', '/O=berth-tests/CN=berth-client', 'extendedKeyUsage=clientAuth\n');
    const other = makeCa(dir, 'other-ca');
    const wrong = signed(dir, other, 'wrongca', '/CN=intruder', 'extendedKeyUsage=clientAuth\n');
    // Expired: signed by the right CA, valid only on 1 Jan 2020.
    const expiredKey = join(dir, 'expired-key.pem');
    const expiredCsr = join(dir, 'expired.csr');
    const expiredCert = join(dir, 'expired.pem');
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', expiredKey, '-out', expiredCsr, '-subj', '/CN=expired-client'], dir);
    mkdirSync(join(dir, 'ca-db'));
    writeFileSync(join(dir, 'ca-db', 'index.txt'), '');
    writeFileSync(join(dir, 'ca-db', 'serial'), '1000\n');
    writeFileSync(
      join(dir, 'ca-db', 'ca.cnf'),
      '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n',
    );
    writeFileSync(join(dir, 'ca-db', 'ext.cnf'), 'extendedKeyUsage=clientAuth\n');
    openssl(
      ['ca', '-batch', '-config', 'ca.cnf', '-cert', ca.cert, '-keyfile', ca.key, '-in', expiredCsr, '-out', expiredCert,
        '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-extfile', 'ext.cnf', '-notext'],
      join(dir, 'ca-db'),
    );
    const dockerCertPath = join(dir, 'docker');
    mkdirSync(dockerCertPath);
    copyFileSync(ca.cert, join(dockerCertPath, 'ca.pem'));
    copyFileSync(client.cert, join(dockerCertPath, 'cert.pem'));
    copyFileSync(client.key, join(dockerCertPath, 'key.pem'));
    return {
      dir,
      ca: ca.cert,
      serverCert: server.cert,
      serverKey: server.key,
      clientCert: client.cert,
      clientKey: client.key,
      wrongCaCert: wrong.cert,
      wrongCaKey: wrong.key,
      expiredCert,
      expiredKey,
      dockerCertPath,
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
