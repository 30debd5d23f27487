import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryError } from './errors.js';
import { UploadManager } from './uploads.js';

const sha = (b: Buffer): `sha256:${string}` => `sha256:${createHash('sha256').update(b).digest('hex')}`;
async function* chunks(...bufs: Buffer[]): AsyncGenerator<Buffer> {
  for (const b of bufs) yield b;
}
async function* failing(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
  throw new Error('aborted');
}

describe('UploadManager', () => {
  it('undoes a chunk whose size disagrees with the declared length, keeps a disconnected one, resumes after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-uploads-'));
    try {
      const up = new UploadManager(dir);
      await up.load();
      const s = await up.create('r');
      await up.append(s, chunks(Buffer.from('hello ')), 6);
      await assert.rejects(up.append(s, chunks(Buffer.from('wor'), Buffer.from('ld!!')), 5), (e: unknown) => e instanceof RegistryError && e.code === 'SIZE_INVALID');
      assert.equal(s.size, 6);
      assert.equal(readFileSync(s.dataPath, 'utf8'), 'hello ');
      // A client that disconnects: what arrived stays.
      await assert.rejects(up.append(s, failing(Buffer.from('wo')), 5));
      assert.equal(s.size, 8);
      await up.close();

      // A new process: the session is found again and its hash rebuilt from the file.
      const again = new UploadManager(dir);
      writeFileSync(join(dir, 'stray.tmp'), 'x');
      await again.load();
      assert.equal(again.count, 1);
      const s2 = again.get('r', s.id);
      assert.equal(s2.size, 8);
      assert.throws(() => again.get('other-repo', s.id), (e: unknown) => e instanceof RegistryError && e.code === 'BLOB_UPLOAD_UNKNOWN');
      await again.exclusive(s2, () => again.append(s2, chunks(Buffer.from('rld')), undefined));
      const whole = Buffer.from('hello world');
      await assert.rejects(
        again.exclusive(s2, () => again.finish(s2, sha(Buffer.from('other')))),
        (e: unknown) => e instanceof RegistryError && e.code === 'DIGEST_INVALID',
      );
      assert.equal(again.count, 0, 'a digest mismatch cancels the session');
      const s3 = await again.create('r');
      await again.append(s3, chunks(whole), undefined);
      const done = await again.finish(s3, sha(whole));
      assert.equal(done.size, whole.length);
      assert.equal(readFileSync(done.path, 'utf8'), 'hello world');
      await again.discard(s3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sweeps sessions idle for too long', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-uploads-'));
    try {
      const up = new UploadManager(dir);
      await up.load();
      const s = await up.create('r');
      assert.equal(await up.sweep(Date.now() + 1000, 60_000), 0);
      assert.equal(await up.sweep(Date.now() + 120_000, 60_000), 1);
      assert.throws(() => up.get('r', s.id));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
