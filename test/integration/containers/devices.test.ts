// --device through the berth CLI and the real docker CLI against berthd: the host's device node
// appears in the container with the host's major/minor and is usable because of the cgroup rule
// (and only as far as the rule's permissions go); a missing host device is Docker's start error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { startDaemon, type CmdResult, type TestDaemon } from '../../fixtures/testDaemon.js';

const hasDocker = spawnSync('docker', ['--version']).status === 0;
const skip = process.getuid?.() !== 0 ? 'needs root' : !existsSync('/dev/fuse') ? 'no /dev/fuse on this host' : false;

/** major, minor of a host device node (glibc's gnu_dev_major/minor). */
function numbers(path: string): [number, number] {
  const rdev = statSync(path).rdev;
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  return [((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0), (lo & 0xff) | ((lo >>> 12) & 0xfff00)];
}

describe('--device', { skip }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });

  const clis: Array<[string, (args: string[]) => Promise<CmdResult>]> = [['berth', (a) => d.berth(a)]];
  if (hasDocker) clis.push(['docker', (a) => d.docker(a)]);

  for (const [name, cli] of clis) {
    it(`${name}: the device node is there with the host's numbers and opens read-write`, async () => {
      const [fMaj, fMin] = numbers('/dev/fuse');
      const args = ['run', '--rm', '--network', 'none', '--device', '/dev/fuse'];
      const loop = existsSync('/dev/loop0') ? numbers('/dev/loop0') : null;
      if (loop) args.push('--device', '/dev/loop0:/dev/xvdc:rwm');
      const script = `ls -l /dev/fuse ${loop ? '/dev/xvdc' : ''}; exec 3<>/dev/fuse && echo fuse-rw-ok`;
      const r = await cli([...args, 'busybox', 'sh', '-c', script]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^c[-rwx]{9}\\s+1 root\\s+root\\s+${fMaj},\\s+${fMin} .* /dev/fuse$`, 'm'));
      if (loop) assert.match(r.stdout, new RegExp(`^b[-rwx]{9}\\s+1 root\\s+root\\s+${loop[0]},\\s+${loop[1]} .* /dev/xvdc$`, 'm'));
      assert.match(r.stdout, /^fuse-rw-ok$/m);
    });

    it(`${name}: the cgroup rule follows the permissions; without --device the node cannot be opened`, async () => {
      const ro = await cli(['run', '--rm', '--network', 'none', '--device', '/dev/fuse:/dev/f:r', 'busybox', 'sh', '-c', 'exec 3</dev/f && echo read-ok; exec 4<>/dev/f && echo write-ok']);
      assert.match(ro.stdout, /^read-ok$/m);
      assert.doesNotMatch(ro.stdout, /write-ok/);
      assert.match(ro.stderr, /can't create \/dev\/f: Operation not permitted/);
      // Any container may mknod (Docker's "c *:* m"), but only a rule lets it open the node.
      const none = await cli(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'test -e /dev/fuse && echo present; mknod /tmp/f c 10 229 && exec 3</tmp/f && echo opened']);
      assert.doesNotMatch(none.stdout, /present|opened/);
      assert.match(none.stderr, /Operation not permitted/);
    });

    it(`${name}: a missing host device fails the start with Docker's message, and leaves the container created`, async () => {
      const r = await cli(['run', '--name', `nodev-${name}`, '--network', 'none', '--device', '/dev/nope', 'busybox', 'true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Error response from daemon: error gathering device information while adding custom device "\/dev\/nope": no such file or directory/);
      const st = (await d.http('GET', `/containers/nodev-${name}/json`)).json as { State: { Status: string; ExitCode: number; Error: string }; Id: string };
      assert.equal(st.State.Status, 'created');
      assert.equal(st.State.ExitCode, 128);
      assert.equal(st.State.Error, 'error gathering device information while adding custom device "/dev/nope": no such file or directory');
      // Nothing left behind: the rootfs is not mounted and no cgroup was made.
      assert.ok(!readFileSync('/proc/mounts', 'utf8').includes(`${st.Id}/rootfs`));
      assert.ok(!existsSync(`/sys/fs/cgroup/memory${d.cgroupParent}/${st.Id}`));
      assert.equal((await cli(['rm', `nodev-${name}`])).code, 0);
    });

    it(`${name}: bad --device values are refused by the client with docker's words`, async () => {
      const mode = await cli(['run', '--rm', '--device', '/dev/fuse:/dev/f:rwx', 'busybox', 'true']);
      assert.equal(mode.code, 125);
      assert.match(mode.stderr, /bad mode specified: rwx/);
      const rel = await cli(['run', '--rm', '--device', '/dev/fuse:dev/f', 'busybox', 'true']);
      assert.equal(rel.code, 125);
      assert.match(rel.stderr, /dev\/f is not an absolute path/);
    });
  }

  it('API: a missing device is a 500 at start (create succeeds), a non-device too', async () => {
    for (const [dev, why] of [
      ['/dev/nope', 'no such file or directory'],
      ['/etc/passwd', 'not a device node'],
    ] as const) {
      const c = await d.http('POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none', Devices: [{ PathOnHost: dev, PathInContainer: dev, CgroupPermissions: 'rwm' }] } }), { 'Content-Type': 'application/json' });
      assert.equal(c.status, 201, c.body);
      const id = (c.json as { Id: string }).Id;
      const s = await d.http('POST', `/containers/${id}/start`);
      assert.equal(s.status, 500);
      assert.deepEqual(s.json, { message: `error gathering device information while adding custom device "${dev}": ${why}` });
      assert.equal((await d.http('DELETE', `/containers/${id}`)).status, 204);
    }
  });
});
