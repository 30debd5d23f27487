import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReloadingFile } from './reloadingFile.js';

const parse = (text: string, src: string): string[] => {
  if (text.includes('!')) throw new Error(`${src}: bad`);
  return text.split('\n').filter((l) => l !== '');
};

describe('ReloadingFile', () => {
  it('picks up in-place edits and rename-replacements, keeps the last good version through a bad file or a deleted one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-reload-'));
    const path = join(dir, 'users');
    const logs: string[] = [];
    try {
      writeFileSync(path, 'a\n');
      const f = await ReloadingFile.load(path, parse, { what: 'test file', checkMs: 0, log: (l) => logs.push(l) });
      assert.deepEqual(await f.get(), ['a']);
      writeFileSync(path, 'a\nb\n');
      assert.deepEqual(await f.get(), ['a', 'b']);
      writeFileSync(join(dir, 'next'), 'c\n');
      renameSync(join(dir, 'next'), path);
      assert.deepEqual(await f.get(), ['c']);
      writeFileSync(path, 'c\n!\n');
      assert.deepEqual(await f.get(), ['c']);
      assert.deepEqual(await f.get(), ['c']);
      assert.equal(logs.filter((l) => l.includes('keeping the previous test file')).length, 1, logs.join('\n'));
      rmSync(path);
      assert.deepEqual(await f.get(), ['c']);
      writeFileSync(path, 'd\n');
      assert.deepEqual(await f.get(), ['d']);
      assert.ok(logs.some((l) => l === `registry: reloaded test file ${path}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('looks at the file at most every checkMs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-reload-'));
    const path = join(dir, 'f');
    try {
      writeFileSync(path, 'a\n');
      const f = await ReloadingFile.load(path, parse, { what: 'f', checkMs: 60_000 });
      writeFileSync(path, 'b\n');
      assert.deepEqual(await f.get(), ['a']);
      assert.deepEqual(await f.get(Date.now() + 61_000), ['b']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails at once when the first load fails, naming the file', async () => {
    await assert.rejects(ReloadingFile.load('/nonexistent/x', parse, { what: 'htpasswd file', checkMs: 0 }), /cannot read htpasswd file "\/nonexistent\/x"/);
  });
});
