// NODE_EXTRA_CA_CERTS as Node has it, though bin/berthd and bin/berth start node without it and
// load it only where a TLS client trusts the default roots (decisions B100): berthd pushes to and
// pulls from a registry whose certificate is signed by a CA named only in that variable, and
// `berth registry serve --proxy-remote https://…` pulls through such a registry; without the
// variable the proxy's upstream is refused. berthd's start environment holds no
// NODE_EXTRA_CA_CERTS (node did not read it). The registry listens on an address of a bridge (no
// ports) this test makes (198.18.0.0/15, the benchmarking range) and removes; no traffic leaves
// the host.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryServer } from '../../../src/registry/server.js';
import { REPO, startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';

const isRoot = process.getuid?.() === 0;
const BERTH = join(REPO, 'bin', 'berth');

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

/** `berth registry serve` started through bin/berth's #! line, as a user runs it; resolves with its host once it listens. */
function serveProxy(root: string, remote: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; host: string; stderr: () => string }> {
  const child = spawn(BERTH, ['registry', 'serve', '--addr', '127.0.0.1:0', '--root', root, '--proxy-remote', remote], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`registry did not start: ${err}`)), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`registry exited (${code}): ${err}`));
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on http:\/\/([^ ]+) /.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, host: m[1] as string, stderr: () => err });
      }
    });
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

describe('NODE_EXTRA_CA_CERTS (read where it is used, not at start)', { skip: !isRoot && 'needs root' }, () => {
  const link = `bxca${randomBytes(3).toString('hex')}`;
  const ip = `198.${18 + randomInt(2)}.${randomInt(256)}.9`;
  let work: string;
  let linkMade = false;
  let registry: RegistryServer | undefined;
  let host = '';
  let ca = '';
  let d: TestDaemon;
  const proxies: ChildProcess[] = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'berth-extraca-'));
    execFileSync('ip', ['link', 'add', link, 'type', 'bridge']);
    linkMade = true;
    execFileSync('ip', ['addr', 'add', `${ip}/32`, 'dev', link]);
    execFileSync('ip', ['link', 'set', link, 'up']);
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=berth test CA', '-keyout', 'ca-key.pem', '-out', 'ca.pem'], work);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${ip}`, '-keyout', 'key.pem', '-out', 'server.csr'], work);
    writeFileSync(join(work, 'server.ext'), `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\n`);
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1', '-extfile', 'server.ext', '-out', 'cert.pem'], work);
    ca = join(work, 'ca.pem');
    registry = await RegistryServer.open({
      root: join(work, 'reg'),
      log: () => undefined,
      tls: { cert: readFileSync(join(work, 'cert.pem')), key: readFileSync(join(work, 'key.pem')) },
    });
    host = `${ip}:${(await registry.listen(ip, 0)).port}`;
    d = await startDaemon([], { NODE_EXTRA_CA_CERTS: ca });
    await d.importBusybox('busybox:latest');
  });
  after(async () => {
    for (const p of proxies) await stopProcess(p);
    await d?.cleanup();
    await registry?.close().catch(() => undefined);
    if (linkMade) execFileSync('ip', ['link', 'del', link]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('berthd was started without it, and its registry client trusts the CA it names: push and pull over verified TLS', async () => {
    const environ = readFileSync(`/proc/${d.pid}/environ`, 'latin1').split('\0');
    assert.ok(!environ.some((e) => e.startsWith('NODE_EXTRA_CA_CERTS=')), 'node was started with NODE_EXTRA_CA_CERTS');
    assert.ok(environ.includes(`BERTH_EXTRA_CA_CERTS=${ca}`), environ.join(' '));
    const ref = `${host}/extraca/bb:1`;
    assert.equal((await d.berth(['tag', 'busybox:latest', ref])).code, 0);
    const push = await d.berth(['push', ref], { timeoutMs: 120_000 });
    assert.equal(push.code, 0, push.stderr);
    assert.equal((await d.berth(['rmi', ref])).code, 0);
    const pull = await d.berth(['pull', ref], { timeoutMs: 120_000 });
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal((await d.http('GET', `/images/${ref}/json`)).status, 200);
  });

  it('`berth registry serve --proxy-remote https://…` trusts it for its upstream, and refuses the upstream without it', async () => {
    // The image the test above pushed to the registry.
    const ref = `extraca/bb:1`;
    const base = { ...process.env };
    delete base['NODE_EXTRA_CA_CERTS'];
    const trusting = await serveProxy(join(work, 'proxy-ok'), `https://${host}`, { ...base, NODE_EXTRA_CA_CERTS: ca });
    proxies.push(trusting.child);
    const ok = await d.berth(['pull', `${trusting.host}/${ref}`], { timeoutMs: 120_000 });
    assert.equal(ok.code, 0, `${ok.stderr}\n${trusting.stderr()}`);

    const plain = await serveProxy(join(work, 'proxy-no'), `https://${host}`, base);
    proxies.push(plain.child);
    const refused = await d.berth(['pull', `${plain.host}/${ref}`], { timeoutMs: 120_000 });
    assert.notEqual(refused.code, 0, refused.stdout);
    assert.equal((await d.http('GET', `/images/${plain.host}/${ref}/json`)).status, 404);
  });
});
