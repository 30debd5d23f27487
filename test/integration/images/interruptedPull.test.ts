// A pull cut short — by the registry hanging up mid-blob, or by a daemon crash — leaves nothing:
// no image, no half-unpacked layer, no partial blob, also after a restart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { tarOf } from '../../fixtures/testRegistry.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A registry that serves one image and sends its layer slowly, or hangs up half way. */
function fakeRegistry(mode: { hangUp: boolean }): { server: Server; ready: Promise<number>; blobStarted: Promise<void> } {
  const layerTar = tarOf({ 'data/x': randomBytes(4 * 1024 * 1024).toString('base64') });
  const layer = gzipSync(layerTar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(layerTar)] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
    }),
  );
  let started!: () => void;
  const blobStarted = new Promise<void>((r) => (started = r));
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/') return void res.writeHead(200).end('{}');
    if (url.includes('/manifests/')) {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Docker-Content-Digest': sha(manifest) });
      return void res.end(manifest);
    }
    if (url.endsWith(sha(config))) return void res.writeHead(200).end(config);
    if (url.endsWith(sha(layer))) {
      res.writeHead(200, { 'Content-Length': String(layer.length) });
      res.write(layer.subarray(0, layer.length >> 1));
      started();
      if (mode.hangUp) setTimeout(() => res.destroy(), 100);
      return; // otherwise: never finishes (the daemon is killed meanwhile)
    }
    res.writeHead(404).end();
  });
  const ready = new Promise<number>((r) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      r(typeof a === 'object' && a ? a.port : 0);
    }),
  );
  return { server, ready, blobStarted };
}

function leftovers(d: TestDaemon): string[] {
  const out: string[] = [];
  const blobs = join(d.dataRoot, 'content', 'blobs', 'sha256');
  if (existsSync(blobs)) out.push(...readdirSync(blobs).map((b) => `blob ${b}`));
  const ingest = join(d.dataRoot, 'content', 'ingest');
  if (existsSync(ingest)) out.push(...readdirSync(ingest).map((b) => `ingest ${b}`));
  out.push(...readdirSync(join(d.dataRoot, 'snapshots')).filter((s) => s !== 'l').map((s) => `snapshot ${s}`));
  out.push(...readdirSync(join(d.dataRoot, 'snapshots', 'l')).map((s) => `link ${s}`));
  return out;
}

describe('interrupted pulls', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  const servers: Server[] = [];
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.cleanup();
    for (const s of servers) s.close();
  });

  it('a registry hanging up mid-blob fails the pull with a message and leaves nothing', async () => {
    const f = fakeRegistry({ hangUp: true });
    servers.push(f.server);
    const port = await f.ready;
    const r = await d.docker(['pull', `127.0.0.1:${port}/x/y:1`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /blob sha256:[a-f0-9]{64}/);
    assert.deepEqual(leftovers(d).filter((l) => !l.startsWith('blob ')), []);
    // The small config blob may have landed; it belongs to no image and must be gone too.
    assert.deepEqual(leftovers(d), []);
    assert.equal((await d.docker(['images', '-q'])).stdout, '');
  });

  it('a daemon killed mid-pull leaves no half-image after restart', async () => {
    const f = fakeRegistry({ hangUp: false });
    servers.push(f.server);
    const port = await f.ready;
    const pulling = d.docker(['pull', `127.0.0.1:${port}/x/z:1`]);
    await f.blobStarted;
    await new Promise((r) => setTimeout(r, 200));
    await d.crash();
    await pulling;
    await d.start();
    assert.equal((await d.docker(['images', '-q'])).stdout, '');
    assert.deepEqual(leftovers(d), []);
  });
});
