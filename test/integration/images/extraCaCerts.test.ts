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
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryServer } from '../../../src/registry/server.js';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { makePki, type Pki } from '../access/certs.js';
import { startRegistryProcess, type RegistryProcess } from '../registry/fixtures.js';

const isRoot = process.getuid?.() === 0;

describe('NODE_EXTRA_CA_CERTS (read where it is used, not at start)', { skip: !isRoot && 'needs root' }, () => {
  const link = `bxca${randomBytes(3).toString('hex')}`;
  const ip = `198.${18 + randomInt(2)}.${randomInt(256)}.9`;
  let work: string;
  let linkMade = false;
  let registry: RegistryServer | undefined;
  let host = '';
  let pki: Pki | undefined;
  let ca = '';
  let d: TestDaemon;
  const proxies: RegistryProcess[] = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'berth-extraca-'));
    execFileSync('ip', ['link', 'add', link, 'type', 'bridge']);
    linkMade = true;
    execFileSync('ip', ['addr', 'add', `${ip}/32`, 'dev', link]);
    execFileSync('ip', ['link', 'set', link, 'up']);
    pki = makePki([ip]);
    ca = pki.ca;
    registry = await RegistryServer.open({
      root: join(work, 'reg'),
      log: () => undefined,
      tls: { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) },
    });
    host = `${ip}:${(await registry.listen(ip, 0)).port}`;
    d = await startDaemon([], { NODE_EXTRA_CA_CERTS: ca });
    await d.importBusybox('busybox:latest');
  });
  after(async () => {
    for (const p of proxies) await p.stop();
    await d?.cleanup();
    await registry?.close().catch(() => undefined);
    if (linkMade) execFileSync('ip', ['link', 'del', link]);
    if (work) rmSync(work, { recursive: true, force: true });
    pki?.cleanup();
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
    const serve = async (root: string, env: NodeJS.ProcessEnv): Promise<RegistryProcess> => {
      const p = await startRegistryProcess(['--root', join(work, root), '--proxy-remote', `https://${host}`], { env, viaLauncher: true });
      proxies.push(p);
      return p;
    };
    const trusting = await serve('proxy-ok', { ...base, NODE_EXTRA_CA_CERTS: ca });
    const ok = await d.berth(['pull', `${trusting.host}/${ref}`], { timeoutMs: 120_000 });
    assert.equal(ok.code, 0, `${ok.stderr}\n${trusting.stderr()}`);

    const plain = await serve('proxy-no', base);
    const refused = await d.berth(['pull', `${plain.host}/${ref}`], { timeoutMs: 120_000 });
    assert.notEqual(refused.code, 0, refused.stdout);
    assert.equal((await d.http('GET', `/images/${plain.host}/${ref}/json`)).status, 404);
  });
});
