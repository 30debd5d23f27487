// The build options of the legacy /build API as the docker CLI sends them, each with an effect a RUN can
// see: networkmode (none, host, the default bridge) and RUN --network, extrahosts, shmsize, ulimits,
// platform (with the built-in platform args and FROM --platform), rm=0 and forcerm, a gzip context
// (--compress), squash refused; COPY wildcards and an exec-form RUN; two stages that need each other
// to be running at once (independent stages are built in parallel); COPY --link copying as COPY does.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { makeContext, NOTHING_LEFT, settledLeftovers } from './helpers.js';

describe('build options through the docker CLI', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });

  const docker = async (args: string[]): Promise<string> => {
    const r = await d.docker(args, { timeoutMs: 180_000 });
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const runOut = (image: string, cmd: string): Promise<string> => docker(['run', '--rm', image, 'sh', '-c', cmd]);

  it('networkmode none, host and the default bridge, and RUN --network=none', async () => {
    // Interfaces a RUN sees: lines of /proc/net/dev naming one ("lo:", "eth0:").
    const count = 'grep -c ":" /proc/net/dev';
    const df = (tag: string, flag = ''): string => `FROM busybox\nRUN ${flag}echo ${tag} && ${count} > /ifs && grep -c "${d.bridge}:" /proc/net/dev > /bridge || true\n`;
    await docker(['build', '--network', 'none', '-t', 'net:none', makeContext({ Dockerfile: df('none') })]);
    assert.equal(await runOut('net:none', 'cat /ifs'), '1\n');
    await docker(['build', '-t', 'net:default', makeContext({ Dockerfile: df('default') })]);
    assert.equal(await runOut('net:default', 'cat /ifs'), '2\n');
    await docker(['build', '--network', 'host', '-t', 'net:host', makeContext({ Dockerfile: df('host') })]);
    assert.equal(await runOut('net:host', 'cat /bridge'), '1\n', "the host's network: the daemon's own bridge is visible");
    await docker(['build', '-t', 'net:flag', makeContext({ Dockerfile: df('flag', '--network=none ') })]);
    assert.equal(await runOut('net:flag', 'cat /ifs'), '1\n');
  });

  it('--add-host, --shm-size and --ulimit reach the RUN containers', async () => {
    const ctx = makeContext({
      Dockerfile: 'FROM busybox\nRUN grep myhost /etc/hosts > /hosts; df -k /dev/shm | tail -1 > /shm; ulimit -n > /nofile; ulimit -Hn >> /nofile\n',
    });
    await docker(['build', '--add-host', 'myhost:10.9.8.7', '--shm-size', '70m', '--ulimit', 'nofile=1234:2345', '-t', 'opts:1', ctx]);
    assert.match(await runOut('opts:1', 'cat /hosts'), /^10\.9\.8\.7\s+myhost\n$/);
    assert.match(await runOut('opts:1', 'cat /shm'), /^\S+\s+71680\s/);
    assert.equal(await runOut('opts:1', 'cat /nofile'), '1234\n2345\n');
  });

  it('--platform sets the image platform and TARGETARCH; FROM --platform=$BUILDPLATFORM runs on this host', async () => {
    const ctx = makeContext({
      Dockerfile: [
        'FROM --platform=$BUILDPLATFORM busybox AS tools',
        'ARG TARGETPLATFORM',
        'ARG TARGETARCH',
        'ARG BUILDPLATFORM',
        'RUN echo "$TARGETPLATFORM $TARGETARCH $BUILDPLATFORM" > /arch',
        'FROM scratch',
        'COPY --from=tools /arch /arch',
        '',
      ].join('\n'),
    });
    await docker(['build', '--platform', 'linux/arm64', '-t', 'plat:arm64', ctx]);
    assert.equal((await docker(['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', 'plat:arm64'])).trim(), 'linux/arm64');
    await docker(['build', '-t', 'plat:read', makeContext({ Dockerfile: 'FROM busybox\nCOPY --from=plat:arm64 /arch /arch\n' })]);
    assert.equal(await runOut('plat:read', 'cat /arch'), 'linux/arm64 arm64 linux/amd64\n');
  });

  it('--rm=false keeps the intermediate container; --force-rm and a failure leave none', async () => {
    const keep = await docker(['build', '--rm=false', '-t', 'keep:1', makeContext({ Dockerfile: 'FROM busybox\nRUN echo kept > /k\n' })]);
    assert.doesNotMatch(keep, /Removed intermediate container/);
    const m = / ---> Running in ([0-9a-f]{12})\n/.exec(keep);
    assert.ok(m, keep);
    const ps = await docker(['ps', '-a', '-q', '--no-trunc']);
    assert.ok(ps.split('\n').some((id) => id.startsWith(m[1] as string)), 'the RUN container is still there');
    await docker(['rm', m[1] as string]);
    const failed = await d.docker(['build', '--force-rm', makeContext({ Dockerfile: 'FROM busybox\nRUN exit 4\n' })], { timeoutMs: 120_000 });
    assert.equal(failed.code, 4);
    assert.deepEqual(await settledLeftovers(d), NOTHING_LEFT);
  });

  it('accepts a gzip context (--compress) and refuses squash without experimental mode', async () => {
    await docker(['build', '--compress', '-t', 'gz:1', makeContext({ Dockerfile: 'FROM busybox\nCOPY f /f\n', f: 'compressed\n' })]);
    assert.equal(await runOut('gz:1', 'cat /f'), 'compressed\n');
    const sq = await d.http('POST', '/build?squash=1', Buffer.alloc(1024), { 'Content-Type': 'application/x-tar' });
    assert.equal(sq.status, 400);
    assert.match(sq.body, /squash is only supported with experimental mode/);
  });

  it('COPY with wildcards (Go filepath.Match over the context), RUN in exec form; a pattern matching nothing fails', async () => {
    const ctx = makeContext({
      Dockerfile: ['FROM busybox', 'COPY *.txt /globbed/', 'COPY dir/*/x.? /deep/', 'RUN ["sh", "-c", "find /globbed /deep -type f | sort > /list"]', 'CMD ["cat", "/list"]', ''].join('\n'),
      'a.txt': 'a',
      'b.txt': 'b',
      'c.md': 'c',
      'dir/one/x.1': '1',
      'dir/two/x.2': '2',
      'dir/two/y.2': 'y',
      'dir/two/x.22': 'no',
    });
    await docker(['build', '-t', 'glob:1', ctx]);
    assert.equal(await docker(['run', '--rm', 'glob:1']), '/deep/x.1\n/deep/x.2\n/globbed/a.txt\n/globbed/b.txt\n');
    const none = await d.docker(['build', makeContext({ Dockerfile: 'FROM busybox\nCOPY *.nothing /x/\n' })], { timeoutMs: 120_000 });
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /COPY failed: no source files were specified/);
  });

  it('builds independent stages at once, and COPY --link copies as COPY', async () => {
    // Each stage waits for the other's file in a shared cache mount: built one after the other, the
    // first would time out and fail the build.
    const wait = (me: string, other: string): string =>
      `RUN --mount=type=cache,id=rendezvous-${d.bridge},target=/r touch /r/${me}; i=0; while [ ! -e /r/${other} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; test -e /r/${other} && echo ${me} > /done`;
    const ctx = makeContext({
      Dockerfile: ['FROM busybox AS a', wait('a', 'b'), 'FROM busybox AS b', wait('b', 'a'), 'FROM busybox', 'COPY --from=a /done /a', 'COPY --link --from=b /done /b', 'COPY --link f.txt /dir/', 'CMD ["cat", "/a", "/b", "/dir/f.txt"]', ''].join('\n'),
      'f.txt': 'linked\n',
    });
    const out = await docker(['build', '-t', 'par:1', ctx]);
    // Output stays in stage order even though the stages ran together.
    assert.match(out, /Step 1\/9 : FROM busybox AS a\n[\s\S]*Step 3\/9 : FROM busybox AS b\n[\s\S]*Step 5\/9 : FROM busybox\n/);
    assert.equal(await docker(['run', '--rm', 'par:1']), 'a\nb\nlinked\n');
    assert.deepEqual(await settledLeftovers(d), NOTHING_LEFT);
  });
});
