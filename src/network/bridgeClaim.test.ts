import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BridgeClaim } from './bridgeClaim.js';

describe('BridgeClaim', () => {
  const dir = mkdtempSync('/tmp/berth-claim-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('claims a free name, and gives it back on release', async () => {
    const c = await BridgeClaim.take('brx', '/data/a', dir);
    assert.ok(c instanceof BridgeClaim);
    assert.equal(readFileSync(join(dir, 'berth-bridge-brx'), 'utf8'), `${process.pid}\n/data/a\n`);
    await c.release();
    assert.ok(!existsSync(join(dir, 'berth-bridge-brx')));
  });

  it('takes over a claim whose process is gone or is not a berthd', async () => {
    writeFileSync(join(dir, 'berth-bridge-bry'), '999999999\n/data/old\n');
    assert.ok((await BridgeClaim.take('bry', '/data/a', dir)) instanceof BridgeClaim);
    writeFileSync(join(dir, 'berth-bridge-brz'), `${process.ppid}\n/data/old\n`);
    assert.ok((await BridgeClaim.take('brz', '/data/a', dir)) instanceof BridgeClaim);
  });

  it("reports another live berthd's claim on the name", async () => {
    const fake = spawn('bash', ['-c', 'exec -a berthd sleep 30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      writeFileSync(join(dir, 'berth-bridge-brw'), `${fake.pid}\n/data/other\n`);
      const got = await BridgeClaim.take('brw', '/data/a', dir);
      assert.deepEqual(got, { pid: fake.pid, dataRoot: '/data/other' });
      // The same data-root is this daemon's own earlier claim: taken back.
      assert.ok((await BridgeClaim.take('brw', '/data/other', dir)) instanceof BridgeClaim);
    } finally {
      if (fake.pid && fake.exitCode === null) process.kill(fake.pid, 'SIGKILL');
    }
  });
});
