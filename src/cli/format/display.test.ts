import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayablePorts, ellipsis, goQuote, truncateID } from './display.js';

describe('display helpers', () => {
  it('truncates IDs to 12 characters without the algorithm', () => {
    assert.equal(truncateID('sha256:5e5bf6ff6f5b3ee17be2c8de07'), '5e5bf6ff6f5b');
    assert.equal(truncateID('abc'), 'abc');
  });

  it('cuts a command to 20 columns with an ellipsis and quotes it like Go', () => {
    assert.equal(goQuote(ellipsis("sh -c 'exit 3'", 20)), `"sh -c 'exit 3'"`);
    assert.equal(goQuote(ellipsis('sh -c echo out; echo err >&2; exit 3', 20)), '"sh -c echo out; ech…"');
    assert.equal(goQuote('a"b\\c\n\t\x01'), '"a\\"b\\\\c\\n\\t\\x01"');
  });

  it('collapses port ranges and lists host mappings last', () => {
    assert.equal(
      displayablePorts([
        { PrivatePort: 9988, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { PrivatePort: 6000, Type: 'tcp' },
        { PrivatePort: 6001, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 443, PublicPort: 443, Type: 'tcp' },
      ]),
      '6000-6001/tcp, 0.0.0.0:443->443/tcp, 9988/tcp, 0.0.0.0:8080->80/tcp',
    );
    assert.equal(displayablePorts(null), '');
  });
});
