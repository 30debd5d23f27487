/**
 * registry/gc: removes blobs no manifest references — `berth registry gc`,
 * safe to run while `berth registry serve` is pushing on the same root.
 *
 * Safety against a concurrent push rests on two things:
 *  1. A lock: every blob deletion (row and file) happens inside a SQLite
 *     write transaction (BEGIN IMMEDIATE), and serve makes a blob visible
 *     (rename + row) and stores a manifest (reference check + rows) inside
 *     the same kind of transaction. So gc never deletes a file that a
 *     manifest committed a moment ago references, and an upload's rename can
 *     never land between gc's decision and its unlink. Batches of GC_BATCH
 *     keep each hold short (serve waits on it synchronously).
 *  2. A grace period (default 1 h): blobs pushed, mounted or HEAD-checked
 *     after `start − grace` are kept even when unreferenced, because a push
 *     in flight uploads its layers before the manifest that references them.
 * Files with no row at all (a crash between rename and commit) are removed
 * by the same rules, using the file's mtime. Never deletes manifests or tags.
 */
import { existsSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { NotFoundError } from '../errdefs/errors.js';
import type { Digest } from '../util/digest.js';
import { BlobStore } from './blobStore.js';
import { GC_BATCH, GC_GRACE_MS } from './limits.js';
import { RegistryDb } from './registryDb.js';

export interface GcOptions {
  dryRun?: boolean;
  /** Keep unreferenced blobs touched within this many ms before the start (default GC_GRACE_MS). */
  graceMs?: number;
  /** The start time (tests move it). */
  now?: number;
  /** One line per blob removed (or that would be, on a dry run). */
  log?: (line: string) => void;
}

export interface GcReport {
  dryRun: boolean;
  blobsDeleted: number;
  bytesFreed: number;
  /** Files in the blob directory that no row knew of (left by a crash), removed. */
  orphanFiles: number;
}

export async function collectGarbage(root: string, opts: GcOptions = {}): Promise<GcReport> {
  const dbPath = join(root, 'registry.db');
  if (!existsSync(dbPath)) throw new NotFoundError(`no registry at "${root}" (no registry.db)`);
  const dryRun = opts.dryRun ?? false;
  const cutoff = (opts.now ?? Date.now()) - (opts.graceMs ?? GC_GRACE_MS);
  const log = opts.log ?? (() => undefined);
  const db = new RegistryDb(dbPath);
  // No init(): serve may be running, and the store's directories are its business.
  const store = new BlobStore(root);
  const report: GcReport = { dryRun, blobsDeleted: 0, bytesFreed: 0, orphanFiles: 0 };
  try {
    let after = '';
    for (;;) {
      const batch = dryRun
        ? db.gcCandidates(cutoff, after, GC_BATCH)
        : db.immediate(() => {
            // Decide and delete under one lock: nothing can start referencing these in between.
            const b = db.gcCandidates(cutoff, after, GC_BATCH);
            for (const blob of b) {
              store.deleteSync(blob.digest as Digest);
              db.deleteBlob(blob.digest);
            }
            return b;
          });
      for (const b of batch) {
        report.blobsDeleted++;
        report.bytesFreed += b.size;
        log(`${dryRun ? 'would delete' : 'deleted'} ${b.digest} (${b.size} bytes)`);
      }
      if (batch.length < GC_BATCH) break;
      after = (batch[batch.length - 1] as { digest: string }).digest;
      await yieldLoop();
    }

    let names: string[];
    try {
      names = readdirSync(store.blobDir);
    } catch {
      names = [];
    }
    for (let i = 0; i < names.length; i += GC_BATCH) {
      const slice = names.slice(i, i + GC_BATCH);
      const sweep = (): string[] => {
        const gone: string[] = [];
        for (const hex of slice) {
          const digest = `sha256:${hex}`;
          if (db.blob(digest) !== undefined) continue;
          const path = join(store.blobDir, hex);
          let mtime: number;
          try {
            mtime = statSync(path).mtimeMs;
          } catch {
            continue;
          }
          if (mtime >= cutoff) continue;
          if (!dryRun) {
            try {
              unlinkSync(path);
            } catch {
              continue;
            }
          }
          gone.push(digest);
        }
        return gone;
      };
      const gone = dryRun ? sweep() : db.immediate(sweep);
      for (const d of gone) {
        report.orphanFiles++;
        log(`${dryRun ? 'would delete' : 'deleted'} unrecorded file ${d}`);
      }
      await yieldLoop();
    }
  } finally {
    db.close();
  }
  return report;
}
