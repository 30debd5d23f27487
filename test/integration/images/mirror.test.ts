// Registry mirrors for any registry, not only Docker Hub (a long-standing Docker limitation).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfsTar, startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { freePort, makeOciLayout, tarOf, TestRegistry } from '../../fixtures/testRegistry.js';

describe('registry mirrors', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let mirror: TestRegistry;
  let d: TestDaemon;
  let layout: string;
  let primary: string;
  before(async () => {
    mirror = new TestRegistry();
    await mirror.start();
    layout = mkdtempSync(join(tmpdir(), 'berth-mirror-layout-'));
    makeOciLayout(layout, 'v1', { layers: [readFileSync(busyboxRootfsTar()), tarOf({ 'etc/motd': 'served by the mirror\n' })] });
    mirror.push(layout, 'v1', 'team/app:v1');
    // The primary registry: a loopback port where nothing listens.
    primary = `127.0.0.1:${await freePort()}`;
    d = await startDaemon(['--registry-mirror', `${primary}=http://${mirror.host}`]);
  });
  after(async () => {
    await d?.cleanup();
    await mirror?.stop();
    rmSync(layout, { recursive: true, force: true });
  });

  it('pulls a non-Hub image through its mirror while the registry itself is down', async () => {
    const r = await d.docker(['pull', `${primary}/team/app:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Status: Downloaded newer image for 127\.0\.0\.1:\d+\/team\/app:v1/);
    const run = await d.docker(['run', '--rm', `${primary}/team/app:v1`, 'cat', '/etc/motd']);
    assert.equal(run.stdout, 'served by the mirror\n');
  });

  it('falls back to the registry when the mirror lacks the image, and reports the registry error', async () => {
    const r = await d.docker(['pull', `${primary}/team/other:v1`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot reach registry 127\.0\.0\.1:\d+/);
    const imgs = await d.docker(['images', '-q', `${primary}/team/other`]);
    assert.equal(imgs.stdout.trim(), '');
  });
});
