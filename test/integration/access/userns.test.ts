/**
 * berthd --userns-remap: containers' root is an unprivileged host uid from
 * /etc/subuid (checked from the host through a bind mount), image files stay
 * writable through overlay (the lower layers are shifted copies), exec runs in
 * the namespace, --userns=host opts out, privileged and host-network
 * containers are refused as in Docker, and a remap user without subordinate
 * ranges stops berthd at start with a clear message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { nextFreeStart, parseSubordinateFile } from '../../../src/util/idmap.js';
import { TestAccounts } from './users.js';

const BERTHD = join(REPO, 'bin', 'berthd');

function rangeOf(file: string, owner: string): { start: number; count: number } | undefined {
  return parseSubordinateFile(readFileSync(file, 'utf8')).find((r) => r.owner === owner);
}

/** The user's first subordinate range (useradd may have made one), else a free one added with usermod. */
function giveRanges(user: string): number {
  const own = rangeOf('/etc/subuid', user);
  if (own && own.start === rangeOf('/etc/subgid', user)?.start) return own.start;
  if (own) throw new Error(`${user} has different subuid and subgid starts; the test expects them equal`);
  const start = Math.max(nextFreeStart(parseSubordinateFile(readFileSync('/etc/subuid', 'utf8'))), nextFreeStart(parseSubordinateFile(readFileSync('/etc/subgid', 'utf8'))));
  const r = spawnSync('usermod', ['--add-subuids', `${start}-${start + 65535}`, '--add-subgids', `${start}-${start + 65535}`, user], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`usermod: ${r.stderr}`);
  return start;
}

describe('--userns-remap USER', () => {
  const accounts = new TestAccounts();
  let td: TestDaemon;
  let start = 0;
  let bindDir = '';

  before(async () => {
    // userdel removes the user's /etc/subuid and /etc/subgid lines too.
    const u = accounts.user('r');
    start = giveRanges(u.name);
    // Exactly one range, so the map is one line.
    const extra = parseSubordinateFile(readFileSync('/etc/subuid', 'utf8')).filter((x) => x.owner === u.name);
    assert.equal(extra.length, 1, `one subuid range for ${u.name}`);
    td = await startDaemon(['--userns-remap', u.name]);
    chmodSync(td.root, 0o711); // mkdtemp made it 0700; runc's init runs as the mapped root
    await td.importBusybox();
    bindDir = mkdtempSync(join(tmpdir(), 'berth-userns-'));
    chmodSync(bindDir, 0o777);
  });

  after(async () => {
    await td?.cleanup();
    accounts.remove();
    if (bindDir) rmSync(bindDir, { recursive: true, force: true });
  });

  it("maps the container's root to the user's subordinate range", async () => {
    const r = await td.berth(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'id -u; cat /proc/self/uid_map /proc/self/gid_map']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.deepEqual(lines, ['0', `0 ${start} 65536`, `0 ${start} 65536`]);
  });

  it('a file the container writes in a bind mount is owned by the mapped uid on the host', async () => {
    const r = await td.berth([
      'run', '--rm', '--network', 'none', '-v', `${bindDir}:/data`, 'busybox',
      'sh', '-c', 'touch /data/by-root /data/by-root-2 && chown 1000:1000 /data/by-root-2',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const st = statSync(join(bindDir, 'by-root'));
    assert.equal(st.uid, start);
    assert.equal(st.gid, start);
    const st2 = statSync(join(bindDir, 'by-root-2'));
    assert.equal(st2.uid, start + 1000);
    assert.equal(st2.gid, start + 1000);
    const asUser = await td.berth(['run', '--rm', '--network', 'none', '-u', '1234:1234', '-v', `${bindDir}:/data`, 'busybox', 'touch', '/data/by-1234']);
    assert.equal(asUser.code, 0, asUser.stderr);
    assert.equal(statSync(join(bindDir, 'by-1234')).uid, start + 1234);
  });

  it('image files stay writable (lower layers are shifted copies: no overlay permission trap) and read as root-owned', async () => {
    const r = await td.berth([
      'run', '--rm', '--network', 'none', 'busybox',
      'sh', '-c', 'echo extra:x:5:5::/:/bin/sh >> /etc/passwd && tail -1 /etc/passwd; echo 10.0.0.9 h >> /etc/hosts && echo hosts-ok; stat -c %u:%g /bin/busybox /etc/passwd; touch /newfile && echo rootfs-ok',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'extra:x:5:5::/:/bin/sh\nhosts-ok\n0:0\n0:0\nrootfs-ok\n');
    // The image's own layer is untouched.
    const layers = readdirSync(join(td.dataRoot, 'snapshots', 'l'));
    assert.ok(layers.length > 0);
    for (const l of layers) assert.equal(statSync(join(td.dataRoot, 'snapshots', 'l', l, 'bin', 'busybox'), { throwIfNoEntry: false })?.uid ?? 0, 0);
  });

  it('a new named volume and a working directory the image lacks belong to the mapped root', async () => {
    const vol = `unsvol-${accounts.suffix}`;
    try {
      const r = await td.berth(['run', '--rm', '--network', 'none', '-v', `${vol}:/data`, '-w', '/made/here', 'busybox', 'sh', '-c', 'touch /data/v && pwd && touch w && echo ok']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '/made/here\nok\n');
      const src = (await td.http('GET', `/volumes/${vol}`)).json as { Mountpoint: string };
      assert.equal(statSync(join(src.Mountpoint, 'v')).uid, start);
    } finally {
      await td.berth(['volume', 'rm', vol]);
    }
  });

  it('commit records owners as the container saw them, not the host-shifted ones', async () => {
    const name = `uns-commit-${accounts.suffix}`;
    const img = `uns-commit-${accounts.suffix}:1`;
    const r = await td.berth(['run', '--name', name, '--network', 'none', 'busybox', 'sh', '-c', 'touch /by-root /by-1000 && chown 1000:1000 /by-1000']);
    assert.equal(r.code, 0, r.stderr);
    try {
      const c = await td.berth(['commit', name, img]);
      assert.equal(c.code, 0, c.stderr);
      const check = await td.berth(['run', '--rm', '--network', 'none', '--userns=host', img, 'stat', '-c', '%u:%g', '/by-root', '/by-1000', '/bin/busybox']);
      assert.equal(check.code, 0, check.stderr);
      assert.equal(check.stdout, '0:0\n1000:1000\n0:0\n');
    } finally {
      await td.berth(['rm', '-f', name]);
      await td.berth(['rmi', img]);
    }
  });

  it('exec runs inside the namespace', async () => {
    const name = `uns-exec-${accounts.suffix}`;
    const d = await td.berth(['run', '-d', '--name', name, '--network', 'none', 'busybox', 'sleep', '60']);
    assert.equal(d.code, 0, d.stderr);
    try {
      const r = await td.berth(['exec', name, 'sh', '-c', 'cat /proc/self/uid_map; touch /from-exec && echo ok']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^\\s*0\\s+${start}\\s+65536\\nok\\n$`));
    } finally {
      await td.berth(['rm', '-f', name]);
    }
  });

  it('--userns=host opts a container out: host uids, root is root', async () => {
    const r = await td.berth(['run', '--rm', '--network', 'none', '--userns', 'host', '-v', `${bindDir}:/data`, 'busybox', 'sh', '-c', 'cat /proc/self/uid_map; touch /data/by-host-root; echo x >> /etc/passwd && echo ok']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\s*0\s+0\s+4294967295\nok\n$/);
    assert.equal(statSync(join(bindDir, 'by-host-root')).uid, 0);
  });

  it("refuses what Docker refuses in a user namespace, and creates nothing", async () => {
    const before = (await td.http('GET', '/containers/json?all=1')).json as unknown[];
    const priv = await td.berth(['create', '--privileged', 'busybox']);
    assert.notEqual(priv.code, 0);
    assert.match(priv.stderr, /privileged mode is incompatible with user namespaces/);
    const hostNet = await td.berth(['create', '--network', 'host', 'busybox']);
    assert.notEqual(hostNet.code, 0);
    assert.match(hostNet.stderr, /cannot share the host's network namespace when user namespaces are enabled/);
    const bad = await td.http('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { UsernsMode: 'private' } }), { 'Content-Type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /invalid USER NS mode: \\"private\\"/);
    const okPriv = await td.berth(['create', '--privileged', '--userns=host', 'busybox']);
    assert.equal(okPriv.code, 0, okPriv.stderr);
    await td.berth(['rm', okPriv.stdout.trim()]);
    const afterList = (await td.http('GET', '/containers/json?all=1')).json as unknown[];
    assert.equal(afterList.length, before.length);
  });

  it('info lists name=userns and inspect shows a container that opted out', async () => {
    const info = await td.http('GET', '/info');
    assert.ok((info.json as { SecurityOptions: string[] }).SecurityOptions.includes('name=userns'));
    const c = await td.berth(['create', '--userns=host', 'busybox']);
    assert.equal(c.code, 0, c.stderr);
    const id = c.stdout.trim();
    const fmt = await td.berth(['inspect', '--format', '{{.HostConfig.UsernsMode}}', id]);
    assert.equal(fmt.stdout, 'host\n');
    await td.berth(['rm', id]);
  });

  it('a container joining another network namespace (bind of /sys instead of sysfs) still runs', async (t) => {
    const owner = `uns-net-${accounts.suffix}`;
    const d = await td.berth(['run', '-d', '--name', owner, '--network', 'none', 'busybox', 'sleep', '60']);
    assert.equal(d.code, 0, d.stderr);
    try {
      const r = await td.berth(['run', '--rm', '--network', `container:${owner}`, 'busybox', 'sh', '-c', 'cat /proc/self/uid_map; ls /sys/kernel >/dev/null && echo sys-ok; echo 1 > /sys/kernel/mm/ksm/run 2>/dev/null || echo sys-readonly']);
      if (r.code !== 0 && /container:/.test(r.stderr) && /not supported|invalid/i.test(r.stderr)) {
        t.diagnostic(`--network container: is not available: ${r.stderr.trim()}`);
        return;
      }
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /sys-ok\nsys-readonly\n$/);
    } finally {
      await td.berth(['rm', '-f', owner]);
    }
  });
});

describe('--userns-remap default', () => {
  let td: TestDaemon | undefined;
  const existed = spawnSync('getent', ['passwd', 'berth-remap']).status === 0;

  after(async () => {
    await td?.cleanup();
    // Leave the machine as it was: remove berth-remap only if this test made it.
    if (!existed) spawnSync('userdel', ['berth-remap']);
  });

  it('creates or reuses berth-remap with subordinate ranges and maps root into them', async () => {
    td = await startDaemon(['--userns-remap', 'default']);
    chmodSync(td.root, 0o711);
    assert.equal(spawnSync('getent', ['passwd', 'berth-remap']).status, 0);
    const uidRange = rangeOf('/etc/subuid', 'berth-remap');
    const gidRange = rangeOf('/etc/subgid', 'berth-remap');
    assert.ok(uidRange && uidRange.count >= 65536, 'berth-remap has a subuid range');
    assert.ok(gidRange && gidRange.count >= 65536, 'berth-remap has a subgid range');
    await td.importBusybox();
    const r = await td.berth(['run', '--rm', '--network', 'none', 'busybox', 'cat', '/proc/self/uid_map']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split(/\s+/).join(' '), `0 ${uidRange.start} ${uidRange.count}`);
  });
});

describe('--userns-remap with a user that has no subordinate ranges', () => {
  it('berthd refuses to start, saying which user and file, and creates nothing', () => {
    const accounts = new TestAccounts();
    const root = mkdtempSync('/tmp/bt-');
    try {
      const u = accounts.user('n', [], { system: true });
      assert.equal(rangeOf('/etc/subuid', u.name), undefined);
      const r = spawnSync(BERTHD, ['--data-root', join(root, 'd'), '--exec-root', join(root, 'x'), '-H', `unix://${join(root, 's.sock')}`, '--userns-remap', u.name], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`--userns-remap: user "${u.name}" has no subordinate uid range in /etc/subuid`));
      assert.deepEqual(readdirSync(root), []);
      const missing = spawnSync(BERTHD, ['--data-root', join(root, 'd'), '-H', `unix://${join(root, 's.sock')}`, '--userns-remap', `nosuchuser${process.pid}`], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, new RegExp(`--userns-remap: no such user "nosuchuser${process.pid}"`));
    } finally {
      accounts.remove();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
