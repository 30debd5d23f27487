import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { JSONMessageError } from './errors.js';
import { JSONLineSplitter, readJSONMessages } from './jsonMessages.js';

describe('JSONLineSplitter', () => {
  it('splits CRLF-terminated messages arriving in arbitrary pieces, multi-byte characters included', () => {
    const text = '{"status":"Pulling fs layer","id":"a1"}\r\n{"status":"héllo"}\r\n\r\n{"stream":"x\\n"}';
    const bytes = Buffer.from(text);
    const s = new JSONLineSplitter();
    const got = [];
    for (let i = 0; i < bytes.length; i += 3) got.push(...s.push(bytes.subarray(i, i + 3)));
    got.push(...s.end());
    assert.deepEqual(got, [{ status: 'Pulling fs layer', id: 'a1' }, { status: 'héllo' }, { stream: 'x\n' }]);
  });
});

describe('readJSONMessages', () => {
  it('yields messages before an errorDetail and then throws its message', async () => {
    const src = Readable.from([
      Buffer.from('{"status":"Downloading"}\n{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n{"status":"never"}\n'),
    ]);
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const m of readJSONMessages(src)) seen.push(m.status ?? '');
      })(),
      (e: unknown) => e instanceof JSONMessageError && e.message === 'manifest unknown',
    );
    assert.deepEqual(seen, ['Downloading']);
  });

  it('passes error messages through when asked not to throw', async () => {
    const src = Readable.from([Buffer.from('{"error":"legacy only"}\n')]);
    const all = [];
    for await (const m of readJSONMessages(src, { throwOnError: false })) all.push(m);
    assert.deepEqual(all, [{ error: 'legacy only' }]);
  });
});
