// A two-service app through Debian's docker-compose 1.29 (docker-py over the Engine API) against
// berthd: a network of its own (the client reaches the server by service name) and a named volume
// (the server serves a file it wrote there) — up -d, ps, logs, down -v — and nothing left after.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type CmdResult, type TestDaemon } from '../../fixtures/testDaemon.js';
import type { Known } from '../../fixtures/networkCleanup.js';
import { assertNoContainerLeftovers, assertNoNetworkLeftovers, ok, seenNetworks, waitFor } from './fixtures.js';

const COMPOSE = `version: "3.8"
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo from-the-volume > /data/msg && echo web-ready && nc -ll -p 80 -e cat /data/msg"]
    volumes:
      - data:/data
    networks:
      - backend
  client:
    image: busybox
    depends_on:
      - web
    command: ["sh", "-c", "for i in $$(seq 1 100); do nc web 80 </dev/null && break; sleep 0.2; done; sleep 3600"]
    networks:
      - backend
networks:
  backend: {}
volumes:
  data: {}
`;

const hasCompose = spawnSync('sh', ['-c', 'command -v docker-compose']).status === 0;

describe('a two-service app through docker-compose', { skip: process.getuid?.() !== 0 ? 'needs root' : !hasCompose ? 'docker-compose is not installed (scripts/setup.sh)' : false }, () => {
  let d: TestDaemon;
  let seen: Known | undefined;
  let dir = '';
  const project = `bc${Date.now().toString(36)}`;
  const compose = (args: string[]): Promise<CmdResult> =>
    d.run('docker-compose', ['-p', project, '-f', join(dir, 'docker-compose.yml'), ...args], {
      env: { DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.root, 'docker-config'), COMPOSE_INTERACTIVE_NO_CLI: '1' },
      timeoutMs: 180_000,
    });

  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
    dir = mkdtempSync('/tmp/berth-compose-');
    writeFileSync(join(dir, 'docker-compose.yml'), COMPOSE);
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (d) {
      seen = await seenNetworks(d, seen);
      await d.cleanup();
      assertNoNetworkLeftovers(d, seen);
    }
  });

  it('up -d creates the network, the volume and both services', async () => {
    const up = await compose(['up', '-d']);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    seen = await seenNetworks(d, seen);
    const nets = ok(await d.berth(['network', 'ls', '--format', '{{.Name}}']), 'network ls');
    assert.match(nets, new RegExp(`^${project}_backend$`, 'm'));
    const vols = ok(await d.berth(['volume', 'ls', '-q']), 'volume ls');
    assert.match(vols, new RegExp(`^${project}_data$`, 'm'));
  });

  it('ps lists both services up', async () => {
    const ps = await compose(['ps']);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, new RegExp(`${project}_web_1 .*Up`));
    assert.match(ps.stdout, new RegExp(`${project}_client_1 .*Up`));
  });

  it('logs show the client reached the server by service name and got the volume\'s content', async () => {
    await waitFor(
      'the client to print what the server served',
      async () => (await compose(['logs', '--no-color', 'client'])).stdout.includes('from-the-volume'),
      60_000,
    );
    const logs = await compose(['logs', '--no-color']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /web_1 +\| web-ready/);
    assert.match(logs.stdout, /client_1 +\| from-the-volume/);
  });

  it('down -v removes the containers, the network and the volume, leaving no network state', async () => {
    const down = await compose(['down', '-v']);
    assert.equal(down.code, 0, down.stdout + down.stderr);
    assert.equal(ok(await d.berth(['ps', '-aq']), 'ps'), '');
    assert.doesNotMatch(ok(await d.berth(['network', 'ls', '--format', '{{.Name}}']), 'network ls'), new RegExp(project));
    assert.doesNotMatch(ok(await d.berth(['volume', 'ls', '-q']), 'volume ls'), new RegExp(project));
    await assertNoContainerLeftovers(d);
  });
});
