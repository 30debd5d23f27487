import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitWatcher, parseExitFile, type ExitInfo } from './exitWatcher.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-exits-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * The next exit of `id`. The watcher holds no ref on the event loop (the daemon's server does), so
 * the guard timer keeps the test process alive for the re-scans, and fails a lost exit clearly.
 */
function nextExit(w: ExitWatcher, id: string): Promise<ExitInfo> {
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      w.off('exit', on);
      reject(new Error(`no exit reported for ${id} within 10 s`));
    }, 10_000);
    const on = (got: string, info: ExitInfo): void => {
      if (got !== id) return;
      clearTimeout(guard);
      w.off('exit', on);
      resolve(info);
    };
    w.on('exit', on);
  });
}

describe('parseExitFile', () => {
  it('accepts a complete number and maps conmon’s -1 to 255', () => {
    assert.equal(parseExitFile('0'), 0);
    assert.equal(parseExitFile('137\n'), 137);
    assert.equal(parseExitFile('-1'), 255);
    assert.equal(parseExitFile(''), null);
    assert.equal(parseExitFile('13x'), null);
  });
});

describe('ExitWatcher', () => {
  it('reports an exit file written the way conmon writes it (temp file + rename), once, with oomKilled from the persist dir', async () => {
    const exits = join(dir, 'e1');
    const persist = join(dir, 'p1');
    await mkdir(persist, { recursive: true });
    const w = new ExitWatcher(exits, { persistDirFor: (id) => (id === 'ctr-a' ? persist : undefined), rescanMs: 100 });
    const seen: string[] = [];
    w.on('exit', (id) => seen.push(id));
    await w.start();
    try {
      const got = nextExit(w, 'ctr-a');
      await writeFile(join(persist, 'oom'), '');
      // conmon's temp name has a dot: never reported as a container.
      await writeFile(join(exits, 'ctr-a.AB12CD'), '137');
      await rename(join(exits, 'ctr-a.AB12CD'), join(exits, 'ctr-a'));
      const info = await got;
      assert.equal(info.exitCode, 137);
      assert.equal(info.oomKilled, true);
      assert.equal(info.exitedAt.getTime(), (await stat(join(exits, 'ctr-a'))).mtime.getTime());
      await new Promise((r) => setTimeout(r, 300)); // two re-scans
      assert.deepEqual(seen, ['ctr-a']);
    } finally {
      w.close();
    }
  });

  it('waits for a file written in pieces to be complete', async () => {
    const exits = join(dir, 'e2');
    const w = new ExitWatcher(exits, { rescanMs: 50 });
    await w.start();
    try {
      const got = nextExit(w, 'b');
      await writeFile(join(exits, 'b'), '');
      await new Promise((r) => setTimeout(r, 120));
      await writeFile(join(exits, 'b'), '3');
      assert.equal((await got).exitCode, 3);
    } finally {
      w.close();
    }
  });

  it('reports files that were already there at start (exits while the daemon was down), and readExit reads them', async () => {
    const exits = join(dir, 'e3');
    await mkdir(exits, { recursive: true });
    await writeFile(join(exits, 'old'), '143');
    const w = new ExitWatcher(exits);
    const got = nextExit(w, 'old');
    await w.start();
    try {
      assert.equal((await got).exitCode, 143);
      assert.deepEqual(await w.readExit('old').then((i) => i?.exitCode), 143);
      assert.equal(await w.readExit('never'), null);
      assert.equal((await w.readExit('old'))?.oomKilled, false);
    } finally {
      w.close();
    }
  });

  it('does not report an exit it read before remove() once remove() has run (restart race)', async () => {
    const exits = join(dir, 'e5');
    const w = new ExitWatcher(exits, { rescanMs: 60_000 });
    await w.start();
    try {
      const seen: number[] = [];
      w.on('exit', (_id, info) => seen.push(info.exitCode));
      await writeFile(join(exits, 's'), '137');
      for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(seen, [137]);
      // A second look at the same file (another fs event) right before the daemon removes it.
      const priv = w as unknown as { checkNow(id: string): Promise<void> | void };
      const late = priv.checkNow('s');
      await w.remove('s');
      await late;
      assert.deepEqual(seen, [137], 'the handled exit is not reported again');
    } finally {
      w.close();
    }
  });

  it('reports the same id again after remove() and a new exit', async () => {
    const exits = join(dir, 'e4');
    const w = new ExitWatcher(exits, { rescanMs: 50 });
    await w.start();
    try {
      let got = nextExit(w, 'r');
      await writeFile(join(exits, 'r'), '1');
      assert.equal((await got).exitCode, 1);
      await w.remove('r');
      got = nextExit(w, 'r');
      await writeFile(join(exits, 'r'), '2');
      assert.equal((await got).exitCode, 2);
    } finally {
      w.close();
    }
  });
});
