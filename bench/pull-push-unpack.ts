/**
 * bench/pull-push-unpack: berth's layer unpack alone, timed inside one Node process (module
 * loading excluded), one layer after the other, each into a fresh directory under DEST:
 *   apply   applyLayer (src/archive/applyLayer.ts) on each plain layer tar, read from its file as
 *           berthd reads a stored plain layer (images/blobChunks: blocking O_DIRECT reads into
 *           reused buffers: from the disk, even when the file is in the page cache)
 *   apply-cached  the same, reading through the page cache, as GNU tar -x reads its input
 *   file    unpackLayerFile (src/images/unpackLayerFile.ts) on each gzip blob: what berthd's
 *           unpack worker runs per layer (gunzip + diff-ID hash + applyLayer)
 * Prints one JSON line: {mode, totalMs, cpuMs, perLayerMs: [...], windowFromUs, windowToUs} (the window
 * on CLOCK_MONOTONIC, for a `node --cpu-prof` run of this script). Writes only under DEST, which the
 * caller removes.
 * Usage: node --import tsx bench/pull-push-unpack.ts apply|apply-cached|file DEST FILE...
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { applyLayer } from '../src/archive/applyLayer.js';
import { unpackLayerFile } from '../src/images/unpackLayerFile.js';
import { fileSource, openBlobChunks } from '../src/images/blobChunks.js';

const [mode, dest, ...files] = process.argv.slice(2);
if ((mode !== 'apply' && mode !== 'apply-cached' && mode !== 'file') || dest === undefined || files.length === 0) {
  throw new Error('usage: pull-push-unpack.ts apply|apply-cached|file DEST FILE...');
}
const perLayerMs: number[] = [];
// CLOCK_MONOTONIC µs, the clock of V8's CPU profile samples: a window for `node --cpu-prof`.
const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);
const windowFromUs = monoUs();
const c0 = process.cpuUsage();
const t0 = performance.now();
for (const [i, f] of files.entries()) {
  const dir = join(dest, String(i));
  mkdirSync(dir, { recursive: true });
  const t = performance.now();
  if (mode === 'apply' || mode === 'apply-cached') {
    const plain = openBlobChunks(fileSource(f, mode === 'apply'), { read: 0 });
    if (!('chunks' in plain) || plain.compression !== 'none') throw new Error(`${f} is not a plain tar`);
    await applyLayer(
      (async function* () {
        yield* plain.chunks;
      })(),
      dir,
      { whiteouts: 'overlay' },
    );
    // As unpackLayerFile does: the next layer reuses these buffers instead of faulting in new ones.
    plain.release();
  }
  else await unpackLayerFile({ blobPath: f, dest: dir }, () => undefined);
  perLayerMs.push(Math.round((performance.now() - t) * 10) / 10);
}
const totalMs = Math.round((performance.now() - t0) * 10) / 10;
// user+sys of every thread of this process (libuv's pool runs the gunzip) over the same span.
const c = process.cpuUsage(c0);
const cpuMs = Math.round((c.user + c.system) / 1000);
process.stdout.write(`${JSON.stringify({ mode, totalMs, cpuMs, perLayerMs, windowFromUs, windowToUs: monoUs() })}\n`);
