import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

  it('follows /etc/passwd symlinks inside the root only: an absolute target is the image\'s file, not the host\'s', async () => {
    const img = mkdtempSync(join(tmpdir(), 'berth-user-link-'));
    const host = mkdtempSync(join(tmpdir(), 'berth-user-host-'));
    try {
      // A "host" passwd the symlink would reach if it were followed outside the root.
      writeFileSync(join(host, 'passwd'), 'ghost:x:4321:4321::/ghost:/bin/sh\n');
      mkdirSync(join(img, 'etc'));
      mkdirSync(join(img, 'usr/lib'), { recursive: true });
      writeFileSync(join(img, 'usr/lib/passwd'), 'app:x:1000:1000::/app:/bin/sh\n');
      symlinkSync('/usr/lib/passwd', join(img, 'etc/passwd'));
      assert.equal((await resolveUser(img, 'app')).uid, 1000);
      symlinkSync(join(host, 'passwd'), join(img, 'etc/group'));
      symlinkSync('../../..' + join(host, 'passwd'), join(img, 'etc/shadowlink'));
      rmSync(join(img, 'etc/passwd'));
      symlinkSync('shadowlink', join(img, 'etc/passwd'));
      await assert.rejects(resolveUser(img, 'ghost'), /unable to find user ghost/);
    } finally {
      rmSync(img, { recursive: true, force: true });
      rmSync(host, { recursive: true, force: true });
    }
  });
});
