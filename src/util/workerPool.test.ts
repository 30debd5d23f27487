// WorkerPool against real worker threads. The fixture worker speaks the pool's protocol in
// plain JavaScript (worker threads cannot load TypeScript under tsx); its jobs sleep, fail,
// crash, or ignore an abort, and report which thread ran them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, SystemError } from '../errdefs/errors.js';
import { takeMemoryReleased } from './memoryReleased.js';
import { WorkerPool } from './workerPool.js';

interface Req {
  op: 'sleep' | 'fail' | 'crash' | 'stubborn';
  ms?: number;
  /** Written when the job has stopped (after an abort). */
  marker?: string;
}
interface Res {
  thread: number;
  peak: number;
}

const FIXTURE = `
import { parentPort, threadId } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
const running = new Map();
parentPort.on('message', (m) => {
  if (m.t === 'quit') { parentPort.close(); return; }
  if (m.t === 'abort') { running.get(m.id)?.(); return; }
  const { op, ms = 50, marker } = m.req;
  const done = (res) => { running.delete(m.id); parentPort.postMessage({ t: 'done', id: m.id, res }); };
  const fail = (kind, message) => { running.delete(m.id); parentPort.postMessage({ t: 'error', id: m.id, kind, message }); };
  if (op === 'fail') return fail('invalid-argument', 'bad layer');
  if (op === 'crash') { setTimeout(() => { throw new Error('boom'); }, 5); return; }
  parentPort.postMessage({ t: 'progress', id: m.id, value: 1 });
  const timer = setTimeout(() => done({ thread: threadId }), op === 'stubborn' ? 60000 : ms);
  if (op !== 'stubborn') running.set(m.id, () => { clearTimeout(timer); if (marker) writeFileSync(marker, 'stopped'); fail('system', 'cancelled'); });
});
`;

describe('WorkerPool', () => {
  let dir: string;
  let url: URL;
  const pools: WorkerPool<Req, Res>[] = [];
  const pool = (size: number, extra: { idleMs?: number; abortGraceMs?: number } = {}): WorkerPool<Req, Res> => {
    const p = new WorkerPool<Req, Res>({ url, size, ...extra });
    pools.push(p);
    return p;
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-pool-'));
    writeFileSync(join(dir, 'w.mjs'), FIXTURE);
    url = pathToFileURL(join(dir, 'w.mjs'));
  });
  after(async () => {
    for (const p of pools) await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs jobs on at most `size` threads and reuses them from job to job', async () => {
    const p = pool(2);
    let peak = 0;
    const jobs = Array.from({ length: 6 }, () =>
      p.run({ op: 'sleep', ms: 40 }).then((r) => {
        peak = Math.max(peak, p.running);
        return r.thread;
      }),
    );
    assert.equal(p.running, 2);
    assert.equal(p.queued, 4);
    const threads = new Set(await Promise.all(jobs));
    assert.equal(threads.size, 2);
    assert.ok(peak <= 2);
    assert.equal(p.threads, 2);
    await p.close();
    assert.equal(p.threads, 0);
  });

  it('passes progress on and keeps the error kind of a failed job; that thread is replaced', async () => {
    const p = pool(1);
    const seen: number[] = [];
    const first = await p.run({ op: 'sleep', ms: 5 }, { onProgress: (v) => seen.push(v) });
    assert.deepEqual(seen, [1]);
    await assert.rejects(p.run({ op: 'fail' }), (e: unknown) => e instanceof InvalidArgumentError && e.message === 'bad layer');
    const next = await p.run({ op: 'sleep', ms: 5 });
    assert.notEqual(next.thread, first.thread);
    assert.equal(p.threads, 1);
  });

  it('a thread that crashes fails its job with a SystemError; the next job gets a fresh thread', async () => {
    const p = pool(1);
    await assert.rejects(p.run({ op: 'crash' }), (e: unknown) => e instanceof SystemError && /boom/.test(e.message));
    const r = await p.run({ op: 'sleep', ms: 5 });
    assert.ok(r.thread > 0);
  });

  it('an abort reaches the running job, and the promise rejects only after the job stopped', async () => {
    const p = pool(1);
    const marker = join(dir, 'stopped');
    const ac = new AbortController();
    const running = p.run({ op: 'sleep', ms: 10_000, marker }, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 50));
    ac.abort(new SystemError('client went away'));
    await assert.rejects(running, /client went away/);
    assert.ok(existsSync(marker), 'the job had stopped before the rejection');
    assert.equal((await p.run({ op: 'sleep', ms: 5 })).thread > 0, true);
  });

  it('a job that ignores the abort has its thread terminated after the grace time', async () => {
    const p = pool(1, { abortGraceMs: 100 });
    const ac = new AbortController();
    const running = p.run({ op: 'stubborn' }, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    ac.abort(new SystemError('cancelled by test'));
    await assert.rejects(running, /cancelled by test/);
    assert.ok(Date.now() - t0 >= 90);
    assert.equal(p.threads, 0);
  });

  it('a queued job aborted before it starts is rejected at once and never runs', async () => {
    const p = pool(1);
    const busy = p.run({ op: 'sleep', ms: 100 });
    const ac = new AbortController();
    const queued = p.run({ op: 'sleep', ms: 5 }, { signal: ac.signal });
    assert.equal(p.queued, 1);
    ac.abort(new SystemError('never mind'));
    await assert.rejects(queued, /never mind/);
    assert.equal(p.queued, 0);
    await busy;
    await assert.rejects(p.run({ op: 'sleep' }, { signal: ac.signal }), /never mind/);
  });

  it('warm() starts threads ahead of jobs, within the size, and jobs then use them', async () => {
    const p = pool(2);
    p.warm(5);
    assert.equal(p.threads, 2);
    assert.equal(p.running, 0);
    const [a, b] = await Promise.all([p.run({ op: 'sleep', ms: 30 }), p.run({ op: 'sleep', ms: 30 })]);
    assert.notEqual(a?.thread, b?.thread);
    assert.equal(p.threads, 2);
  });

  it('a thread that ends says its memory was released (for the idle trim)', async () => {
    const p = pool(1, { idleMs: 20 });
    await p.run({ op: 'sleep', ms: 5 });
    takeMemoryReleased();
    let released = false;
    for (let i = 0; i < 100 && !released; i++) {
      await new Promise((r) => setTimeout(r, 20));
      released = takeMemoryReleased();
    }
    assert.equal(released, true);
    await p.close();
  });

  it('idle threads end by themselves; close() fails waiting and running jobs', async () => {
    const p = pool(1, { idleMs: 50 });
    await p.run({ op: 'sleep', ms: 5 });
    assert.equal(p.threads, 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(p.threads, 0);
    const a = p.run({ op: 'sleep', ms: 5000 });
    const b = p.run({ op: 'sleep', ms: 5 });
    const failed = Promise.all([assert.rejects(a, /closed/), assert.rejects(b, /closed/)]);
    await p.close();
    await failed;
    assert.equal(p.threads, 0);
  });
});
