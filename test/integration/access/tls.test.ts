/**
 * The API over TCP: refused without TLS unless --insecure-tcp (which warns at
 * every start); with --tlsverify only clients with a certificate signed by the
 * CA get in (wrong CA, expired, none: refused), TLS 1.2+ only, plain HTTP on
 * the TLS port gets Go's 400 line; berth and the real docker CLI work over TLS
 * (flags and DOCKER_TLS_VERIFY/DOCKER_CERT_PATH), hijacked attach/exec too;
 * the audit log names the certificate subject; certificate files that are
 * missing or unreadable stop berthd at start, naming the file.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { REPO, startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { makePki, type Pki } from './certs.js';

const BERTH = join(REPO, 'bin', 'berth');
const BERTHD = join(REPO, 'bin', 'berthd');

/** A port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

interface Answer {
  status: number;
  body: string;
}

function httpsGet(port: number, path: string, tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; maxVersion?: 'TLSv1.1' }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        agent: false,
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
        ...(tls.maxVersion ? { maxVersion: tls.maxVersion, minVersion: 'TLSv1' as const, ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

function plainGet(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

interface LogLine {
  msg: string;
  method?: string;
  path?: string;
  status?: number;
  err?: string;
  peer?: { transport?: string; subject?: string; remote?: string };
}

function logLines(log: string): LogLine[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

async function waitForLine(td: TestDaemon, pred: (l: LogLine) => boolean, ms = 5000): Promise<LogLine> {
  const end = Date.now() + ms;
  for (;;) {
    const l = logLines(td.log).find(pred);
    if (l) return l;
    if (Date.now() > end) throw new Error(`no such log line in:\n${td.log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** berthd with these args must refuse to start; returns its stderr. Nothing may be left behind. */
function refusedStart(args: string[]): string {
  const root = mkdtempSync('/tmp/bt-');
  try {
    const r = spawnSync(BERTHD, ['--data-root', join(root, 'd'), '--exec-root', join(root, 'x'), '-H', `unix://${join(root, 's.sock')}`, ...args], {
      encoding: 'utf8',
      // Generous: on a loaded machine Node's start-up alone can take seconds.
      timeout: 60_000,
    });
    assert.equal(r.status, 1, `berthd should exit 1: ${r.stderr}`);
    assert.deepEqual(readdirSync(root), [], 'nothing was created');
    return r.stderr;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('TCP with mutual TLS', () => {
  let pki: Pki;
  let td: TestDaemon;
  let port = 0;
  let host = '';
  const read = (p: string): Buffer => readFileSync(p);

  before(async () => {
    pki = makePki();
    port = await freePort();
    host = `tcp://127.0.0.1:${port}`;
    td = await startDaemon([
      '-H',
      host,
      '--tlsverify',
      '--tlscacert',
      pki.ca,
      '--tlscert',
      pki.serverCert,
      '--tlskey',
      pki.serverKey,
      '--log-level',
      'info',
    ]);
    await td.importBusybox();
  });

  after(async () => {
    await td?.cleanup();
    pki?.cleanup();
  });

  it('serves a client whose certificate the CA signed (berth with --tls* flags)', async () => {
    const r = await td.run(BERTH, ['-H', host, '--tlsverify', '--tlscacert', pki.ca, '--tlscert', pki.clientCert, '--tlskey', pki.clientKey, 'ps']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CONTAINER ID/);
  });

  it('berth --tlsverify takes the client certificates from ~/.docker when DOCKER_CERT_PATH is not set', async () => {
    const home = join(td.root, 'home');
    mkdirSync(join(home, '.docker'), { recursive: true });
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) spawnSync('cp', [join(pki.dockerCertPath, f), join(home, '.docker', f)]);
    const r = await td.run(BERTH, ['--tlsverify', '-H', host, 'ps'], { env: { HOME: home, DOCKER_CERT_PATH: '', DOCKER_TLS_VERIFY: '', DOCKER_HOST: '', BERTH_HOST: '' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CONTAINER ID/);
  });

  it('reads DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH like the docker CLI; hijacked attach works over TLS', async () => {
    const env = { DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: pki.dockerCertPath, BERTH_HOST: '' };
    const r = await td.run(BERTH, ['run', '--rm', 'busybox', 'echo', 'hi over tls'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi over tls\n');
    const i = await td.run(BERTH, ['run', '--rm', '-i', 'busybox', 'cat'], { env, input: 'stdin over tls\n' });
    assert.equal(i.code, 0, i.stderr);
    assert.equal(i.stdout, 'stdin over tls\n');
  });

  it('the real docker CLI works over TLS: ps, run --rm (attach) and exec', async () => {
    const env = { DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: pki.dockerCertPath, DOCKER_CONFIG: join(td.root, 'dc'), DOCKER_CLI_HINTS: 'false' };
    const ps = await td.run('docker', ['ps'], { env });
    assert.equal(ps.code, 0, ps.stderr);
    const run = await td.run('docker', ['run', '--rm', 'busybox', 'echo', 'hi'], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'hi\n');
    const name = `tlsexec-${port}`;
    const d = await td.run('docker', ['run', '-d', '--name', name, 'busybox', 'sleep', '60'], { env });
    assert.equal(d.code, 0, d.stderr);
    const ex = await td.run('docker', ['exec', '-i', name, 'cat'], { env, input: 'exec stdin\n' });
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(ex.stdout, 'exec stdin\n');
    const rm = await td.run('docker', ['rm', '-f', name], { env });
    assert.equal(rm.code, 0, rm.stderr);
  });

  it('audits requests over TLS with the client certificate subject', async () => {
    const r = await td.run(BERTH, ['-H', host, '--tlsverify', '--tlscacert', pki.ca, '--tlscert', pki.clientCert, '--tlskey', pki.clientKey, 'create', '--name', `tlsaudit-${port}`, 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    const line = await waitForLine(td, (l) => l.msg === 'api request' && (l.path ?? '').includes(`tlsaudit-${port}`));
    assert.equal(line.method, 'POST');
    assert.equal(line.status, 201);
    assert.equal(line.peer?.transport, 'tcp+tls');
    assert.equal(line.peer?.subject, 'CN=berth-client,O=berth-tests');
    assert.match(line.peer?.remote ?? '', /^127\.0\.0\.1:\d+$/);
    await td.berth(['rm', `tlsaudit-${port}`]);
  });

  it('refuses a client certificate signed by another CA', async () => {
    await assert.rejects(httpsGet(port, '/_ping', { ca: read(pki.ca), cert: read(pki.wrongCaCert), key: read(pki.wrongCaKey) }));
    const line = await waitForLine(td, (l) => l.msg === 'TLS client refused' && l.err === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.match(line.err ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    const r = await td.run(BERTH, ['-H', host, '--tlsverify', '--tlscacert', pki.ca, '--tlscert', pki.wrongCaCert, '--tlskey', pki.wrongCaKey, 'ps']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error during connect: tcp:\/\/127\.0\.0\.1:\d+ closed the connection .*refuses the client certificate/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('refuses an expired client certificate', async () => {
    await assert.rejects(httpsGet(port, '/_ping', { ca: read(pki.ca), cert: read(pki.expiredCert), key: read(pki.expiredKey) }));
    await waitForLine(td, (l) => l.msg === 'TLS client refused' && l.err === 'CERT_HAS_EXPIRED');
    const env = { DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CONFIG: join(td.root, 'dc') };
    const certs = join(td.root, 'expired-certs');
    mkdirSync(certs, { recursive: true });
    spawnSync('cp', [pki.ca, join(certs, 'ca.pem')]);
    spawnSync('cp', [pki.expiredCert, join(certs, 'cert.pem')]);
    spawnSync('cp', [pki.expiredKey, join(certs, 'key.pem')]);
    const d = await td.run('docker', ['ps'], { env: { ...env, DOCKER_CERT_PATH: certs } });
    assert.notEqual(d.code, 0, 'the docker CLI with an expired certificate is refused');
  });

  it('refuses a TLS client without a certificate', async () => {
    await assert.rejects(httpsGet(port, '/_ping', { ca: read(pki.ca) }), /certificate required|socket hang up|ECONNRESET/);
    const r = await td.run(BERTH, ['-H', host, '--tlsverify', '--tlscacert', pki.ca, 'ps'], { env: { DOCKER_CERT_PATH: '/nonexistent' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error during connect: tcp:\/\/127\.0\.0\.1:\d+: tls: (tlsv13 alert certificate required|.*)/);
  });

  it('answers a plain-HTTP client on the TLS port with Go\'s 400 line and serves it nothing', async () => {
    const a = await plainGet(port, '/containers/json');
    assert.equal(a.status, 400);
    assert.equal(a.body, 'Client sent an HTTP request to an HTTPS server.\n');
    const r = await td.run(BERTH, ['-H', host, 'ps'], { env: { DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Client sent an HTTP request to an HTTPS server\./);
  });

  it('refuses TLS 1.1 and older', async () => {
    // Control: this client does speak TLS 1.1 (to a server that allows it), so a refusal below is berthd's.
    const legacy = createTlsServer({ key: read(pki.serverKey), cert: read(pki.serverCert), minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
    await new Promise<void>((r) => legacy.listen(0, '127.0.0.1', r));
    try {
      const proto = await new Promise<string>((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port: (legacy.address() as AddressInfo).port, ca: read(pki.ca), servername: 'localhost', checkServerIdentity: () => undefined, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
        s.on('secureConnect', () => {
          resolve(s.getProtocol() ?? '');
          s.destroy();
        });
        s.on('error', reject);
      });
      assert.equal(proto, 'TLSv1.1');
    } finally {
      legacy.close();
    }
    const err = await new Promise<Error>((resolve) => {
      const s = tlsConnect({
        host: '127.0.0.1',
        port,
        ca: read(pki.ca),
        cert: read(pki.clientCert),
        key: read(pki.clientKey),
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      s.on('secureConnect', () => {
        s.destroy();
        resolve(new Error('connected with TLS 1.1'));
      });
      s.on('error', resolve);
    });
    assert.match(err.message, /protocol version|unsupported protocol|no protocols available/);
    assert.doesNotMatch(err.message, /connected with TLS 1\.1/);
  });

  it('a client that does not trust the daemon CA is stopped by the client', async () => {
    const r = await td.run(BERTH, ['-H', host, '--tlsverify', '--tlscacert', pki.wrongCaCert, '--tlscert', pki.clientCert, '--tlskey', pki.clientKey, 'ps']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error during connect: /);
  });
});

describe('TCP without TLS', () => {
  it('berthd refuses tcp:// without TLS and says how to fix it', async () => {
    const port = await freePort();
    const err = refusedStart(['-H', `tcp://127.0.0.1:${port}`]);
    assert.match(err, new RegExp(`refusing to serve the API on tcp://127\\.0\\.0\\.1:${port} without TLS: pass --tlsverify`));
  });

  it('--insecure-tcp serves plain TCP with a loud warning at every start', async () => {
    const port = await freePort();
    const td = await startDaemon(['-H', `tcp://127.0.0.1:${port}`, '--insecure-tcp']);
    try {
      const r = await td.run(BERTH, ['-H', `tcp://127.0.0.1:${port}`, 'ps']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /CONTAINER ID/);
      assert.match(td.log, /INSECURE: serving the API over plain TCP on tcp:\/\/127\.0\.0\.1:\d+ \(--insecure-tcp\)/);
      const before = td.log.split('INSECURE').length;
      await td.restart();
      assert.ok(td.log.split('INSECURE').length > before, 'warned again after a restart');
    } finally {
      await td.cleanup();
    }
  });
});

describe('certificate files berthd cannot use', () => {
  let pki: Pki;
  before(() => {
    pki = makePki();
  });
  after(() => pki?.cleanup());

  const tlsArgs = (over: Record<string, string>): string[] => {
    const f: Record<string, string> = { '--tlscacert': pki.ca, '--tlscert': pki.serverCert, '--tlskey': pki.serverKey, ...over };
    return ['-H', 'tcp://127.0.0.1:0', '--tlsverify', ...Object.entries(f).flat()];
  };

  it('a missing --tlscert: refuses to start, naming the file', () => {
    const missing = join(pki.dir, 'missing.pem');
    assert.match(refusedStart(tlsArgs({ '--tlscert': missing })), new RegExp(`cannot read --tlscert file "${missing}": no such file`));
  });

  it('a missing --tlskey or --tlscacert: refuses to start, naming the file', () => {
    assert.match(refusedStart(tlsArgs({ '--tlskey': '/nonexistent/key.pem' })), /cannot read --tlskey file "\/nonexistent\/key\.pem": no such file/);
    assert.match(refusedStart(tlsArgs({ '--tlscacert': '/nonexistent/ca.pem' })), /cannot read --tlscacert file "\/nonexistent\/ca\.pem": no such file/);
  });

  it('an unreadable file (a directory) or one that is not a certificate: refuses, naming it', () => {
    assert.match(refusedStart(tlsArgs({ '--tlscacert': pki.dir })), new RegExp(`cannot read --tlscacert file "${pki.dir}": is a directory`));
    assert.match(refusedStart(tlsArgs({ '--tlscert': pki.serverKey })), new RegExp(`--tlscert file "${pki.serverKey}" holds no usable PEM certificate`));
    assert.match(refusedStart(tlsArgs({ '--tlskey': pki.clientKey })), /cannot use --tlscert ".*" with --tlskey ".*client-key\.pem"/);
  });
});
