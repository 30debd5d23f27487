// A default bridge that already exists when berthd starts without --bip: berthd takes the
// address it has (as dockerd does with docker0) and drops any other IPv4 address on it, so the
// CNI bridge plugin, which refuses a bridge with two, can attach containers.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { TestDaemon } from '../../fixtures/testDaemon.js';

function ip(args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('an existing default bridge', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  const d = new TestDaemon();
  d.passBip = false;
  after(async () => {
    await d.cleanup();
    spawnSync('ip', ['link', 'del', d.bridge]);
  });

  it('keeps the address the bridge has, removes stale ones, and containers attach', async () => {
    const a = randomInt(100, 200);
    const b = randomInt(0, 128);
    ip(['link', 'add', d.bridge, 'type', 'bridge']);
    ip(['addr', 'add', `10.${a}.${b}.1/24`, 'dev', d.bridge]);
    ip(['addr', 'add', `10.${a}.${b + 128}.1/24`, 'dev', d.bridge]);
    await d.start();
    await d.importBusybox();
    const net = (await d.http('GET', '/networks/bridge')).json as { IPAM: { Config: Array<{ Subnet: string; Gateway: string }> } };
    assert.deepEqual(net.IPAM.Config, [{ Subnet: `10.${a}.${b}.0/24`, Gateway: `10.${a}.${b}.1` }]);
    const addrs = [...ip(['-4', '-o', 'addr', 'show', 'dev', d.bridge]).matchAll(/inet (\S+)/g)].map((m) => m[1]);
    assert.deepEqual(addrs, [`10.${a}.${b}.1/24`]);
    const r = await d.docker(['run', '--rm', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`inet 10\\.${a}\\.${b}\\.\\d+/24`));
  });
});
