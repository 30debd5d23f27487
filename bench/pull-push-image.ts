/**
 * bench/pull-push-image: makes the pull/push benchmark's image, deterministically (same bytes and
 * digests on every run): LAYERS layers of about SIZE_MB/LAYERS MB each, half "binary" files
 * (AES-CTR keystream: incompressible) and half "text" files (lines of pseudo-words from a fixed
 * vocabulary: gzip gets ~3×), sizes log-uniform as in real images, spread over nested dirs.
 * Writes, under OUT:
 *   tree/N/         the files of layer N (removed again unless --keep-trees)
 *   plain/N.tar     layer N as a plain tar (GNU tar, sorted, numeric owner 0, fixed mtimes)
 *   gz/N.tar.gz     the same, `gzip -n -6` (what the registry serves; GNU gzip's default level)
 *   oci/            an OCI image layout (tag "bench") with the gzip layers
 *   save.tar        a `docker save`-style archive with the plain layers (manifest.json), for
 *                   `docker load`: an image whose layers are stored uncompressed
 * and prints one JSON line: {layers:[{plain,gz,plainSize,gzSize,files}], manifest, totalPlain, totalGz}.
 * Never touches anything outside OUT.
 * With --variant=V (V > 0) the image has the same files, sizes and text, but other binary bytes
 * (another AES key) and other directory names: other digests, so a daemon that has variant 0
 * must pull variant V whole (bench/pull-push.sh pulls a fresh variant every round).
 * Usage: node --import tsx bench/pull-push-image.ts OUT [SIZE_MB=200] [LAYERS=5] [--variant=V] [--keep-trees]
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [out, sizeArg = '200', layersArg = '5'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const VARIANT = Number(process.argv.find((a) => a.startsWith('--variant='))?.slice('--variant='.length) ?? '0');
if (!Number.isInteger(VARIANT) || VARIANT < 0 || VARIANT > 200) throw new Error('--variant must be an integer in 0..200');
if (out === undefined) throw new Error('usage: pull-push-image.ts OUT [SIZE_MB] [LAYERS]');
const LAYERS = Number(layersArg);
const HALF = Math.floor((Number(sizeArg) * 1024 * 1024) / LAYERS / 2);
const MTIME = 1_700_000_000;

/** splitmix32-ish PRNG: fixed seed, so every run makes the same image. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/** Log-uniform size in [lo, hi]: many small files, a few big ones, as in real layers. */
const logUniform = (r: () => number, lo: number, hi: number): number => Math.round(Math.exp(Math.log(lo) + r() * (Math.log(hi) - Math.log(lo))));

// Incompressible bytes, deterministic: AES-256-CTR keystream of a fixed key (one per variant).
const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7 + VARIANT), Buffer.alloc(16, 0));
const binary = (n: number): Buffer => cipher.update(Buffer.alloc(n));

// Text: 4096 pseudo-words of 2–10 letters, Zipf-ish choice, lines of 4–14 words.
const wr = prng(42);
const VOCAB = Array.from({ length: 4096 }, () => {
  const len = 2 + Math.floor(wr() * 9);
  let w = '';
  for (let i = 0; i < len; i++) w += String.fromCharCode(97 + Math.floor(wr() * 26));
  return w;
});
function text(r: () => number, n: number): Buffer {
  const parts: string[] = [];
  let len = 0;
  while (len < n) {
    const words = 4 + Math.floor(r() * 11);
    let line = '';
    for (let i = 0; i < words; i++) line += (i ? ' ' : '') + (VOCAB[Math.floor(VOCAB.length * r() ** 4)] as string);
    line += r() < 0.1 ? ';\n' : '\n';
    parts.push(line);
    len += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr?.toString() ?? ''}`);
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return `sha256:${h.digest('hex')}`;
}

interface LayerInfo {
  plain: string;
  gz: string;
  plainSize: number;
  gzSize: number;
  files: number;
}

async function makeLayer(n: number): Promise<LayerInfo> {
  const r = prng(1000 + n);
  const root = join(out as string, 'tree', String(n));
  const base = join(root, 'opt', VARIANT === 0 ? `bench${n}` : `bench${n}-v${VARIANT}`);
  let files = 0;
  const put = (kind: 'bin' | 'txt', bytes: Buffer): void => {
    const dir = join(base, kind, `d${Math.floor(r() * 8)}`, `e${Math.floor(r() * 8)}`);
    mkdirSync(dir, { recursive: true });
    const p = join(dir, `f${files}.${kind === 'bin' ? 'so' : 'txt'}`);
    writeFileSync(p, bytes, { mode: kind === 'bin' ? 0o755 : 0o644 });
    utimesSync(p, MTIME, MTIME);
    files++;
  };
  for (let b = 0; b < HALF; ) {
    const size = Math.min(logUniform(r, 4096, 2 * 1024 * 1024), HALF - b);
    put('bin', binary(size));
    b += size;
  }
  for (let b = 0; b < HALF; ) {
    const size = Math.min(logUniform(r, 256, 256 * 1024), HALF - b);
    put('txt', text(r, size));
    b += size;
  }
  // A few symlinks, as every real layer has.
  for (let i = 0; i < 8; i++) symlinkSync(`../txt`, join(base, `link${i}`));
  mkdirSync(join(out as string, 'plain'), { recursive: true });
  mkdirSync(join(out as string, 'gz'), { recursive: true });
  const plain = join(out as string, 'plain', `${n}.tar`);
  const gz = join(out as string, 'gz', `${n}.tar.gz`);
  sh('tar', ['--sort=name', '--numeric-owner', '--owner=0', '--group=0', `--mtime=@${MTIME}`, '-C', root, '-cf', plain, '.']);
  const g = spawnSync('sh', ['-c', 'gzip -n -6 -c "$1" > "$2"', 'sh', plain, gz]);
  if (g.status !== 0) throw new Error(`gzip failed: ${g.stderr.toString()}`);
  return { plain, gz, plainSize: statSync(plain).size, gzSize: statSync(gz).size, files };
}

async function main(): Promise<void> {
  const layers: LayerInfo[] = [];
  for (let i = 0; i < LAYERS; i++) layers.push(await makeLayer(i));
  if (!process.argv.includes('--keep-trees')) rmSync(join(out as string, 'tree'), { recursive: true, force: true });
  const diffIds = await Promise.all(layers.map((l) => sha256File(l.plain)));
  const gzDigests = await Promise.all(layers.map((l) => sha256File(l.gz)));
  const history = layers.map((_, i) => ({ created: '2026-01-01T00:00:00Z', created_by: `bench layer ${i}` }));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2026-01-01T00:00:00Z',
      config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history,
    }),
  );
  const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;

  // OCI layout, gzip layers (blobs hard-linked from gz/ would tie the two; copy instead: 130 MB is cheap).
  const oci = join(out as string, 'oci');
  const blobs = join(oci, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  layers.forEach((l, i) => writeFileSync(join(blobs, (gzDigests[i] as string).slice(7)), readFileSync(l.gz)));
  writeFileSync(join(blobs, configDigest.slice(7)), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: layers.map((l, i) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: gzDigests[i], size: l.gzSize })),
    }),
  );
  const manifestDigest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  writeFileSync(join(blobs, manifestDigest.slice(7)), manifest);
  writeFileSync(join(oci, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(oci, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }],
    }),
  );

  // docker save archive with plain layers: <hex>/layer.tar, <config>.json, manifest.json.
  const save = join(out as string, 'save');
  mkdirSync(save, { recursive: true });
  const layerPaths = layers.map((l, i) => {
    const d = join(save, (diffIds[i] as string).slice(7));
    mkdirSync(d, { recursive: true });
    sh('ln', ['-f', l.plain, join(d, 'layer.tar')]);
    return `${(diffIds[i] as string).slice(7)}/layer.tar`;
  });
  // Its own config (one label more): an image ID of its own, so it never stands in for the
  // pulled image (same layers, though: the daemon shares their snapshots).
  const plainConfig = Buffer.from(config.toString('utf8').replace('"Cmd":["sh"]', '"Cmd":["sh"],"Labels":{"bench.variant":"plain layers"}'));
  if (plainConfig.equals(config)) throw new Error('could not make the plain image config');
  const plainId = createHash('sha256').update(plainConfig).digest('hex');
  writeFileSync(join(save, `${plainId}.json`), plainConfig);
  writeFileSync(join(save, 'manifest.json'), JSON.stringify([{ Config: `${plainId}.json`, RepoTags: ['bench/plain:latest'], Layers: layerPaths }]));
  sh('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', save, '-cf', join(out as string, 'save.tar'), '.']);
  rmSync(save, { recursive: true, force: true });

  process.stdout.write(
    `${JSON.stringify({
      layers,
      manifest: manifestDigest,
      config: configDigest,
      totalPlain: layers.reduce((s, l) => s + l.plainSize, 0),
      totalGz: layers.reduce((s, l) => s + l.gzSize, 0),
      files: layers.reduce((s, l) => s + l.files, 0),
    })}\n`,
  );
}

await main();
