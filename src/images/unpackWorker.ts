/**
 * images/unpackWorker: worker-thread entry for unpackLayerFile, so layer
 * decompression, hashing and file creation never stall the daemon's event
 * loop (D9). Messages: {type:'progress', read} · {type:'done', …result} ·
 * {type:'error', kind, message}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorKind, messageOf } from '../errdefs/errors.js';
import { unpackLayerFile, type UnpackFileRequest } from './unpackLayerFile.js';

const port = parentPort;
if (port) {
  let last = 0;
  unpackLayerFile(workerData as UnpackFileRequest, (read) => {
    const now = Date.now();
    if (now - last > 100) {
      last = now;
      port.postMessage({ type: 'progress', read });
    }
  }).then(
    (r) => port.postMessage({ type: 'done', ...r }),
    (e: unknown) => port.postMessage({ type: 'error', kind: errorKind(e), message: messageOf(e) }),
  );
}
