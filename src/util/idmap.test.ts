import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextFreeStart, parseSubordinateFile, rangesOf, toContainer, toHost, toMappings } from './idmap.js';

describe('idmap', () => {
  const file = 'alice:100000:65536\n# comment\n1001:300000:10\nbad line\nalice:200000:5\nbob:165536:65536\n';

  it('parses /etc/subuid lines, skipping comments and junk', () => {
    assert.deepEqual(parseSubordinateFile(file).map((r) => r.owner), ['alice', '1001', 'alice', 'bob']);
  });

  it('finds an owner by name or numeric id and lays its ranges end to end (Docker createIDMap)', () => {
    const ranges = parseSubordinateFile(file);
    assert.deepEqual(toMappings(rangesOf(ranges, 'alice', 1000)), [
      { containerID: 0, hostID: 100000, size: 65536 },
      { containerID: 65536, hostID: 200000, size: 5 },
    ]);
    assert.deepEqual(toMappings(rangesOf(ranges, 'carol', 1001)), [{ containerID: 0, hostID: 300000, size: 10 }]);
  });

  it('maps container ids to host ids and refuses ids outside the map', () => {
    const m = [
      { containerID: 0, hostID: 100000, size: 10 },
      { containerID: 10, hostID: 500000, size: 10 },
    ];
    assert.equal(toHost(m, 0), 100000);
    assert.equal(toHost(m, 9), 100009);
    assert.equal(toHost(m, 10), 500000);
    assert.equal(toHost(m, 20), null);
    assert.equal(toContainer(m, 100009), 9);
    assert.equal(toContainer(m, 500001), 11);
    assert.equal(toContainer(m, 0), null);
  });

  it('picks the next free range start after every existing range, at least 100000', () => {
    assert.equal(nextFreeStart([]), 100000);
    assert.equal(nextFreeStart(parseSubordinateFile(file)), 300010);
  });
});
