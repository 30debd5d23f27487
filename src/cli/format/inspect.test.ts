import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indentJSON } from './inspect.js';

describe('indentJSON', () => {
  it('indents like json.Indent with four spaces, keeping scalars and key order as sent', () => {
    const raw = '[{"Id":"a","Size":12345678901234567890,"Tags":[],"Cfg":{},"S":"x\\"y{,}","L":[1,2]}]';
    assert.equal(
      indentJSON(raw),
      '[\n    {\n        "Id": "a",\n        "Size": 12345678901234567890,\n        "Tags": [],\n        "Cfg": {},\n        "S": "x\\"y{,}",\n        "L": [\n            1,\n            2\n        ]\n    }\n]',
    );
  });
});
