import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PassThrough, Readable } from 'node:stream';
import { displayJSONMessages, progressString } from './jsonDisplay.js';

describe('displayJSONMessages', () => {
  it('prints statuses and ids and hides progress bars off a terminal', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const src = Readable.from([
      '{"status":"Pulling from library/busybox","id":"latest"}\r\n',
      '{"status":"Pulling fs layer","progressDetail":{},"id":"a1"}\r\n',
      '{"status":"Downloading","progressDetail":{"current":10,"total":100},"progress":"[=>  ]","id":"a1"}\r\n',
      '{"status":"sha256:abc"}\r\n',
    ]);
    await displayJSONMessages(src, out);
    assert.equal(text, 'latest: Pulling from library/busybox\na1: Pulling fs layer\nsha256:abc\n');
  });

  it('stops at an error message with its text', async () => {
    const out = new PassThrough();
    out.resume();
    const src = Readable.from(['{"status":"x"}\n{"errorDetail":{"message":"boom"},"error":"boom"}\n']);
    await assert.rejects(displayJSONMessages(src, out), /boom/);
  });
});

describe('progressString', () => {
  it('draws docker progress bars on wide terminals', () => {
    assert.equal(progressString({ current: 50, total: 100 }, 200), `[${'='.repeat(25)}>${' '.repeat(25)}]      50B/100B`);
    assert.equal(progressString({ current: 5, total: 0 }, 80), '      5B');
    assert.equal(progressString({}, 80), '');
  });
});
