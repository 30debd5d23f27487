/**
 * registry/gcNudge: asks V8 for a young-generation collection after every
 * GC_NUDGE_BYTES of request body read off sockets.
 *
 * Why: every socket read hands JS a fresh ArrayBuffer (up to 64 KiB); an
 * upload's chunks are garbage as soon as they are hashed and written. V8
 * frees young ArrayBuffers only in a scavenge, and starts one for their sake
 * only once 32 MB of them exist (2x its default semi-space, whatever
 * --max-semi-space-size says) - so each push grew the process by ~35 MB that
 * malloc then kept. A scavenge of a heap this small takes well under a
 * millisecond; one per 8 MB caps that garbage near 8 MB.
 *
 * `gc` is reached the way Node documents for `v8.setFlagsFromString`:
 * `--expose-gc` set at run time, then the function taken from a new context.
 * If that ever fails the nudge is a no-op (only memory is at stake).
 * Never runs a full (mark-compact) collection.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { GC_NUDGE_BYTES } from './limits.js';

type GcFunction = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let gc: GcFunction | null | undefined;
let since = 0;

function gcFunction(): GcFunction | null {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const f = runInNewContext('gc') as unknown;
      gc = typeof f === 'function' ? (f as GcFunction) : null;
    } catch {
      gc = null;
    }
  }
  return gc;
}

/** Counts `bytes` of finished-with socket data; scavenges once GC_NUDGE_BYTES have gathered. */
export function noteSocketGarbage(bytes: number): void {
  since += bytes;
  if (since < GC_NUDGE_BYTES) return;
  since = 0;
  gcFunction()?.({ type: 'minor' });
}
