// Reads archives made by GNU tar (the oracle) and checks every field against the tree they came from.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isInvalidArgument } from '../../errdefs/errors.js';
import { readTar } from './reader.js';
import { encodeHeaderBlock, encodePaxRecord } from './header.js';
import type { TarHeader } from './types.js';

const isRoot = process.getuid?.() === 0;
const sh = (cmd: string, cwd?: string): string =>
  execFileSync('bash', ['-c', cmd], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface Read {
  header: TarHeader;
  sha: string;
  len: number;
}

async function readAll(input: Readable | Buffer | string): Promise<{ entries: Read[]; bytes: number }> {
  const stream =
    typeof input === 'string' ? createReadStream(input) : Buffer.isBuffer(input) ? Readable.from([input]) : input;
  const reader = readTar(stream);
  const entries: Read[] = [];
  for await (const { header, body } of reader) {
    const h = createHash('sha256');
    let len = 0;
    for await (const c of body) {
      h.update(c);
      len += c.length;
    }
    entries.push({ header, sha: h.digest('hex'), len });
  }
  return { entries, bytes: reader.bytesRead };
}

/** Splits a buffer into small odd-sized chunks to exercise headers and bodies spanning chunks. */
function chunked(b: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) parts.push(b.subarray(i, i + size));
  return Readable.from(parts);
}

const LONG = 'a'.repeat(120);
const LONG_PATH = `${LONG}/${LONG}/${LONG}.txt`; // 366 bytes
const UTF8 = 'ünïcødé-文件.txt';
const CAP = '0100000200200000000000000000000000000000'; // cap_net_raw+ep, v2

describe('readTar on GNU tar archives', { skip: !isRoot && 'needs root (chown, mknod)' }, () => {
  let dir: string;
  let root: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-tar-read-'));
    root = join(dir, 'root');
    sh(`mkdir -p root/d root/dev root/${LONG}/${LONG}`, dir);
    writeFileSync(join(root, 'd/f.txt'), 'hello\n');
    writeFileSync(join(root, LONG_PATH), 'long\n');
    writeFileSync(join(root, UTF8), 'u\n');
    // A body larger than any stream chunk, with bytes that are not text.
    writeFileSync(join(root, 'd/big.bin'), Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) & 0xff)));
    sh(
      [
        'chown 3000000:3000001 d/f.txt',
        'ln d/f.txt d/hl',
        `ln ${LONG_PATH} d/hl-long`,
        `ln -s ../${LONG_PATH} d/sl`,
        'mknod dev/null c 1 3',
        'mknod dev/blk b 7 200',
        'mkfifo p',
        'setfattr -n user.bin -v 0xfffe80 d/f.txt',
        'cp /bin/busybox d/cap && chmod 4755 d/cap',
        `setfattr -n security.capability -v 0x${CAP} d/cap`,
        "touch -h -d '2021-01-02 03:04:05.123456789' d/f.txt",
        'chmod 1777 dev',
      ].join(' && '),
      root,
    );
    sh(`tar --format=pax --xattrs --xattrs-include='*' -cf pax.tar -C root .`, dir);
    sh('tar --format=gnu -cf gnu.tar -C root .', dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function expectMatchesTree(entries: Read[], opts: { subsecond: boolean }): void {
    const byName = new Map(entries.map((e) => [e.header.name.replace(/^\.\//, '').replace(/\/$/, ''), e]));
    const names = sh('find . -mindepth 1 -printf "%P\\n"', root).trim().split('\n').sort();
    assert.deepEqual([...byName.keys()].filter((n) => n !== '.' && n !== '').sort(), names);
    const seenInodes = new Set<number>();
    for (const name of names) {
      const e = byName.get(name);
      assert.ok(e, name);
      const h = e.header;
      const st = lstatSync(join(root, name), { bigint: true });
      const type = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink'
        : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : 'fifo';
      const isLink = h.type === 'link';
      if (!isLink) assert.equal(h.type, type, name);
      assert.equal(h.mode, Number(st.mode & 0o7777n), `${name} mode`);
      assert.equal(h.uid, Number(st.uid), `${name} uid`);
      assert.equal(h.gid, Number(st.gid), `${name} gid`);
      const sec = st.mtimeNs / 1_000_000_000n;
      assert.equal(h.mtimeNs / 1_000_000_000n, sec, `${name} mtime`);
      if (opts.subsecond) assert.equal(h.mtimeNs, st.mtimeNs, `${name} mtime ns`);
      if (type === 'file' && !isLink) {
        assert.equal(seenInodes.has(Number(st.ino)), false);
        seenInodes.add(Number(st.ino));
        const data = readFileSync(join(root, name));
        assert.equal(e.len, data.length, `${name} size`);
        assert.equal(h.size, data.length);
        assert.equal(e.sha, createHash('sha256').update(data).digest('hex'), `${name} content`);
      }
      if (type === 'symlink') assert.equal(h.linkname, `../${LONG_PATH}`);
      if (type === 'char' || type === 'block') {
        assert.equal(h.devmajor, Number(st.rdev >> 8n) & 0xfff, `${name} major`);
        assert.equal(h.devminor, Number(st.rdev & 0xffn), `${name} minor`);
      }
    }
    assert.equal(byName.get('d/hl')?.header.type, 'link');
    assert.equal(byName.get('d/hl')?.header.linkname, './d/f.txt');
    assert.equal(byName.get('d/hl-long')?.header.linkname, `./${LONG_PATH}`);
    assert.equal(byName.get('d/cap')?.header.mode, 0o4755);
    assert.equal(byName.get('dev')?.header.mode, 0o1777);
  }

  it('reads a pax archive: long names, UTF-8, devices, hardlinks, big ids, ns mtimes, binary xattrs', async () => {
    const { entries, bytes } = await readAll(join(dir, 'pax.tar'));
    expectMatchesTree(entries, { subsecond: true });
    const f = entries.find((e) => e.header.name === './d/f.txt');
    assert.deepEqual(f?.header.xattrs.get('user.bin'), Buffer.from([0xff, 0xfe, 0x80]));
    assert.equal(f?.header.uid, 3000000);
    assert.equal((f?.header.mtimeNs ?? 0n) % 1_000_000_000n, 123456789n);
    const cap = entries.find((e) => e.header.name === './d/cap');
    assert.equal(cap?.header.xattrs.get('security.capability')?.toString('hex'), CAP);
    assert.ok(entries.some((e) => e.header.name === `./${UTF8}`));
    assert.equal(bytes, lstatSync(join(dir, 'pax.tar')).size);
  });

  it('reads a GNU archive: L/K long names and base-256 uid/gid', async () => {
    const raw = readFileSync(join(dir, 'gnu.tar'));
    // Sanity: GNU tar really used its extensions for this input.
    assert.ok(raw.includes('././@LongLink'), 'GNU long name headers present');
    const { entries } = await readAll(join(dir, 'gnu.tar'));
    expectMatchesTree(entries, { subsecond: false });
    assert.equal(entries.find((e) => e.header.name === './d/f.txt')?.header.gid, 3000001);
  });

  it('gives the same entries however the input is split into chunks', async () => {
    // Without the big bodies: one-byte chunks of them would only make the test slow.
    sh(`tar --format=pax --xattrs --xattrs-include='*' --exclude=./d/cap --exclude=./d/big.bin -cf small.tar -C root .`, dir);
    const raw = readFileSync(join(dir, 'small.tar'));
    const whole = await readAll(raw);
    for (const size of [1, 511, 513, 4097]) {
      const split = await readAll(chunked(raw, size));
      assert.deepEqual(
        split.entries.map((e) => [e.header.name, e.sha]),
        whole.entries.map((e) => [e.header.name, e.sha]),
        `chunk size ${size}`,
      );
    }
  });

  it('lets the caller skip bodies it does not read', async () => {
    const names: string[] = [];
    for await (const { header } of readTar(createReadStream(join(dir, 'pax.tar')))) names.push(header.name);
    assert.equal(names.length, sh('tar -tf pax.tar', dir).trim().split('\n').length);
  });

  it('rejects an old-GNU sparse file with a clear error', async () => {
    sh('truncate -s 10M sparse.img && printf x | dd of=sparse.img bs=1 seek=5M conv=notrunc status=none', dir);
    sh('tar --format=gnu -S -cf sparse.tar sparse.img', dir);
    await assert.rejects(readAll(join(dir, 'sparse.tar')), (e: Error) => isInvalidArgument(e) && /sparse/.test(e.message));
  });
});

describe('readTar framing and errors', () => {
  function header(name: string, size: number, typeflag = '0', extra: Partial<{ uid: number }> = {}): Buffer {
    return encodeHeaderBlock({
      name: Buffer.from(name),
      prefix: Buffer.alloc(0),
      linkname: Buffer.alloc(0),
      typeflag,
      mode: 0o644,
      uid: extra.uid ?? 0,
      gid: 0,
      uname: Buffer.alloc(0),
      gname: Buffer.alloc(0),
      size,
      mtimeSec: 1,
      devmajor: 0,
      devminor: 0,
    });
  }
  const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
  const file = (name: string, data: string): Buffer => Buffer.concat([header(name, data.length), pad(Buffer.from(data))]);
  const END = Buffer.alloc(1024);

  it('rejects a header whose checksum does not match', async () => {
    const tar = Buffer.concat([file('a', 'x'), END]);
    tar[10] = 0x41; // inside the name field
    await assert.rejects(readAll(tar), (e: Error) => isInvalidArgument(e) && /checksum/.test(e.message));
  });

  it('rejects input that is not a tar archive', async () => {
    await assert.rejects(readAll(Buffer.alloc(1024, 0x41)), (e: Error) => isInvalidArgument(e) && /checksum/.test(e.message));
  });

  it('rejects an archive truncated inside a body, inside a header, or after a pax header', async () => {
    const tar = Buffer.concat([file('a', 'x'.repeat(1000)), END]);
    await assert.rejects(readAll(tar.subarray(0, 700)), (e: Error) => isInvalidArgument(e) && /truncated.*"a"/.test(e.message));
    await assert.rejects(readAll(tar.subarray(0, 300)), (e: Error) => isInvalidArgument(e) && /truncated/.test(e.message));
    const pax = pad(encodePaxRecord('path', Buffer.from('x')));
    const onlyPax = Buffer.concat([header('PaxHeaders/x', pax.length, 'x'), pax]);
    await assert.rejects(readAll(onlyPax), (e: Error) => isInvalidArgument(e) && /truncated/.test(e.message));
  });

  it('stops at two zero blocks, ignores trailing garbage and still reads it all (for digests)', async () => {
    const tar = Buffer.concat([file('a', 'x'), END, Buffer.from('garbage after the end')]);
    const { entries, bytes } = await readAll(tar);
    assert.deepEqual(entries.map((e) => e.header.name), ['a']);
    assert.equal(bytes, tar.length);
  });

  it('accepts an archive without the end-of-archive marker', async () => {
    const { entries } = await readAll(Buffer.concat([file('a', 'x'), file('b', 'yy')]));
    assert.deepEqual(entries.map((e) => [e.header.name, e.len]), [['a', 1], ['b', 2]]);
  });

  it('applies pax global headers, lets a local empty value unset them, keeps values as raw bytes', async () => {
    const g = pad(Buffer.concat([encodePaxRecord('uname', Buffer.from('glob')), encodePaxRecord('comment', Buffer.from([0xff, 0x00, 0x0a]))]));
    const l = pad(Buffer.concat([encodePaxRecord('uname', Buffer.alloc(0))]));
    const tar = Buffer.concat([
      header('g', g.length, 'g'), g,
      file('one', '1'),
      header('x', l.length, 'x'), l,
      file('two', '2'),
      END,
    ]);
    const { entries } = await readAll(tar);
    assert.equal(entries[0]?.header.uname, 'glob');
    assert.deepEqual(entries[0]?.header.pax.get('comment'), Buffer.from([0xff, 0x00, 0x0a]));
    assert.equal(entries[1]?.header.uname, '');
    assert.deepEqual(entries[1]?.header.pax.get('comment'), Buffer.from([0xff, 0x00, 0x0a]));
  });

  it('decodes LIBARCHIVE.xattr records (percent-encoded name, base64 value)', async () => {
    const l = pad(encodePaxRecord('LIBARCHIVE.xattr.user.a%3Db', Buffer.from(Buffer.from([0xff, 0xfe, 0x80]).toString('base64'))));
    const tar = Buffer.concat([header('x', l.length, 'x'), l, file('f', 'z'), END]);
    const { entries } = await readAll(tar);
    assert.deepEqual(entries[0]?.header.xattrs.get('user.a=b'), Buffer.from([0xff, 0xfe, 0x80]));
  });

  it('reads v7 headers (no magic): a trailing slash marks a directory', async () => {
    const v7 = (name: string, typeflag: string): Buffer => {
      const b = header(name, 0, typeflag);
      b.fill(0, 257, 265); // wipe magic+version
      b.fill(0x20, 148, 156);
      let sum = 0;
      for (const c of b) sum += c;
      b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
      return b;
    };
    const { entries } = await readAll(Buffer.concat([v7('dir/', '\0'), v7('file', '\0'), END]));
    assert.deepEqual(entries.map((e) => e.header.type), ['directory', 'file']);
  });

  it('parses base-256 numbers and rejects ones past 2^53', async () => {
    const b = header('big', 0);
    b.fill(0, 108, 116);
    b[108] = 0x80;
    b.writeUInt32BE(4_000_000_000, 112);
    b.fill(0x20, 148, 156);
    let sum = 0;
    for (const c of b) sum += c;
    b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const { entries } = await readAll(Buffer.concat([b, END]));
    assert.equal(entries[0]?.header.uid, 4_000_000_000);
    b.fill(0xff, 109, 116);
    b[108] = 0x80;
    b.fill(0x20, 148, 156);
    sum = 0;
    for (const c of b) sum += c;
    b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    await assert.rejects(readAll(Buffer.concat([b, END])), (e: Error) => isInvalidArgument(e) && /uid/.test(e.message));
  });

  it('destroys the input when the consumer stops early', async () => {
    const input = Readable.from([Buffer.concat([file('a', 'x'), file('b', 'y'), END])]);
    for await (const _ of readTar(input)) break;
    assert.equal(input.destroyed, true);
  });

  it('reads the empty input as an empty archive', async () => {
    assert.deepEqual((await readAll(Buffer.alloc(0))).entries, []);
  });
});
