import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../metadata/db.js';
import { ContainerStore } from './containerStore.js';
import type { ContainerRecord } from './types.js';

function record(id: string, name: string, created: string): ContainerRecord {
  return { Id: id, Name: name, Created: created, Image: 'sha256:img', Config: { Labels: { n: name } }, State: { Status: 'created' } } as unknown as ContainerRecord;
}

describe('ContainerStore.listView()', () => {
  let dir: string;
  let db: Db;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-cstore-'));
    db = openDatabase(join(dir, 'berth.db'));
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists newest first, follows inserts, updates, renames and deletes, and matches list()', () => {
    const s = new ContainerStore(db);
    s.insert(record('a'.repeat(64), '/one', '2026-01-01T00:00:01.000Z'));
    s.insert(record('b'.repeat(64), '/two', '2026-01-01T00:00:02.000Z'));
    assert.deepEqual(s.listView().map((c) => c.Name), ['/two', '/one']);
    // Writes after the first list go through the cache.
    s.insert(record('c'.repeat(64), '/three', '2026-01-01T00:00:03.000Z'));
    const one = s.get('a'.repeat(64)) as ContainerRecord;
    one.Name = '/uno';
    one.State.Status = 'exited';
    s.rename(one);
    s.delete('b'.repeat(64));
    const view = s.listView();
    assert.deepEqual(view.map((c) => [c.Name, c.State.Status]), [['/three', 'created'], ['/uno', 'exited']]);
    assert.deepEqual(JSON.parse(JSON.stringify(view)), s.list());
    // A failed insert (name taken) leaves the cache alone.
    assert.throws(() => s.insert(record('d'.repeat(64), '/three', '2026-01-01T00:00:04.000Z')), /already in use/);
    assert.equal(s.listView().length, 2);
  });

  it('hands out frozen views, so a reader cannot change what others see', () => {
    const s = new ContainerStore(db);
    const [first] = s.listView();
    assert.ok(first);
    assert.throws(() => {
      (first.State as { Status: string }).Status = 'running';
    }, TypeError);
    assert.throws(() => {
      (first.Config.Labels as Record<string, string>).x = 'y';
    }, TypeError);
    // get() still returns the caller's own copy to change and save.
    const mine = s.get(first.Id) as ContainerRecord;
    mine.State.Status = 'running';
    assert.notEqual(s.listView()[0]?.State.Status, 'running');
  });
});
