// berth save / load (and docker save / load against berthd): round trips, tars
// as real Docker writes them (25+ with OCI files, 1.10–24 without, compressed
// layers), OCI layouts from skopeo, and hostile archives that must change nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { busyboxRootfsTar, REPO, startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { rawTar } from '../../fixtures/rawTar.js';
import { tarOf } from '../../fixtures/testRegistry.js';

const BERTH = join(REPO, 'bin', 'berth');
const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (d: string): string => d.slice(7);
const ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';

function countDir(dir: string, skip: string[] = []): number {
  return existsSync(dir) ? readdirSync(dir).filter((n) => !skip.includes(n)).length : 0;
}

/** What a failed load must leave unchanged. */
async function state(d: TestDaemon): Promise<{ images: string; blobs: number; snapshots: number; ingest: number }> {
  const list = await d.http('GET', '/images/json');
  const ids = (list.json as { Id: string }[]).map((i) => i.Id).sort();
  return {
    images: ids.join(','),
    blobs: countDir(join(d.dataRoot, 'content', 'blobs', 'sha256')),
    snapshots: countDir(join(d.dataRoot, 'snapshots'), ['l']),
    ingest: countDir(join(d.dataRoot, 'content', 'ingest')),
  };
}

/** A tar of a directory made as Docker's archive.Tar does: sorted names, root owner. */
function tarDir(dir: string, out: string): void {
  const r = spawnSync('tar', ['--sort=name', '--numeric-owner', '--owner=0', '--group=0', '-C', dir, '-cf', out, '.'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

function dockerConfig(diffIds: string[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: ARCH,
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], Labels: { from: 'docker' } },
      created: '2025-01-01T00:00:00Z',
      history: diffIds.map(() => ({ created: '2025-01-01T00:00:00Z', created_by: 'ADD rootfs.tar / # buildkit' })),
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: diffIds },
      ...extra,
    }),
  );
}

/**
 * The tar Docker 25+ (graphdriver store) writes for `docker save name:tag`:
 * blobs/sha256/<config, plain layers, OCI manifest>, index.json, manifest.json,
 * oci-layout, repositories. `withOci: false` drops the OCI files; `gzipLayers`
 * stores layers gzip-compressed, as the containerd image store does.
 */
function dockerSaveTar(work: string, name: string, tag: string, layers: Buffer[], opts: { withOci: boolean; gzipLayers?: boolean }): string {
  const root = mkdtempSync(join(work, 'ds-'));
  const blobs = join(root, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer): string => {
    const d = sha(b);
    writeFileSync(join(blobs, hex(d)), b);
    return d;
  };
  const diffIds = layers.map((l) => sha(l));
  const stored = layers.map((l) => (opts.gzipLayers ? gzipSync(l) : l));
  const layerDigests = stored.map(put);
  const cfg = dockerConfig(diffIds);
  const cfgDigest = put(cfg);
  writeFileSync(
    join(root, 'manifest.json'),
    `${JSON.stringify([{ Config: `blobs/sha256/${hex(cfgDigest)}`, RepoTags: [`${name}:${tag}`], Layers: layerDigests.map((d) => `blobs/sha256/${hex(d)}`) }])}\n`,
  );
  writeFileSync(join(root, 'repositories'), `${JSON.stringify({ [name]: { [tag]: hex(layerDigests[layerDigests.length - 1] as string) } })}\n`);
  if (opts.withOci) {
    const man = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfgDigest, size: cfg.length },
        layers: stored.map((l, i) => ({
          mediaType: opts.gzipLayers ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar',
          digest: layerDigests[i],
          size: l.length,
        })),
      }),
    );
    const manDigest = put(man);
    writeFileSync(join(root, 'oci-layout'), '{"imageLayoutVersion": "1.0.0"}');
    writeFileSync(
      join(root, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: manDigest,
            size: man.length,
            annotations: { 'io.containerd.image.name': `docker.io/library/${name}:${tag}`, 'org.opencontainers.image.ref.name': tag },
          },
        ],
      }),
    );
  }
  const out = join(work, `${name}-${tag}-${randomBytes(3).toString('hex')}.tar`);
  tarDir(root, out);
  rmSync(root, { recursive: true, force: true });
  return out;
}

/** The layout Docker 1.10–24 wrote: <v1 id>/layer.tar (+ json, VERSION), <config hex>.json, a symlinked duplicate layer. */
function legacySaveTar(work: string, name: string, tag: string, layers: Buffer[]): string {
  const root = mkdtempSync(join(work, 'legacy-'));
  const diffIds = layers.map((l) => sha(l));
  const cfg = dockerConfig(diffIds);
  const ids = layers.map(() => randomBytes(32).toString('hex'));
  layers.forEach((l, i) => {
    const dir = join(root, ids[i] as string);
    mkdirSync(dir);
    writeFileSync(join(dir, 'VERSION'), '1.0');
    writeFileSync(join(dir, 'json'), JSON.stringify({ id: ids[i] }));
    const first = layers.findIndex((x) => x.equals(l));
    if (first < i) symlinkSync(`../${ids[first]}/layer.tar`, join(dir, 'layer.tar'));
    else writeFileSync(join(dir, 'layer.tar'), l);
  });
  writeFileSync(join(root, `${hex(sha(cfg))}.json`), cfg);
  writeFileSync(join(root, 'manifest.json'), JSON.stringify([{ Config: `${hex(sha(cfg))}.json`, RepoTags: [`${name}:${tag}`], Layers: ids.map((id) => `${id}/layer.tar`) }]));
  writeFileSync(join(root, 'repositories'), JSON.stringify({ [name]: { [tag]: ids[ids.length - 1] } }));
  const out = join(work, `legacy-${randomBytes(3).toString('hex')}.tar`);
  tarDir(root, out);
  rmSync(root, { recursive: true, force: true });
  return out;
}

describe('image save and load', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  let work: string;
  let busybox: Buffer;
  before(async () => {
    d = await startDaemon();
    work = mkdtempSync(join(tmpdir(), 'berth-saveload-'));
    busybox = readFileSync(busyboxRootfsTar());
    await d.importBusybox('busybox:latest');
  });
  after(async () => {
    await d?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  const inspectId = async (ref: string): Promise<string> => {
    const r = await d.http('GET', `/images/${ref}/json`);
    assert.equal(r.status, 200, r.body);
    return (r.json as { Id: string }).Id;
  };

  it('save → rmi → load gives back the same image, which runs (berth)', async () => {
    const id = await inspectId('busybox:latest');
    const out = join(work, 'bb.tar');
    const s = await d.berth(['save', '-o', out, 'busybox']);
    assert.equal(s.code, 0, s.stderr);
    const names = spawnSync('tar', ['-tf', out], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    assert.deepEqual(names.slice(-4), ['index.json', 'manifest.json', 'oci-layout', 'repositories']);
    assert.ok(names.includes(`blobs/sha256/${hex(id)}`));
    assert.equal((await d.berth(['rmi', 'busybox'])).code, 0);
    const l = await d.berth(['load', '-i', out]);
    assert.equal(l.code, 0, l.stderr);
    assert.equal(l.stdout, 'Loaded image: busybox:latest\n');
    assert.equal(await inspectId('busybox:latest'), id);
    const run = await d.berth(['run', '--rm', 'busybox', 'echo', 'loaded-ok']);
    assert.equal(run.stdout, 'loaded-ok\n', run.stderr);
  });

  it('save writes to stdout only when it is not a terminal, and load reads stdin', async () => {
    const r = await d.run('sh', ['-c', `"$0" -H "$1" save busybox:latest | "$0" -H "$1" load`, BERTH, d.host]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Loaded image: busybox:latest\n');
  });

  it('saves several images (by tag, by ID) in one archive; an untagged one loads by ID', async () => {
    assert.equal((await d.berth(['import', '-c', 'CMD ["sh"]', busyboxRootfsTar(), 'other:2'])).code, 0);
    const otherId = await inspectId('other:2');
    const out = join(work, 'multi.tar');
    const s = await d.berth(['save', '-o', out, 'busybox:latest', otherId]);
    assert.equal(s.code, 0, s.stderr);
    const manifest = JSON.parse(spawnSync('tar', ['-xOf', out, 'manifest.json'], { encoding: 'utf8' }).stdout) as { RepoTags: string[] | null }[];
    assert.deepEqual(manifest.map((m) => m.RepoTags), [['busybox:latest'], null]);
    assert.equal((await d.berth(['rmi', 'other:2'])).code, 0);
    const l = await d.berth(['load', '-i', out]);
    assert.equal(l.code, 0, l.stderr);
    assert.equal(l.stdout, `Loaded image: busybox:latest\nLoaded image ID: ${otherId}\n`);
    assert.equal(await inspectId(otherId), otherId);
  });

  it('save names an unknown image before writing anything', async () => {
    const out = join(work, 'nothing.tar');
    const r = await d.berth(['save', '-o', out, 'busybox', 'no-such-image:1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No such image: no-such-image:1/);
    assert.equal(existsSync(out), false);
  });

  it('the docker CLI saves from and loads into berthd', async () => {
    const id = await inspectId('busybox:latest');
    const out = join(work, 'docker-bb.tar');
    const s = await d.docker(['save', '-o', out, 'busybox:latest']);
    assert.equal(s.code, 0, s.stderr);
    assert.equal((await d.docker(['rmi', 'busybox:latest'])).code, 0);
    const l = await d.docker(['load', '-i', out]);
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /Loaded image: busybox:latest/);
    assert.equal(await inspectId('busybox:latest'), id);
    const piped = await d.run('sh', ['-c', 'docker save busybox | docker load'], { env: { DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.root, 'docker-config') } });
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /Loaded image: busybox:latest/);
  });

  it('skopeo reads what we save, as a docker-archive and as an OCI archive', async () => {
    const out = join(work, 'for-skopeo.tar');
    assert.equal((await d.berth(['save', '-o', out, 'busybox:latest'])).code, 0);
    const id = await inspectId('busybox:latest');
    const ins = spawnSync('skopeo', ['inspect', '--config', `docker-archive:${out}`], { encoding: 'utf8' });
    assert.equal(ins.status, 0, ins.stderr);
    const cfg = JSON.parse(ins.stdout) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(cfg.rootfs.diff_ids, [sha(busybox)]);
    const oci = join(work, 'sk-oci');
    const c1 = spawnSync('skopeo', ['copy', `docker-archive:${out}`, `oci:${oci}:x`], { encoding: 'utf8' });
    assert.equal(c1.status, 0, c1.stderr);
    const c2 = spawnSync('skopeo', ['copy', `oci-archive:${out}:latest`, `dir:${join(work, 'sk-dir')}`], { encoding: 'utf8' });
    assert.equal(c2.status, 0, c2.stderr);
    // The config skopeo copied is our image, byte for byte.
    assert.ok(existsSync(join(work, 'sk-dir', hex(id))));
  });

  it('loads what skopeo writes: a docker-archive and an OCI archive named by ref.name', async () => {
    const out = join(work, 'for-skopeo2.tar');
    assert.equal((await d.berth(['save', '-o', out, 'busybox:latest'])).code, 0);
    const da = join(work, 'skopeo-da.tar');
    const oa = join(work, 'skopeo-oa.tar');
    assert.equal(spawnSync('skopeo', ['copy', `docker-archive:${out}`, `docker-archive:${da}:sk/one:1`]).status, 0);
    assert.equal(spawnSync('skopeo', ['copy', `docker-archive:${out}`, `oci-archive:${oa}:sk/two:2`]).status, 0);
    const l1 = await d.berth(['load', '-i', da]);
    assert.equal(l1.code, 0, l1.stderr);
    assert.equal(l1.stdout, 'Loaded image: sk/one:1\n');
    const l2 = await d.berth(['load', '-i', oa]);
    assert.equal(l2.code, 0, l2.stderr);
    assert.equal(l2.stdout, 'Loaded image: sk/two:2\n');
    const run = await d.berth(['run', '--rm', 'sk/two:2', 'echo', 'from-oci']);
    assert.equal(run.stdout, 'from-oci\n', run.stderr);
  });

  it('loads docker-save tars as real Docker writes them: with and without the OCI files, compressed layers, gzipped archive', async () => {
    const extra = tarOf({ 'etc/motd': 'hello from a docker-save tar\n' });
    const cases: [string, string][] = [
      ['v25', dockerSaveTar(work, 'ds', 'v25', [busybox, extra], { withOci: true })],
      ['plain', dockerSaveTar(work, 'ds', 'plain', [busybox, extra], { withOci: false })],
      ['gz', dockerSaveTar(work, 'ds', 'gz', [busybox, extra], { withOci: true, gzipLayers: true })],
      ['legacy', legacySaveTar(work, 'ds', 'legacy', [busybox, extra, extra])],
    ];
    const gzArchive = join(work, 'whole.tar.gz');
    writeFileSync(gzArchive, gzipSync(readFileSync(cases[0]?.[1] as string)));
    cases.push(['v25', gzArchive]);
    for (const [tag, file] of cases) {
      const l = await d.berth(['load', '-i', file]);
      assert.equal(l.code, 0, `${tag}: ${l.stderr}`);
      assert.equal(l.stdout, `Loaded image: ds:${tag}\n`);
      const run = await d.berth(['run', '--rm', `ds:${tag}`, 'cat', '/etc/motd']);
      assert.equal(run.stdout, 'hello from a docker-save tar\n', `${tag}: ${run.stderr}`);
      const insp = await d.http('GET', `/images/ds:${tag}/json`);
      assert.equal((insp.json as { Config: { Labels: Record<string, string> } }).Config.Labels['from'], 'docker');
    }
  });

  it('a tag taken by another image moves, as Docker says', async () => {
    const file = dockerSaveTar(work, 'busybox', 'latest', [tarOf({ 'x': 'y' })], { withOci: true });
    const old = await inspectId('busybox:latest');
    const l = await d.berth(['load', '-i', file]);
    assert.equal(l.code, 0, l.stderr);
    assert.equal(l.stdout, `The image busybox:latest already exists, renaming the old one with ID ${old} to empty string\nLoaded image: busybox:latest\n`);
    assert.notEqual(await inspectId('busybox:latest'), old);
    assert.equal((await d.berth(['tag', old, 'busybox:latest'])).code, 0);
  });

  it('refuses hostile archives with a 400 and leaves no image, blob or snapshot', async () => {
    const before = await state(d);
    const good = readFileSync(dockerSaveTar(work, 'hostile', '1', [busybox], { withOci: false }));
    const layer = tarOf({ 'a': 'b' });
    const cfg = dockerConfig([sha(layer)]);
    const escapingLayer = rawTar([{ name: '../../../../escape-' + randomBytes(4).toString('hex'), body: 'x' }]);
    const escCfg = dockerConfig([sha(escapingLayer)]);
    const cases: [string, Buffer, RegExp][] = [
      ['a member escaping the archive', rawTar([{ name: '../evil', body: 'x' }, { name: 'manifest.json', body: '[]' }]), /points outside the archive/],
      ['a link escaping the archive', rawTar([{ name: 'l.tar', type: '2', link: '../../../etc/passwd' }, { name: 'c.json', body: cfg }, { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['h:1'], Layers: ['l.tar'] }]) }]), /points outside the archive/],
      ['a blob not matching its name', rawTar([{ name: `blobs/sha256/${hex(sha('other'))}`, body: layer }]), /does not match its digest/],
      ['a layer not matching its diff ID', rawTar([{ name: 'l.tar', body: layer }, { name: 'c.json', body: dockerConfig([sha('x')]) }, { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['h:2'], Layers: ['l.tar'] }]) }]), /does not match its diff ID/],
      ['a gzip layer not matching its diff ID', rawTar([{ name: 'l.tar', body: gzipSync(layer) }, { name: 'c.json', body: dockerConfig([sha('x')]) }, { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['h:3'], Layers: ['l.tar'] }]) }]), /does not match its diff ID/],
      ['a layer escaping the root', rawTar([{ name: 'l.tar', body: escapingLayer }, { name: 'c.json', body: escCfg }, { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['h:4'], Layers: ['l.tar'] }]) }]), /\.\.|outside|escape/i],
      ['a compressed layer already present on disk, not matching its diff ID', rawTar([{ name: 'l.tar', body: gzipSync(layer) }, { name: 'c.json', body: dockerConfig([sha(busybox)]) }, { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['h:6'], Layers: ['l.tar'] }]) }]), /does not match its diff ID/],
      ['a truncated archive', good.subarray(0, Math.floor(good.length / 2)), /truncated|missing/],
      ['a manifest naming a missing layer', rawTar([{ name: 'c.json', body: cfg }, { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['h:5'], Layers: ['nope.tar'] }]) }]), /"nope.tar" is missing/],
      ['not an image archive', rawTar([{ name: 'hello.txt', body: 'hi' }]), /neither manifest.json nor index.json/],
    ];
    for (const [what, tar, msg] of cases) {
      const r = await d.http('POST', '/images/load?quiet=1', tar, { 'Content-Type': 'application/x-tar' });
      assert.equal(r.status, 400, `${what}: ${r.status} ${r.body}`);
      assert.match((r.json as { message: string }).message, msg, what);
      if (process.env['SHOW_MESSAGES']) console.log(what, '→', (r.json as { message: string }).message);
      assert.deepEqual(await state(d), before, what);
    }
    // Through the CLI: exit 1 and docker's "Error response from daemon".
    const f = join(work, 'bad.tar');
    writeFileSync(f, cases[2]?.[1] as Buffer);
    const cli = await d.berth(['load', '-i', f]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /^Error response from daemon: invalid archive: blob "blobs\/sha256\/[0-9a-f]{64}" does not match its digest/);
    assert.equal(readdirSync('/').some((n) => n.startsWith('escape-')), false);
  });

  it('a client that hangs up mid-upload leaves nothing behind', async () => {
    const before = await state(d);
    const tar = readFileSync(dockerSaveTar(work, 'cut', '1', [busybox, randomBytes(4 << 20)], { withOci: true }));
    await new Promise<void>((resolve) => {
      const req = request({ socketPath: d.socket, method: 'POST', path: '/images/load?quiet=1', headers: { Host: 'x', 'Content-Type': 'application/x-tar', 'Content-Length': String(tar.length) } });
      req.on('error', () => resolve());
      req.write(tar.subarray(0, tar.length >> 1), () => setTimeout(() => {
        req.destroy();
        resolve();
      }, 300));
    });
    for (let i = 0; i < 50; i++) {
      if (JSON.stringify(await state(d)) === JSON.stringify(before)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(await state(d), before);
  });

  it('load reports a missing input file as docker does', async () => {
    const r = await d.berth(['load', '-i', join(work, 'nope.tar')]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `open ${join(work, 'nope.tar')}: no such file or directory\n`);
  });
});
