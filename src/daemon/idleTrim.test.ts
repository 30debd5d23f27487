// The idle trim's timing rules with a CPU clock the test moves: a trim after busy seconds once a
// quiet one comes, and after a bulk release (util/memoryReleased) even when nothing was busy; the
// heap reduction before it only after enough work or a release; start-up counted as busy.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { memoryReleased, takeMemoryReleased } from '../util/memoryReleased.js';
import { startIdleTrim, type IdleTrim } from './idleTrim.js';

const TICK = 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Waits until `cond` holds (a busy test machine may delay the ticks), at most 5 s. */
async function until(cond: () => boolean): Promise<void> {
  for (const end = Date.now() + 5000; !cond() && Date.now() < end; ) await sleep(TICK);
}
/** A trim comes, and no second one follows it. */
async function expectOneTrim(trims: () => number): Promise<void> {
  await until(() => trims() > 0);
  await sleep(TICK * 5);
  assert.equal(trims(), 1);
}

describe('startIdleTrim', () => {
  let running: IdleTrim | null = null;
  afterEach(() => {
    running?.stop();
    running = null;
    takeMemoryReleased();
  });

  /**
   * A trim timer over a fake clock: `busy(µs)` adds CPU time once; `loaded(true)` makes every
   * reading of the clock 20 ms later than the one before (each interval busy).
   */
  const start = (
    startUpWasBusy = false,
  ): { trims: () => number; reductions: () => number; busy: (us: number) => void; loaded: (on: boolean) => void } => {
    let cpu = 0;
    let trims = 0;
    let reductions = 0;
    let load = false;
    running = startIdleTrim(TICK, {
      cpuUsage: () => {
        if (load) cpu += 20_000;
        return { user: cpu, system: 0 };
      },
      trim: async () => {
        trims++;
        return true;
      },
      reduceHeap: () => {
        reductions++;
      },
      startUpWasBusy,
    });
    return { trims: () => trims, reductions: () => reductions, busy: (us) => (cpu += us), loaded: (on) => (load = on) };
  };

  it('does nothing while the daemon stays quiet', async () => {
    takeMemoryReleased();
    const t = start();
    await sleep(TICK * 8);
    assert.equal(t.trims(), 0);
  });

  it('trims in the first quiet interval after busy ones, once', async () => {
    const t = start();
    t.busy(60_000);
    await expectOneTrim(t.trims);
  });

  it('trims after a bulk release although nothing was busy', async () => {
    takeMemoryReleased();
    const t = start();
    await sleep(TICK * 3);
    assert.equal(t.trims(), 0);
    memoryReleased();
    await expectOneTrim(t.trims);
  });

  it('never trims in a busy interval: a release then waits for the first quiet one', async () => {
    takeMemoryReleased();
    const t = start();
    t.loaded(true);
    memoryReleased();
    await sleep(TICK * 5);
    const whileBusy = t.trims();
    t.loaded(false);
    assert.equal(whileBusy, 0);
    await expectOneTrim(t.trims);
  });

  it('start-up counts as busy: the first quiet interval trims and reduces the heap, once', async () => {
    takeMemoryReleased();
    const t = start(true);
    await expectOneTrim(t.trims);
    assert.equal(t.reductions(), 1);
  });

  it('reduces the heap only after 200 ms of work since the last reduction, or after a bulk release', async () => {
    takeMemoryReleased();
    const t = start();
    t.busy(120_000);
    await expectOneTrim(t.trims);
    assert.equal(t.reductions(), 0, '120 ms of work: a trim without a heap reduction');
    t.busy(90_000);
    await until(() => t.trims() === 2);
    assert.equal(t.reductions(), 1, '210 ms since the last reduction: both');
    t.busy(60_000);
    await until(() => t.trims() === 3);
    assert.equal(t.reductions(), 1);
    memoryReleased();
    await until(() => t.trims() === 4);
    assert.equal(t.reductions(), 2, 'a bulk release: both');
  });
});
