import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ESCAPE_KEYS, EscapeProxy, detachKeysToBytes } from './hijack.js';

describe('detach keys', () => {
  it('parses ctrl- names and single characters like moby/term', () => {
    assert.deepEqual(detachKeysToBytes('ctrl-p,ctrl-q'), DEFAULT_ESCAPE_KEYS);
    assert.deepEqual(detachKeysToBytes('ctrl-@,ctrl-[,ctrl-_,a'), [0, 27, 31, 97]);
    assert.throws(() => detachKeysToBytes('ctrl-1'), /Unknown character: 'ctrl-1'/);
  });

  it('swallows the full sequence typed key by key and detaches', () => {
    const p = new EscapeProxy(DEFAULT_ESCAPE_KEYS);
    assert.deepEqual(p.feed(Buffer.from([16])), { out: Buffer.alloc(0), detached: false });
    assert.deepEqual(p.feed(Buffer.from([17])), { out: Buffer.alloc(0), detached: true });
  });

  it('forwards a partial sequence followed by another key', () => {
    const p = new EscapeProxy(DEFAULT_ESCAPE_KEYS);
    p.feed(Buffer.from([16]));
    assert.deepEqual(p.feed(Buffer.from('x')), { out: Buffer.from([16, 120]), detached: false });
    assert.deepEqual(p.feed(Buffer.from([16, 16, 120])), { out: Buffer.from([16, 16, 120]), detached: false });
  });

  it('finds the sequence inside one read (a paste, tmux) and forwards what came before it', () => {
    const p = new EscapeProxy(DEFAULT_ESCAPE_KEYS);
    assert.deepEqual(p.feed(Buffer.from([16, 17])), { out: Buffer.alloc(0), detached: true });
    assert.deepEqual(p.feed(Buffer.from([97, 16, 16, 17, 98])), { out: Buffer.from([97, 16]), detached: true });
    assert.deepEqual(p.feed(Buffer.from([97, 16])), { out: Buffer.from([97]), detached: false });
    assert.deepEqual(p.feed(Buffer.from([17])), { out: Buffer.alloc(0), detached: true });
  });
});
