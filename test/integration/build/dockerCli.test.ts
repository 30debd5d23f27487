// The real docker CLI's legacy builder (`DOCKER_BUILDKIT=0 docker build`) against berthd: a multi-stage
// build that runs, the classic output, cache hits and a miss after an edit, a context from stdin, a
// Dockerfile from outside the context (the injected `.dockerfile.<random>`), --target, build args and
// labels, -q and --iidfile, and a failing RUN's exit code.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { cachedSteps, makeContext, NOTHING_LEFT, settledLeftovers, writeFiles } from './helpers.js';

describe('docker build (legacy builder) against berthd', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });

  const docker = (args: string[], input?: string) => d.docker(args, { timeoutMs: 180_000, ...(input !== undefined ? { input } : {}) });

  it('builds a multi-stage image that runs, from the cache the second time, and misses after an edit', async () => {
    const ctx = makeContext({
      Dockerfile: [
        'FROM busybox AS build',
        'ARG NAME=docker',
        'COPY src/ /src/',
        'RUN cat /src/a /src/b > /joined && echo "built for $NAME" >> /joined',
        'FROM busybox',
        'COPY --from=build /joined /joined',
        'LABEL stage=final',
        'CMD ["cat", "/joined"]',
        '',
      ].join('\n'),
      'src/a': 'a\n',
      'src/b': 'b\n',
      '.dockerignore': 'secret.txt\n',
      'secret.txt': 'nope\n',
    });
    const r = await docker(['build', '-t', 'dk:1', '--build-arg', 'NAME=cli', '--label', 'extra=yes', ctx]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Sending build context to Docker daemon/);
    assert.match(r.stdout, /Step 1\/9 : FROM busybox AS build\n ---> [0-9a-f]{12}\n/);
    assert.match(r.stdout, /Step 9\/9 : LABEL extra=yes\n/);
    assert.match(r.stdout, /Successfully built [0-9a-f]{12}\nSuccessfully tagged dk:1\n/);
    assert.equal((await docker(['run', '--rm', 'dk:1'])).stdout, 'a\nb\nbuilt for cli\n');
    const labels = JSON.parse((await docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', 'dk:1'])).stdout) as Record<string, string>;
    assert.deepEqual(labels, { extra: 'yes', stage: 'final' });

    const again = await docker(['build', '-t', 'dk:1', '--build-arg', 'NAME=cli', '--label', 'extra=yes', ctx]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(cachedSteps(again.stdout), [2, 3, 4, 6, 7, 8, 9]);

    writeFiles(ctx, { 'src/b': 'B\n' });
    const edited = await docker(['build', '-t', 'dk:2', '--build-arg', 'NAME=cli', '--label', 'extra=yes', ctx]);
    assert.equal(edited.code, 0, edited.stderr);
    assert.deepEqual(cachedSteps(edited.stdout), [2]);
    assert.equal((await docker(['run', '--rm', 'dk:2'])).stdout, 'a\nB\nbuilt for cli\n');
    assert.equal((await docker(['run', '--rm', 'dk:2', 'ls', '/src'])).code, 1, 'the final stage has no /src');
    const df = await docker(['system', 'df']);
    assert.equal(df.code, 0, df.stderr);
    assert.match(df.stdout, /Build Cache\s+\d+/);
    assert.deepEqual(await settledLeftovers(d), NOTHING_LEFT);
  });

  it('builds from a Dockerfile on stdin and with -f outside the context, --target, -q and --iidfile', async () => {
    const r = await docker(['build', '-t', 'dk-stdin:1', '-'], 'FROM busybox\nRUN echo piped > /p\nCMD ["cat", "/p"]\n');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((await docker(['run', '--rm', 'dk-stdin:1'])).stdout, 'piped\n');

    const ctx = makeContext({ 'data.txt': 'data\n' });
    const other = makeContext({ 'build.Dockerfile': 'FROM busybox AS a\nCOPY data.txt /\nFROM busybox AS b\nRUN exit 9\n' });
    const iid = join(other, 'iid');
    const f = await docker(['build', '-q', '--iidfile', iid, '--target', 'a', '-f', join(other, 'build.Dockerfile'), '-t', 'dk-outside:1', ctx]);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.match(f.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(readFileSync(iid, 'utf8').trim(), f.stdout.trim());
    assert.equal((await docker(['run', '--rm', 'dk-outside:1', 'cat', '/data.txt'])).stdout, 'data\n');
    const ls = await docker(['run', '--rm', 'dk-outside:1', 'sh', '-c', 'ls -a / | grep -c dockerfile || true']);
    assert.equal(ls.stdout.trim(), '0');
  });

  it('exits with a failing RUN\'s code and shows its output', async () => {
    const ctx = makeContext({ Dockerfile: 'FROM busybox\nRUN echo last words; exit 7\n' });
    const r = await docker(['build', ctx]);
    assert.equal(r.code, 7, r.stdout + r.stderr);
    assert.match(r.stdout, /last words\n/);
    assert.match(r.stderr, /The command '\/bin\/sh -c echo last words; exit 7' returned a non-zero code: 7/);
    assert.deepEqual(await settledLeftovers(d), NOTHING_LEFT);
  });
});
