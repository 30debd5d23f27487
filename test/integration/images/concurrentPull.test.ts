// Two pulls of one image at once share the work and both succeed; the API stays responsive.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { makeOciLayout, tarOf, TestRegistry } from '../../fixtures/testRegistry.js';

describe('concurrent pulls', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let reg: TestRegistry;
  let d: TestDaemon;
  let layout: string;
  before(async () => {
    reg = new TestRegistry();
    await reg.start();
    layout = mkdtempSync(join(tmpdir(), 'berth-cp-layout-'));
    // Random data does not compress: ~24 MB over 3 layers keeps the pull busy for a moment.
    const layers = [0, 1, 2].map((i) => tarOf({ [`data/blob${i}`]: randomBytes(8 * 1024 * 1024).toString('base64') }));
    makeOciLayout(layout, 'v1', { layers });
    reg.push(layout, 'v1', 'big/data:v1');
    d = await startDaemon();
  });
  after(async () => {
    await d?.cleanup();
    await reg?.stop();
    rmSync(layout, { recursive: true, force: true });
  });

  it('both pulls succeed, the layers are unpacked once, and ps answers meanwhile', async () => {
    const ref = `${reg.host}/big/data:v1`;
    const a = d.docker(['pull', ref]);
    const b = d.docker(['pull', ref]);
    const t0 = Date.now();
    const ping = await d.http('GET', '/containers/json');
    const pingMs = Date.now() - t0;
    assert.equal(ping.status, 200);
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    assert.ok(pingMs < 2000, `ps took ${pingMs} ms during the pull`);
    const snaps = readdirSync(join(d.dataRoot, 'snapshots')).filter((s) => s !== 'l');
    assert.equal(snaps.length, 3, `one snapshot per layer, got ${snaps.join(' ')}`);
    const imgs = await d.docker(['images', '-q']);
    assert.equal(imgs.stdout.trim().split('\n').length, 1);
  });
});
