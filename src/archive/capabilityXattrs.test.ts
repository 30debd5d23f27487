import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { capabilityForArchive, parseCapabilityDump, unquoteDumpName } from './capabilityXattrs.js';

const V2 = '0100000200200000000000000000000000000000';

describe('security.capability for archives (moby ReadSecurityXattrToTarHeader)', () => {
  it('keeps a revision-2 value and turns revision 3 into revision 2 without the root uid', () => {
    assert.equal(capabilityForArchive(Buffer.from(V2, 'hex')).toString('hex'), V2);
    const v3 = Buffer.from(`0100000300200000000000000000000000000000e8030000`, 'hex');
    assert.equal(capabilityForArchive(v3).toString('hex'), V2);
    assert.equal(capabilityForArchive(v3).length, 20);
  });

  it('reads getfattr dumps, names with escaped bytes included', () => {
    const out = [
      '# file: /r/bin/ping',
      `security.capability=0x${V2}`,
      '',
      '# file: /r/we ird\\012name \\\\ x',
      `security.capability=0x${V2}`,
      '',
      '# file: /r/other',
      'user.x=0x01',
      '',
    ].join('\n');
    const m = parseCapabilityDump(out);
    assert.deepEqual([...m.keys()], ['/r/bin/ping', '/r/we ird\nname \\ x']);
    assert.equal(m.get('/r/bin/ping')?.toString('hex'), V2);
  });

  it('unquotes octal escapes to bytes (UTF-8 names survive)', () => {
    assert.equal(unquoteDumpName('/a/\\303\\251t\\303\\251'), '/a/été');
    assert.equal(unquoteDumpName('plain'), 'plain');
  });
});
