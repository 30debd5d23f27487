// Bad builds get a clear error and leave nothing behind: an unknown instruction, COPY ../outside, a
// symlink leading out of the context, a failing RUN (its exit code and output), an unknown stage in
// --from, a blank base from an undeclared ARG, a context over the size limit, a client that hangs up
// mid-build. After each: no container, no active snapshot, no mount under the data-root.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { leftovers, makeContext, NOTHING_LEFT, settledLeftovers } from './helpers.js';

function tarOf(dir: string): Buffer {
  const r = spawnSync('tar', ['-cf', '-', '-C', dir, '.'], { maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0);
  return r.stdout;
}

describe('berth build: bad input', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  let small: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
    small = await startDaemon(['--max-build-context', '8192']);
  });
  after(async () => {
    await d?.cleanup();
    await small?.cleanup();
  });

  const build = (args: string[]) => d.berth(['build', '--progress', 'plain', ...args], { timeoutMs: 120_000 });

  it('refuses an unknown instruction with a 400 and its line', async () => {
    const ctx = makeContext({ Dockerfile: 'FROM busybox\nFOO bar\n' });
    const r = await build([ctx]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /dockerfile parse error on line 2: unknown instruction: FOO/);
    const h = await d.http('POST', '/build', tarOf(ctx), { 'Content-Type': 'application/x-tar' });
    assert.equal(h.status, 400, h.body);
    assert.deepEqual(await leftovers(d), NOTHING_LEFT);
  });

  it('refuses COPY ../outside', async () => {
    const ctx = makeContext({ Dockerfile: 'FROM busybox\nCOPY ../outside /x\n' });
    const r = await build([ctx]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /COPY failed: forbidden path outside the build context: \.\.\/outside \(\)/);
    assert.deepEqual(await leftovers(d), NOTHING_LEFT);
  });

  it('never lets a symlink in the context lead COPY out of it', async () => {
    const ctx = makeContext({
      Dockerfile: 'FROM busybox\nCOPY . /ctx\nCMD ["sh", "-c", "readlink /ctx/etc-link; readlink /ctx/up"]\n',
      'etc-link': { symlink: '/etc' },
      up: { symlink: '../../../../../etc/passwd' },
    });
    for (const src of ['etc-link/passwd', 'up', 'etc-link/hostname']) {
      const bad = makeContext({ Dockerfile: `FROM busybox\nCOPY ${src} /stolen\n`, 'etc-link': { symlink: '/etc' }, up: { symlink: '../../../../../etc/passwd' } });
      const r = await build([bad]);
      assert.notEqual(r.code, 0, `COPY ${src} must fail`);
      assert.match(r.stderr, new RegExp(`COPY failed: file not found in build context or excluded by \\.dockerignore: stat ${src.replace(/\./g, '\\.')}: file does not exist`));
    }
    // Copied as what they are: links, not what they point to on the host.
    const ok = await build(['-t', 'links:1', ctx]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal((await d.berth(['run', '--rm', 'links:1'])).stdout, '/etc\n../../../../../etc/passwd\n');
    // A tar whose entries climb out is refused whole.
    const hostile = Buffer.concat([tarHeader('../escape', 'x'), Buffer.alloc(1024)]);
    const h = await d.http('POST', '/build', hostile, { 'Content-Type': 'application/x-tar' });
    assert.equal(h.status, 400, h.body);
    assert.match(h.body, /outside the context/);
    assert.deepEqual(await leftovers(d), NOTHING_LEFT);
  });

  it('reports a failing RUN with its exit code and output, and removes its container', async () => {
    const ctx = makeContext({ Dockerfile: 'FROM busybox\nRUN echo before-fail; echo to-stderr >&2; exit 3\n' });
    const r = await build([ctx]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /before-fail\n/);
    assert.match(r.stdout, /to-stderr/);
    assert.match(r.stderr, /The command '\/bin\/sh -c echo before-fail; echo to-stderr >&2; exit 3' returned a non-zero code: 3/);
    const h = await d.http('POST', '/build', tarOf(ctx), { 'Content-Type': 'application/x-tar' });
    assert.equal(h.status, 200);
    const last = JSON.parse(h.body.trim().split('\n').pop() ?? '{}') as { errorDetail?: { code?: number; message?: string }; error?: string };
    assert.deepEqual(last.errorDetail, { code: 3, message: "The command '/bin/sh -c echo before-fail; echo to-stderr >&2; exit 3' returned a non-zero code: 3" });
    assert.deepEqual(await leftovers(d), NOTHING_LEFT);
  });

  it('refuses an unknown stage in --from and a blank base name', async () => {
    const byIndex = await build([makeContext({ Dockerfile: 'FROM busybox\nCOPY --from=5 /etc/passwd /x\n' })]);
    assert.notEqual(byIndex.code, 0);
    assert.match(byIndex.stderr, /invalid from flag value 5: index out of bounds/);
    const self = await build([makeContext({ Dockerfile: 'FROM busybox\nCOPY --from=0 /etc/passwd /x\n' })]);
    assert.match(self.stderr, /invalid from flag value 0: refers to current build stage/);
    const byName = await build([makeContext({ Dockerfile: 'FROM busybox AS one\nFROM busybox\nCOPY --from=NoSuchStage /x /y\n' })]);
    assert.notEqual(byName.code, 0);
    assert.match(byName.stderr, /invalid from flag value NoSuchStage: .*must be lowercase/);
    const blank = await build([makeContext({ Dockerfile: 'FROM ${NOT_DECLARED}\nRUN true\n' })]);
    assert.notEqual(blank.code, 0);
    assert.match(blank.stderr, /base name \(\$\{NOT_DECLARED\}\) should not be blank/);
    assert.deepEqual(await leftovers(d), NOTHING_LEFT);
  });

  it('refuses a context over the size limit with a 400', async () => {
    const ctx = makeContext({ Dockerfile: 'FROM busybox\n', big: 'x'.repeat(64 * 1024) });
    const h = await small.http('POST', '/build', tarOf(ctx), { 'Content-Type': 'application/x-tar' });
    assert.equal(h.status, 400, h.body);
    assert.match(h.body, /the build context is larger than the limit of 8192 bytes/);
    const r = await small.berth(['build', ctx]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /larger than the limit/);
    assert.deepEqual(await leftovers(small), NOTHING_LEFT);
  });

  it('accepts the empty JSON parameters the docker CLI and others send', async () => {
    const ctx = makeContext({ Dockerfile: 'FROM busybox\nLABEL a=b\n' });
    const h = await d.http('POST', '/build?buildargs=&labels=&cachefrom=&ulimits=&t=empty:1&q=1', tarOf(ctx), { 'Content-Type': 'application/x-tar' });
    assert.equal(h.status, 200, h.body);
    assert.match(h.body, /^\{"stream":"sha256:[0-9a-f]{64}\\n"\}\s*$/);
    const bad = await d.http('POST', '/build?buildargs=%7Bnot-json', tarOf(ctx), { 'Content-Type': 'application/x-tar' });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /error reading build args/);
  });

  it('stops a build whose client hangs up, and removes its container and snapshot', async () => {
    const ctx = makeContext({ Dockerfile: 'FROM busybox\nRUN echo run-has-started; sleep 120\n' });
    const body = tarOf(ctx);
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: d.socket, method: 'POST', path: '/build?t=never:1', headers: { Host: 'x', 'Content-Type': 'application/x-tar' } }, (res) => {
        let seen = '';
        res.on('data', (c: Buffer) => {
          seen += c.toString();
          if (seen.includes('run-has-started\\n"}')) {
            req.destroy();
            resolve();
          }
        });
        res.on('error', () => undefined);
      });
      req.on('error', () => undefined);
      setTimeout(() => reject(new Error('the build never started its RUN')), 60_000);
      req.end(body);
    });
    assert.deepEqual(await settledLeftovers(d), NOTHING_LEFT);
    const images = await d.http('GET', '/images/json');
    assert.ok(!(images.json as { RepoTags: string[] }[]).some((i) => i.RepoTags.includes('never:1')));
    // The daemon is fine afterwards.
    const ok = await build([makeContext({ Dockerfile: 'FROM busybox\nRUN true\n' })]);
    assert.equal(ok.code, 0, ok.stderr);
  });
});

/** One ustar header block for a regular file `name` holding `body`, plus the padded body. */
function tarHeader(name: string, body: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const data = Buffer.alloc(Math.ceil(body.length / 512) * 512);
  data.write(body);
  return Buffer.concat([h, data]);
}
