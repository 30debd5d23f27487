// The build cache is never wrong and never missed: each input a step depends on — a copied file's
// content, mode, link target; the owner COPY --chown gives; a build arg the step uses; ENV set from an
// ARG; the base image behind a tag; a bind-mounted context directory; what .dockerignore lets through —
// invalidates exactly that step and the ones after it, and nothing else does (mtimes, a context file's
// owner on the client, an unrelated build arg for a COPY, a stage rebuilt to the same bytes).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { cachedSteps, makeContext, NOTHING_LEFT, settledLeftovers, writeFiles } from './helpers.js';

describe('build cache: exactly the right steps miss', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });

  const build = async (args: string[]): Promise<{ out: string; cached: number[] }> => {
    const r = await d.berth(['build', '--progress', 'plain', ...args], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return { out: r.stdout, cached: cachedSteps(r.stdout) };
  };
  const run = async (image: string, cmd: string): Promise<string> => (await d.berth(['run', '--rm', image, 'sh', '-c', cmd])).stdout;

  it('a copied file\'s mode and a symlink\'s target miss; its owner on the client and its mtime do not', async () => {
    const ctx = makeContext({
      Dockerfile: ['FROM busybox', 'COPY a.sh /a.sh', 'COPY links /links', 'RUN stat -c %a /a.sh > /mode', 'COPY b.txt /b.txt', ''].join('\n'),
      'a.sh': { content: 'echo a\n', mode: 0o644 },
      'b.txt': 'b\n',
    });
    mkdirSync(join(ctx, 'links'));
    symlinkSync('target1', join(ctx, 'links', 'l'));
    assert.deepEqual((await build(['-t', 'rules-mode:1', ctx])).cached, []);
    // Another owner on the client (COPY without --chown makes everything root's) and new mtimes: all hit.
    chownSync(join(ctx, 'a.sh'), 4321, 4321);
    assert.deepEqual((await build(['-t', 'rules-mode:1', ctx])).cached, [2, 3, 4, 5]);
    // Mode 644 → 755, same bytes: that COPY misses and everything after it.
    chmodSync(join(ctx, 'a.sh'), 0o755);
    assert.deepEqual((await build(['-t', 'rules-mode:2', ctx])).cached, []);
    assert.equal(await run('rules-mode:2', 'cat /mode; stat -c %u /a.sh'), '755\n0\n');
    // The link now points elsewhere: the COPY of a.sh hits, the link's COPY and what follows miss.
    rmSync(join(ctx, 'links', 'l'));
    symlinkSync('target2', join(ctx, 'links', 'l'));
    assert.deepEqual((await build(['-t', 'rules-mode:3', ctx])).cached, [2]);
    assert.equal(await run('rules-mode:3', 'readlink /links/l'), 'target2\n');
  });

  it('COPY --chown: the owner it gives is in the key, whether spelled in the Dockerfile or by a build arg', async () => {
    const ctx = makeContext({
      Dockerfile: ['FROM busybox', 'ARG OWNER=1:1', 'ARG OTHER=x', 'COPY --chown=${OWNER} f.txt /f.txt', 'COPY g.txt /g.txt', 'RUN stat -c "%u:%g" /f.txt > /owner', ''].join('\n'),
      'f.txt': 'f\n',
      'g.txt': 'g\n',
    });
    assert.deepEqual((await build(['-t', 'rules-chown:1', ctx])).cached, []);
    assert.equal(await run('rules-chown:1', 'cat /owner'), '1:1\n');
    // OWNER changes: the --chown COPY and everything after it miss.
    const owner = await build(['--build-arg', 'OWNER=7:8', '-t', 'rules-chown:2', ctx]);
    assert.deepEqual(owner.cached, [2, 3]);
    assert.equal(await run('rules-chown:2', 'cat /owner; stat -c "%u:%g" /g.txt'), '7:8\n0:0\n');
    // Back to the first value: every step hits again (the earlier results are still cached).
    assert.deepEqual((await build(['-t', 'rules-chown:1', ctx])).cached, [2, 3, 4, 5, 6]);
    // OTHER is used by no COPY, so both COPYs hit; a RUN sees every build arg (`|2 OTHER=y OWNER=1:1 …`), so it runs.
    const other = await build(['--build-arg', 'OTHER=y', '-t', 'rules-chown:3', ctx]);
    assert.deepEqual(other.cached, [2, 3, 4, 5]);
    assert.match(other.out, /Step 6\/6 : RUN[^\n]*\n ---> Running in /);
    // The owner in the Dockerfile itself changes: the same rule.
    writeFiles(ctx, { Dockerfile: ['FROM busybox', 'ARG OWNER=1:1', 'ARG OTHER=x', 'COPY --chown=2:2 f.txt /f.txt', 'COPY g.txt /g.txt', 'RUN stat -c "%u:%g" /f.txt > /owner', ''].join('\n') });
    assert.deepEqual((await build(['-t', 'rules-chown:4', ctx])).cached, [2, 3]);
    assert.equal(await run('rules-chown:4', 'cat /owner'), '2:2\n');
  });

  it('ENV set from an ARG misses when the ARG does, and a changed ENV line misses from there on', async () => {
    const ctx = makeContext({
      Dockerfile: ['FROM busybox', 'ARG V=1', 'COPY x.txt /x.txt', 'ENV FROM_ARG=$V', 'ENV PLAIN=a', 'COPY y.txt /y.txt', 'CMD ["sh", "-c", "echo $FROM_ARG $PLAIN"]', ''].join('\n'),
      'x.txt': 'x\n',
      'y.txt': 'y\n',
    });
    assert.deepEqual((await build(['-t', 'rules-env:1', ctx])).cached, []);
    // V changes: the COPY before the ENV that uses it hits; that ENV and every later step miss.
    assert.deepEqual((await build(['--build-arg', 'V=2', '-t', 'rules-env:2', ctx])).cached, [2, 3]);
    assert.equal((await d.berth(['run', '--rm', 'rules-env:2'])).stdout, '2 a\n');
    // A changed ENV line: the steps before it hit.
    writeFiles(ctx, { Dockerfile: ['FROM busybox', 'ARG V=1', 'COPY x.txt /x.txt', 'ENV FROM_ARG=$V', 'ENV PLAIN=b', 'COPY y.txt /y.txt', 'CMD ["sh", "-c", "echo $FROM_ARG $PLAIN"]', ''].join('\n') });
    assert.deepEqual((await build(['-t', 'rules-env:3', ctx])).cached, [2, 3, 4]);
    assert.equal((await d.berth(['run', '--rm', 'rules-env:3'])).stdout, '1 b\n');
  });

  it('a tag moved to another base image misses every step after FROM; moved back, everything hits', async () => {
    const a = await build(['-t', 'rules-base:a', makeContext({ Dockerfile: 'FROM busybox\nRUN echo A > /base\n' })]);
    const b = await build(['-t', 'rules-base:b', makeContext({ Dockerfile: 'FROM busybox\nRUN echo B > /base\n' })]);
    assert.ok(a.out && b.out);
    assert.equal((await d.berth(['tag', 'rules-base:a', 'rules-base:current'])).code, 0);
    const ctx = makeContext({ Dockerfile: 'FROM rules-base:current\nCOPY f /f\nRUN cat /base /f > /both\nCMD ["cat", "/both"]\n', f: 'f\n' });
    assert.deepEqual((await build(['-t', 'rules-base:app', ctx])).cached, []);
    assert.deepEqual((await build(['-t', 'rules-base:app', ctx])).cached, [2, 3, 4]);
    assert.equal((await d.berth(['tag', 'rules-base:b', 'rules-base:current'])).code, 0);
    assert.deepEqual((await build(['-t', 'rules-base:app', ctx])).cached, []);
    assert.equal((await d.berth(['run', '--rm', 'rules-base:app'])).stdout, 'B\nf\n');
    assert.equal((await d.berth(['tag', 'rules-base:a', 'rules-base:current'])).code, 0);
    assert.deepEqual((await build(['-t', 'rules-base:app', ctx])).cached, [2, 3, 4]);
    assert.equal((await d.berth(['run', '--rm', 'rules-base:app'])).stdout, 'A\nf\n');
  });

  it('.dockerignore letting a file through misses COPY .; a RUN bind of the context misses when the bound files change', async () => {
    const ctx = makeContext({
      Dockerfile: ['FROM busybox', 'COPY . /ctx/', 'RUN --mount=type=bind,source=data,target=/data cat /data/in.txt > /bound', 'CMD ["sh", "-c", "ls /ctx; cat /bound"]', ''].join('\n'),
      '.dockerignore': 'extra.txt\n.dockerignore\n',
      'extra.txt': 'extra\n',
      'data/in.txt': 'one\n',
    });
    assert.deepEqual((await build(['-t', 'rules-ign:1', ctx])).cached, []);
    assert.equal((await d.berth(['run', '--rm', 'rules-ign:1'])).stdout, 'Dockerfile\ndata\none\n');
    writeFiles(ctx, { 'data/in.txt': 'two\n' });
    // The data/ file is also under COPY . — so that misses too; bind content is checked separately below.
    assert.deepEqual((await build(['-t', 'rules-ign:2', ctx])).cached, []);
    assert.equal((await d.berth(['run', '--rm', 'rules-ign:2'])).stdout, 'Dockerfile\ndata\ntwo\n');
    writeFiles(ctx, { '.dockerignore': '.dockerignore\n' });
    const through = await build(['-t', 'rules-ign:3', ctx]);
    assert.deepEqual(through.cached, []);
    assert.equal((await d.berth(['run', '--rm', 'rules-ign:3'])).stdout, 'Dockerfile\ndata\nextra.txt\ntwo\n');

    const bind = makeContext({
      Dockerfile: 'FROM busybox\nRUN --mount=type=bind,source=data,target=/data cat /data/in.txt > /bound\nCMD ["cat", "/bound"]\n',
      'data/in.txt': 'one\n',
      'other.txt': 'o\n',
    });
    assert.deepEqual((await build(['-t', 'rules-bind:1', bind])).cached, []);
    writeFiles(bind, { 'other.txt': 'changed\n' });
    assert.deepEqual((await build(['-t', 'rules-bind:1', bind])).cached, [2, 3], 'a file outside the bound directory changes nothing');
    writeFiles(bind, { 'data/in.txt': 'two\n' });
    assert.deepEqual((await build(['-t', 'rules-bind:2', bind])).cached, []);
    assert.equal((await d.berth(['run', '--rm', 'rules-bind:2'])).stdout, 'two\n');
  });

  it('--cache-from: a loaded image with no cache rows supplies the steps its history matches, and no others', async () => {
    const ctx = makeContext({
      Dockerfile: ['FROM busybox', 'WORKDIR /app', 'COPY a.txt ./', 'RUN cat a.txt > /out', 'ENV X=1', 'COPY --chmod=0755 s.sh /s.sh', 'CMD ["cat", "/out"]', ''].join('\n'),
      'a.txt': 'A\n',
      's.sh': 'echo s\n',
    });
    assert.deepEqual((await build(['-t', 'cf:1', ctx])).cached, []);
    // As if pulled on another machine: the image alone, no parents, no cache rows.
    const tar = join(makeContext({}), 'cf.tar');
    const dk = async (a: string[]): Promise<void> => {
      const r = await d.docker(a, { timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    };
    await dk(['save', '-o', tar, 'cf:1']);
    await dk(['rmi', 'cf:1']);
    assert.equal((await d.berth(['builder', 'prune', '-a', '-f'])).code, 0);
    await dk(['load', '-i', tar]);
    // A changed file: WORKDIR comes from cf:1, the COPY of other content does not.
    writeFiles(ctx, { 'a.txt': 'B\n' });
    const edited = await build(['--cache-from', 'cf:1', '-t', 'cf:edited', ctx]);
    assert.deepEqual(edited.cached, [2]);
    assert.equal((await d.berth(['run', '--rm', 'cf:edited'])).stdout, 'B\n');
    // The same mode change that a plain rebuild misses on is a miss here too.
    writeFiles(ctx, { 'a.txt': { content: 'A\n', mode: 0o755 } });
    assert.deepEqual((await build(['--cache-from', 'cf:1', '-t', 'cf:mode', ctx])).cached, [2]);
    // The original files: every step cf:1's history shows is reused (no RUN container); --chmod is not
    // in the history text, so that COPY and what follows run.
    writeFiles(ctx, { 'a.txt': { content: 'A\n', mode: 0o644 } });
    const same = await build(['--cache-from', 'cf:1', '-t', 'cf:2', ctx]);
    assert.deepEqual(same.cached, [2, 3, 4, 5]);
    assert.doesNotMatch(same.out, /Running in/);
    assert.equal((await d.berth(['run', '--rm', 'cf:2', 'sh', '-c', 'cat /out; echo $X; stat -c %a /s.sh; pwd'])).stdout, 'A\n1\n755\n/app\n');
    const layers = async (ref: string): Promise<string[]> => JSON.parse((await d.berth(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', ref])).stdout) as string[];
    assert.deepEqual((await layers('cf:2')).slice(0, 3), (await layers('cf:1')).slice(0, 3), 'the reused steps share cf:1\'s layers');
    // A name that is no local image is skipped, as moby does; the docker CLI's encoding works too.
    const r = await d.docker(['build', '--cache-from', 'no-such-image:1', '--cache-from', 'cf:1', '-q', ctx], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
  });

  it('a stage rebuilt to the same bytes keeps the stages that copy from it cached', async () => {
    const df = (note: string): string =>
      ['FROM busybox AS gen', `RUN echo fixed > /out # ${note}`, 'FROM busybox', 'COPY --from=gen /out /out', 'RUN cat /out > /seen', 'CMD ["cat", "/seen"]', ''].join('\n');
    const ctx = makeContext({ Dockerfile: df('first') });
    assert.deepEqual((await build(['-t', 'rules-stage:1', ctx])).cached, []);
    // The RUN's text changes (so it runs again) but writes the same file: the final stage hits.
    writeFiles(ctx, { Dockerfile: df('second') });
    const r = await build(['-t', 'rules-stage:2', ctx]);
    assert.deepEqual(r.cached, [4, 5, 6]);
    assert.equal((await d.berth(['run', '--rm', 'rules-stage:2'])).stdout, 'fixed\n');
    assert.deepEqual(await settledLeftovers(d), NOTHING_LEFT);
  });
});
