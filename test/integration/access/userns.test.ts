/**
 * berthd --userns-remap: containers' root is an unprivileged host uid from
 * /etc/subuid (checked from the host through a bind mount), image files stay
 * writable through overlay (the lower layers are shifted copies), exec runs in
 * the namespace, --userns=host opts out, privileged and host-network
 * containers are refused as in Docker, and a remap user without subordinate
 * ranges stops berthd at start with a clear message. Networking works in a
 * namespace the container's user namespace owns (bridge, user network,
 * container:); cp/diff/export show and take owners as the container sees
 * them; file capabilities of image layers hold inside the container.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { REPO, startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { nextFreeStart, parseSubordinateFile } from '../../../src/util/idmap.js';
import { readTar } from '../../../src/util/tar/reader.js';
import { TarWriter } from '../../../src/util/tar/writer.js';
import type { TarHeaderInput } from '../../../src/util/tar/types.js';
import { TestAccounts } from './users.js';

const BERTHD = join(REPO, 'bin', 'berthd');

function rangeOf(file: string, owner: string): { start: number; count: number } | undefined {
  return parseSubordinateFile(readFileSync(file, 'utf8')).find((r) => r.owner === owner);
}

/** cap_net_raw+ep, revision 2, as setcap writes it on the host. */
const NET_RAW_V2 = '0100000200200000000000000000000000000000';

type TarEntry = Partial<TarHeaderInput> & { name: string; body?: Buffer };

async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const w = new TarWriter();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of w.stream) chunks.push(c as Buffer);
  })();
  for (const { body, ...h } of entries) {
    await w.add({ type: 'file', mode: 0o644, uid: 0, gid: 0, size: body?.length ?? 0, ...h }, body);
  }
  await w.finish();
  await done;
  return Buffer.concat(chunks);
}

/** An API request's body as bytes over the daemon's socket (for tars). */
function rawRequest(socketPath: string, method: string, path: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { Host: 'localhost', ...(body ? { 'Content-Type': 'application/x-tar' } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** name → "uid:gid" of every entry of a tar. */
async function tarOwners(tar: Buffer): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const { header, body } of readTar(Readable.from([tar]))) {
    out.set(header.name.replace(/\/$/, ''), `${header.uid}:${header.gid}`);
    for await (const _ of body) void _;
  }
  return out;
}

/** The hex value of a host file's security.capability ('' if none). */
function capabilityHex(path: string): string {
  const r = spawnSync('getfattr', ['-h', '--absolute-names', '-n', 'security.capability', '-e', 'hex', path], { encoding: 'utf8' });
  return /security\.capability=0x([0-9a-f]+)/.exec(r.stdout)?.[1] ?? '';
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

  it('cp out, cp in, diff and export show and take owners as the container sees them (running and stopped)', async () => {
    const name = `uns-cp-${accounts.suffix}`;
    const d = await td.berth(['run', '-d', '--name', name, '--network', 'none', 'busybox', 'sh', '-c', `touch /by-root /by-1000 /cp-marker-${accounts.suffix} && chown 1000:1000 /by-1000 && mkdir -p /in && sleep 300`]);
    assert.equal(d.code, 0, d.stderr);
    try {
      const get = async (path: string): Promise<Map<string, string>> => {
        const r = await rawRequest(td.socket, 'GET', `/containers/${name}/archive?path=${encodeURIComponent(path)}`);
        assert.equal(r.status, 200, r.body.toString());
        return tarOwners(r.body);
      };
      for (let i = 0; i < 50 && (await td.berth(['exec', name, 'test', '-d', '/in'])).code !== 0; i++) await new Promise((res) => setTimeout(res, 100));
      assert.equal((await get('/by-1000')).get('by-1000'), '1000:1000');
      assert.equal((await get('/by-root')).get('by-root'), '0:0');
      assert.equal((await get('/bin/busybox')).get('busybox'), '0:0');
      // The real docker CLI: `cp -a` into the container keeps the host file's owner as the container's.
      const src = mkdtempSync(join(tmpdir(), 'berth-unscp-'));
      try {
        writeFileSync(join(src, 'by-cli'), 'x');
        chownSync(join(src, 'by-cli'), 4321, 4321);
        const dc = await td.docker(['cp', '-a', join(src, 'by-cli'), `${name}:/`]);
        assert.equal(dc.code, 0, dc.stderr);
        assert.equal((await td.berth(['exec', name, 'stat', '-c', '%u:%g', '/by-cli'])).stdout, '4321:4321\n');
        const dc2 = await td.docker(['cp', join(src, 'by-cli'), `${name}:/by-cli-2`]);
        assert.equal(dc2.code, 0, dc2.stderr);
        assert.equal((await td.berth(['exec', name, 'stat', '-c', '%u:%g', '/by-cli-2'])).stdout, '0:0\n');
      } finally {
        rmSync(src, { recursive: true, force: true });
      }

      // In: without copyUIDGID everything is the container's root; with it, the archive's owners.
      const tar = await tarOf([{ name: 'f-1234', uid: 1234, gid: 1234, body: Buffer.from('x\n') }, { name: 'd-1234', type: 'directory', mode: 0o755, uid: 1234, gid: 1234 }]);
      const put1 = await rawRequest(td.socket, 'PUT', `/containers/${name}/archive?path=/in`, tar);
      assert.equal(put1.status, 200, put1.body.toString());
      const inside1 = await td.berth(['exec', name, 'stat', '-c', '%n %u:%g', '/in/f-1234', '/in/d-1234']);
      assert.equal(inside1.stdout, '/in/f-1234 0:0\n/in/d-1234 0:0\n');
      const put2 = await rawRequest(td.socket, 'PUT', `/containers/${name}/archive?path=/tmp&copyUIDGID=1`, tar);
      assert.equal(put2.status, 200, put2.body.toString());
      const inside2 = await td.berth(['exec', name, 'stat', '-c', '%n %u:%g', '/tmp/f-1234', '/tmp/d-1234']);
      assert.equal(inside2.stdout, '/tmp/f-1234 1234:1234\n/tmp/d-1234 1234:1234\n');
      // On disk (the container layer) they belong to the shifted ids.
      const snaps = join(td.dataRoot, 'snapshots');
      const upperDir = readdirSync(snaps).map((n) => join(snaps, n, 'fs')).find((f) => existsSync(join(f, `cp-marker-${accounts.suffix}`))) ?? '';
      assert.notEqual(upperDir, '', 'found the container layer');
      assert.equal(statSync(join(upperDir, 'in', 'f-1234')).uid, start);
      assert.equal(statSync(join(upperDir, 'tmp', 'f-1234')).uid, start + 1234);
      assert.equal(statSync(join(upperDir, 'tmp', 'd-1234')).gid, start + 1234);
      // An owner outside the map cannot be written into the container.
      const far = await tarOf([{ name: 'far', uid: 70000, gid: 0, body: Buffer.from('x') }]);
      const put3 = await rawRequest(td.socket, 'PUT', `/containers/${name}/archive?path=/tmp&copyUIDGID=1`, far);
      assert.equal(put3.status, 400);
      assert.match(put3.body.toString(), /Container ID 70000 cannot be mapped to a host ID/);

      const diff = await td.berth(['diff', name]);
      assert.equal(diff.code, 0, diff.stderr);
      for (const l of ['A /by-root', 'A /by-1000', 'A /in', 'A /in/f-1234', 'C /tmp', 'A /tmp/f-1234']) assert.ok(diff.stdout.split('\n').includes(l), `diff lists ${l}: ${diff.stdout}`);
      assert.ok(!/^C \/bin/m.test(diff.stdout), diff.stdout);

      const exportRunning = await rawRequest(td.socket, 'GET', `/containers/${name}/export`);
      assert.equal(exportRunning.status, 200);
      const ownersRunning = await tarOwners(exportRunning.body);
      assert.equal(ownersRunning.get('bin/busybox'), '0:0');
      assert.equal(ownersRunning.get('by-1000'), '1000:1000');
      assert.equal(ownersRunning.get('tmp/f-1234'), '1234:1234');

      // Stopped: the snapshot is mounted with the same shifted lower layers.
      assert.equal((await td.berth(['kill', name])).code, 0);
      await td.berth(['wait', name]);
      assert.equal((await get('/bin/busybox')).get('busybox'), '0:0');
      assert.equal((await get('/by-1000')).get('by-1000'), '1000:1000');
      const exp = await rawRequest(td.socket, 'GET', `/containers/${name}/export`);
      const owners = await tarOwners(exp.body);
      assert.equal(owners.get('bin/busybox'), '0:0');
      assert.equal(owners.get('etc'), '0:0');
      assert.equal(owners.get('by-1000'), '1000:1000');
      assert.equal(owners.get('in/f-1234'), '0:0');
      const put4 = await rawRequest(td.socket, 'PUT', `/containers/${name}/archive?path=/&copyUIDGID=1`, await tarOf([{ name: 'stopped-7', uid: 7, gid: 7, body: Buffer.from('x') }]));
      assert.equal(put4.status, 200, put4.body.toString());
      assert.equal(statSync(join(upperDir, 'stopped-7')).uid, start + 7);
    } finally {
      await td.berth(['rm', '-f', name]);
    }
  });

  it("an image file's capability (cap_net_raw+ep) holds in the container: its shifted copy carries a revision-3 capability for the mapped root", async () => {
    const img = `uns-caps-${accounts.suffix}:1`;
    const dir = mkdtempSync(join(tmpdir(), 'berth-unscap-'));
    try {
      // busybox-static run as `cat`: prints its own /proc/self/status.
      const tar = await tarOf([
        { name: 'cat', mode: 0o755, body: readFileSync('/bin/busybox'), xattrs: new Map([['security.capability', Buffer.from(NET_RAW_V2, 'hex')]]) },
        { name: 'plain', type: 'directory', mode: 0o755 },
        { name: 'plain/cat', mode: 0o755, body: readFileSync('/bin/busybox') },
      ]);
      const tarPath = join(dir, 'img.tar');
      writeFileSync(tarPath, tar);
      const imp = await td.berth(['import', tarPath, img]);
      assert.equal(imp.code, 0, imp.stderr);
      const eff = async (bin: string, userns: string[] = []): Promise<string> => {
        const r = await td.berth(['run', '--rm', '--network', 'none', ...userns, '-u', '1000:1000', img, bin, '/proc/self/status']);
        assert.equal(r.code, 0, r.stderr);
        return /CapEff:\s*([0-9a-f]+)/.exec(r.stdout)?.[1] ?? '';
      };
      assert.equal(await eff('/cat'), '0000000000002000');
      assert.equal(await eff('/plain/cat'), '0000000000000000');
      // The copy on the host: revision 3, root uid = the container's root on the host.
      const copies = readdirSync(join(td.dataRoot, 'snapshots', 'u')).filter((l) => existsSync(join(td.dataRoot, 'snapshots', 'u', l, 'cat')));
      assert.equal(copies.length, 1);
      const rootid = Buffer.alloc(4);
      rootid.writeUInt32LE(start);
      assert.equal(capabilityHex(join(td.dataRoot, 'snapshots', 'u', copies[0] as string, 'cat')), `${NET_RAW_V2.slice(0, 6)}03${NET_RAW_V2.slice(8)}${rootid.toString('hex')}`);
      // The image's own layer keeps the revision 2 it was given; --userns=host still uses it.
      assert.equal(await eff('/cat', ['--userns=host']), '0000000000002000');
      // cp out of a remapped container carries it as revision 2 (Docker's archives); cp in of a
      // revision 2 writes the container's own revision 3, which holds inside.
      const c = await td.berth(['create', '--network', 'none', '-u', '1000:1000', img, '/inbin/cat', '/proc/self/status']);
      assert.equal(c.code, 0, c.stderr);
      const cid = c.stdout.trim();
      try {
        const got = await rawRequest(td.socket, 'GET', `/containers/${cid}/archive?path=/cat`);
        assert.equal(got.status, 200);
        for await (const { header, body } of readTar(Readable.from([got.body]))) {
          assert.equal(header.xattrs.get('security.capability')?.toString('hex'), NET_RAW_V2);
          for await (const _ of body) void _;
        }
        const put = await rawRequest(
          td.socket,
          'PUT',
          `/containers/${cid}/archive?path=/`,
          await tarOf([
            { name: 'inbin', type: 'directory', mode: 0o755 },
            { name: 'inbin/cat', mode: 0o755, body: readFileSync('/bin/busybox'), xattrs: new Map([['security.capability', Buffer.from(NET_RAW_V2, 'hex')]]) },
          ]),
        );
        assert.equal(put.status, 200, put.body.toString());
        const snaps = join(td.dataRoot, 'snapshots');
        const copied = readdirSync(snaps).map((n) => join(snaps, n, 'fs', 'inbin', 'cat')).find((f) => existsSync(f)) ?? '';
        assert.equal(capabilityHex(copied), `${NET_RAW_V2.slice(0, 6)}03${NET_RAW_V2.slice(8)}${rootid.toString('hex')}`);
        const ran = await td.berth(['start', '-a', cid]);
        assert.equal(ran.code, 0, ran.stderr);
        assert.equal(/CapEff:\s*([0-9a-f]+)/.exec(ran.stdout)?.[1], '0000000000002000');
      } finally {
        await td.berth(['rm', '-f', cid]);
      }
    } finally {
      await td.berth(['rmi', img]);
      rmSync(dir, { recursive: true, force: true });
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

  /** What a remapped container on a network sees: its interfaces, a sysfs of its own netns, net capabilities there. */
  const NET_PROBE = [
    'ip -o -4 addr show eth0 | grep -q "inet " && echo eth0-ok',
    'echo sysfs: $(ls /sys/class/net | sort)',
    'cat /sys/class/net/eth0/mtu >/dev/null && echo sys-readable',
    'ping -c1 -W3 "$(ip route | awk \'/^default/ {print $3}\')" >/dev/null && echo ping-ok',
    '(nc -l -p 80 & p=$!; sleep 0.3; kill $p) && echo bind80-ok',
  ].join('; ');
  const NET_OK = 'eth0-ok\nsysfs: eth0 lo\nsys-readable\nping-ok\nbind80-ok\n';

  it("a container on the default bridge gets working networking in a network namespace its user namespace owns", async () => {
    const r = await td.berth(['run', '--rm', '--cap-add', 'NET_ADMIN', 'busybox', 'sh', '-c', `${NET_PROBE}; ip addr add 192.0.2.1/32 dev lo && echo netadmin-ok`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${NET_OK}netadmin-ok\n`);
  });

  it("a published port reaches a remapped container's server on port 80", async () => {
    const name = `uns-pub-${accounts.suffix}`;
    const d = await td.berth(['run', '-d', '--name', name, '-p', '127.0.0.1::80', 'busybox', 'nc', '-ll', '-p', '80', '-e', 'echo', 'from-remapped']);
    assert.equal(d.code, 0, d.stderr);
    try {
      const port = Number((await td.berth(['port', name, '80/tcp'])).stdout.trim().split(':').pop());
      assert.ok(port > 0);
      let got = '';
      for (let i = 0; i < 30 && got === ''; i++) {
        got = await new Promise<string>((resolve) => {
          const sock = connect(port, '127.0.0.1');
          let data = '';
          sock.on('data', (b: Buffer) => (data += b.toString()));
          sock.on('close', () => resolve(data));
          sock.on('error', () => resolve(''));
          sock.setTimeout(3000, () => sock.destroy());
        });
        if (got === '') await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(got, 'from-remapped\n');
    } finally {
      await td.berth(['rm', '-f', name]);
    }
  });

  it('a container on a user network gets working networking and name resolution; a restart keeps it', async () => {
    const net = `unsnet-${accounts.suffix}`;
    const a = `uns-a-${accounts.suffix}`;
    const n = await td.berth(['network', 'create', net]);
    assert.equal(n.code, 0, n.stderr);
    try {
      const d = await td.berth(['run', '-d', '--name', a, '--network', net, 'busybox', 'sleep', '300']);
      assert.equal(d.code, 0, d.stderr);
      const r = await td.berth(['run', '--rm', '--network', net, 'busybox', 'sh', '-c', `${NET_PROBE}; ping -c1 -W3 ${a} >/dev/null && echo peer-ok`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${NET_OK}peer-ok\n`);
      const rs = await td.berth(['restart', '-t', '0', a]);
      assert.equal(rs.code, 0, rs.stderr);
      const e = await td.berth(['exec', a, 'sh', '-c', 'ip -o -4 addr show eth0 | grep -q "inet " && echo eth0-ok; echo sysfs: $(ls /sys/class/net | sort)']);
      assert.equal(e.code, 0, e.stderr);
      assert.equal(e.stdout, 'eth0-ok\nsysfs: eth0 lo\n');
      // Later changes go through the bound namespace file.
      const cn = await td.berth(['network', 'connect', 'bridge', a]);
      assert.equal(cn.code, 0, cn.stderr);
      const e2 = await td.berth(['exec', a, 'sh', '-c', 'echo sysfs: $(ls /sys/class/net | sort)']);
      assert.equal(e2.stdout, 'sysfs: eth0 eth1 lo\n');
    } finally {
      await td.berth(['rm', '-f', a]);
      await td.berth(['network', 'rm', net]);
    }
  });

  it('a container joining a remapped container\'s network namespace (--network container:) shares its user namespace and networking', async () => {
    const owner = `uns-net-${accounts.suffix}`;
    const d = await td.berth(['run', '-d', '--name', owner, 'busybox', 'sleep', '300']);
    assert.equal(d.code, 0, d.stderr);
    try {
      const r = await td.berth(['run', '--rm', '--network', `container:${owner}`, 'busybox', 'sh', '-c', `cat /proc/self/uid_map; ${NET_PROBE}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.replace(/^\s*0\s+\d+\s+65536\n/, ''), NET_OK);
      // --userns=host may join it too (host root is privileged over every namespace).
      const h = await td.berth(['run', '--rm', '--userns=host', '--network', `container:${owner}`, 'busybox', 'sh', '-c', 'echo sysfs: $(ls /sys/class/net | sort)']);
      assert.equal(h.code, 0, h.stderr);
      assert.equal(h.stdout, 'sysfs: eth0 lo\n');
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
        timeout: 60_000,
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`--userns-remap: user "${u.name}" has no subordinate uid range in /etc/subuid`));
      assert.deepEqual(readdirSync(root), []);
      const missing = spawnSync(BERTHD, ['--data-root', join(root, 'd'), '-H', `unix://${join(root, 's.sock')}`, '--userns-remap', `nosuchuser${process.pid}`], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, new RegExp(`--userns-remap: no such user "nosuchuser${process.pid}"`));
    } finally {
      accounts.remove();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
