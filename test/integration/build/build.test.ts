// berth build: Dockerfile + context → an image that runs, with Docker's legacy output, a cache keyed
// on content (hits, misses after an edit or an ARG change, none for an ignored file), multi-stage with
// --target, COPY --chown, heredocs, ONBUILD, contexts from stdin and from a tar, and builder prune.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, utimesSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REPO, startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { TestRegistry } from '../../fixtures/testRegistry.js';
import { cachedSteps, makeContext, NOTHING_LEFT, settledLeftovers, writeFiles } from './helpers.js';

const BERTH = join(REPO, 'bin', 'berth');

describe('berth build', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });

  const build = (args: string[]) => d.berth(['build', '--progress', 'plain', ...args], { timeoutMs: 180_000 });

  it('builds a multi-stage Dockerfile whose image runs and prints the right output, with a history per step', async () => {
    const ctx = makeContext({
      Dockerfile: [
        'ARG BASE=busybox',
        'FROM ${BASE} AS build',
        'ARG GREETING=hello',
        'WORKDIR /src',
        'COPY greet.txt names/ ./',
        'RUN echo "$GREETING, $(cat greet.txt) and $(cat alice)" > /out.txt',
        'FROM busybox AS unused',
        'RUN exit 1',
        'FROM busybox',
        'COPY --from=build /out.txt /app/out.txt',
        'ENV MODE=prod',
        'EXPOSE 8080/tcp',
        'CMD ["cat", "/app/out.txt"]',
        '',
      ].join('\n'),
      'greet.txt': 'world',
      'names/alice': 'alice',
    });
    const r = await build(['-t', 'multi:1', ctx]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Sending build context to Docker daemon {2}\S+\n/);
    assert.match(r.stdout, /Step 1\/11 : ARG BASE=busybox\nStep 2\/11 : FROM \$\{BASE\} AS build\n ---> [0-9a-f]{12}\n/);
    assert.match(r.stdout, / ---> Running in [0-9a-f]{12}\n ---> Removed intermediate container [0-9a-f]{12}\n ---> [0-9a-f]{12}\n/);
    assert.doesNotMatch(r.stdout, /RUN exit 1/, 'a stage the target does not need is not built');
    assert.match(r.stdout, /Successfully built [0-9a-f]{12}\nSuccessfully tagged multi:1\n$/);
    const run = await d.berth(['run', '--rm', 'multi:1']);
    assert.equal(run.stdout, 'hello, world and alice\n');
    const insp = JSON.parse((await d.berth(['image', 'inspect', 'multi:1'])).stdout) as {
      Parent: string;
      Config: { Env: string[]; ExposedPorts: Record<string, object>; Cmd: string[] };
    }[];
    assert.ok(insp[0]?.Config.Env.includes('MODE=prod'));
    assert.deepEqual(Object.keys(insp[0]?.Config.ExposedPorts ?? {}), ['8080/tcp']);
    assert.match(insp[0]?.Parent ?? '', /^sha256:/);
    const hist = await d.berth(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'multi:1']);
    const lines = hist.stdout.trim().split('\n');
    assert.equal(lines[0], '/bin/sh -c #(nop)  CMD ["cat" "/app/out.txt"]');
    assert.equal(lines[1], '/bin/sh -c #(nop)  EXPOSE 8080/tcp');
    assert.equal(lines[2], '/bin/sh -c #(nop)  ENV MODE=prod');
    assert.match(lines[3] ?? '', /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/app\/out.txt ?$/);
    // Intermediate images stay, untagged, hidden from `images` but not from `images -a`.
    const all = await d.berth(['images', '-a', '-q']);
    const shown = await d.berth(['images', '-q']);
    assert.ok(all.stdout.trim().split('\n').length > shown.stdout.trim().split('\n').length + 4);
    assert.deepEqual(await settledLeftovers(d), NOTHING_LEFT);
  });

  it('rebuilds from the cache, misses exactly after an edited file or a changed ARG, and ignores ignored files', async () => {
    const ctx = makeContext({
      Dockerfile: ['FROM busybox', 'ARG V=1', 'COPY a.txt /a.txt', 'RUN cat /a.txt > /copy', 'COPY b.txt /b.txt', 'RUN echo "$V" > /v', 'CMD ["cat", "/copy", "/b.txt", "/v"]', ''].join('\n'),
      'a.txt': 'A1\n',
      'b.txt': 'B1\n',
      '.dockerignore': 'junk/\n*.log\n',
      'junk/big': 'ignored\n',
      'x.log': 'ignored\n',
    });
    const first = await build(['-t', 'cache:1', ctx]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(cachedSteps(first.stdout), []);
    // Same content, new mtimes (another checkout): every step hits.
    utimesSync(join(ctx, 'a.txt'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const again = await build(['-t', 'cache:1', ctx]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(cachedSteps(again.stdout), [2, 3, 4, 5, 6, 7]);
    assert.doesNotMatch(again.stdout, /Running in/);
    // An ignored file changes: still every step from the cache.
    writeFiles(ctx, { 'junk/big': 'changed\n', 'x.log': 'changed\n', 'junk/new': 'new\n' });
    const ignored = await build(['-t', 'cache:1', ctx]);
    assert.deepEqual(cachedSteps(ignored.stdout), [2, 3, 4, 5, 6, 7]);
    // b.txt changes: the steps before it hit, it and every later step run.
    writeFiles(ctx, { 'b.txt': 'B2\n' });
    const edited = await build(['-t', 'cache:2', ctx]);
    assert.equal(edited.code, 0, edited.stderr);
    assert.deepEqual(cachedSteps(edited.stdout), [2, 3, 4]);
    assert.equal((await d.berth(['run', '--rm', 'cache:2'])).stdout, 'A1\nB2\n1\n');
    // An ARG value changes: as in Docker, every RUN after the ARG sees it (`|1 V=2 /bin/sh -c …`), so
    // the first RUN after it runs again, and everything after that; the steps before it hit.
    const arg = await build(['-t', 'cache:3', '--build-arg', 'V=2', ctx]);
    assert.equal(arg.code, 0, arg.stderr);
    assert.deepEqual(cachedSteps(arg.stdout), [2, 3]);
    assert.equal((await d.berth(['run', '--rm', 'cache:3'])).stdout, 'A1\nB2\n2\n');
    // --no-cache runs everything.
    const none = await build(['--no-cache', '-q', ctx]);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /^sha256:[0-9a-f]{64}\n$/);
    // An unknown build arg is reported, as Docker does.
    const unused = await build(['--build-arg', 'NOPE=1', ctx]);
    assert.match(unused.stdout, /\[Warning\] One or more build-args \[NOPE\] were not consumed\n/);
    assert.deepEqual(await settledLeftovers(d), NOTHING_LEFT);
  });

  it('applies COPY --chown (names from the image and ids), --chmod, directory contents and a trailing-slash destination', async () => {
    const ctx = makeContext({
      Dockerfile: [
        'FROM busybox',
        'RUN echo "app:x:1234:2345::/home/app:/bin/sh" >> /etc/passwd && echo "appg:x:2345:" >> /etc/group',
        'COPY --chown=app:appg file.txt /owned/',
        'COPY --chown=7:8 dir /dircopy',
        'COPY --chmod=0750 file.txt /modes/run.sh',
        'COPY file.txt /plain',
        'CMD ["sh", "-c", "stat -c \'%n %u %g %a\' /owned/file.txt /dircopy /dircopy/sub/inner.txt /modes/run.sh /plain"]',
        '',
      ].join('\n'),
      'file.txt': { content: 'f\n', mode: 0o644 },
      'dir/sub/inner.txt': 'inner\n',
    });
    const r = await build(['-t', 'chown:1', ctx]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = await d.berth(['run', '--rm', 'chown:1']);
    assert.equal(out.stdout, '/owned/file.txt 1234 2345 644\n/dircopy 7 8 755\n/dircopy/sub/inner.txt 7 8 644\n/modes/run.sh 0 0 750\n/plain 0 0 644\n');
  });

  it('runs RUN heredocs (shell, shebang script) and writes COPY heredoc files', async () => {
    const ctx = makeContext({
      Dockerfile: [
        'FROM busybox',
        'ARG WHO=heredoc',
        'RUN <<EOF',
        'echo "one $WHO" > /one',
        'echo two >> /one',
        'EOF',
        'RUN <<EOT',
        '#!/bin/sh',
        'echo "script $0" > /two',
        'EOT',
        'COPY <<EOF /etc/greeting',
        'hello ${WHO}',
        'EOF',
        'RUN cat <<EOF > /three',
        'three',
        'EOF',
        'CMD ["cat", "/one", "/etc/greeting", "/three"]',
        '',
      ].join('\n'),
    });
    const r = await build(['-t', 'heredoc:1', ctx]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((await d.berth(['run', '--rm', 'heredoc:1'])).stdout, 'one heredoc\ntwo\nhello heredoc\nthree\n');
    assert.match((await d.berth(['run', '--rm', 'heredoc:1', 'cat', '/two'])).stdout, /^script /);
  });

  it('stops at --target, and runs ONBUILD triggers when the image is used as a base', async () => {
    const ctx = makeContext({
      Dockerfile: ['FROM busybox AS first', 'RUN echo first > /stage', 'FROM busybox AS second', 'RUN echo second > /stage', ''].join('\n'),
    });
    const r = await build(['--target', 'first', '-t', 'target:1', ctx]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Step 2\/2 : RUN echo first/);
    assert.doesNotMatch(r.stdout, /second/);
    assert.equal((await d.berth(['run', '--rm', 'target:1', 'cat', '/stage'])).stdout, 'first\n');
    const bad = await build(['--target', 'nope', ctx]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /target stage "nope" could not be found/);

    const base = makeContext({ Dockerfile: ['FROM busybox', 'ONBUILD COPY marker.txt /marker', 'ONBUILD RUN echo triggered > /trig', ''].join('\n') });
    assert.equal((await build(['-t', 'onbuild-base:1', base])).code, 0);
    const child = makeContext({ Dockerfile: 'FROM onbuild-base:1\nCMD ["cat", "/marker", "/trig"]\n', 'marker.txt': 'from child\n' });
    const c = await build(['-t', 'onbuild-child:1', child]);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    assert.match(c.stdout, /# Executing 2 build triggers\n/);
    assert.equal((await d.berth(['run', '--rm', 'onbuild-child:1'])).stdout, 'from child\ntriggered\n');
    const insp = JSON.parse((await d.berth(['image', 'inspect', 'onbuild-child:1'])).stdout) as { Config: { OnBuild: string[] | null } }[];
    assert.equal(insp[0]?.Config.OnBuild, null);
  });

  it('builds from a Dockerfile on stdin, from a context tar on stdin, with -f outside the context, and writes --iidfile', async () => {
    const df = 'FROM busybox\nRUN echo stdin > /from\nCMD ["cat", "/from"]\n';
    const r = await d.run('sh', ['-c', `${BERTH} -H ${d.host} build --progress plain -t stdin:1 - `], { input: df, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((await d.berth(['run', '--rm', 'stdin:1'])).stdout, 'stdin\n');

    const ctx = makeContext({ Dockerfile: 'FROM busybox\nCOPY in-tar.txt /\nCMD ["cat", "/in-tar.txt"]\n', 'in-tar.txt': 'from a tar\n' });
    const tarFile = join(ctx, '..', `${ctx.split('/').pop() ?? 'x'}.tar.gz`);
    assert.equal(spawnSync('tar', ['-czf', tarFile, '-C', ctx, '.']).status, 0);
    const iid = join(ctx, 'iid');
    const t = await d.run('sh', ['-c', `${BERTH} -H ${d.host} build --progress plain --iidfile ${iid} -t tar:1 - < ${tarFile}; rm -f ${tarFile}`], { timeoutMs: 120_000 });
    assert.equal(t.code, 0, t.stdout + t.stderr);
    assert.equal((await d.berth(['run', '--rm', 'tar:1'])).stdout, 'from a tar\n');
    const id = readFileSync(iid, 'utf8');
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(JSON.parse((await d.berth(['image', 'inspect', 'tar:1'])).stdout)[0].Id, id);

    const outside = makeContext({ 'Dockerfile.other': 'FROM busybox\nCOPY only.txt /\nCMD ["cat", "/only.txt"]\n' });
    const ctx2 = makeContext({ 'only.txt': 'outside df\n' });
    const f = await build(['-f', join(outside, 'Dockerfile.other'), '-t', 'outside:1', ctx2]);
    assert.equal(f.code, 0, f.stdout + f.stderr);
    assert.equal((await d.berth(['run', '--rm', 'outside:1'])).stdout, 'outside df\n');
    assert.deepEqual(await settledLeftovers(d), NOTHING_LEFT);
  });

  it('mounts a cache that survives builds, a --secret that never lands in the image, and a bind of the context', async () => {
    const ctx = makeContext({
      Dockerfile: [
        'FROM busybox',
        'RUN --mount=type=cache,target=/cache echo run >> /cache/runs && wc -l < /cache/runs > /runs-seen',
        'RUN --mount=type=secret,id=token cat /run/secrets/token > /used-secret-len && wc -c < /run/secrets/token > /used-secret-len',
        'RUN --mount=type=bind,source=data,target=/data cat /data/in.txt > /from-bind',
        'CMD ["cat", "/runs-seen", "/used-secret-len", "/from-bind"]',
        '',
      ].join('\n'),
      'data/in.txt': 'bound\n',
      'token.txt': 's3cr3t',
      '.dockerignore': 'token.txt\n',
    });
    const r = await build(['--secret', `id=token,src=${join(ctx, 'token.txt')}`, '-t', 'mounts:1', ctx]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((await d.berth(['run', '--rm', 'mounts:1'])).stdout, '1\n6\nbound\n');
    const leaked = await d.berth(['run', '--rm', 'mounts:1', 'sh', '-c', 'grep -r s3cr3t / --exclude-dir=proc --exclude-dir=sys 2>/dev/null | head -1; ls /run/secrets /cache /data 2>&1 | head -3']);
    assert.doesNotMatch(leaked.stdout, /s3cr3t/);
    // The cache mount keeps what the last build left.
    const again = await build(['--no-cache', '--secret', `id=token,src=${join(ctx, 'token.txt')}`, '-t', 'mounts:2', ctx]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal((await d.berth(['run', '--rm', 'mounts:2', 'cat', '/runs-seen'])).stdout, '2\n');
    assert.deepEqual(await settledLeftovers(d), NOTHING_LEFT);
  });

  it('pulls a missing base image with the credentials sent in X-Registry-Config', async () => {
    const reg = new TestRegistry({ user: 'bob', password: 'builder' });
    await reg.start();
    try {
      const env = { DOCKER_CONFIG: makeContext({}) };
      const b = (a: string[], input?: string) => d.run(BERTH, ['-H', d.host, ...a], { env, timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });
      assert.equal((await b(['login', '-u', 'bob', '--password-stdin', reg.host], 'builder')).code, 0);
      const ref = `${reg.host}/base/bb:1`;
      assert.equal((await b(['tag', 'busybox', ref])).code, 0);
      const push = await b(['push', ref]);
      assert.equal(push.code, 0, push.stderr);
      assert.equal((await b(['rmi', ref])).code, 0);
      const ctx = makeContext({ Dockerfile: `FROM ${ref}\nRUN echo pulled > /p\n` });
      const r = await b(['build', '--progress', 'plain', '-t', 'pulled:1', ctx]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /Pulling from base\/bb/);
      assert.equal((await d.berth(['run', '--rm', 'pulled:1', 'cat', '/p'])).stdout, 'pulled\n');
      // Without credentials the pull is refused, and the build says so.
      const anon = await d.run(BERTH, ['-H', d.host, 'build', '--pull', ctx], { env: { DOCKER_CONFIG: makeContext({}) }, timeoutMs: 120_000 });
      assert.notEqual(anon.code, 0);
    } finally {
      await reg.stop();
    }
  });

  it('unpacks a local archive with ADD, downloads an ADD URL, and builds from a remote context URL (an unreachable git URL is a 400)', async () => {
    const files = makeContext({ 'pkg/a.txt': 'in archive\n', 'pkg/sub/b.txt': 'deeper\n' });
    const ctx = makeContext({
      Dockerfile: `FROM busybox\nADD pkg.tar.gz /opt/\nADD http://127.0.0.1:PORT/files/remote.txt /dl/\nCMD ["sh", "-c", "cat /opt/pkg/a.txt /opt/pkg/sub/b.txt /dl/remote.txt; stat -c %a /dl/remote.txt"]\n`,
    });
    assert.equal(spawnSync('tar', ['-czf', join(ctx, 'pkg.tar.gz'), '-C', files, 'pkg']).status, 0);
    const ctxTar = spawnSync('tar', ['-cf', '-', '-C', makeContext({ Dockerfile: 'FROM busybox\nCOPY hello /hello\n', hello: 'from a URL context\n' }), '.']).stdout;
    const server = createServer((req, res) => {
      if (req.url === '/files/remote.txt') res.end('downloaded\n');
      else if (req.url === '/ctx.tar') {
        res.setHeader('Content-Type', 'application/x-tar');
        res.end(ctxTar);
      } else if (req.url === '/Dockerfile') {
        res.setHeader('Content-Type', 'text/plain');
        res.end('FROM busybox\nRUN echo plain > /plain\n');
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as AddressInfo).port;
      writeFiles(ctx, { Dockerfile: readFileSync(join(ctx, 'Dockerfile'), 'utf8').replace('PORT', String(port)) });
      const r = await build(['-t', 'add:1', ctx]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal((await d.berth(['run', '--rm', 'add:1'])).stdout, 'in archive\ndeeper\ndownloaded\n600\n');
      const remote = await build(['-t', 'remote:1', `http://127.0.0.1:${port}/ctx.tar`]);
      assert.equal(remote.code, 0, remote.stdout + remote.stderr);
      assert.equal((await d.berth(['run', '--rm', 'remote:1', 'cat', '/hello'])).stdout, 'from a URL context\n');
      const plain = await build(['-t', 'remote:2', `http://127.0.0.1:${port}/Dockerfile`]);
      assert.equal(plain.code, 0, plain.stdout + plain.stderr);
      const git = await d.http('POST', `/build?remote=${encodeURIComponent('git://127.0.0.1/repo.git')}`);
      assert.equal(git.status, 400);
      assert.match(git.body, /error fetching git context git:\/\/127\.0\.0\.1\/repo\.git/);
    } finally {
      server.close();
    }
  });

  it('records SHELL, USER, VOLUME, HEALTHCHECK, STOPSIGNAL, ENTRYPOINT and MAINTAINER in the config, with empty-layer history', async () => {
    const ctx = makeContext({
      Dockerfile: [
        'FROM busybox',
        'MAINTAINER someone@example.com',
        'SHELL ["/bin/sh", "-ec"]',
        'RUN echo "nobody2:x:4242:4242::/:/bin/sh" >> /etc/passwd',
        'USER 4242',
        'VOLUME /data',
        'VOLUME ["/more"]',
        'HEALTHCHECK --interval=5s --retries=2 CMD true',
        'STOPSIGNAL SIGUSR1',
        'ENTRYPOINT ["echo"]',
        'CMD ["hi"]',
        '',
      ].join('\n'),
    });
    const r = await build(['-t', 'meta:1', ctx]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const insp = JSON.parse((await d.berth(['image', 'inspect', 'meta:1'])).stdout)[0] as {
      Author: string;
      Config: { User: string; Volumes: Record<string, object>; Healthcheck: { Test: string[]; Interval: number; Retries: number }; StopSignal: string; Entrypoint: string[]; Cmd: string[] };
    };
    assert.equal(insp.Author, 'someone@example.com');
    assert.equal(insp.Config.User, '4242');
    assert.deepEqual(Object.keys(insp.Config.Volumes).sort(), ['/data', '/more']);
    assert.deepEqual(insp.Config.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5_000_000_000, Timeout: 0, StartPeriod: 0, StartInterval: 0, Retries: 2 });
    assert.equal(insp.Config.StopSignal, 'SIGUSR1');
    assert.deepEqual(insp.Config.Entrypoint, ['echo']);
    assert.deepEqual(insp.Config.Cmd, ['hi']);
    assert.equal((await d.berth(['run', '--rm', 'meta:1'])).stdout, 'hi\n');
    const hist = (await d.http('GET', '/images/meta:1/history')).json as { CreatedBy: string; Size: number }[];
    assert.equal(hist[0]?.CreatedBy, '/bin/sh -ec #(nop)  CMD ["hi"]');
    assert.match(hist.find((h) => h.CreatedBy.includes('RUN') || h.CreatedBy.includes('nobody2'))?.CreatedBy ?? '', /^\/bin\/sh -ec echo/);
    assert.match(hist.find((h) => h.CreatedBy.includes('HEALTHCHECK'))?.CreatedBy ?? '', /HEALTHCHECK &\{Test:\[CMD-SHELL true\] Interval:5s Timeout:0s StartPeriod:0s StartInterval:0s Retries:2\}/);
  });

  it('prunes the build cache: images only the cache held go, tagged ones stay', async () => {
    const ctx = makeContext({ Dockerfile: 'FROM busybox\nRUN echo p > /p\nENV X=1\n' });
    assert.equal((await build(['-t', 'keep:1', ctx])).code, 0);
    const df = await d.berth(['system', 'df']);
    assert.equal(df.code, 0, df.stderr);
    assert.match(df.stdout, /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE\n/);
    assert.match(df.stdout, /\nBuild Cache +[1-9]\d* +\d+ /);
    const before = (await d.berth(['images', '-a', '-q'])).stdout.trim().split('\n').length;
    const p = await d.berth(['builder', 'prune', '-a', '-f']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /Total reclaimed space: /);
    const after = (await d.berth(['images', '-a', '-q'])).stdout.trim().split('\n').length;
    assert.ok(after < before, `${after} < ${before}`);
    assert.equal((await d.berth(['run', '--rm', 'keep:1', 'cat', '/p'])).stdout, 'p\n');
    const rebuilt = await build(['-t', 'keep:1', ctx]);
    assert.deepEqual(cachedSteps(rebuilt.stdout), []);
    const viaApi = await d.http('POST', '/build/prune');
    assert.equal(viaApi.status, 200);
  });
});
