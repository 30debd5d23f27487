// What a pulled image is made of and how the API reports it: gzip, zstd and uncompressed layers
// (whiteouts across them), Docker schema2 manifest lists, every image config field as inspect,
// history and run show it; the pull and push JSON progress streams as Docker writes them; the
// image list filters (reference, label, before, since, until); and `docker run` of an image that
// is not there yet, which the docker CLI pulls after a 404.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfsTar, REPO, startDaemon, type CmdResult, type TestDaemon } from '../../fixtures/testDaemon.js';
import { FakeRegistry, HOST_ARCH, sha } from '../../fixtures/fakeRegistry.js';
import { tarOf, TestRegistry } from '../../fixtures/testRegistry.js';

const BERTH = join(REPO, 'bin', 'berth');
const OTHER_ARCH = HOST_ARCH === 'amd64' ? 'arm64' : 'amd64';
const hasDocker = spawnSync('docker', ['--version']).status === 0;
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

interface Msg {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message: string };
  aux?: { Tag: string; Digest: string; Size: number };
}
const messages = (body: string): Msg[] => body.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Msg);

describe('image formats, configs, progress and listing', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let fake: FakeRegistry;
  let reg: TestRegistry;
  let d: TestDaemon;
  let busybox: Buffer;
  let work: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'berth-formats-'));
    fake = new FakeRegistry();
    await fake.start();
    reg = new TestRegistry();
    await reg.start();
    busybox = readFileSync(busyboxRootfsTar());
    d = await startDaemon();
  });
  after(async () => {
    await d?.cleanup();
    await fake?.stop();
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const berth = (args: string[]): Promise<CmdResult> => d.berth(args, { timeoutMs: 120_000 });

  it('gzip, zstd and uncompressed layers of one image apply in order, whiteouts included; the image runs', async () => {
    const ref = `${fake.host}/fmt/mixed:1`;
    fake.image('fmt/mixed', '1', [busybox, tarOf({ 'etc/a.txt': 'zstd\n', 'etc/gone.txt': 'x' }), tarOf({ 'etc/b.txt': 'plain\n', 'etc/.wh.gone.txt': '' })], {
      compression: ['gzip', 'zstd', 'none'],
      config: { Cmd: ['sh'] },
    });
    const pull = await berth(['pull', ref]);
    assert.equal(pull.code, 0, pull.stderr);
    const run = await berth(['run', '--rm', ref, 'sh', '-c', 'cat /etc/a.txt /etc/b.txt; test -e /etc/gone.txt || echo gone; ls -a /etc | grep -c "^.wh." || true']);
    assert.equal(run.stdout, 'zstd\nplain\ngone\n0\n', run.stderr);
  });

  it('a pulled layer keeps xattrs byte for byte, big uid/gid, devices, hardlinks and long names; a layer two images share is unpacked once', async () => {
    const marker = `berth-special-${randomBytes(4).toString('hex')}`;
    const long = `${'d'.repeat(150)}/${'n'.repeat(200)}`;
    const cap = '0100000200200000000000000000000000000000';
    const tree = join(work, 'special');
    execFileSync('bash', ['-c', [
      `mkdir -p ${tree}/${marker}/${'d'.repeat(150)} && cd ${tree}/${marker}`,
      `cp /bin/true ping && setfattr -n security.capability -v 0x${cap} ping && setfattr -n user.blob -v 0x00ff80fe ping`,
      'echo big > big && chown 4000000:4000001 big',
      'mknod null c 1 3 && mknod loop7 b 7 7',
      'echo linked > a && ln a b',
      `echo long > ${long}`,
    ].join(' && ')]);
    const layer = execFileSync('tar', ['--format=pax', '--xattrs', "--xattrs-include=*", '--numeric-owner', '-C', tree, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
    fake.image('fmt/special', '1', [layer]);
    fake.image('fmt/special2', '1', [layer, tarOf({ 'more.txt': 'x' })], { compression: ['gzip', 'none'] });
    assert.equal((await berth(['pull', '-q', `${fake.host}/fmt/special:1`])).code, 0);
    assert.equal((await berth(['pull', '-q', `${fake.host}/fmt/special2:1`])).code, 0);
    const found = execFileSync('find', [join(d.dataRoot, 'snapshots'), '-maxdepth', '3', '-name', marker, '-type', 'd'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    assert.equal(found.length, 1, `the shared layer is unpacked once: ${found.join(', ')}`);
    const dir = found[0] as string;
    const xattrs = execFileSync('getfattr', ['-d', '-m', '-', '-e', 'hex', join(dir, 'ping')], { encoding: 'utf8' });
    assert.match(xattrs, new RegExp(`security\\.capability=0x${cap}`));
    assert.match(xattrs, /user\.blob=0x00ff80fe/);
    const big = lstatSync(join(dir, 'big'));
    assert.deepEqual([big.uid, big.gid], [4000000, 4000001]);
    const nul = lstatSync(join(dir, 'null'));
    assert.ok(nul.isCharacterDevice());
    assert.equal(nul.rdev, lstatSync('/dev/null').rdev);
    assert.ok(lstatSync(join(dir, 'loop7')).isBlockDevice());
    assert.equal(lstatSync(join(dir, 'a')).ino, lstatSync(join(dir, 'b')).ino);
    assert.equal(readFileSync(join(dir, long), 'utf8'), 'long\n');
  });

  it('rmi of pulled images: the shared layer stays until its last image goes, then its snapshot and every blob are collected', async () => {
    const blobs = (): Set<string> => new Set(readdirSync(join(d.dataRoot, 'content', 'blobs', 'sha256')));
    const markerDirs = (): string[] =>
      execFileSync('find', [join(d.dataRoot, 'snapshots'), '-maxdepth', '3', '-name', 'berth-special-*', '-type', 'd'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    const m1 = fake.manifests.get('fmt/special:1')?.body.toString() ?? '';
    const m2 = fake.manifests.get('fmt/special2:1')?.body.toString() ?? '';
    const digestsOf = (m: string): string[] => {
      const j = JSON.parse(m) as { config: { digest: string }; layers: { digest: string }[] };
      return [sha(m), j.config.digest, ...j.layers.map((l) => l.digest)].map((x) => x.slice(7));
    };
    const all = [...digestsOf(m1), ...digestsOf(m2)];
    assert.ok(all.every((x) => blobs().has(x)), 'both images\' blobs are stored');
    const rm1 = await berth(['rmi', `${fake.host}/fmt/special:1`]);
    assert.equal(rm1.code, 0, rm1.stderr);
    assert.match(rm1.stdout, /^Untagged: .*fmt\/special:1\n/);
    assert.match(rm1.stdout, /Deleted: sha256:/);
    assert.equal(markerDirs().length, 1, 'the shared layer stays for the other image');
    assert.ok(digestsOf(m2).every((x) => blobs().has(x)), 'the other image keeps its blobs');
    assert.equal((await berth(['rmi', `${fake.host}/fmt/special2:1`])).code, 0);
    assert.deepEqual(markerDirs(), [], 'the layer snapshot is gone with its last image');
    const left = blobs();
    assert.deepEqual(all.filter((x) => left.has(x)), [], 'no blob of either image is left');
  });

  it('export writes the container\'s merged filesystem as a tar (berth -o, berth to a pipe, docker)', async () => {
    const c = await berth(['create', `${fake.host}/fmt/mixed:1`]);
    assert.equal(c.code, 0, c.stderr);
    const id = c.stdout.trim();
    const file = join(work, 'fs.tar');
    const e = await berth(['export', '-o', file, id]);
    assert.equal(e.code, 0, e.stderr);
    const names = new Set(execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n').map((n) => n.replace(/^\.?\//, '')));
    for (const n of ['etc/a.txt', 'etc/b.txt', 'bin/busybox']) assert.ok(names.has(n), n);
    assert.ok(!names.has('etc/gone.txt') && ![...names].some((n) => n.includes('.wh.')), 'whiteouts are applied, not exported');
    assert.equal(execFileSync('tar', ['-xOf', file, 'etc/a.txt'], { encoding: 'utf8' }), 'zstd\n');
    const piped = spawnSync('bash', ['-c', `${BERTH} -H ${d.host} export ${id} | tar -tf - | grep -c etc/b.txt`], { encoding: 'utf8' });
    assert.equal(piped.stdout, '1\n', piped.stderr);
    if (hasDocker) {
      const viaDocker = spawnSync('bash', ['-c', `docker export ${id} | tar -xOf - etc/b.txt`], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: d.host } });
      assert.equal(viaDocker.stdout, 'plain\n', viaDocker.stderr);
    }
    const missing = await berth(['export', '-o', join(work, 'x.tar'), 'no-such-container']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such container: no-such-container/);
    assert.equal((await berth(['rm', id])).code, 0);
  });

  it('a Docker schema2 manifest list: this platform by default, another with --platform', async () => {
    const dockerTypes = (m: Record<string, unknown> & { config: Record<string, unknown>; layers: Record<string, unknown>[] }): void => {
      m['mediaType'] = DOCKER_MANIFEST;
      m.config['mediaType'] = 'application/vnd.docker.container.image.v1+json';
      for (const l of m.layers) l['mediaType'] = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
    };
    const here = fake.image('fmt/list', `${HOST_ARCH}-only`, [busybox], { config: { Cmd: ['sh'], Labels: { arch: HOST_ARCH } }, tamper: dockerTypes });
    const there = fake.image('fmt/list', `${OTHER_ARCH}-only`, [tarOf({ 'arch.txt': OTHER_ARCH })], {
      config: { Labels: { arch: OTHER_ARCH } },
      extra: { architecture: OTHER_ARCH },
      tamper: dockerTypes,
    });
    for (const [tag, e] of fake.manifests) if (tag.startsWith('fmt/list')) e.type = DOCKER_MANIFEST;
    const entry = (digest: string, arch: string): Record<string, unknown> => {
      const body = fake.manifests.get(`fmt/list@${digest}`)?.body as Buffer;
      return { mediaType: DOCKER_MANIFEST, digest, size: body.length, platform: { architecture: arch, os: 'linux' } };
    };
    const list = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [entry(there.manifest, OTHER_ARCH), entry(here.manifest, HOST_ARCH)] }));
    fake.manifests.set('fmt/list:multi', { body: list, type: DOCKER_LIST });
    const ref = `${fake.host}/fmt/list:multi`;
    const a = await berth(['pull', ref]);
    assert.equal(a.code, 0, a.stderr);
    assert.ok(a.stdout.includes(`Digest: ${sha(list)}`), a.stdout);
    const ins = (await d.http('GET', `/images/${ref}/json`)).json as { Id: string; Architecture: string; RepoDigests: string[] };
    assert.equal(ins.Id, here.config);
    assert.equal(ins.Architecture, HOST_ARCH);
    assert.ok(ins.RepoDigests.includes(`${fake.host}/fmt/list@${sha(list)}`), JSON.stringify(ins.RepoDigests));
    const b = await berth(['pull', '--platform', `linux/${OTHER_ARCH}`, ref]);
    assert.equal(b.code, 0, b.stderr);
    const other = (await d.http('GET', `/images/${ref}/json`)).json as { Id: string; Architecture: string };
    assert.equal(other.Id, there.config);
    assert.equal(other.Architecture, OTHER_ARCH);
    const none = await berth(['pull', '--platform', 'linux/s390x', ref]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
  });

  it('every config field shows in inspect and history, and takes effect in run', async () => {
    const ref = `${fake.host}/fmt/config:1`;
    const healthcheck = { Test: ['CMD-SHELL', 'true'], Interval: 30_000_000_000, Timeout: 5_000_000_000, Retries: 3 };
    const config = {
      Env: ['PATH=/usr/bin:/bin', 'GREETING=hello from config'],
      Entrypoint: ['sh', '-c'],
      Cmd: ['echo "$GREETING"; pwd; id -u'],
      WorkingDir: '/srv/app',
      User: '1234',
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
      Volumes: { '/data': {} },
      Labels: { 'org.example.team': 'berth' },
      Healthcheck: healthcheck,
      StopSignal: 'SIGUSR1',
    };
    fake.image('fmt/config', '1', [busybox], {
      config,
      extra: {
        created: '2024-02-03T04:05:06Z',
        author: 'berth tests',
        history: [
          { created: '2024-02-03T04:05:00Z', created_by: '/bin/sh -c #(nop) ADD file:busybox in /' },
          { created: '2024-02-03T04:05:06Z', created_by: '/bin/sh -c #(nop)  ENV GREETING=hello', empty_layer: true },
        ],
      },
    });
    assert.equal((await berth(['pull', '-q', ref])).code, 0);
    const ins = (await d.http('GET', `/images/${ref}/json`)).json as { Config: Record<string, unknown>; Author: string; Created: string; Os: string };
    for (const [k, v] of Object.entries(config)) assert.deepEqual(ins.Config[k], v, k);
    assert.equal(ins.Author, 'berth tests');
    assert.equal(ins.Os, 'linux');
    assert.match(ins.Created, /^2024-02-03T04:05:06/);
    const hist = await berth(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', ref]);
    assert.equal(hist.code, 0, hist.stderr);
    const lines = hist.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2, hist.stdout);
    assert.equal(lines[0], '/bin/sh -c #(nop)  ENV GREETING=hello|0B');
    assert.match(lines[1] ?? '', /^\/bin\/sh -c #\(nop\) ADD file:busybox in \/\|[0-9.]+[kM]B$/);
    const run = await berth(['run', '--rm', ref]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'hello from config\n/srv/app\n1234\n');
    const c = await berth(['create', ref]);
    assert.equal(c.code, 0, c.stderr);
    const id = c.stdout.trim();
    const cins = (await d.http('GET', `/containers/${id}/json`)).json as { Config: { StopSignal: string; Healthcheck: unknown; ExposedPorts: unknown }; Mounts: { Destination: string }[] };
    assert.equal(cins.Config.StopSignal, 'SIGUSR1');
    assert.deepEqual(cins.Config.Healthcheck, healthcheck);
    assert.deepEqual(cins.Config.ExposedPorts, config.ExposedPorts);
    assert.deepEqual(cins.Mounts.map((m) => m.Destination), ['/data']);
    assert.equal((await berth(['rm', '-v', id])).code, 0);
  });

  it('POST /images/create streams Docker JSON progress messages; a failure after the first is an errorDetail', async () => {
    const img = fake.image('fmt/progress', '1', [tarOf({ 'big.bin': randomBytes(3 << 20).toString('base64') })]);
    const r = await d.http('POST', `/images/create?fromImage=${fake.host}/fmt/progress&tag=1`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    const msgs = messages(r.body);
    const short = (img.layers[0] as string).slice(7, 19);
    assert.deepEqual(msgs[0], { status: 'Pulling from fmt/progress', id: '1' });
    assert.ok(msgs.some((m) => m.status === 'Pulling fs layer' && m.id === short && JSON.stringify(m.progressDetail) === '{}'), r.body.slice(0, 500));
    const dl = msgs.filter((m) => m.status === 'Downloading' && m.id === short);
    assert.ok(dl.length > 0, 'Downloading messages');
    assert.ok(dl.every((m) => typeof m.progressDetail?.current === 'number' && typeof m.progressDetail.total === 'number'));
    assert.ok(msgs.some((m) => m.status === 'Pull complete' && m.id === short));
    assert.ok(msgs.some((m) => m.status === `Digest: ${img.manifest}`));
    assert.equal(msgs[msgs.length - 1]?.status, `Status: Downloaded newer image for ${fake.host}/fmt/progress:1`);
    assert.ok(msgs.every((m) => m.error === undefined));

    const bad = fake.image('fmt/progress', 'broken', [tarOf({ x: 'y' })]);
    fake.failures.set(`/v2/fmt/progress/blobs/${bad.layers[0] as string}`, 500);
    const f = await d.http('POST', `/images/create?fromImage=${fake.host}/fmt/progress&tag=broken`);
    assert.equal(f.status, 200, 'the stream had started');
    const last = messages(f.body).pop();
    assert.match(last?.errorDetail?.message ?? '', /answered 500/);
    assert.equal(last?.error, last?.errorDetail?.message);
    const unknown = await d.http('POST', `/images/create?fromImage=${fake.host}/fmt/progress&tag=nope`);
    assert.equal(unknown.status, 404, 'nothing streamed yet: a plain HTTP error');
    assert.match((unknown.json as { message: string }).message, /manifest unknown/);
  });

  it('push streams per-layer progress and ends with aux {Tag, Digest, Size}', async () => {
    const ref = `${reg.host}/fmt/pushed:v9`;
    assert.equal((await berth(['tag', `${fake.host}/fmt/config:1`, ref])).code, 0);
    const r = await d.http('POST', `/images/${reg.host}/fmt/pushed/push?tag=v9`, undefined, { 'X-Registry-Auth': Buffer.from('{}').toString('base64') });
    assert.equal(r.status, 200);
    const msgs = messages(r.body);
    assert.deepEqual(msgs[0], { status: `The push refers to repository [${reg.host}/fmt/pushed]` });
    assert.ok(msgs.some((m) => m.status === 'Pushed' && /^[0-9a-f]{12}$/.test(m.id ?? '')), r.body.slice(0, 600));
    const aux = msgs.find((m) => m.aux)?.aux;
    assert.equal(aux?.Tag, 'v9');
    assert.match(aux?.Digest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.ok((aux?.Size ?? 0) > 0);
    assert.ok(msgs.some((m) => m.status === `v9: digest: ${aux?.Digest} size: ${aux?.Size}`), r.body.slice(-400));
  });

  it('images --filter reference, label, before, since and until', async () => {
    const mk = async (tag: string, created: string, labels: Record<string, string>): Promise<void> => {
      fake.image('fmt/filter', tag, [tarOf({ [`f-${tag}`]: tag })], { config: { Labels: labels }, extra: { created } });
      assert.equal((await berth(['pull', '-q', `${fake.host}/fmt/filter:${tag}`])).code, 0);
    };
    await mk('old', '2020-01-01T00:00:00Z', { tier: 'db' });
    await mk('mid', '2021-01-01T00:00:00Z', { tier: 'web', extra: 'yes' });
    await mk('new', '2022-01-01T00:00:00Z', { tier: 'web' });
    const tags = async (...filters: string[]): Promise<string[]> => {
      const r = await berth(['images', '--format', '{{.Tag}}', ...filters.flatMap((f) => ['--filter', f])]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim().split('\n').filter(Boolean).sort();
    };
    const repo = `${fake.host}/fmt/filter`;
    assert.deepEqual(await tags(`reference=${repo}`), ['mid', 'new', 'old']);
    assert.deepEqual(await tags(`reference=${repo}:n*`), ['new']);
    assert.deepEqual(await tags(`reference=${repo}`, 'label=tier=web'), ['mid', 'new']);
    assert.deepEqual(await tags(`reference=${repo}`, 'label=extra'), ['mid']);
    assert.deepEqual(await tags(`reference=${repo}`, `before=${repo}:new`), ['mid', 'old']);
    assert.deepEqual(await tags(`reference=${repo}`, `since=${repo}:old`), ['mid', 'new']);
    assert.deepEqual(await tags(`reference=${repo}`, `since=${repo}:old`, `before=${repo}:new`), ['mid']);
    assert.deepEqual(await tags(`reference=${repo}`, 'until=2021-06-01T00:00:00Z'), ['mid', 'old']);
    const unknown = await berth(['images', '--filter', 'before=no/such:image']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No such image: no\/such:image/);
    const badKey = await berth(['images', '--filter', 'colour=red']);
    assert.equal(badKey.code, 1);
    assert.match(badKey.stderr, /invalid filter 'colour'/);
  });

  it('docker run of an image that is not there pulls it, then runs it', { skip: !hasDocker && 'no docker CLI' }, async () => {
    const ref = `${fake.host}/fmt/absent:1`;
    fake.image('fmt/absent', '1', [busybox, tarOf({ 'hello.txt': 'pulled on demand\n' })], { config: { Cmd: ['cat', '/hello.txt'] } });
    const r = await d.docker(['run', '--rm', ref], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'pulled on demand\n');
    assert.match(r.stderr, new RegExp(`Unable to find image '${ref.replace(/[.]/g, '\\.')}' locally`));
    assert.match(r.stderr, /Status: Downloaded newer image for/);
  });
});
