import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splice } from './report.js';

const MINE = (n: number): string =>
  [
    '## Container start latency',
    '<!-- start-latency:begin -->',
    `tables ${n}`,
    '<!-- start-latency-analysis:begin -->',
    'kept',
    '<!-- start-latency-analysis:end -->',
    '',
    '<!-- start-latency:end -->',
  ].join('\n');
const THEIRS = ['## Pull and push', '<!-- pull-push:begin -->', 'their tables', '<!-- pull-push:end -->'].join('\n');

test('splice replaces its own section in place and leaves other sections byte for byte', () => {
  const file = `# berth benchmark results\n\nintro\n\n${MINE(1)}\n\n${THEIRS}\n`;
  const next = splice(file, MINE(2));
  assert.equal(next, `# berth benchmark results\n\nintro\n\n${MINE(2)}\n\n${THEIRS}\n`);
});

test('splice appends its section after the others when the file has none yet', () => {
  const file = `# berth benchmark results\n\n${THEIRS}\n`;
  assert.equal(splice(file, MINE(1)), `# berth benchmark results\n\n${THEIRS}\n\n${MINE(1)}\n`);
});

test('splice starts a new file, and replaces a file of the first version that owned it whole', () => {
  assert.match(splice('', MINE(1)), /^# berth benchmark results\n[\s\S]*## Container start latency\n/);
  const legacy = '# berth start-latency results\n\n## Machine\n<!-- analysis:begin -->\nx\n<!-- analysis:end -->\n';
  const next = splice(legacy, MINE(1));
  assert.ok(!next.includes('## Machine'));
  assert.ok(next.startsWith('# berth benchmark results'));
});
