/**
 * test/integration/build/helpers: build contexts made on disk for a test,
 * and the leftovers check every build test ends with — no container in
 * `ps -a`, no active snapshot, no mount under the data-root, nothing in the
 * builder's working directory.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { TestDaemon } from '../../fixtures/testDaemon.js';

export type FileSpec = string | { content: string; mode?: number } | { symlink: string };

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A context directory with these files (paths relative; parents made). */
export function makeContext(files: Record<string, FileSpec>): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bctx-'));
  made.push(dir);
  writeFiles(dir, files);
  return dir;
}

export function writeFiles(dir: string, files: Record<string, FileSpec>): void {
  for (const [rel, spec] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    if (typeof spec === 'string') writeFileSync(p, spec);
    else if ('symlink' in spec) {
      rmSync(p, { force: true });
      symlinkSync(spec.symlink, p);
    } else {
      writeFileSync(p, spec.content);
      if (spec.mode !== undefined) chmodSync(p, spec.mode);
    }
  }
}

export interface Leftovers {
  containers: string[];
  activeSnapshots: string[];
  mounts: string[];
  buildDirs: string[];
}

/** What a build may have left behind in daemon `d`. */
export async function leftovers(d: TestDaemon): Promise<Leftovers> {
  const ps = await d.http('GET', '/containers/json?all=1');
  const containers = ((ps.json as { Id: string }[] | null) ?? []).map((c) => c.Id);
  const db = new Database(join(d.dataRoot, 'berth.db'), { readonly: true, fileMustExist: true });
  let activeSnapshots: string[];
  try {
    activeSnapshots = (db.prepare("SELECT key FROM snapshots WHERE kind = 'active'").all() as { key: string }[]).map((r) => r.key);
  } finally {
    db.close();
  }
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(d.dataRoot));
  const buildRoot = join(d.dataRoot, 'build');
  const buildDirs = existsSync(buildRoot) ? readdirSync(buildRoot) : [];
  return { containers, activeSnapshots, mounts, buildDirs };
}

export const NOTHING_LEFT: Leftovers = { containers: [], activeSnapshots: [], mounts: [], buildDirs: [] };

/** Polls `leftovers` until clean (a cancelled build cleans up after the client is gone). */
export async function settledLeftovers(d: TestDaemon, ms = 15_000): Promise<Leftovers> {
  const deadline = Date.now() + ms;
  let last = await leftovers(d);
  while (Date.now() < deadline) {
    if (last.containers.length + last.activeSnapshots.length + last.mounts.length + last.buildDirs.length === 0) return last;
    await new Promise((r) => setTimeout(r, 200));
    last = await leftovers(d);
  }
  return last;
}

/** Steps of a build's output that used the cache, by step number. */
export function cachedSteps(output: string): number[] {
  const out: number[] = [];
  let step = 0;
  for (const line of output.split('\n')) {
    const m = /^Step (\d+)\/\d+ : /.exec(line);
    if (m) step = Number(m[1]);
    else if (line === ' ---> Using cache') out.push(step);
  }
  return out;
}
