// Git build contexts over a `git daemon` on loopback (never the internet): `berth build git://…#ref:dir`
// (the daemon fetches it, as moby does for `remote=`), `DOCKER_BUILDKIT=0 docker build git://…` (the
// docker CLI clones and sends a tar), .git left out so two fetches of one commit hit the cache, and
// bad refs and subdirectories as 400s that leave nothing behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { cachedSteps, makeContext, NOTHING_LEFT, settledLeftovers, writeFiles } from './helpers.js';

function git(cwd: string, ...args: string[]): void {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

describe('build from a git context', { skip: process.getuid?.() !== 0 ? 'needs root' : spawnSync('git', ['--version']).status !== 0 ? 'needs git' : false }, () => {
  let d: TestDaemon;
  let gitd: ChildProcess | null = null;
  let base = '';
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
    const root = makeContext({});
    const repo = join(root, 'repo.git');
    writeFiles(repo, {
      Dockerfile: 'FROM busybox\nCOPY . /ctx\nCMD ["cat", "/ctx/which"]\n',
      which: 'root of main\n',
      'app/Dockerfile': 'FROM busybox\nCOPY . /app\nCMD ["sh", "-c", "cat /app/which; ls -a /app"]\n',
      'app/which': 'app of main\n',
      'app/link-out': { symlink: '../../../../etc' },
      'file.txt': 'not a dir\n',
    });
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'main');
    git(repo, 'checkout', '-q', '-b', 'feature');
    writeFiles(repo, { 'app/which': 'app of feature\n' });
    git(repo, 'commit', '-q', '-am', 'feature');
    git(repo, 'checkout', '-q', 'main');
    git(repo, 'tag', 'v1');
    const port = await freePort();
    gitd = spawn('git', ['daemon', '--export-all', `--base-path=${root}`, '--listen=127.0.0.1', `--port=${port}`, '--reuseaddr', root], { stdio: 'ignore' });
    base = `git://127.0.0.1:${port}/repo.git`;
    for (let i = 0; i < 100; i++) {
      if (spawnSync('git', ['ls-remote', base], { encoding: 'utf8' }).status === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('git daemon did not come up');
  });
  after(async () => {
    if (gitd?.pid && gitd.exitCode === null) {
      const exited = new Promise<void>((r) => gitd?.once('exit', () => r()));
      gitd.kill('SIGTERM');
      await exited;
    }
    await d?.cleanup();
  });

  const berth = (args: string[]) => d.berth(['build', '--progress', 'plain', ...args], { timeoutMs: 120_000 });

  it('builds a branch\'s subdirectory, a tag and the default branch, without .git, cached across fetches', async () => {
    const r = await berth(['-t', 'git:feature', `${base}#feature:app`]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((await d.berth(['run', '--rm', 'git:feature'])).stdout, 'app of feature\n.\n..\nDockerfile\nlink-out\nwhich\n');
    const tag = await berth(['-t', 'git:tag', `${base}#v1:app`]);
    assert.equal(tag.code, 0, tag.stdout + tag.stderr);
    assert.match((await d.berth(['run', '--rm', 'git:tag'])).stdout, /^app of main\n/);
    const root = await berth(['-t', 'git:root', base]);
    assert.equal(root.code, 0, root.stdout + root.stderr);
    assert.equal((await d.berth(['run', '--rm', 'git:root'])).stdout, 'root of main\n');
    // Another fetch of the same commit: the same context, every step from the cache.
    const again = await berth(['-t', 'git:feature', `${base}#feature:app`]);
    assert.deepEqual(cachedSteps(again.stdout), [2, 3]);
    assert.deepEqual(await settledLeftovers(d), NOTHING_LEFT);
  });

  it('works with the docker CLI\'s legacy builder, which clones by itself', async () => {
    // Its clone goes under TMPDIR (a directory of this test's, removed with the others).
    const env = { DOCKER_HOST: d.host, DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false', TMPDIR: makeContext({}) };
    const r = await d.run('docker', ['build', '-t', 'git:docker', `${base}#main:app`], { env, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match((await d.docker(['run', '--rm', 'git:docker'])).stdout, /^app of main\n/);
  });

  it('refuses an unknown ref, a missing or non-directory subdir, and a subdir climbing out, leaving nothing', async () => {
    const cases: Array<[string, RegExp]> = [
      [`${base}#no-such-branch`, /error fetching git context .*no-such-branch/],
      [`${base}#main:nowhere`, /subdir nowhere not found/],
      [`${base}#main:file.txt`, /subdir file\.txt is not a directory/],
      [`${base}#main:../..`, /outside the repository/],
      [`${base}#main:app/link-out`, /subdir app\/link-out not found/],
    ];
    for (const [url, re] of cases) {
      const h = await d.http('POST', `/build?remote=${encodeURIComponent(url)}`);
      assert.equal(h.status, 400, `${url}: ${h.body}`);
      assert.match(h.body, re);
    }
    assert.deepEqual(await settledLeftovers(d), NOTHING_LEFT);
  });
});
