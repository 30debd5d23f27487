// applyLayer against the real kernel (overlayfs, xattrs, devices) with GNU tar as the oracle. Needs root.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { isInvalidArgument } from '../../../src/errdefs/errors.js';
import { applyLayer, type ApplyOptions } from '../../../src/archive/applyLayer.js';
import { TarWriter } from '../../../src/util/tar/writer.js';
import type { TarHeaderInput } from '../../../src/util/tar/types.js';

const isRoot = process.getuid?.() === 0;
const sh = (cmd: string, cwd?: string): string =>
  execFileSync('bash', ['-c', cmd], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const CAP = '0100000200200000000000000000000000000000'; // cap_net_raw+ep
const T = 1_600_000_000n * 1_000_000_000n;

type LayerEntry = [TarHeaderInput, (string | Buffer)?];

/** A layer tar made by our writer (for whiteouts and hostile entries GNU tar will not write). */
async function layer(entries: LayerEntry[]): Promise<Buffer> {
  const w = new TarWriter();
  const parts: Buffer[] = [];
  const done = (async () => {
    for await (const c of w.stream) parts.push(c as Buffer);
  })();
  for (const [h, body] of entries) {
    const b = typeof body === 'string' ? Buffer.from(body) : body;
    await w.add({ mtimeNs: T, ...h }, b);
  }
  await w.finish();
  await done;
  return Buffer.concat(parts);
}

let work: string;
let seq = 0;
function freshDir(label: string): string {
  const d = join(work, `${label}-${seq++}`);
  mkdirSync(d);
  return d;
}

async function applyBuf(tar: Buffer, opts: ApplyOptions = { whiteouts: 'overlay' }): Promise<string> {
  const dest = freshDir('dest');
  await applyLayer(Readable.from([tar]), dest, opts);
  return dest;
}

/** Everything observable about a tree: type, mode, owner, size, mtime, device, link target, content, link count, xattrs. */
function describeTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const paths: string[] = [];
  const walk = (rel: string): void => {
    const abs = rel === '.' ? root : join(root, rel);
    const st = lstatSync(abs, { bigint: true });
    const type = st.isFile() ? 'f' : st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isCharacterDevice() ? 'c'
      : st.isBlockDevice() ? 'b' : st.isFIFO() ? 'p' : '?';
    let line = `${type} ${(st.mode & 0o7777n).toString(8)} ${st.uid}:${st.gid} mtime=${st.mtimeNs / 1000n}us`;
    if (type === 'f') line += ` size=${st.size} nlink=${st.nlink} sha=${createHash('sha256').update(readFileSync(abs)).digest('hex').slice(0, 16)}`;
    if (type === 'l') line += ` -> ${readlinkSync(abs)}`;
    if (type === 'c' || type === 'b') line += ` rdev=${st.rdev}`;
    out.set(rel, line);
    paths.push(rel);
    if (type === 'd') for (const n of readdirSync(abs).sort()) walk(rel === '.' ? n : `${rel}/${n}`);
  };
  walk('.');
  // One getfattr for all paths; -h: the link itself. Output paths are octal-escaped.
  const dump = execFileSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--', ...paths], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  let cur = '';
  for (const l of dump.split('\n')) {
    if (l.startsWith('# file: ')) {
      cur = l.slice(8).replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
      cur = Buffer.from(cur, 'latin1').toString('utf8');
    } else if (l.includes('=')) out.set(cur, `${out.get(cur) ?? '(missing)'} ${l}`);
  }
  return out;
}

function assertSameTree(actual: string, expected: string): void {
  const a = describeTree(actual);
  const e = describeTree(expected);
  assert.deepEqual([...a.keys()].sort(), [...e.keys()].sort());
  for (const [k, v] of e) assert.equal(a.get(k), v, k);
}

describe('applyLayer', { skip: !isRoot && 'needs root' }, () => {
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'berth-apply-'));
  });
  after(() => {
    // Mounts are unmounted by the tests that make them; this is only a safety net.
    for (const m of sh(`findmnt -rn -o TARGET | grep '^${work}' || true`).trim().split('\n').filter(Boolean).reverse()) {
      sh(`umount ${m} || umount -l ${m}`);
    }
    rmSync(work, { recursive: true, force: true });
  });

  describe('against GNU tar', () => {
    let tree: string;
    let tarPath: string;
    before(() => {
      tree = freshDir('busybox-tree');
      const applets = ['sh', 'ls', 'cat', 'echo', 'true'];
      sh(
        [
          'mkdir -p bin sbin etc/ssl tmp var/empty dev usr/lib/very/deep/' + 'x'.repeat(120) + '/' + 'y'.repeat(120),
          'cp /bin/busybox bin/busybox',
          ...applets.map((a) => `ln -s busybox bin/${a}`),
          'ln bin/busybox sbin/init', // hardlink
          'ln -s /bin/busybox sbin/absolute-link', // symlinks may point anywhere
          "printf 'root:x:0:0::/root:/bin/sh\\n' > etc/passwd",
          'echo deep > usr/lib/very/deep/' + 'x'.repeat(120) + '/' + 'y'.repeat(120) + '/leaf-ünï.txt',
          'mknod dev/null c 1 3 && chmod 666 dev/null',
          'mknod dev/loop9 b 7 9',
          'mkfifo var/fifo && chmod 640 var/fifo',
          'cp /bin/busybox bin/ping && chmod 4755 bin/ping',
          `setfattr -n security.capability -v 0x${CAP} bin/ping`,
          'echo data > etc/big-id && chown 3000000:3000001 etc/big-id',
          'setfattr -n user.bin -v 0xfffe80 etc/big-id',
          'chmod 1777 tmp && chmod 2755 etc/ssl && chmod 0700 var/empty',
          "touch -h -d '2021-01-02 03:04:05.123456789' etc/passwd bin/sh",
          "touch -d '2019-05-05 05:05:05' etc var",
          // The last nanoseconds of a microsecond: float seconds must not round up into the next one.
          "touch -d '2030-11-28 11:35:57.999999999' bin/busybox && touch -d '2030-11-28 11:35:57.123456999' etc/ssl",
        ].join(' && '),
        tree,
      );
      tarPath = join(work, 'busybox.tar');
      sh(`tar --format=pax --xattrs --xattrs-include='*' -cf ${tarPath} -C ${tree} .`);
    });

    it('gives the same listing, modes, owners, devices, links, mtimes and xattrs as GNU tar', async () => {
      const ours = freshDir('ours');
      const report = await applyLayer(createReadStream(tarPath), ours, { whiteouts: 'overlay' });
      const gnu = freshDir('gnu');
      sh(`tar --xattrs --xattrs-include='*' --numeric-owner -xpf ${tarPath} -C ${gnu}`);
      assertSameTree(ours, gnu);
      assert.equal(report.bytes, lstatSync(tarPath).size);
      assert.equal(report.entries, sh(`tar -tf ${tarPath}`).trim().split('\n').length);
      // Spot checks, so that a bug shared with the oracle's invocation would still show.
      const t = describeTree(ours);
      assert.match(t.get('bin/ping') ?? '', new RegExp(`^f 4755 0:0 .* security\\.capability=0x${CAP}`));
      assert.match(t.get('etc/big-id') ?? '', /^f 644 3000000:3000001 .* user\.bin=0xfffe80/);
      assert.match(t.get('dev/null') ?? '', /^c 666 0:0 .* rdev=259/);
      assert.match(t.get('tmp') ?? '', /^d 1777 /);
      assert.match(t.get('etc/ssl') ?? '', /^d 2755 /);
      assert.match(t.get('etc') ?? '', new RegExp(`mtime=${Date.parse('2019-05-05T05:05:05') * 1000}us`));
      assert.equal(lstatSync(join(ours, 'sbin/init')).ino, lstatSync(join(ours, 'bin/busybox')).ino);
      assert.ok(lstatSync(join(ours, 'var/fifo')).isFIFO());
      assert.equal(sh('bin/busybox echo works', ours).trim(), 'works');
    });

    it('gives the same result with whiteouts "none" when the layer has no whiteouts', async () => {
      const a = freshDir('none');
      await applyLayer(createReadStream(tarPath), a, { whiteouts: 'none' });
      const b = freshDir('gnu2');
      sh(`tar --xattrs --xattrs-include='*' --numeric-owner -xpf ${tarPath} -C ${b}`);
      assertSameTree(a, b);
    });
  });

  describe('OCI whiteouts', () => {
    const lower: LayerEntry[] = [
      [{ name: 'etc', type: 'directory' }],
      [{ name: 'etc/file1', type: 'file' }, 'base-file1'],
      [{ name: 'etc/keep', type: 'file' }, 'keep-v1'],
      [{ name: 'data', type: 'directory' }],
      [{ name: 'data/dir1', type: 'directory' }],
      [{ name: 'data/dir1/a', type: 'file' }, 'a'],
      [{ name: 'data/dir1/b', type: 'file' }, 'b'],
      [{ name: 'data/deldir', type: 'directory' }],
      [{ name: 'data/deldir/x', type: 'file' }, 'x'],
      [{ name: 'bin', type: 'directory' }],
      [{ name: 'bin/busybox', type: 'file', mode: 0o755 }, readFileSync('/bin/busybox')],
    ];
    const upper: LayerEntry[] = [
      [{ name: 'etc', type: 'directory' }],
      [{ name: 'etc/.wh.file1', type: 'file' }, ''],
      [{ name: 'etc/added2', type: 'file' }, 'added2'],
      [{ name: 'data', type: 'directory' }],
      [{ name: 'data/.wh.deldir', type: 'file' }, ''],
      [{ name: 'data/dir1', type: 'directory' }],
      [{ name: 'data/dir1/.wh..wh..opq', type: 'file' }, ''],
      [{ name: 'data/dir1/c', type: 'file' }, 'c'],
    ];

    it('makes 0/0 char devices and opaque dirs, and overlayfs shows the merged view they mean', async () => {
      const l1 = await applyBuf(await layer(lower));
      const l2 = await applyBuf(await layer(upper));
      const wh = lstatSync(join(l2, 'etc/file1'));
      assert.ok(wh.isCharacterDevice());
      assert.equal(wh.rdev, 0);
      assert.ok(lstatSync(join(l2, 'data/deldir')).isCharacterDevice());
      assert.equal(sh(`getfattr -h --only-values -n trusted.overlay.opaque ${join(l2, 'data/dir1')}`), 'y');
      assert.equal(sh(`find ${l2} -name '.wh.*'`), '');

      const m = freshDir('ovl');
      mkdirSync(join(m, 'upper'));
      mkdirSync(join(m, 'work'));
      mkdirSync(join(m, 'merged'));
      const merged = join(m, 'merged');
      sh(`mount -t overlay overlay -o lowerdir=${l2}:${l1},upperdir=${m}/upper,workdir=${m}/work ${merged}`);
      try {
        assert.equal(existsSync(join(merged, 'etc/file1')), false, 'whited-out file hidden');
        assert.equal(existsSync(join(merged, 'data/deldir')), false, 'whited-out dir hidden');
        assert.deepEqual(readdirSync(join(merged, 'data/dir1')), ['c'], 'opaque dir shows only its own layer');
        assert.deepEqual(readdirSync(join(merged, 'etc')).sort(), ['added2', 'keep']);
        assert.equal(readFileSync(join(merged, 'etc/keep'), 'utf8'), 'keep-v1');
        assert.equal(sh(`${merged}/bin/busybox echo from-lower`).trim(), 'from-lower');
      } finally {
        sh(`umount ${merged}`);
      }
    });

    it('keeps .wh. files as plain files with whiteouts "none"', async () => {
      const d = await applyBuf(await layer(upper), { whiteouts: 'none' });
      assert.ok(lstatSync(join(d, 'etc/.wh.file1')).isFile());
      assert.ok(lstatSync(join(d, 'data/dir1/.wh..wh..opq')).isFile());
      assert.equal(existsSync(join(d, 'etc/file1')), false);
    });

    it('removes what the same layer extracted earlier under a whited-out name', async () => {
      const d = await applyBuf(await layer([
        [{ name: 'gone', type: 'directory' }],
        [{ name: 'gone/f', type: 'file' }, 'f'],
        [{ name: 'gone-file', type: 'file' }, 'g'],
        [{ name: '.wh.gone', type: 'file' }, ''],
        [{ name: '.wh.gone-file', type: 'file' }, ''],
      ]));
      assert.ok(lstatSync(join(d, 'gone')).isCharacterDevice());
      assert.ok(lstatSync(join(d, 'gone-file')).isCharacterDevice());
    });

    it('turns a whiteout followed by content under the same name into an opaque directory', async () => {
      const d = await applyBuf(await layer([
        [{ name: '.wh.re', type: 'file' }, ''],
        [{ name: 're/new', type: 'file' }, 'n'],
      ]));
      assert.ok(lstatSync(join(d, 're')).isDirectory());
      assert.equal(sh(`getfattr -h --only-values -n trusted.overlay.opaque ${join(d, 're')}`), 'y');
      assert.equal(readFileSync(join(d, 're/new'), 'utf8'), 'n');
    });

    it('ignores overlay xattrs carried by the layer itself', async () => {
      const d = await applyBuf(await layer([
        [{ name: 'x', type: 'directory', xattrs: new Map([['trusted.overlay.redirect', Buffer.from('/etc')], ['user.ok', Buffer.from('1')]]) }],
      ]));
      const attrs = sh(`getfattr -h -d -m- ${join(d, 'x')}`);
      assert.doesNotMatch(attrs, /overlay/);
      assert.match(attrs, /user\.ok="1"/);
    });
  });

  describe('tar semantics', () => {
    it('lets a later entry replace an earlier one: file over dir, dir over file, symlink over file', async () => {
      const d = await applyBuf(await layer([
        [{ name: 'a', type: 'directory' }],
        [{ name: 'a/child', type: 'file' }, 'c'],
        [{ name: 'a', type: 'file' }, 'now a file'],
        [{ name: 'b', type: 'file' }, 'b'],
        [{ name: 'b', type: 'directory', mode: 0o750 }],
        [{ name: 'b/x', type: 'file' }, 'x'],
        [{ name: 'c', type: 'file' }, 'c'],
        [{ name: 'c', type: 'symlink', linkname: 'b/x' }],
        [{ name: 'dev', type: 'char', devmajor: 1, devminor: 3 }],
        [{ name: 'dev', type: 'file' }, 'not a device'],
        [{ name: 'fifo', type: 'fifo', xattrs: new Map([['trusted.f', Buffer.from('1')]]) }],
        [{ name: 'fifo', type: 'link', linkname: 'b/x' }],
      ]));
      assert.equal(lstatSync(join(d, 'fifo')).ino, lstatSync(join(d, 'b/x')).ino);
      assert.equal(readFileSync(join(d, 'a'), 'utf8'), 'now a file');
      assert.equal(lstatSync(join(d, 'b')).mode & 0o7777, 0o750);
      assert.equal(readFileSync(join(d, 'b/x'), 'utf8'), 'x');
      assert.equal(readlinkSync(join(d, 'c')), 'b/x');
      assert.equal(readFileSync(join(d, 'dev'), 'utf8'), 'not a device');
    });

    it('accepts ./-prefixed names and creates missing parent directories', async () => {
      const d = await applyBuf(await layer([[{ name: './p/q/r.txt', type: 'file' }, 'r']]));
      assert.equal(readFileSync(join(d, 'p/q/r.txt'), 'utf8'), 'r');
      assert.equal(lstatSync(join(d, 'p')).mode & 0o7777, 0o755);
    });

    it('hardlinks to a device node made in the same layer', async () => {
      const d = await applyBuf(await layer([
        [{ name: 'null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 }],
        [{ name: 'null2', type: 'link', linkname: 'null' }],
      ]));
      assert.equal(lstatSync(join(d, 'null2')).ino, lstatSync(join(d, 'null')).ino);
      assert.equal(lstatSync(join(d, 'null')).rdev, 259);
    });

    it('sets directory mtimes after their children are written', async () => {
      const d = await applyBuf(await layer([
        [{ name: 'dir', type: 'directory', mtimeNs: T }],
        [{ name: 'dir/f', type: 'file', mtimeNs: T + 5_000_000_000n }, 'f'],
        [{ name: 'dir/fifo', type: 'fifo' }],
      ]));
      assert.equal(lstatSync(join(d, 'dir'), { bigint: true }).mtimeNs, T);
    });

    it('stops when the signal is aborted', async () => {
      const ac = new AbortController();
      ac.abort();
      const dest = freshDir('abort');
      await assert.rejects(
        applyLayer(Readable.from([await layer([[{ name: 'f', type: 'file' }, 'x']])]), dest, { whiteouts: 'overlay', signal: ac.signal }),
        (e: Error) => e.name === 'AbortError',
      );
    });

    it('rejects a truncated layer', async () => {
      const tar = await layer([[{ name: 'f', type: 'file' }, 'x'.repeat(5000)]]);
      await assert.rejects(applyBuf(tar.subarray(0, 3000)), (e: Error) => isInvalidArgument(e) && /truncated/.test(e.message));
    });
  });

  describe('hostile layers write nothing outside dest', () => {
    let canary: string;
    const canaryState = (): string => sh(`find . -printf '%p %y %m %n %s %T@\\n' | sort && cat secret`, canary);
    let before0: string;
    before(() => {
      canary = freshDir('canary');
      writeFileSync(join(canary, 'secret'), 'do not touch');
      chmodSync(canary, 0o750);
      before0 = canaryState();
    });

    const cases: Array<[string, () => LayerEntry[], RegExp]> = [
      ['an absolute name', () => [[{ name: `${canary}/pwned`, type: 'file' }, 'x']], /outside the layer root/],
      ['a ".." name', () => [[{ name: '../pwned', type: 'file' }, 'x']], /outside the layer root/],
      ['a ".." in the middle that escapes', () => [[{ name: 'a/../../pwned', type: 'file' }, 'x']], /outside the layer root/],
      ['a hardlink to an absolute path', () => [[{ name: 'h', type: 'link', linkname: `${canary}/secret` }]], /outside the layer root/],
      ['a hardlink climbing out with ..', () => [[{ name: 'h', type: 'link', linkname: `../${basename(canary)}/secret` }]], /outside the layer root/],
      ['a file through a symlink to an outside dir', () => [
        [{ name: 'evil', type: 'symlink', linkname: canary }],
        [{ name: 'evil/pwned', type: 'file' }, 'x'],
      ], /through the symlink "evil"/],
      ['a file through a relative symlink that climbs out', () => [
        // "../<canary>" from dest reaches the canary, so a failure here stays inside the test dir.
        [{ name: 'a', type: 'symlink', linkname: `../${basename(canary)}` }],
        [{ name: 'a/x', type: 'file' }, 'x'],
      ], /through the symlink "a"/],
      ['a file through a chain of symlinks', () => [
        [{ name: 'd', type: 'directory' }],
        [{ name: 'd/up', type: 'symlink', linkname: '..' }],
        [{ name: 'd/up2', type: 'symlink', linkname: 'up/..' }],
        [{ name: `d/up2/${basename(canary)}/pwned`, type: 'file' }, 'x'],
      ], /through the symlink "d\/up2"/],
      ['a directory through a symlink', () => [
        [{ name: 'd', type: 'directory' }],
        [{ name: 'd/evil', type: 'symlink', linkname: canary }],
        [{ name: 'd/evil/sub', type: 'directory', mode: 0o777 }],
      ], /through the symlink "d\/evil"/],
      ['a hardlink whose target goes through a symlink', () => [
        [{ name: 'evil', type: 'symlink', linkname: canary }],
        [{ name: 'h', type: 'link', linkname: 'evil/secret' }],
      ], /through the symlink "evil"/],
      ['a whiteout through a symlink', () => [
        [{ name: 'evil', type: 'symlink', linkname: canary }],
        [{ name: 'evil/.wh.secret', type: 'file' }, ''],
      ], /through the symlink "evil"/],
      ['an opaque marker through a symlink', () => [
        [{ name: 'evil', type: 'symlink', linkname: canary }],
        [{ name: 'evil/.wh..wh..opq', type: 'file' }, ''],
      ], /through the symlink "evil"/],
      ['a device through a symlink', () => [
        [{ name: 'evil', type: 'symlink', linkname: canary }],
        [{ name: 'evil/null', type: 'char', devmajor: 1, devminor: 3 }],
      ], /through the symlink "evil"/],
      ['a whiteout named ".."', () => [[{ name: 'x/.wh...', type: 'file' }, '']], /not a valid whiteout/],
    ];

    for (const [label, entries, message] of cases) {
      it(`rejects ${label}, naming the entry`, async () => {
        const before = new Set(readdirSync(work));
        await assert.rejects(applyBuf(await layer(entries())), (e: Error) => isInvalidArgument(e) && message.test(e.message));
        assert.equal(canaryState(), before0);
        const added = readdirSync(work).filter((n) => !before.has(n));
        assert.ok(added.every((n) => n.startsWith('dest-')), `only dest was created: ${added.join(',')}`);
      });
    }

    it('replaces a symlink by a later file or dir of the same name without following it', async () => {
      const d = await applyBuf(await layer([
        [{ name: 'evil', type: 'symlink', linkname: join(canary, 'secret') }],
        [{ name: 'evil', type: 'file', mode: 0o777 }, 'mine'],
        [{ name: 'evildir', type: 'symlink', linkname: canary }],
        [{ name: 'evildir', type: 'directory', mode: 0o777, uid: 1234 }],
      ]));
      assert.equal(readFileSync(join(d, 'evil'), 'utf8'), 'mine');
      assert.ok(lstatSync(join(d, 'evildir')).isDirectory());
      assert.equal(canaryState(), before0);
    });

    it('hardlinks a symlink itself, not what it points to', async () => {
      const d = await applyBuf(await layer([
        [{ name: 'evil', type: 'symlink', linkname: join(canary, 'secret') }],
        [{ name: 'h', type: 'link', linkname: 'evil' }],
      ]));
      assert.ok(lstatSync(join(d, 'h')).isSymbolicLink());
      assert.equal(canaryState(), before0);
    });

    it('creates symlinks pointing anywhere without following them, xattrs included', async () => {
      const d = await applyBuf(await layer([
        [{ name: 'abs', type: 'symlink', linkname: join(canary, 'secret'), xattrs: new Map([['trusted.t', Buffer.from('1')]]) }],
        [{ name: 'up', type: 'symlink', linkname: '../../../../etc/shadow' }],
      ]));
      assert.equal(readlinkSync(join(d, 'abs')), join(canary, 'secret'));
      assert.equal(readlinkSync(join(d, 'up')), '../../../../etc/shadow');
      assert.equal(sh(`getfattr -h --only-values -n trusted.t ${join(d, 'abs')}`), '1');
      assert.equal(sh(`getfattr -d -m- ${join(canary, 'secret')}`), '');
      assert.equal(canaryState(), before0);
    });
  });
});
