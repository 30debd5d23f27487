import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseNetDev, readNetworkStats } from './netStats.js';

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0
  eth0:    1296      14    1    2    0     0          0         0      726       9    3    4    0     0       0          0
`;

describe('container network stats (/proc/<pid>/net/dev)', () => {
  it('reads each interface but loopback with moby\'s field names', () => {
    assert.deepEqual(parseNetDev(NET_DEV), {
      eth0: { rx_bytes: 1296, rx_packets: 14, rx_errors: 1, rx_dropped: 2, tx_bytes: 726, tx_packets: 9, tx_errors: 3, tx_dropped: 4 },
    });
    assert.deepEqual(parseNetDev('garbage\n  x: 1 2 3\n'), {});
  });

  it('has nothing for the host network, another container\'s, only loopback, or a process that is gone', async () => {
    const proc = mkdtempSync(join(tmpdir(), 'berth-netstats-'));
    try {
      mkdirSync(join(proc, '42', 'net'), { recursive: true });
      writeFileSync(join(proc, '42', 'net', 'dev'), NET_DEV);
      mkdirSync(join(proc, '43', 'net'), { recursive: true });
      writeFileSync(join(proc, '43', 'net', 'dev'), NET_DEV.split('\n').slice(0, 3).join('\n'));
      assert.equal((await readNetworkStats(42, 'bridge', proc))?.['eth0']?.rx_bytes, 1296);
      assert.equal(await readNetworkStats(42, 'host', proc), null);
      assert.equal(await readNetworkStats(42, 'container:abc', proc), null);
      assert.equal(await readNetworkStats(43, 'none', proc), null);
      assert.equal(await readNetworkStats(44, 'bridge', proc), null);
      assert.equal(await readNetworkStats(0, 'bridge', proc), null);
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });
});
