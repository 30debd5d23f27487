// A pull cut short — by the registry hanging up mid-blob, or by a daemon crash — leaves nothing:
// no image, no half-unpacked layer, no partial blob, also after a restart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { request } from 'node:http';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { tarOf } from '../../fixtures/testRegistry.js';
import { rawTar } from '../../fixtures/rawTar.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A registry that serves one image and sends its layer slowly, or hangs up half way. */
function fakeRegistry(mode: { hangUp: boolean; whole?: boolean; layerTar?: Buffer }): { server: Server; ready: Promise<number>; blobStarted: Promise<void> } {
  const layerTar = mode.layerTar ?? tarOf({ 'data/x': randomBytes(4 * 1024 * 1024).toString('base64') });
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
      if (mode.whole === true) {
        started();
        return void res.end(layer);
      }
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

  it('a client that hangs up while a layer unpacks stops the unpack and leaves nothing; the next pull works', async () => {
    // Many small files: the unpack takes seconds, so the hang-up lands in the middle of it.
    const entries = Array.from({ length: 30_000 }, (_, i) => ({ name: `d${i % 100}/f${i}`, body: `file ${i}\n` }));
    const f = fakeRegistry({ hangUp: false, whole: true, layerTar: rawTar(entries) });
    servers.push(f.server);
    const port = await f.ready;
    const path = `/images/create?fromImage=${encodeURIComponent(`127.0.0.1:${port}/x/unpack`)}&tag=1`;
    const sawExtracting = await new Promise<boolean>((resolve, reject) => {
      const req = request({ socketPath: d.socket, method: 'POST', path, headers: { Host: 'localhost' } }, (res) => {
        let text = '';
        res.on('data', (b: Buffer) => {
          text += b.toString('utf8');
          if (text.includes('"Extracting"')) {
            req.destroy();
            resolve(true);
          }
        });
        res.on('end', () => resolve(false));
        res.on('error', () => undefined);
      });
      req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
      req.end();
    });
    assert.ok(sawExtracting, 'the pull reached the unpack before it was cut');
    // The unpack stops and removes what it wrote; give the daemon a moment to notice.
    const deadline = Date.now() + 20_000;
    while (leftovers(d).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(leftovers(d), []);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(leftovers(d), [], 'nothing is written after the clean-up');
    assert.equal((await d.docker(['images', '-q'])).stdout, '');
    // The unpack threads recover: the same pull, not cut, succeeds.
    const again = await d.docker(['pull', '-q', `127.0.0.1:${port}/x/unpack:1`]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await d.docker(['rmi', `127.0.0.1:${port}/x/unpack:1`])).code, 0);
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
