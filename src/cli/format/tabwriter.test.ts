import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tabwriter, formatTable } from './tabwriter.js';

describe('Tabwriter', () => {
  it('pads columns to max(10, widest+3) and leaves the last column unpadded', () => {
    const out = formatTable([
      ['CONTAINER ID', 'IMAGE', 'PORTS', 'NAMES'],
      ['3448fd724dac', 'busybox', '', 'practical_sammet'],
    ]);
    assert.equal(out, 'CONTAINER ID   IMAGE     PORTS     NAMES\n3448fd724dac   busybox             practical_sammet\n');
  });

  it('counts code points, so an ellipsis is one column', () => {
    const out = formatTable([
      ['COMMAND', 'X'],
      ['"sh -c echo out; ech…"', 'y'],
    ]);
    // 22 code points + 3 padding = 25 columns.
    assert.equal(out.split('\n')[0], `COMMAND${' '.repeat(18)}X`);
  });

  it('aligns blocks separately around lines without tabs, as Go does', () => {
    const tw = new Tabwriter({ minwidth: 20, tabwidth: 1, padding: 1, padchar: ' ' });
    tw.write('Client:\n Version:\t1\n API version:\t1.51\n\nServer:\n Engine:\n  Version:\t2\n');
    assert.equal(
      tw.flush(),
      'Client:\n Version:           1\n API version:       1.51\n\nServer:\n Engine:\n  Version:          2\n',
    );
  });
});
