// The real docker CLI, through berthd, against `berth registry serve` (its own process) with token
// auth and anonymous pull: `docker login`, `docker push`, `docker pull` of the same digest (after
// removing the image), the pulled image runs; pushing without a login and logging in with a wrong
// password are refused, and berth's own CLI pulls the same image. A second, open registry takes a
// push and a pull with no login at all.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { REPO, startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { startRegistryProcess, tempDir, type RegistryProcess } from './fixtures.js';

const BERTH = join(REPO, 'bin', 'berth');
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

  it('docker and berth share logins through $DOCKER_CONFIG/config.json, both ways', async () => {
    const env = { DOCKER_CONFIG: join(d.root, 'docker-config') };
    const berthCli = (args: string[], input?: string) =>
      d.run(BERTH, ['-H', d.host, ...args], { env, timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });
    const one = `${secure.host}/team/shared:1`;
    const two = `${secure.host}/team/shared:2`;
    assert.equal((await d.docker(['tag', 'busybox:latest', one])).code, 0);
    assert.equal((await d.docker(['tag', 'busybox:latest', two])).code, 0);
    assert.equal((await d.docker(['login', '-u', 'alice', '--password-stdin', secure.host], { input: 'wonderland\n' })).code, 0);
    // As with dockerd: the token server's refresh token is stored, the password is not.
    const stored = (): { auth?: string; identitytoken?: string } | undefined =>
      (JSON.parse(readFileSync(join(env.DOCKER_CONFIG, 'config.json'), 'utf8')) as { auths: Record<string, { auth?: string; identitytoken?: string }> }).auths[secure.host];
    assert.equal(Buffer.from(stored()?.auth ?? '', 'base64').toString(), 'alice:');
    assert.match(stored()?.identitytoken ?? '', /\S{20,}/);
    const berthPush = await berthCli(['push', one]);
    assert.equal(berthPush.code, 0, berthPush.stderr);
    assert.equal((await d.docker(['logout', secure.host])).code, 0);
    const refused = await berthCli(['push', two]);
    assert.notEqual(refused.code, 0, 'logged out: the push needs a login again');
    const login = await berthCli(['login', '-u', 'alice', '--password-stdin', secure.host], 'wonderland\n');
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stderr, '', 'no password stored, so no warning about one');
    assert.equal(Buffer.from(stored()?.auth ?? '', 'base64').toString(), 'alice:');
    assert.match(stored()?.identitytoken ?? '', /\S{20,}/);
    const dockerPush = await d.docker(['push', two], { timeoutMs: 120_000 });
    assert.equal(dockerPush.code, 0, dockerPush.stderr);
    assert.equal((await berthCli(['logout', secure.host])).code, 0);
  });

  it('berth pushes and pulls with only an identity token (OAuth2 refresh token) in config.json, as docker login to a token server stores', async () => {
    const q = `service=berth-docker-test&client_id=docker&offline_token=true&scope=`;
    const got = await fetch(`http://${secure.host}/token?${q}`, { headers: { Authorization: `Basic ${Buffer.from('alice:wonderland').toString('base64')}` } });
    assert.equal(got.status, 200);
    const rt = ((await got.json()) as { refresh_token?: string }).refresh_token;
    assert.ok(rt, 'a refresh token');
    const cfgDir = join(work, 'identity-config');
    mkdirSync(cfgDir, { recursive: true });
    writeFileSync(join(cfgDir, 'config.json'), JSON.stringify({ auths: { [secure.host]: { auth: Buffer.from('<token>:').toString('base64'), identitytoken: rt } } }));
    const berthCli = (args: string[]) => d.run(BERTH, ['-H', d.host, ...args], { env: { DOCKER_CONFIG: cfgDir }, timeoutMs: 120_000 });
    const ref = `${secure.host}/team/identity:1`;
    assert.equal((await d.docker(['tag', 'busybox:latest', ref])).code, 0);
    const push = await berthCli(['push', ref]);
    assert.equal(push.code, 0, push.stderr);
    assert.equal((await berthCli(['rmi', ref])).code, 0);
    const pull = await berthCli(['pull', ref]);
    assert.equal(pull.code, 0, pull.stderr);
    writeFileSync(join(cfgDir, 'config.json'), JSON.stringify({ auths: { [secure.host]: { auth: Buffer.from('<token>:').toString('base64'), identitytoken: 'forged' } } }));
    assert.equal((await d.docker(['tag', 'busybox:latest', `${secure.host}/team/identity:2`])).code, 0);
    const bad = await berthCli(['push', `${secure.host}/team/identity:2`]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /authentication to 127\.0\.0\.1:\d+ failed: the token server answered 401/);
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
