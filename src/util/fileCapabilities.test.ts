import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { capabilityForNamespace, quoteDumpName, unquoteDumpName } from './fileCapabilities.js';

/** cap_net_raw+ep: revision 2, as setcap writes it outside any user namespace. */
const V2 = '0100000200200000000000000000000000000000';
const map = (uid: number): number | null => (uid < 65536 ? 100000 + uid : null);

describe('security.capability for a user namespace copy (man 7 capabilities, revision 3)', () => {
  it('turns a revision-2 value into revision 3 whose root uid is the namespace root on the host', () => {
    const out = capabilityForNamespace(Buffer.from(V2, 'hex'), map);
    // 100000 = 0x000186a0, little-endian.
    assert.equal(out?.toString('hex'), '0100000300200000000000000000000000000000a0860100');
  });

  it('shifts the root uid of a revision-3 value through the map, and drops one outside it', () => {
    const v3 = Buffer.from('0100000300200000000000000000000000000000e8030000', 'hex'); // rootid 1000
    assert.equal(capabilityForNamespace(v3, map)?.toString('hex'), '0100000300200000000000000000000000000000888a0100'); // 101000
    const far = Buffer.from('0100000300200000000000000000000000000000a0860100', 'hex'); // rootid 100000: not in the map
    assert.equal(capabilityForNamespace(far, map), null);
  });

  it('widens a revision-1 value and refuses malformed ones', () => {
    const v1 = Buffer.from('010000010020000000000000', 'hex');
    assert.equal(capabilityForNamespace(v1, map)?.toString('hex'), '0100000300200000000000000000000000000000a0860100');
    assert.equal(capabilityForNamespace(Buffer.from('0100000200', 'hex'), map), null);
    assert.equal(capabilityForNamespace(Buffer.from('0100000900200000000000000000000000000000', 'hex'), map), null);
  });

  it('quotes names for the dump format so that they read back unchanged', () => {
    for (const n of ['/r/bin/ping', '/r/we ird\nname \\ x', '/a/été']) assert.equal(unquoteDumpName(quoteDumpName(n)), n);
  });
});
