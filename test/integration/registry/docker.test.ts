// The real docker CLI, through berthd, against `berth registry serve` (its own process) with token
// auth and anonymous pull: `docker login`, `docker push`, `docker pull` of the same digest (after
// removing the image), the pulled image runs; pushing without a login and logging in with a wrong
// password are refused, and berth's own CLI pulls the same image. A second, open registry takes a
// push and a pull with no login at all.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { startRegistryProcess, tempDir, type RegistryProcess } from './fixtures.js';

const hasDocker = spawnSync('docker', ['--version']).status === 0;
const skip = process.getuid?.() !== 0 ? 'needs root' : !hasDocker ? 'the docker CLI binary is not on PATH' : false;

const pushedDigest = (out: string): string | undefined => /digest: (sha256:[a-f0-9]{64})/.exec(out)?.[1];
const pulledDigest = (out: string): string | undefined => /Digest: (sha256:[a-f0-9]{64})/.exec(out)?.[1];

describe('docker push and pull through berthd against berth registry', { skip }, () => {
  let d: TestDaemon;
  let secure: RegistryProcess;
  let open: RegistryProcess;
  let work: string;

  before(async () => {
    work = tempDir('docker');
    writeFileSync(join(work, 'htpasswd'), `alice:${bcrypt.hashSync('wonderland', 4)}\n`);
    secure = await startRegistryProcess([
      '--root', join(work, 'secure'),
      '--htpasswd', join(work, 'htpasswd'),
      '--token-issuer', 'berth-docker-test',
      '--anonymous-pull',
    ]);
    open = await startRegistryProcess(['--root', join(work, 'open')]);
    d = await startDaemon();
    await d.importBusybox('busybox:latest');
  });
  after(async () => {
    await d?.cleanup();
    await secure?.stop();
    await open?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('login, push, remove, pull the same digest anonymously; the pulled image runs', async () => {
    const ref = `${secure.host}/team/bb:1`;
    const wrong = await d.docker(['login', '-u', 'alice', '--password-stdin', secure.host], { input: 'nope\n' });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /unauthorized|401/i);
    assert.equal((await d.docker(['tag', 'busybox:latest', ref])).code, 0);
    const anonPush = await d.docker(['push', ref], { timeoutMs: 120_000 });
    assert.notEqual(anonPush.code, 0, 'a push needs a login');
    assert.match(anonPush.stdout + anonPush.stderr, /denied|unauthorized|authentication required/i);
    const login = await d.docker(['login', '-u', 'alice', '--password-stdin', secure.host], { input: 'wonderland\n' });
    assert.equal(login.code, 0, login.stderr);
    const push = await d.docker(['push', ref], { timeoutMs: 120_000 });
    assert.equal(push.code, 0, push.stderr);
    const digest = pushedDigest(push.stdout);
    assert.ok(digest !== undefined, push.stdout);
    assert.equal((await d.docker(['logout', secure.host])).code, 0);
    assert.equal((await d.docker(['rmi', ref])).code, 0);
    const pull = await d.docker(['pull', ref], { timeoutMs: 120_000 });
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(pulledDigest(pull.stdout), digest);
    const run = await d.docker(['run', '--rm', ref, 'echo', 'from-registry']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'from-registry\n');
    // berth's own CLI pulls the same digest.
    assert.equal((await d.docker(['rmi', ref])).code, 0);
    const berthPull = await d.berth(['pull', ref], { timeoutMs: 120_000 });
    assert.equal(berthPull.code, 0, berthPull.stderr);
    assert.match(berthPull.stdout, new RegExp(`Digest: ${digest}`));
  });

  it('an open registry takes a push and a pull with no login', async () => {
    const ref = `${open.host}/lib/bb:latest`;
    assert.equal((await d.docker(['tag', 'busybox:latest', ref])).code, 0);
    const push = await d.docker(['push', ref], { timeoutMs: 120_000 });
    assert.equal(push.code, 0, push.stderr);
    const digest = pushedDigest(push.stdout);
    assert.equal((await d.docker(['rmi', ref])).code, 0);
    const pull = await d.docker(['pull', ref], { timeoutMs: 120_000 });
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(pulledDigest(pull.stdout), digest);
  });
});
