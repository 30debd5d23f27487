/**
 * images/unpackWorker: the unpack thread of images/unpackPool. It serves unpackLayerFile
 * jobs one at a time for as long as the pool keeps it (util/workerPool's protocol), so
 * decompression, hashing and file creation never stall the daemon's event loop (D9). It
 * only ever writes under the job's destination directory.
 */
import { serveWorkerJobs } from '../util/workerPool.js';
import { unpackLayerFile, type UnpackFileRequest, type UnpackFileResult } from './unpackLayerFile.js';

serveWorkerJobs<UnpackFileRequest, UnpackFileResult>((req, onProgress, signal) => unpackLayerFile(req, onProgress, signal));
