import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveUser } from './userLookup.js';

describe('resolveUser', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-user-'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\napp:x:1000:1000::/app:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\naudio:x:29:\nstaff:x:50:app\nnogroup:x:65534:\n');
  after(() => rmSync(root, { recursive: true, force: true }));

  it('names, numbers, the passwd entry and /etc/group membership', async () => {
    assert.deepEqual(await resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
    assert.deepEqual(await resolveUser(root, 'app'), { uid: 1000, gid: 1000, additionalGids: [50], home: '/app' });
    assert.deepEqual(await resolveUser(root, '4242:7'), { uid: 4242, gid: 7, additionalGids: [], home: '/' });
    await assert.rejects(resolveUser(root, 'ghost'), /unable to find user ghost/);
  });

  it('adds HostConfig.GroupAdd groups by name or number, once each', async () => {
    assert.deepEqual((await resolveUser(root, 'nobody', ['audio', '1234', '29'])).additionalGids, [29, 1234]);
    assert.deepEqual((await resolveUser(root, 'app', ['staff', 'audio'])).additionalGids, [50, 29]);
    await assert.rejects(resolveUser(root, '', ['nosuch']), /Unable to find group nosuch/);
  });
});
