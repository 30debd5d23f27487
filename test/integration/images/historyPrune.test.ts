// berth history, berth image prune (and docker image prune against berthd),
// berth images --digests / --filter.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfsTar, REPO, startDaemon, type CmdResult, type TestDaemon } from '../../fixtures/testDaemon.js';
import { makeOciLayout, tarOf, TestRegistry } from '../../fixtures/testRegistry.js';

const BERTH = join(REPO, 'bin', 'berth');

describe('image history, prune and listing', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  let work: string;
  before(async () => {
    d = await startDaemon();
    work = mkdtempSync(join(tmpdir(), 'berth-hp-'));
  });
  after(async () => {
    await d?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  const berth = (args: string[], input?: string): Promise<CmdResult> => d.run(BERTH, ['-H', d.host, ...args], input !== undefined ? { input } : {});
  const ids = async (): Promise<string[]> => ((await d.http('GET', '/images/json')).json as { Id: string }[]).map((i) => i.Id).sort();
  const importTar = async (files: Record<string, string>, ref: string): Promise<string> => {
    const f = join(work, `${Math.random().toString(16).slice(2)}.tar`);
    writeFileSync(f, tarOf(files));
    const r = await berth(['import', '-m', 'made by the test', f, ref]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };

  it('history shows docker columns, -q, --no-trunc, --format and -H=false', async () => {
    const id = await importTar({ 'hello.txt': 'hi' }, 'hist:1');
    const r = await berth(['history', 'hist:1']);
    assert.equal(r.code, 0, r.stderr);
    const [head, row, ...rest] = r.stdout.split('\n');
    assert.match(head ?? '', /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.match(row ?? '', new RegExp(`^${id.slice(7, 19)}\\s+(Less than a second|1 second|\\d+ seconds) ago\\s+10.2kB\\s+made by the test$`), 'the layer\'s unpacked size (a 10 KiB tar)');
    assert.deepEqual(rest, ['']);
    assert.equal((await berth(['history', '-q', 'hist:1'])).stdout, `${id.slice(7, 19)}\n`);
    assert.equal((await berth(['history', '-q', '--no-trunc', 'hist:1'])).stdout, `${id}\n`);
    assert.equal((await berth(['history', '--format', '{{.ID}}|{{.Comment}}', 'hist:1'])).stdout, `${id.slice(7, 19)}|made by the test\n`);
    const raw = await berth(['history', '-H=false', 'hist:1']);
    assert.match(raw.stdout, /\n[0-9a-f]{12}\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)\s+10240\s+made by the test\n$/);
    const missing = await berth(['history', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error response from daemon: No such image: nope:latest\n');
  });

  it('image prune removes dangling images only, after asking; -f skips the question', async () => {
    const old = await importTar({ 'v.txt': '1' }, 'pr:1');
    await importTar({ 'v.txt': '2' }, 'pr:1'); // the tag moves: `old` is dangling now
    const keep = await ids();
    const no = await berth(['image', 'prune'], 'n\n');
    assert.equal(no.code, 0);
    assert.equal(no.stdout, 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ');
    assert.deepEqual(await ids(), keep);
    const yes = await berth(['image', 'prune'], 'y\n');
    assert.equal(yes.code, 0, yes.stderr);
    assert.match(yes.stdout, new RegExp(`\\[y/N\\] Deleted Images:\ndeleted: ${old}\n\nTotal reclaimed space: \\d+(\\.\\d+)?[kM]?B\n$`));
    assert.ok(!(await ids()).includes(old));
    assert.ok((await ids()).includes(((await d.http('GET', '/images/pr:1/json')).json as { Id: string }).Id));
    const nothing = await berth(['image', 'prune', '-f']);
    assert.equal(nothing.stdout, 'Total reclaimed space: 0B\n');
  });

  it('image prune -a removes every image no container uses, untagging first', async () => {
    await d.importBusybox('busybox:latest');
    const c = await berth(['create', 'busybox', 'true']);
    assert.equal(c.code, 0, c.stderr);
    await importTar({ 'z.txt': 'z' }, 'unused:1');
    const r = await berth(['image', 'prune', '-a', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Deleted Images:\n/);
    assert.match(r.stdout, /\nuntagged: unused:1\n/);
    assert.match(r.stdout, /\nuntagged: hist:1\n/);
    assert.doesNotMatch(r.stdout, /busybox/);
    const left = ((await d.http('GET', '/images/json')).json as { RepoTags: string[] }[]).flatMap((i) => i.RepoTags);
    assert.deepEqual(left, ['busybox:latest']);
    assert.equal((await berth(['rm', c.stdout.trim()])).code, 0);
  });

  it('docker image prune works against berthd, and bad filters are refused', async () => {
    await importTar({ 'q.txt': '1' }, 'dk:1');
    await importTar({ 'q.txt': '2' }, 'dk:1');
    const r = await d.docker(['image', 'prune', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Deleted Images:\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: /);
    const bad = await berth(['image', 'prune', '-f', '--filter', 'color=red']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, "Error response from daemon: invalid filter 'color'\n");
    const until = await berth(['image', 'prune', '-f', '-a', '--filter', 'until=9999h']);
    assert.equal(until.stdout, 'Total reclaimed space: 0B\n');
  });

  it('images --digests shows the repo digest of a pulled image; --filter dangling=true lists only untagged', async () => {
    const reg = new TestRegistry();
    await reg.start();
    try {
      const layout = join(work, 'layout');
      const made = makeOciLayout(layout, 't', { layers: [readFileSync(busyboxRootfsTar())] });
      reg.push(layout, 't', 'x/y:t');
      assert.equal((await berth(['pull', '-q', `${reg.host}/x/y:t`])).code, 0);
      const r = await berth(['images', '--digests', `${reg.host}/x/y`]);
      assert.match(r.stdout, /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE\n/);
      assert.match(r.stdout, new RegExp(`\n${reg.host.replace(/\./g, '\\.')}/x/y\\s+t\\s+${made.manifest}\\s+${made.config.slice(7, 19)}\\s`));
      await importTar({ 'w.txt': '1' }, 'dang:1');
      await importTar({ 'w.txt': '2' }, 'dang:1');
      const dangling = await berth(['images', '-q', '--filter', 'dangling=true']);
      assert.equal(dangling.stdout.trim().split('\n').length, 1);
    } finally {
      await reg.stop();
    }
  });
});
