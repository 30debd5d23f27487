import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trash } from './trash.js';

describe('util/trash', () => {
  let base: string;
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'berth-trash-'));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  function tree(name: string): string {
    const d = join(base, name);
    mkdirSync(join(d, 'a', 'b'), { recursive: true });
    writeFileSync(join(d, 'a', 'b', 'f'), 'x');
    writeFileSync(join(d, 'g'), 'y');
    return d;
  }

  it('discard frees the path at once and deletes the tree in the background', async () => {
    const t = new Trash(join(base, 'trash1'));
    const d = tree('one');
    await t.discard(d);
    assert.equal(existsSync(d), false);
    await t.settle();
    assert.deepEqual(readdirSync(t.dir), []);
    // The same name can be made and discarded again right away.
    await t.discard(tree('one'));
    await t.settle();
    assert.equal(existsSync(join(base, 'one')), false);
    assert.deepEqual(readdirSync(t.dir), []);
  });

  it('discard of a missing path is a no-op', async () => {
    const t = new Trash(join(base, 'trash2'));
    await t.discard(join(base, 'nothing-here'));
    await t.settle();
    assert.deepEqual(readdirSync(t.dir), []);
  });

  it('where the tree cannot be moved into the trash it is deleted in place before discard resolves', async () => {
    writeFileSync(join(base, 'not-a-dir'), '');
    const t = new Trash(join(base, 'not-a-dir', 'trash'));
    const d = tree('two');
    await t.discard(d);
    assert.equal(existsSync(d), false);
  });

  it('sweep deletes what an earlier daemon left in the trash', async () => {
    const dir = join(base, 'trash3');
    mkdirSync(join(dir, 'left-1', 'x'), { recursive: true });
    writeFileSync(join(dir, 'left-2'), 'z');
    const t = new Trash(dir);
    t.sweep();
    await t.settle();
    assert.deepEqual(readdirSync(dir), []);
    // A missing trash directory is nothing to sweep.
    const none = new Trash(join(base, 'no-trash'));
    none.sweep();
    await none.settle();
  });
});
