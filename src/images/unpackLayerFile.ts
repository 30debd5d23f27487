/**
 * images/unpackLayerFile: unpack one stored layer blob (any compression) into
 * a directory, hashing the uncompressed bytes on the way (the diff ID). Runs
 * in a worker thread (unpackWorker.ts) or, where no worker can load, inline.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { applyLayer } from '../archive/applyLayer.js';
import { decompressStream } from '../util/tar/decompress.js';

export interface UnpackFileRequest {
  blobPath: string;
  dest: string;
}

export interface UnpackFileResult {
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Uncompressed bytes. */
  bytes: number;
}

/** `onRead(n)` reports compressed bytes read so far, for progress. */
export async function unpackLayerFile(req: UnpackFileRequest, onRead: (n: number) => void, signal?: AbortSignal): Promise<UnpackFileResult> {
  const file = createReadStream(req.blobPath);
  let read = 0;
  // Counts compressed bytes without taking them: a 'data' listener would drain the stream.
  const src = file.pipe(
    new Transform({
      transform(chunk: Buffer, _enc, cb) {
        read += chunk.length;
        onRead(read);
        cb(null, chunk);
      },
    }),
  );
  file.on('error', (e) => src.destroy(e));
  const { stream: plain } = await decompressStream(src, signal ? { signal } : {});
  const hash = createHash('sha256');
  const tee = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const piping = pipeline(plain, tee);
  try {
    const report = await applyLayer(tee, req.dest, signal ? { whiteouts: 'overlay', signal } : { whiteouts: 'overlay' });
    // The diff ID covers every byte, padding after the end-of-archive blocks included.
    tee.resume();
    await piping;
    return { diffId: `sha256:${hash.digest('hex')}`, bytes: report.bytes };
  } catch (e) {
    file.destroy();
    src.destroy();
    await piping.catch(() => undefined);
    throw e;
  }
}
