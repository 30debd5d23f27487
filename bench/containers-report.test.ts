import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BEGIN, END, TITLE, roundRatios, splice } from './containers-report.js';

const MINE = (n: number): string => [TITLE, BEGIN, `tables ${n}`, '<!-- containers-analysis:begin -->', 'kept', '<!-- containers-analysis:end -->', '', END].join('\n');
const THEIRS = ['## Pull and push', '<!-- pull-push:begin -->', 'their tables', '<!-- pull-push:end -->'].join('\n');

test('splice replaces its own section in place and leaves the others byte for byte', () => {
  const file = `# berth benchmark results\n\n${THEIRS}\n\n${MINE(1)}\n`;
  assert.equal(splice(file, MINE(2)), `# berth benchmark results\n\n${THEIRS}\n\n${MINE(2)}\n`);
  assert.equal(splice(`# berth benchmark results\n\n${THEIRS}\n`, MINE(1)), `# berth benchmark results\n\n${THEIRS}\n\n${MINE(1)}\n`);
});

test('roundRatios pairs the two daemons of each round (dockerd ÷ berthd) and skips unpaired rounds', () => {
  const loops = [
    { daemon: 'berthd', round: '0', us: 100, load: 1 },
    { daemon: 'dockerd', round: '0', us: 300, load: 1 },
    { daemon: 'dockerd', round: '1', us: 200, load: 1 },
    { daemon: 'berthd', round: '1', us: 100, load: 1 },
    { daemon: 'berthd', round: '2', us: 100, load: 1 },
  ];
  assert.deepEqual(roundRatios(loops), [3, 2]);
});
