// Insecure registries as Docker has them: a registry named in --insecure-registry (as "host:port"
// or by a CIDR its address lies in) is reached without a verified certificate — HTTPS first,
// plain HTTP when that fails; one that is not listed needs HTTPS with a certificate the host
// trusts; a loopback registry counts as listed, so `berth registry serve --tls-cert` with a
// self-signed certificate on 127.0.0.1 takes pushes and pulls. The non-loopback registries
// listen on addresses of a bridge (no ports) this test makes (198.18.0.0/15, the benchmarking range)
// and removes; no traffic leaves the host.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryServer } from '../../../src/registry/server.js';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { startRegistryProcess, type RegistryProcess } from '../registry/fixtures.js';

const isRoot = process.getuid?.() === 0;

describe('insecure registries', { skip: !isRoot && 'needs root' }, () => {
  const link = `bins${randomBytes(3).toString('hex')}`;
  const net = `198.${18 + randomInt(2)}.${randomInt(256)}`;
  const ip = { exact: `${net}.1`, cidr: `${net}.2`, unlisted: `${net}.5` };
  let work: string;
  let linkMade = false;
  const servers: RegistryServer[] = [];
  const hosts: Record<'exact' | 'cidr' | 'unlisted' | 'tls', string> = { exact: '', cidr: '', unlisted: '', tls: '' };
  let d: TestDaemon;
  let tlsProc: RegistryProcess | undefined;

  const serve = async (name: string, host: string): Promise<string> => {
    const s = await RegistryServer.open({ root: join(work, name), log: () => undefined });
    servers.push(s);
    const a = await s.listen(host, 0);
    return `${host}:${a.port}`;
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'berth-insecure-'));
    execFileSync('ip', ['link', 'add', link, 'type', 'bridge']);
    linkMade = true;
    for (const a of Object.values(ip)) execFileSync('ip', ['addr', 'add', `${a}/32`, 'dev', link]);
    execFileSync('ip', ['link', 'set', link, 'up']);
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(work, 'key.pem'), '-out', join(work, 'cert.pem'),
    ], { stdio: 'ignore' });
    hosts.exact = await serve('exact', ip.exact);
    hosts.cidr = await serve('cidr', ip.cidr);
    hosts.unlisted = await serve('unlisted', ip.unlisted);
    tlsProc = await startRegistryProcess(['--root', join(work, 'tls'), '--tls-cert', join(work, 'cert.pem'), '--tls-key', join(work, 'key.pem')]);
    hosts.tls = tlsProc.host;
    d = await startDaemon(['--insecure-registry', hosts.exact, '--insecure-registry', `${ip.cidr}/31`]);
    await d.importBusybox('busybox:latest');
  });
  after(async () => {
    await d?.cleanup();
    for (const s of servers) await s.close().catch(() => undefined);
    await tlsProc?.stop();
    if (linkMade) execFileSync('ip', ['link', 'del', link]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const roundTrip = async (host: string): Promise<void> => {
    const ref = `${host}/ins/bb:1`;
    assert.equal((await d.berth(['tag', 'busybox:latest', ref])).code, 0);
    const push = await d.berth(['push', ref], { timeoutMs: 120_000 });
    assert.equal(push.code, 0, push.stderr);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
    assert.ok(digest, push.stdout);
    assert.equal((await d.berth(['rmi', ref])).code, 0);
    const pull = await d.berth(['pull', ref], { timeoutMs: 120_000 });
    assert.equal(pull.code, 0, pull.stderr);
    assert.ok(pull.stdout.includes(`Digest: ${digest}`), pull.stdout);
  };

  it('GET /info reports the setting in moby\'s RegistryConfig shape, and docker info lists it', async () => {
    const info = (await d.http('GET', '/info')).json as { RegistryConfig: { InsecureRegistryCIDRs: string[]; IndexConfigs: Record<string, { Name: string; Secure: boolean; Official: boolean }> } };
    assert.deepEqual(info.RegistryConfig.InsecureRegistryCIDRs, [`${ip.cidr}/31`, '::1/128', '127.0.0.0/8']);
    assert.deepEqual(info.RegistryConfig.IndexConfigs[hosts.exact], { Name: hosts.exact, Mirrors: [], Secure: false, Official: false });
    assert.equal(info.RegistryConfig.IndexConfigs['docker.io']?.Official, true);
    if (spawnSync('docker', ['--version']).status === 0) {
      const r = await d.docker(['info']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(` Insecure Registries:\n  ${hosts.exact}\n  ${ip.cidr}/31\n  ::1/128\n  127.0.0.0/8\n`), r.stdout);
    }
  });

  it('a registry listed as host:port takes a push and a pull over plain HTTP', async () => {
    await roundTrip(hosts.exact);
  });

  it('a registry whose address lies in a listed CIDR does too', async () => {
    await roundTrip(hosts.cidr);
  });

  it('an unlisted plain-HTTP registry is refused (HTTPS only), and nothing is pulled', async () => {
    const ref = `${hosts.unlisted}/ins/bb:1`;
    assert.equal((await d.berth(['tag', 'busybox:latest', ref])).code, 0);
    const push = await d.berth(['push', ref], { timeoutMs: 120_000 });
    assert.equal(push.code, 1);
    assert.match(push.stderr, new RegExp(`cannot reach registry ${hosts.unlisted.replace(/\./g, '\\.')} \\(https://`));
    assert.equal((await d.berth(['rmi', ref])).code, 0);
    const pull = await d.berth(['pull', ref], { timeoutMs: 120_000 });
    assert.equal(pull.code, 1);
    assert.match(pull.stderr, /cannot reach registry .* \(https:\/\//);
    assert.equal((await d.http('GET', `/images/${ref}/json`)).status, 404);
  });

  it('`berth registry serve --tls-cert --tls-key` on loopback with a self-signed certificate takes a push and a pull', async () => {
    assert.match(tlsProc?.line ?? '', /listening on https:\/\//);
    await roundTrip(hosts.tls);
  });
});
