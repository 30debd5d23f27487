// `cp` keeps extended attributes as Docker does: archives made of files (GET …/archive, the CLIs'
// host-side tars) carry security.capability as a SCHILY.xattr record, and an archive PUT into a
// container has every SCHILY.xattr record applied (user.* included), running or stopped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startDaemon, type CmdResult, type TestDaemon } from '../../fixtures/testDaemon.js';
import { readTar } from '../../../src/util/tar/reader.js';
import { TarWriter } from '../../../src/util/tar/writer.js';

const hasDocker = spawnSync('docker', ['--version']).status === 0;
const hasTools = spawnSync('setcap', ['-v', 'cap_net_raw+ep', '/bin/true']).error === undefined && spawnSync('getfattr', ['--version']).status === 0;
const skip = process.getuid?.() !== 0 ? 'needs root' : !hasTools ? 'setcap/getfattr (libcap2-bin, attr) are not installed' : false;
/** cap_net_raw+ep, VFS_CAP_REVISION_2, as setcap writes it. */
const NET_RAW = '0100000200200000000000000000000000000000';

/** Every xattr of a host path, name → hex (getfattr's dump). */
function xattrs(path: string): Record<string, string> {
  const r = spawnSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', path], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const l of r.stdout.split('\n')) {
    const m = /^([^#=][^=]*)=0x([0-9a-f]*)$/.exec(l);
    if (m) out[m[1] as string] = m[2] as string;
  }
  return out;
}

async function tarOf(entries: Array<{ name: string; body: string; xattrs: Record<string, Buffer> }>): Promise<Buffer> {
  const w = new TarWriter();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of w.stream) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const body = Buffer.from(e.body);
    await w.add({ name: e.name, type: 'file', size: body.length, mode: 0o755, xattrs: new Map(Object.entries(e.xattrs)) }, body);
  }
  await w.finish();
  await done;
  return Buffer.concat(chunks);
}

/** A GET's body as bytes (the fixture's http() decodes bodies as text). */
function rawGet(socketPath: string, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { Host: 'localhost' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${res.statusCode}: ${Buffer.concat(chunks).toString()}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

async function entryXattrs(tar: Buffer): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for await (const { header, body } of readTar(Readable.from([tar]))) {
    out.set(header.name, Object.fromEntries([...header.xattrs].map(([k, v]) => [k, v.toString('hex')])));
    for await (const _ of body) void _;
  }
  return out;
}

describe('cp keeps xattrs', { skip }, () => {
  let d: TestDaemon;
  let tmp: string;
  let pid = 0;
  const rootOf = (): string => `/proc/${pid}/root`;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
    tmp = mkdtempSync('/tmp/berth-cpx-');
    const r = await d.berth(['run', '-d', '--name', 'cpx', '--network', 'none', 'busybox', 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
    pid = ((await d.http('GET', '/containers/cpx/json')).json as { State: { Pid: number } }).State.Pid;
    // A host file with a file capability and a user xattr.
    copyFileSync('/bin/true', join(tmp, 'tool'));
    assert.equal(spawnSync('setcap', ['cap_net_raw+ep', join(tmp, 'tool')]).status, 0);
    assert.equal(spawnSync('setfattr', ['-n', 'user.origin', '-v', 'host', join(tmp, 'tool')]).status, 0);
  });
  after(async () => {
    await d?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('PUT applies every SCHILY.xattr record of the archive (user.* and security.capability)', async () => {
    const tar = await tarOf([{ name: 'x.txt', body: 'hello\n', xattrs: { 'user.foo': Buffer.from('bar'), 'security.capability': Buffer.from(NET_RAW, 'hex') } }]);
    const r = await d.http('PUT', '/containers/cpx/archive?path=/tmp', tar, { 'Content-Type': 'application/x-tar' });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(xattrs(join(rootOf(), 'tmp/x.txt')), { 'security.capability': NET_RAW, 'user.foo': Buffer.from('bar').toString('hex') });
  });

  it('GET carries security.capability, and only it, as Docker\'s archives do', async () => {
    const got = await entryXattrs(await rawGet(d.socket, '/containers/cpx/archive?path=/tmp/x.txt'));
    assert.deepEqual(got.get('x.txt'), { 'security.capability': NET_RAW });
  });

  const clis: Array<[string, (args: string[]) => Promise<CmdResult>]> = [['berth', (a) => d.berth(a)]];
  if (hasDocker) clis.push(['docker', (a) => d.docker(a)]);
  for (const [name, cli] of clis) {
    it(`${name}: cp into the container keeps the file capability; cp out brings it back`, async () => {
      const into = await cli(['cp', join(tmp, 'tool'), `cpx:/tmp/tool-${name}`]);
      assert.equal(into.code, 0, into.stderr);
      // The CLIs' archives carry security.capability only (user.* stays behind, as with docker).
      assert.deepEqual(xattrs(join(rootOf(), `tmp/tool-${name}`)), { 'security.capability': NET_RAW });
      const out = await cli(['cp', 'cpx:/tmp/x.txt', join(tmp, `x-${name}.txt`)]);
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(xattrs(join(tmp, `x-${name}.txt`)), { 'security.capability': NET_RAW });
    });
  }

  it('a stopped container: PUT applies xattrs and GET carries the capability', async () => {
    assert.equal((await d.berth(['stop', '-t', '0', 'cpx'])).code, 0);
    const tar = await tarOf([{ name: 'y.txt', body: 'stopped\n', xattrs: { 'user.bar': Buffer.from('baz'), 'security.capability': Buffer.from(NET_RAW, 'hex') } }]);
    const put = await d.http('PUT', '/containers/cpx/archive?path=/tmp', tar, { 'Content-Type': 'application/x-tar' });
    assert.equal(put.status, 200, put.body);
    const out = await d.berth(['cp', 'cpx:/tmp/y.txt', join(tmp, 'y.txt')]);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(xattrs(join(tmp, 'y.txt')), { 'security.capability': NET_RAW });
    // The user xattr is in the container: start it and look.
    assert.equal((await d.berth(['start', 'cpx'])).code, 0);
    pid = ((await d.http('GET', '/containers/cpx/json')).json as { State: { Pid: number } }).State.Pid;
    assert.deepEqual(xattrs(join(rootOf(), 'tmp/y.txt')), { 'security.capability': NET_RAW, 'user.bar': Buffer.from('baz').toString('hex') });
  });
});
