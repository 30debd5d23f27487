// Archives from TarWriter, read back by GNU tar (the oracle) and by our own reader.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isInvalidArgument } from '../../errdefs/errors.js';
import { TarWriter } from './writer.js';
import { readTar } from './reader.js';
import type { TarHeader, TarHeaderInput } from './types.js';

const isRoot = process.getuid?.() === 0;
const sh = (cmd: string, cwd?: string): string =>
  execFileSync('bash', ['-c', cmd], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

async function collect(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function writeAll(entries: Array<[TarHeaderInput, (Buffer | AsyncIterable<Uint8Array>)?]>, subsecondMtime = false): Promise<Buffer> {
  const w = new TarWriter({ subsecondMtime, highWaterMark: 4096 });
  const out = collect(w.stream);
  for (const [h, body] of entries) await w.add(h, body);
  await w.finish();
  return out;
}

const LONG = `${'b'.repeat(150)}/${'c'.repeat(150)}/leaf-${'d'.repeat(30)}`; // 338 bytes
const UTF8 = 'dir/ünïcødé-文件.txt';
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex');
const T = 1_600_000_000n * 1_000_000_000n;
const big = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) & 0xff));

const ENTRIES: Array<[TarHeaderInput, (Buffer | AsyncIterable<Uint8Array>)?]> = [
  [{ name: 'dir', type: 'directory', mode: 0o755, mtimeNs: T }],
  [{ name: 'dir/file', type: 'file', mode: 0o640, uid: 3000000, gid: 3000001, mtimeNs: T + 123456789n,
     xattrs: new Map([['user.bin', Buffer.from([0xff, 0xfe, 0x80])]]) }, Buffer.from('hello\n')],
  [{ name: 'dir/cap', type: 'file', mode: 0o4755, mtimeNs: T, xattrs: new Map([['security.capability', CAP]]) },
    Buffer.from('#!/bin/sh\n')],
  [{ name: 'dir/big', type: 'file', size: big.length, mode: 0o600, mtimeNs: T }, Readable.from([big.subarray(0, 70_000), big.subarray(70_000)])],
  [{ name: LONG, type: 'file', mode: 0o644, mtimeNs: T }, Buffer.from('long\n')],
  [{ name: UTF8, type: 'file', mode: 0o644, mtimeNs: T, uname: 'üser' }, Buffer.from('u\n')],
  [{ name: 'dir/hl', type: 'link', linkname: 'dir/file', mtimeNs: T }],
  [{ name: 'dir/hl-long', type: 'link', linkname: LONG, mtimeNs: T }],
  [{ name: 'dir/sl', type: 'symlink', linkname: `../${LONG}`, mode: 0o777, mtimeNs: T }],
  [{ name: 'dir/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666, mtimeNs: T }],
  [{ name: 'dir/blk', type: 'block', devmajor: 7, devminor: 200, mode: 0o660, mtimeNs: T }],
  [{ name: 'dir/fifo', type: 'fifo', mode: 0o600, mtimeNs: T }],
  [{ name: 'dir/sticky', type: 'directory', mode: 0o1777, mtimeNs: T }],
];

describe('TarWriter', () => {
  let dir: string;
  let tar: Buffer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-tar-write-'));
    tar = await writeAll(ENTRIES, true);
    writeFileSync(join(dir, 'out.tar'), tar);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes an archive GNU tar lists with the same names, types, modes and ids', () => {
    const lines = sh('tar --numeric-owner --quoting-style=literal -tvf out.tar', dir).trim().split('\n');
    const parsed = lines.map((l) => {
      const m = /^(\S+) (\d+)\/(\d+)\s/.exec(l);
      return { perms: m?.[1], uid: Number(m?.[2]), gid: Number(m?.[3]), line: l };
    });
    assert.equal(parsed.length, ENTRIES.length);
    assert.equal(parsed[1]?.perms, '-rw-r-----');
    assert.equal(parsed[1]?.uid, 3000000);
    assert.equal(parsed[1]?.gid, 3000001);
    assert.equal(parsed[2]?.perms, '-rwsr-xr-x');
    assert.ok(parsed[4]?.line.endsWith(LONG));
    assert.ok(parsed[5]?.line.endsWith(UTF8));
    assert.ok(parsed[7]?.line.endsWith(`dir/hl-long link to ${LONG}`));
    assert.ok(parsed[8]?.line.endsWith(`dir/sl -> ../${LONG}`));
    assert.match(parsed[9]?.line ?? '', /^crw-rw-rw- 0\/0\s+1,3 /);
    assert.match(parsed[10]?.line ?? '', /^brw-rw---- 0\/0\s+7,200 /);
    assert.equal(parsed[11]?.perms, 'prw-------');
    assert.equal(parsed[12]?.perms, 'drwxrwxrwt');
  });

  it('writes an archive GNU tar extracts byte-exact, xattrs and sub-second mtimes included', { skip: !isRoot && 'needs root' }, () => {
    sh("mkdir x && tar --xattrs --xattrs-include='*' --numeric-owner -xpf out.tar -C x", dir);
    const x = join(dir, 'x');
    assert.equal(readFileSync(join(x, 'dir/file'), 'utf8'), 'hello\n');
    assert.deepEqual(readFileSync(join(x, 'dir/big')), big);
    assert.equal(readFileSync(join(x, LONG), 'utf8'), 'long\n');
    assert.equal(readFileSync(join(x, UTF8), 'utf8'), 'u\n');
    const f = lstatSync(join(x, 'dir/file'), { bigint: true });
    assert.equal(f.uid, 3000000n);
    assert.equal(f.mode & 0o7777n, 0o640n);
    assert.equal(f.mtimeNs, T + 123456789n);
    assert.equal(f.nlink, 2n);
    assert.equal(lstatSync(join(x, 'dir/cap')).mode & 0o7777, 0o4755);
    assert.equal(readlinkSync(join(x, 'dir/sl')), `../${LONG}`);
    assert.equal(lstatSync(join(x, 'dir/hl-long')).ino, lstatSync(join(x, LONG)).ino);
    const dev = lstatSync(join(x, 'dir/blk'));
    assert.ok(dev.isBlockDevice());
    assert.equal(dev.rdev, (7 << 8) | 200);
    assert.ok(lstatSync(join(x, 'dir/fifo')).isFIFO());
    const attrs = sh('getfattr -d -m- -e hex dir/file dir/cap', x);
    assert.match(attrs, /user\.bin=0xfffe80\n/);
    assert.match(attrs, new RegExp(`security\\.capability=0x${CAP.toString('hex')}\\n`));
  });

  it('round-trips through our own reader field by field', async () => {
    const got: TarHeader[] = [];
    for await (const { header, body } of readTar(Readable.from([tar]))) {
      got.push(header);
      await body.skip();
    }
    assert.equal(got.length, ENTRIES.length);
    for (const [i, [want]] of ENTRIES.entries()) {
      const h = got[i];
      assert.ok(h);
      assert.equal(h.name, want.type === 'directory' ? `${want.name}/` : want.name);
      assert.equal(h.type, want.type);
      assert.equal(h.linkname, want.linkname ?? '');
      assert.equal(h.mode, want.mode ?? 0o644);
      assert.equal(h.uid, want.uid ?? 0);
      assert.equal(h.mtimeNs, want.mtimeNs);
      assert.equal(h.uname, want.uname ?? '');
      assert.equal(h.devmajor, want.devmajor ?? 0);
      assert.equal(h.devminor, want.devminor ?? 0);
      assert.deepEqual(h.xattrs, new Map([...(want.xattrs ?? new Map<string, Uint8Array>())].map(([k, v]) => [k, Buffer.from(v)])));
    }
  });

  it('rounds mtimes down to seconds unless sub-second mtimes are asked for', async () => {
    const plain = await writeAll([[{ name: 'f', type: 'file', mtimeNs: T + 999_000_000n }, Buffer.from('')]]);
    for await (const { header } of readTar(Readable.from([plain]))) assert.equal(header.mtimeNs, T);
  });

  it('rejects a body shorter or longer than the header size and destroys the output', async () => {
    for (const body of [Buffer.from('abc'), Readable.from([Buffer.from('abcdef')])]) {
      const w = new TarWriter();
      const out = collect(w.stream).catch((e: unknown) => e);
      await assert.rejects(w.add({ name: 'f', type: 'file', size: 5 }, body), (e: Error) => isInvalidArgument(e));
      assert.ok((await out) instanceof Error);
    }
  });

  it('waits for the consumer (backpressure) instead of buffering everything', async () => {
    const w = new TarWriter({ highWaterMark: 1024 });
    let done = false;
    const p = w.add({ name: 'f', type: 'file' }, Buffer.alloc(1 << 20)).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false);
    w.stream.resume();
    await p;
    await w.finish();
  });
});
