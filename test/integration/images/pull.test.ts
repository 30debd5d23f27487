// berth pull / login / logout against Debian's docker-registry (plain and with
// htpasswd), a multi-arch index, and a fake registry serving bad content: a bad
// pull fails naming the problem and leaves nothing of the image behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { busyboxRootfsTar, REPO, startDaemon, type CmdResult, type TestDaemon } from '../../fixtures/testDaemon.js';
import { makeOciLayout, tarOf, TestRegistry } from '../../fixtures/testRegistry.js';
import { FakeRegistry } from '../../fixtures/fakeRegistry.js';
import { rawTar as entriesTar } from '../../fixtures/rawTar.js';

const BERTH = join(REPO, 'bin', 'berth');
const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';
const OTHER_ARCH = HOST_ARCH === 'amd64' ? 'arm64' : 'amd64';

/** An OCI layout whose tag names an index of two single-arch images. */
function makeMultiArchLayout(dir: string, tag: string, images: { arch: string; layers: Buffer[] }[]): { index: string; manifests: Record<string, string> } {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer): string => {
    const d = sha(b);
    writeFileSync(join(blobs, d.slice(7)), b);
    return d;
  };
  const manifests: Record<string, string> = {};
  const entries = images.map((img) => {
    const layers = img.layers.map((l) => {
      const gz = gzipSync(l);
      return { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: put(gz), size: gz.length };
    });
    const cfg = Buffer.from(
      JSON.stringify({
        architecture: img.arch,
        os: 'linux',
        config: { Cmd: ['sh'], Labels: { arch: img.arch } },
        rootfs: { type: 'layers', diff_ids: img.layers.map((l) => sha(l)) },
      }),
    );
    const man = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(cfg), size: cfg.length },
        layers,
      }),
    );
    manifests[img.arch] = put(man);
    return { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(man), size: man.length, platform: { architecture: img.arch, os: 'linux' } };
  });
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries }));
  const indexDigest = put(index);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: indexDigest, size: index.length, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
  return { index: indexDigest, manifests };
}

/** A tar whose single entry is named exactly `name` (GNU tar would clean it). */
function rawTar(name: string, body: string): Buffer {
  const h = Buffer.alloc(512);
  const b = Buffer.from(body);
  h.write(name, 0, 100);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${b.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const x of h) sum += x;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([h, b, Buffer.alloc((512 - (b.length % 512)) % 512), Buffer.alloc(1024)]);
}

describe('image pull and registry login', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let reg: TestRegistry;
  let secure: TestRegistry;
  let fake: FakeRegistry;
  let d: TestDaemon;
  let work: string;
  let config: string;
  let v1: { manifest: string; config: string };
  let multi: { index: string; manifests: Record<string, string> };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'berth-pull-'));
    config = join(work, 'docker-config');
    reg = new TestRegistry();
    await reg.start();
    secure = new TestRegistry({ user: 'alice', password: 'wonderland' });
    await secure.start();
    fake = new FakeRegistry();
    await fake.start();
    const busybox = readFileSync(busyboxRootfsTar());
    const layout = join(work, 'layout');
    v1 = makeOciLayout(layout, 'v1', { layers: [busybox, tarOf({ 'etc/motd': 'pulled\n' })], architecture: HOST_ARCH });
    reg.push(layout, 'v1', 'lib/bb:v1');
    reg.push(layout, 'v1', 'lib/bb:latest');
    secure.push(layout, 'v1', 'private/app:1');
    const ml = join(work, 'multi');
    multi = makeMultiArchLayout(ml, 'm1', [
      { arch: HOST_ARCH, layers: [busybox] },
      { arch: OTHER_ARCH, layers: [tarOf({ 'arch.txt': OTHER_ARCH })] },
    ]);
    const r = spawnSync('skopeo', ['copy', '--all', '--quiet', '--dest-tls-verify=false', `oci:${ml}:m1`, `docker://${reg.host}/lib/multi:1`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    d = await startDaemon();
  });
  after(async () => {
    await d?.cleanup();
    await reg?.stop();
    await secure?.stop();
    await fake?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const berth = (args: string[], input?: string): Promise<CmdResult> =>
    d.run(BERTH, ['-H', d.host, ...args], { env: { DOCKER_CONFIG: config }, ...(input !== undefined ? { input } : {}) });
  const inspect = async (ref: string): Promise<{ Id: string; Architecture: string; RepoDigests: string[] } | null> => {
    const r = await d.http('GET', `/images/${ref}/json`);
    return r.status === 200 ? (r.json as { Id: string; Architecture: string; RepoDigests: string[] }) : null;
  };
  const blobCount = (): number => readdirSync(join(d.dataRoot, 'content', 'blobs', 'sha256')).length;
  const snapCount = (): number => readdirSync(join(d.dataRoot, 'snapshots')).filter((n) => n !== 'l').length;

  it('pulls by tag with docker-style plain progress, then the reference; the image runs', async () => {
    const r = await berth(['pull', `${reg.host}/lib/bb:v1`]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'v1: Pulling from lib/bb');
    assert.ok(lines.some((l) => /^[0-9a-f]{12}: Pull complete$/.test(l)), r.stdout);
    assert.ok(lines.includes(`Digest: ${v1.manifest}`), r.stdout);
    assert.ok(lines.includes(`Status: Downloaded newer image for ${reg.host}/lib/bb:v1`), r.stdout);
    assert.equal(lines[lines.length - 1], `${reg.host}/lib/bb:v1`);
    // Not a terminal: no progress bars, no cursor movement.
    assert.doesNotMatch(r.stdout, /\x1b\[|\[=+>/);
    assert.equal((await inspect(`${reg.host}/lib/bb:v1`))?.Id, v1.config);
    const run = await berth(['run', '--rm', `${reg.host}/lib/bb:v1`, 'cat', '/etc/motd']);
    assert.equal(run.stdout, 'pulled\n', run.stderr);
  });

  it('through the page cache (BERTH_NO_DIRECT_IO=1, as where O_DIRECT is refused): the same image, and it runs', async () => {
    const pc = await startDaemon([], { BERTH_NO_DIRECT_IO: '1' });
    try {
      const r = await pc.run(BERTH, ['-H', pc.host, 'pull', `${reg.host}/lib/bb:v1`]);
      assert.equal(r.code, 0, r.stderr);
      const img = await pc.http('GET', `/images/${reg.host}/lib/bb:v1/json`);
      assert.equal((img.json as { Id: string }).Id, v1.config);
      const run = await pc.run(BERTH, ['-H', pc.host, 'run', '--rm', `${reg.host}/lib/bb:v1`, 'cat', '/etc/motd']);
      assert.equal(run.stdout, 'pulled\n', run.stderr);
    } finally {
      await pc.cleanup();
    }
  });

  it('on a terminal, layer lines are redrawn in place with their progress', async () => {
    const layout = join(work, 'big');
    makeOciLayout(layout, 'b', { layers: [tarOf({ 'random.bin': randomBytes(6 * 1024 * 1024).toString('base64') })] });
    reg.push(layout, 'b', 'lib/big:1');
    const cmd = `DOCKER_CONFIG=${config} ${BERTH} -H ${d.host} pull ${reg.host}/lib/big:1`;
    const r = await d.run('script', ['-qec', cmd, '/dev/null'], { env: { COLUMNS: '120' } });
    assert.equal(r.code, 0, r.stdout);
    assert.ok(r.stdout.includes('\x1b[2K\r'), JSON.stringify(r.stdout.slice(0, 400)));
    assert.match(r.stdout, /[0-9a-f]{12}: Downloading /);
    assert.match(r.stdout, /[0-9a-f]{12}: Pull complete/);
  });

  it('-q prints only the reference; a second pull is up to date', async () => {
    const r = await berth(['pull', '-q', `${reg.host}/lib/bb:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${reg.host}/lib/bb:v1\n`);
    const again = await berth(['pull', `${reg.host}/lib/bb:v1`]);
    assert.match(again.stdout, /Status: Image is up to date for/);
  });

  it('a name without a tag pulls latest and says so', async () => {
    const r = await berth(['pull', `${reg.host}/lib/bb`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Using default tag: latest\nlatest: Pulling from lib\/bb\n/);
    assert.match(r.stdout, new RegExp(`\n${reg.host.replace(/\./g, '\\.')}/lib/bb:latest\n$`));
  });

  it('pulls by digest and records the repo digest', async () => {
    assert.equal((await berth(['rmi', `${reg.host}/lib/bb:v1`, `${reg.host}/lib/bb:latest`])).code, 0);
    const ref = `${reg.host}/lib/bb@${v1.manifest}`;
    const r = await berth(['pull', ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`\n${ref.replace(/\./g, '\\.')}\n$`));
    const img = await inspect(ref);
    assert.equal(img?.Id, v1.config);
    assert.ok(img?.RepoDigests.includes(ref));
  });

  it('picks this platform from a multi-arch index, and another with --platform', async () => {
    const ref = `${reg.host}/lib/multi:1`;
    const r = await berth(['pull', ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Digest: ${multi.index}`));
    assert.equal((await inspect(ref))?.Architecture, HOST_ARCH);
    const o = await berth(['pull', '--platform', `linux/${OTHER_ARCH}`, ref]);
    assert.equal(o.code, 0, o.stderr);
    assert.equal((await inspect(ref))?.Architecture, OTHER_ARCH);
    const none = await berth(['pull', '--platform', 'linux/s390x', ref]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
  });

  it('a pulled image (gzip layers as pulled) saves, loads back and runs; skopeo reads the archive', async () => {
    const ref = `${reg.host}/lib/bb:v1`;
    assert.equal((await berth(['pull', '-q', ref])).code, 0);
    const out = join(work, 'pulled.tar');
    assert.equal((await berth(['save', '-o', out, ref])).code, 0);
    const sk = spawnSync('skopeo', ['copy', `docker-archive:${out}`, `oci:${join(work, 'pulled-oci')}:x`], { encoding: 'utf8' });
    assert.equal(sk.status, 0, sk.stderr);
    assert.equal((await berth(['rmi', ref])).code, 0);
    const l = await berth(['load', '-i', out]);
    assert.equal(l.code, 0, l.stderr);
    assert.equal(l.stdout, `Loaded image: ${ref}\n`);
    assert.equal((await inspect(ref))?.Id, v1.config);
    const run = await berth(['run', '--rm', ref, 'cat', '/etc/motd']);
    assert.equal(run.stdout, 'pulled\n', run.stderr);
  });

  it('an image pulled with a Docker schema2 manifest saves with an OCI manifest that OCI readers take', async () => {
    const c = spawnSync('skopeo', ['copy', '--quiet', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${join(work, 'layout')}:v1`, `docker://${reg.host}/lib/v2s2:1`], { encoding: 'utf8' });
    assert.equal(c.status, 0, c.stderr);
    const ref = `${reg.host}/lib/v2s2:1`;
    assert.equal((await berth(['pull', '-q', ref])).code, 0);
    const out = join(work, 'v2s2.tar');
    assert.equal((await berth(['save', '-o', out, ref])).code, 0);
    const index = JSON.parse(spawnSync('tar', ['-xOf', out, 'index.json'], { encoding: 'utf8' }).stdout) as { manifests: { mediaType: string }[] };
    assert.equal(index.manifests[0]?.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    const sk = spawnSync('skopeo', ['copy', `oci-archive:${out}:1`, `dir:${join(work, 'v2s2-dir')}`], { encoding: 'utf8' });
    assert.equal(sk.status, 0, sk.stderr);
    assert.equal((await berth(['rmi', ref])).code, 0);
    const l = await berth(['load', '-i', out]);
    assert.equal(l.stdout, `Loaded image: ${ref}\n`, l.stderr);
  });

  it('names an unknown tag as docker does', async () => {
    const r = await berth(['pull', `${reg.host}/lib/bb:nope`]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Error response from daemon: manifest for 127\.0\.0\.1:\d+\/lib\/bb:nope not found: manifest unknown/);
  });

  it('login: a wrong password is a 401, the right one is stored and used by pull, logout removes it', async () => {
    const anon = await berth(['pull', `${secure.host}/private/app:1`]);
    assert.equal(anon.code, 1);
    assert.match(anon.stderr, /unauthorized|authentication required/i);
    const wrong = await berth(['login', '-u', 'alice', '--password-stdin', secure.host], 'nope\n');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^Error response from daemon: login attempt to http:\/\/127\.0\.0\.1:\d+\/v2\/ failed with status: 401 Unauthorized/);
    assert.equal(existsSync(join(config, 'config.json')), false);
    const ok = await berth(['login', '-u', 'alice', '--password-stdin', secure.host], 'wonderland\n');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'Login Succeeded\n');
    assert.match(ok.stderr, /WARNING! Your credentials are stored unencrypted/);
    const saved = JSON.parse(readFileSync(join(config, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(saved.auths[secure.host]?.auth ?? '', 'base64').toString(), 'alice:wonderland');
    const pull = await berth(['pull', `${secure.host}/private/app:1`]);
    assert.equal(pull.code, 0, pull.stderr);
    // docker reads the same file: the login is shared.
    const dk = await d.run('docker', ['pull', '-q', `${secure.host}/private/app:1`], { env: { DOCKER_HOST: d.host, DOCKER_CONFIG: config } });
    assert.equal(dk.code, 0, dk.stderr);
    // Stored credentials are reused when none are given.
    const again = await berth(['login', secure.host]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /^Authenticating with existing credentials\.\.\. \[Username: alice\]/);
    const out = await berth(['logout', secure.host]);
    assert.equal(out.stdout, `Removing login credentials for ${secure.host}\n`);
    assert.equal((JSON.parse(readFileSync(join(config, 'config.json'), 'utf8')) as { auths: Record<string, unknown> }).auths[secure.host], undefined);
    assert.equal((await berth(['rmi', `${secure.host}/private/app:1`])).code, 0);
    const denied = await berth(['pull', `${secure.host}/private/app:1`]);
    assert.equal(denied.code, 1);
    const noTty = await berth(['login', secure.host]);
    assert.equal(noTty.code, 1);
    assert.equal(noTty.stderr, 'Error: Cannot perform an interactive login from a non TTY device\n');
  });

  it('login flag checks match docker', async () => {
    const both = await berth(['login', '-u', 'a', '-p', 'b', '--password-stdin', secure.host]);
    assert.equal(both.stderr, 'conflicting options: cannot specify both --password and --password-stdin\n');
    const noUser = await berth(['login', '--password-stdin', secure.host], 'x\n');
    assert.equal(noUser.stderr, 'the --password-stdin option requires --username to be set\n');
  });

  describe('bad content from a registry: the pull fails naming it, and leaves nothing', () => {
    const badDigest = sha(randomBytes(8));
    const cases: { what: string; setup: (repo: string) => void; msg: RegExp; ref?: string }[] = [
      {
        what: 'a manifest whose bytes do not match the digest asked for',
        setup: (repo) => {
          fake.image(repo, '1', [tarOf({ a: 'b' })]);
          const e = fake.manifests.get(`${repo}:1`);
          if (e) fake.manifests.set(`${repo}@${badDigest}`, e);
        },
        ref: `@${badDigest}`,
        msg: new RegExp(`manifest verification failed for digest ${badDigest}`),
      },
      {
        what: 'a truncated blob',
        setup: (repo) => {
          const img = fake.image(repo, '1', [tarOf({ a: randomBytes(4096).toString('hex') })]);
          const l = img.layers[0] as string;
          const full = fake.blobs.get(l) as Buffer;
          fake.blobs.set(l, full.subarray(0, full.length - 100));
        },
        msg: /blob sha256:[0-9a-f]{64}: .*(size|short|truncated|expected)/i,
      },
      {
        what: 'a manifest over 4 MiB',
        setup: (repo) =>
          fake.image(repo, '1', [tarOf({ a: 'b' })], (m) => {
            m['annotations'] = { pad: 'x'.repeat(4 * 1024 * 1024 + 1) };
          }),
        msg: /manifest.*(4194304|4 MiB|too large|limit)/i,
      },
      {
        what: 'an unknown manifest media type',
        setup: (repo) => {
          fake.image(repo, '1', [tarOf({ a: 'b' })]);
          const e = fake.manifests.get(`${repo}:1`) as { body: Buffer; type: string };
          const body = Buffer.from(JSON.stringify({ ...JSON.parse(e.body.toString()), mediaType: 'application/x-mystery-manifest' }));
          fake.manifests.set(`${repo}:1`, { body, type: 'application/x-mystery-manifest' });
        },
        msg: /unsupported manifest media type "application\/x-mystery-manifest"/,
      },
      {
        what: 'a registry answering 500 for the manifest',
        setup: (repo) => {
          fake.image(repo, '1', [tarOf({ a: 'b' })]);
          fake.failures.set(`/v2/${repo}/manifests/1`, 500);
        },
        msg: /500|Internal Server Error/,
      },
      {
        what: 'a registry answering 500 for a layer',
        setup: (repo) => {
          const img = fake.image(repo, '1', [tarOf({ a: 'b' }), tarOf({ c: 'd' })]);
          fake.failures.set(`/v2/${repo}/blobs/${img.layers[1] as string}`, 500);
        },
        msg: /500|Internal Server Error/,
      },
      {
        what: 'a blob whose digest does not match',
        setup: (repo) => {
          fake.image(repo, '1', [tarOf({ a: 'b' })]);
          const man = JSON.parse(fake.manifests.get(`${repo}:1`)?.body.toString() ?? '{}') as { layers: { digest: string; size: number }[] };
          const l = man.layers[0] as { digest: string; size: number };
          fake.blobs.set(l.digest, Buffer.alloc(l.size, 7));
        },
        msg: /blob sha256:[0-9a-f]{64}: .*(digest|does not match)/,
      },
      {
        // The blob matches its digest: the gzip data itself is cut short (the unpack thread's inflate must refuse it).
        what: 'a layer blob whose gzip data is truncated',
        setup: (repo) =>
          fake.image(repo, '1', [tarOf({ a: randomBytes(20000).toString('hex') })], (m) => {
            const l = m.layers[0] as { digest: string; size: number };
            const cut = (fake.blobs.get(l.digest) as Buffer).subarray(0, 3000);
            fake.blobs.set(sha(cut), cut);
            l.digest = sha(cut);
            l.size = cut.length;
          }),
        msg: /invalid gzip data: unexpected end of file/,
      },
      {
        what: 'a layer blob whose gzip data is corrupt',
        setup: (repo) =>
          fake.image(repo, '1', [tarOf({ a: randomBytes(20000).toString('hex') })], (m) => {
            const l = m.layers[0] as { digest: string; size: number };
            const bad = Buffer.from(fake.blobs.get(l.digest) as Buffer);
            bad.fill(0xff, 200, 400);
            fake.blobs.set(sha(bad), bad);
            l.digest = sha(bad);
            l.size = bad.length;
          }),
        msg: /invalid gzip data/,
      },
      {
        what: 'a manifest naming a missing layer',
        setup: (repo) =>
          fake.image(repo, '1', [tarOf({ a: 'b' })], (m) => {
            m.layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha('missing'), size: 7 });
          }),
        msg: /lists 1 layers, the manifest 2|blob sha256:[0-9a-f]{64}.*not found/,
      },
      {
        what: 'a manifest naming a missing layer the config also lists',
        setup: (repo) => {
          fake.image(repo, '1', [tarOf({ a: 'b' }), tarOf({ c: 'd' })]);
          const man = JSON.parse(fake.manifests.get(`${repo}:1`)?.body.toString() ?? '{}') as { layers: { digest: string }[] };
          fake.blobs.delete(man.layers[1]?.digest ?? '');
        },
        msg: /blob sha256:[0-9a-f]{64}.*(not found|blob unknown)/,
      },
      {
        what: 'an unknown layer media type',
        setup: (repo) =>
          fake.image(repo, '1', [tarOf({ a: 'b' })], (m) => {
            (m.layers[0] as Record<string, unknown>)['mediaType'] = 'application/x-mystery';
          }),
        msg: /unsupported layer media type "application\/x-mystery"/,
      },
      {
        what: 'a layer escaping the root',
        setup: (repo) => fake.image(repo, '1', [rawTar(`../../../../../../tmp/berth-escape-${randomBytes(4).toString('hex')}`, 'x')]),
        msg: /outside the layer root/,
      },
      {
        what: 'a layer with an absolute path',
        setup: (repo) => fake.image(repo, '1', [entriesTar([{ name: `/tmp/berth-escape-${randomBytes(4).toString('hex')}`, body: 'x' }])]),
        msg: /outside the layer root/,
      },
      {
        what: 'a layer writing through a symlink it made',
        setup: (repo) => fake.image(repo, '1', [entriesTar([{ name: 'evil', type: '2', link: '/tmp' }, { name: `evil/berth-escape-${randomBytes(4).toString('hex')}`, body: 'x' }])]),
        msg: /through the symlink "evil"/,
      },
      {
        what: 'a layer hardlinking to a file outside',
        setup: (repo) => fake.image(repo, '1', [entriesTar([{ name: 'hl', type: '1', link: '../../../../etc/passwd' }])]),
        msg: /outside the layer root/,
      },
    ];
    for (const c of cases) {
      it(c.what, async () => {
        const repo = `bad/${randomBytes(4).toString('hex')}`;
        c.setup(repo);
        const blobs = blobCount();
        const snaps = snapCount();
        const ref = `${fake.host}/${repo}${c.ref ?? ':1'}`;
        const r = await berth(['pull', ref]);
        assert.equal(r.code, 1, r.stdout);
        assert.match(r.stderr, c.msg);
        if (process.env['SHOW_MESSAGES']) console.log(c.what, "→", r.stderr.trim());
        assert.equal(await inspect(ref), null);
        const list = await d.http('GET', '/images/json');
        assert.ok(!(list.json as { RepoTags: string[] }[]).some((i) => i.RepoTags.some((t) => t.includes(repo))));
        assert.equal(blobCount(), blobs, 'no blob left behind');
        assert.equal(snapCount(), snaps, 'no snapshot left behind');
        assert.equal(readdirSync('/tmp').some((n) => n.startsWith('berth-escape-')), false);
      });
    }
  });
});
