// berth push against Debian's docker-registry: push then pull back by digest,
// "Layer already exists" the second time, -a and -q, and a registry behind
// htpasswd with credentials from the docker config file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfsTar, REPO, startDaemon, type CmdResult, type TestDaemon } from '../../fixtures/testDaemon.js';
import { TestRegistry } from '../../fixtures/testRegistry.js';

const BERTH = join(REPO, 'bin', 'berth');

describe('image push', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let reg: TestRegistry;
  let secure: TestRegistry;
  let d: TestDaemon;
  let work: string;
  let config: string;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'berth-push-'));
    config = join(work, 'docker-config');
    reg = new TestRegistry();
    await reg.start();
    secure = new TestRegistry({ user: 'bob', password: 'builder' });
    await secure.start();
    d = await startDaemon();
  });
  after(async () => {
    await d?.cleanup();
    await reg?.stop();
    await secure?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const berth = (args: string[], input?: string): Promise<CmdResult> =>
    d.run(BERTH, ['-H', d.host, ...args], { env: { DOCKER_CONFIG: config }, ...(input !== undefined ? { input } : {}) });
  const inspect = async (ref: string): Promise<{ Id: string; RepoDigests: string[] }> => {
    const r = await d.http('GET', `/images/${ref}/json`);
    assert.equal(r.status, 200, r.body);
    return r.json as { Id: string; RepoDigests: string[] };
  };

  it('pushes, then pulls back by digest the very same image', async () => {
    const ref = `${reg.host}/team/app:1`;
    assert.equal((await berth(['import', '-c', 'CMD ["sh"]', busyboxRootfsTar(), ref])).code, 0);
    const id = (await inspect(ref)).Id;
    const r = await berth(['push', ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^The push refers to repository \\[${reg.host.replace(/\./g, '\\.')}/team/app\\]\n`));
    assert.match(r.stdout, /\n[0-9a-f]{12}: Pushed\n/);
    const m = /\n1: digest: (sha256:[0-9a-f]{64}) size: (\d+)\n$/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const digest = m[1] as string;
    // The registry serves that manifest under that digest.
    const res = await fetch(`http://${reg.host}/v2/team/app/manifests/1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(res.headers.get('docker-content-digest'), digest);
    assert.equal((await berth(['rmi', ref])).code, 0);
    const pull = await berth(['pull', `${reg.host}/team/app@${digest}`]);
    assert.equal(pull.code, 0, pull.stderr);
    const back = await inspect(`${reg.host}/team/app@${digest}`);
    assert.equal(back.Id, id);
    assert.ok(back.RepoDigests.includes(`${reg.host}/team/app@${digest}`));
    const run = await berth(['run', '--rm', `${reg.host}/team/app@${digest}`, 'echo', 'round-trip']);
    assert.equal(run.stdout, 'round-trip\n', run.stderr);
  });

  it('gzips with zlib where ISA-L is missing (BERTH_NO_ISAL=1): the pushed image pulls back and runs', async () => {
    const z = await startDaemon([], { BERTH_NO_ISAL: '1' });
    try {
      const zb = (args: string[]): Promise<CmdResult> => z.run(BERTH, ['-H', z.host, ...args], { env: { DOCKER_CONFIG: config } });
      const ref = `${reg.host}/team/zlib:1`;
      assert.equal((await zb(['import', '-c', 'CMD ["sh"]', busyboxRootfsTar(), ref])).code, 0);
      const r = await zb(['push', ref]);
      assert.equal(r.code, 0, r.stderr);
      const digest = /\n1: digest: (sha256:[0-9a-f]{64}) size: \d+\n$/.exec(r.stdout)?.[1];
      assert.ok(digest, r.stdout);
      const pull = await berth(['pull', `${reg.host}/team/zlib@${digest}`]);
      assert.equal(pull.code, 0, pull.stderr);
      const run = await berth(['run', '--rm', `${reg.host}/team/zlib@${digest}`, 'echo', 'zlib']);
      assert.equal(run.stdout, 'zlib\n', run.stderr);
    } finally {
      await z.cleanup();
    }
  });

  it('a second push finds every layer already there; -q prints only the reference', async () => {
    const ref = `${reg.host}/team/app:2`;
    assert.equal((await berth(['import', '-c', 'CMD ["sh"]', busyboxRootfsTar(), ref])).code, 0);
    const first = await berth(['push', ref]);
    assert.equal(first.code, 0, first.stderr);
    const second = await berth(['push', ref]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /\n[0-9a-f]{12}: Layer already exists\n/);
    assert.doesNotMatch(second.stdout, /Pushed/);
    const quiet = await berth(['push', '-q', ref]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, `${ref}\n`);
  });

  it('-a pushes every tag of the repository; a name without a tag means latest', async () => {
    const repo = `${reg.host}/team/many`;
    assert.equal((await berth(['import', busyboxRootfsTar(), `${repo}:a`])).code, 0);
    assert.equal((await berth(['tag', `${repo}:a`, `${repo}:b`])).code, 0);
    const all = await berth(['push', '-a', repo]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /\na: digest: sha256:[0-9a-f]{64} size: \d+\n/);
    assert.match(all.stdout, /\nb: digest: sha256:[0-9a-f]{64} size: \d+\n/);
    const tags = (await (await fetch(`http://${reg.host}/v2/team/many/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags.sort(), ['a', 'b']);
    const noLatest = await berth(['push', repo]);
    assert.equal(noLatest.code, 1);
    assert.match(noLatest.stdout, /^Using default tag: latest\n/);
    assert.match(noLatest.stderr, /An image does not exist locally with the tag: 127\.0\.0\.1:\d+\/team\/many/);
    const withTag = await berth(['push', '-a', `${repo}:a`]);
    assert.equal(withTag.stderr, "tag can't be used with --all-tags/-a\n");
  });

  it('pushes to a registry behind htpasswd with the credentials berth login stored', async () => {
    const ref = `${secure.host}/bob/tool:1`;
    assert.equal((await berth(['import', busyboxRootfsTar(), ref])).code, 0);
    const denied = await berth(['push', ref]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr + denied.stdout, /unauthorized|authentication required/i);
    const login = await berth(['login', '-u', 'bob', '-p', 'builder', secure.host]);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /^WARNING! Using --password via the CLI is insecure\. Use --password-stdin\.\n/);
    const ok = await berth(['push', ref]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /\n1: digest: sha256:[0-9a-f]{64} size: \d+\n$/);
  });
});
