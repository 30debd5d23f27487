/**
 * util/mount through the native/engine addon (mount(2)/umount2(2) on the thread pool),
 * with real overlay and bind mounts as root, and the mount(8) fallback when the addon
 * is missing. Everything is made under one temp dir and unmounted in `after`.
 * Also util/spawnPiped (vfork + execve through the addon, child_process without it):
 * what the child gets must be what libuv's spawn gives it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMounted, mountAll, unmount } from '../../../src/util/mount.js';
import { nativeEngine } from '../../../src/util/nativeEngine.js';
import { spawnPiped } from '../../../src/util/spawnPiped.js';
import { ProcessError, run } from '../../../src/util/process.js';

const REPO = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const skip = process.getuid?.() !== 0 ? 'needs root' : nativeEngine() === null ? 'native/engine is not built (scripts/setup.sh)' : false;

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(dir));
}

describe('util/mount with the native/engine addon', { skip }, () => {
  let base: string;
  /** A snapshotter-shaped root: two layers behind short links, an upper and a work dir. */
  let root: string;
  before(() => {
    base = mkdtempSync('/tmp/bne-');
    root = join(base, 'snap');
    for (const d of ['1/fs', '2/fs', '3/fs', '3/work', 'l']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, '1/fs/low'), 'from layer 1\n');
    writeFileSync(join(root, '2/fs/mid'), 'from layer 2\n');
    symlinkSync('../1/fs', join(root, 'l/aaaaaaaaaa'));
    symlinkSync('../2/fs', join(root, 'l/bbbbbbbbbb'));
  });
  after(() => {
    for (const m of mountsUnder(base).sort().reverse()) spawnSync('umount', ['-l', m]);
    rmSync(base, { recursive: true, force: true });
  });

  it('mounts an overlay whose options are relative to `cwd` without changing the process cwd, and unmounts it', async () => {
    const target = join(base, 'merged');
    mkdirSync(target);
    const cwd = process.cwd();
    await mountAll([{ type: 'overlay', source: 'overlay', options: ['lowerdir=l/bbbbbbbbbb:l/aaaaaaaaaa', 'upperdir=3/fs', 'workdir=3/work'], cwd: root }], target);
    assert.equal(process.cwd(), cwd);
    assert.equal(await isMounted(target), true);
    assert.deepEqual(readdirSync(target).sort(), ['low', 'mid']);
    writeFileSync(join(target, 'new'), 'x');
    assert.equal(readFileSync(join(root, '3/fs/new'), 'utf8'), 'x', 'writes land in the upper dir');
    await unmount(target);
    assert.equal(await isMounted(target), false);
    assert.deepEqual(readdirSync(target), []);
  });

  it('bind mounts read-only (a write fails with EROFS) and read-write', async () => {
    const ro = join(base, 'ro');
    const rw = join(base, 'rw');
    mkdirSync(ro);
    mkdirSync(rw);
    await mountAll([{ type: 'bind', source: join(root, '1/fs'), options: ['rbind', 'ro'] }], ro);
    await mountAll([{ type: 'bind', source: join(root, '2/fs'), options: ['rbind', 'rw'] }], rw);
    assert.equal(readFileSync(join(ro, 'low'), 'utf8'), 'from layer 1\n');
    assert.throws(() => writeFileSync(join(ro, 'x'), 'x'), /EROFS/);
    writeFileSync(join(rw, 'x'), 'x');
    assert.equal(readFileSync(join(root, '2/fs/x'), 'utf8'), 'x');
    await unmount(ro);
    await unmount(rw);
    assert.deepEqual(mountsUnder(base), []);
  });

  it('unmount of a path that is not mounted, or does not exist, is a no-op', async () => {
    const plain = join(base, 'plain');
    mkdirSync(plain);
    await unmount(plain);
    await unmount(join(base, 'nowhere', 'at-all'));
  });

  it('unmount never goes through a symlink at the end of the path', async () => {
    const target = join(base, 'real');
    mkdirSync(target);
    await mountAll([{ type: 'bind', source: join(root, '1/fs'), options: ['rbind', 'ro'] }], target);
    symlinkSync(target, join(base, 'alias'));
    await unmount(join(base, 'alias'));
    assert.equal(await isMounted(target), true, 'the mount behind the symlink stays');
    await unmount(target);
    assert.equal(await isMounted(target), false);
  });

  it('a busy mount (a process has its cwd in it) is detached', async () => {
    const target = join(base, 'busy');
    mkdirSync(target);
    await mountAll([{ type: 'bind', source: join(root, '2/fs'), options: ['rbind', 'rw'] }], target);
    const holder = spawn('sleep', ['30'], { cwd: target, stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      await unmount(target);
      assert.equal(await isMounted(target), false);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a mount the kernel refuses is an error naming the errno, and nothing stays mounted', async () => {
    const target = join(base, 'bad');
    mkdirSync(target);
    await assert.rejects(
      mountAll([{ type: 'overlay', source: 'overlay', options: ['lowerdir=l/doesnotexist', 'upperdir=3/fs', 'workdir=3/work'], cwd: root }], target),
      /mount -t overlay overlay .*bad failed: No such file or directory \(ENOENT\)/,
    );
    assert.equal(await isMounted(target), false);
  });

  it('mallocTrim resolves', async () => {
    assert.equal(typeof (await nativeEngine()?.mallocTrim()), 'boolean');
  });

  it('without the addon (BERTH_NO_NATIVE=1) the same overlay is made with mount(8) and removed with umount(8)', () => {
    const target = join(base, 'tools');
    mkdirSync(target);
    const script = `
      import { isMounted, mountAll, unmount } from ${JSON.stringify(join(REPO, 'src/util/mount.ts'))};
      import { nativeEngine } from ${JSON.stringify(join(REPO, 'src/util/nativeEngine.ts'))};
      if (nativeEngine() !== null) throw new Error('the addon was loaded');
      await mountAll([{ type: 'overlay', source: 'overlay', options: ['lowerdir=l/aaaaaaaaaa', 'upperdir=3/fs', 'workdir=3/work'], cwd: ${JSON.stringify(root)} }], ${JSON.stringify(target)});
      const mounted = await isMounted(${JSON.stringify(target)});
      await unmount(${JSON.stringify(target)});
      console.log(JSON.stringify({ mounted, after: await isMounted(${JSON.stringify(target)}) }));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO,
      env: { ...process.env, BERTH_NO_NATIVE: '1' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim()), { mounted: true, after: false });
  });

  /** Runs a shell in a child through spawnPiped; resolves with its exit, stderr, fd 3 output and pid. */
  async function runPiped(script: string, cwd: string): Promise<{ code: number | null; stderr: string; fd3: string; pid: number }> {
    const c = spawnPiped('/bin/sh', ['-c', script], { cwd, env: { PATH: '/usr/bin:/bin', MARK: 'm1' } });
    const read = (r: NodeJS.ReadableStream): Promise<string> =>
      new Promise((resolve) => {
        let s = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (s += d));
        r.on('end', () => resolve(s));
      });
    const [stderr, fd3, code] = await Promise.all([read(c.stderr), read(c.fd3), c.exited]);
    return { code, stderr, fd3, pid: c.pid };
  }
  const probe =
    'echo "$MARK" >&3; pwd >&2; grep -E "^(SigBlk|SigIgn):" /proc/self/status >&2; ' +
    'ps -o sid= -p $$ >&2; echo $$ >&2; ls /proc/self/fd >&2; read x; echo "stdin=$x" >&2; exit 7';

  it('spawnPiped (native): own session, cwd, env, no signal blocked or ignored, stdin /dev/null, fds 0-3 only; exit code reaped', async () => {
    assert.equal(typeof nativeEngine()?.spawnPiped, 'function', 'the addon has spawnPiped (rebuild native/engine)');
    const r = await runPiped(probe, base);
    assert.equal(r.code, 7);
    assert.equal(r.fd3, 'm1\n');
    const [cwd, blk, ign, sid, pid, ...rest] = r.stderr.trim().split('\n');
    assert.equal(cwd, base);
    assert.equal(blk, 'SigBlk:\t0000000000000000');
    assert.equal(ign, 'SigIgn:\t0000000000000000');
    assert.equal(sid?.trim(), pid, 'a session leader');
    assert.equal(pid, String(r.pid));
    assert.equal(rest.at(-1), 'stdin=', 'stdin is /dev/null');
    // 0-3, the fd ls opened on /proc/self/fd, and what this test process itself inherited
    // without close-on-exec (a child_process child gets those too).
    for (const fd of ['0', '1', '2', '3']) assert.ok(rest.includes(fd), `fd ${fd} open in the child: ${rest.join(' ')}`);
  });

  it('spawnPiped without the addon gives the child the same (child_process fallback)', () => {
    const script = `
      import { spawnPiped } from ${JSON.stringify(join(REPO, 'src/util/spawnPiped.ts'))};
      const c = spawnPiped('/bin/sh', ['-c', ${JSON.stringify(probe)}], { cwd: ${JSON.stringify(base)}, env: { PATH: '/usr/bin:/bin', MARK: 'm1' } });
      // The fallback unrefs its child (a daemon's loop is alive anyway): keep this one alive.
      const keep = setInterval(() => undefined, 1000);
      let err = '', fd3 = '';
      c.stderr.on('data', (d) => (err += d)); c.fd3.on('data', (d) => (fd3 += d));
      const code = await c.exited;
      await new Promise((r) => setTimeout(r, 100));
      clearInterval(keep);
      console.log(JSON.stringify({ code, err, fd3, pid: c.pid }));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO,
      env: { ...process.env, BERTH_NO_NATIVE: '1' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout.trim()) as { code: number; err: string; fd3: string; pid: number };
    assert.equal(o.code, 7);
    assert.equal(o.fd3, 'm1\n');
    const [cwd, blk, ign, sid, pid] = o.err.trim().split('\n');
    assert.deepEqual([cwd, blk, ign, sid?.trim()], [base, 'SigBlk:\t0000000000000000', 'SigIgn:\t0000000000000000', pid]);
  });

  it('spawnPiped of a missing program throws spawn … ENOENT, and leaves no child behind', () => {
    assert.throws(() => spawnPiped('/nonexistent/conmon', [], { cwd: '/', env: {} }), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'ENOENT');
      assert.match(e.message, /^spawn \/nonexistent\/conmon ENOENT$/);
      return true;
    });
    assert.throws(() => spawnPiped('/bin/true', [], { cwd: join(base, 'no-such-dir'), env: {} }), { code: 'ENOENT' });
    // Reaped inside the addon: nothing of ours is left as a zombie.
    const zombies = spawnSync('ps', ['-o', 'stat=', '--ppid', String(process.pid)], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(zombies, /Z/);
  });

  it('run() with noFork: output, exit codes, errors and the output cap as with child_process', async () => {
    const ok = await run('/bin/sh', ['-c', 'echo "out $X"; echo err >&2; pwd >&2; exit 3'], { noFork: true, okCodes: [3], env: { X: 'x1' }, cwd: base });
    assert.deepEqual(ok, { code: 3, stdout: 'out x1\n', stderr: `err\n${base}\n` });
    await assert.rejects(run('/bin/sh', ['-c', 'echo why >&2; exit 4'], { noFork: true }), (e: unknown) => {
      assert.ok(e instanceof ProcessError);
      assert.equal(e.code, 4);
      assert.match(e.message, /exit status 4\): why$/);
      return true;
    });
    await assert.rejects(run('/nonexistent/tool', ['a'], { noFork: true }), /\/nonexistent\/tool a: spawn \/nonexistent\/tool ENOENT/);
    await assert.rejects(run('/bin/sh', ['-c', 'head -c 100000 /dev/zero'], { noFork: true, maxOutput: 1000 }), /output larger than 1000 bytes/);
    // Same session and process group as this process (not detached), stdin at EOF.
    const ids = await run('/bin/sh', ['-c', 'ps -o sid=,pgid= -p $$; cat'], { noFork: true });
    const mine = (await run('/bin/ps', ['-o', 'sid=,pgid=', '-p', String(process.pid)])).stdout.trim().split(/\s+/);
    assert.deepEqual(ids.stdout.trim().split(/\s+/), mine);
    // `input` goes to the tool's stdin through a pipe (CNI plugins read their config there);
    // a tool that exits without reading it all still gives its own result.
    const big = 'x'.repeat(300_000);
    assert.equal((await run('/usr/bin/wc', ['-c'], { noFork: true, input: `${big}\n` })).stdout.trim(), '300001');
    assert.equal((await run('/bin/sh', ['-c', 'exit 0'], { noFork: true, input: big })).code, 0);
    // A bare name is looked up on PATH (once); one that is not there fails as child_process does.
    assert.equal((await run('sh', ['-c', 'echo $0'], { noFork: true })).stdout, `${(await run('sh', ['-c', 'command -v sh'])).stdout.trim()}\n`);
    await assert.rejects(run('no-such-tool-berth', [], { noFork: true }), /ENOENT/);
  });
});
