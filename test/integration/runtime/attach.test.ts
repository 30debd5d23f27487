/**
 * attach/resize/logs against real conmon: attach between create and start loses no
 * output; stdin and its EOF; TTY resize; long bundle paths; the k8s-file log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attach, resize } from '../../../src/runtime/attach.js';
import { readLogs } from '../../../src/runtime/logs.js';
import { ConflictError } from '../../../src/errdefs/errors.js';
import { RuntimeHarness, readAll, skipReason, sleep } from './fixtures.js';

describe('attach, resize and logs (real conmon + runc)', { skip: skipReason }, () => {
  let h: RuntimeHarness;
  before(async () => {
    h = await RuntimeHarness.create();
  });
  after(async () => {
    await h.cleanup();
  });

  it('attach after create and before start gets all of stdout and stderr, apart, then end; exit code 3', async () => {
    const c = await h.newContainer('out', ['/bin/sh', '-c', 'echo hello; echo err >&2; exit 3']);
    const conn = await attach(c.bundleDir, { stdin: false });
    const ended = new Promise<void>((r) => conn.once('end', () => r()));
    const out = readAll(conn.stdout);
    const err = readAll(conn.stderr);
    const exited = h.waitExit(c);
    await h.runtime.start(c.id);
    assert.equal(await out, 'hello\n');
    assert.equal(await err, 'err\n');
    await ended;
    assert.equal((await exited).exitCode, 3);
    await h.runtime.delete(c.id);
  });

  it('stdin: cat echoes what we write and exits after closeStdin', async () => {
    const o = { openStdin: true };
    const c = await h.newContainer('cat', ['/bin/sh', '-c', 'cat; echo cat-done'], [], o);
    const conn = await attach(c.bundleDir, { stdin: true });
    const out = readAll(conn.stdout);
    const exited = h.waitExit(c);
    await h.runtime.start(c.id);
    await conn.writeStdin('line one\n');
    await conn.writeStdin(Buffer.from('line two\n'));
    // Larger than one conmon packet: must arrive whole.
    const big = 'x'.repeat(100_000) + '\n';
    await conn.writeStdin(big);
    await sleep(100);
    await conn.closeStdin();
    assert.equal(await out, `line one\nline two\n${big}cat-done\n`);
    assert.equal((await exited).exitCode, 0);
    await h.runtime.delete(c.id);
  });

  it('TTY: resize before start to 40x100 shows in `stty size`; output comes as stdout only', async () => {
    const o = { tty: true };
    const c = await h.newContainer('tty', ['/bin/sh', '-c', 'sleep 0.3; stty size; echo err >&2'], [], o);
    const conn = await attach(c.bundleDir, { stdin: true });
    const out = readAll(conn.stdout);
    const err = readAll(conn.stderr);
    await resize(c.bundleDir, { rows: 40, cols: 100 });
    const exited = h.waitExit(c);
    await h.runtime.start(c.id);
    assert.equal(await out, '40 100\r\nerr\r\n');
    assert.equal(await err, '');
    assert.equal((await exited).exitCode, 0);
    await h.runtime.delete(c.id);
  });

  it('TTY: the last of several quick resizes wins', async () => {
    const o = { tty: true, openStdin: true };
    const c = await h.newContainer('tty2', ['/bin/sh', '-c', 'read x; stty size'], [], o);
    const conn = await attach(c.bundleDir, { stdin: true });
    const out = readAll(conn.stdout);
    await h.runtime.start(c.id);
    await Promise.all([
      resize(c.bundleDir, { rows: 10, cols: 20 }),
      resize(c.bundleDir, { rows: 30, cols: 40 }),
      resize(c.bundleDir, { rows: 50, cols: 60 }),
    ]);
    await conn.writeStdin('go\n');
    assert.match(await out, /50 60\r\n$/);
    await h.runtime.delete(c.id, { force: true });
  });

  it('works with a bundle path longer than a unix socket path can be', async () => {
    const subdir = 'a-very-long-directory-name-to-push-the-bundle-path-'.repeat(2);
    const c = await h.newContainer('longpath', ['/bin/sh', '-c', 'echo long'], [], { subdir });
    assert.ok(`${c.bundleDir}/attach`.length > 108, `${c.bundleDir}/attach is ${c.bundleDir.length + 7} bytes`);
    const conn = await attach(c.bundleDir, { stdin: false });
    const out = readAll(conn.stdout);
    const exited = h.waitExit(c);
    await h.runtime.start(c.id);
    assert.equal(await out, 'long\n');
    assert.equal((await exited).exitCode, 0);
    await h.runtime.delete(c.id);
  });

  it('attach and resize of an exited container are Conflicts', async () => {
    const c = await h.newContainer('gone', ['true']);
    const exited = h.waitExit(c);
    await h.runtime.start(c.id);
    await exited;
    await sleep(200);
    await assert.rejects(attach(c.bundleDir, { stdin: false }), ConflictError);
    await assert.rejects(resize(c.bundleDir, { rows: 1, cols: 1 }), ConflictError);
    await h.runtime.delete(c.id);
  });

  it('the k8s-file log holds both streams; readLogs joins a long line conmon split into P pieces', async () => {
    const c = await h.newContainer('logs', [
      '/bin/sh',
      '-c',
      // 20000 chars on one line: more than conmon's 8 KiB read buffer, so it logs P records.
      'echo first; echo oops >&2; head -c 20000 /dev/zero | tr "\\0" y; echo; printf no-newline',
    ]);
    const exited = h.waitExit(c);
    await h.runtime.start(c.id);
    await exited;
    const entries = [];
    for await (const e of readLogs(c.logPath)) entries.push(e);
    const texts = entries.map((e) => `${e.stream}:${e.data.length > 50 ? `y*${e.data.length}` : e.data.toString()}`);
    assert.deepEqual(texts, ['stdout:first\n', 'stderr:oops\n', `stdout:y*20001`, 'stdout:no-newline']);
    assert.match(entries[0]?.timeNano ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}[+-]\d\d:\d\d$/);
    const tail = [];
    for await (const e of readLogs(c.logPath, { tail: 2 })) tail.push(e.data.length);
    assert.deepEqual(tail, [20001, 10]);
    await h.runtime.delete(c.id);
  });

  it('readLogs follow streams a running container’s output and ends after the exit', async () => {
    const c = await h.newContainer('follow', ['/bin/sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.2; done']);
    const exited = h.waitExit(c);
    const got: string[] = [];
    await h.runtime.start(c.id);
    for await (const e of readLogs(c.logPath, { follow: true, stopFollowing: exited, pollMs: 100 })) got.push(e.data.toString());
    assert.deepEqual(got, ['tick 1\n', 'tick 2\n', 'tick 3\n']);
    await h.runtime.delete(c.id);
  });
});
