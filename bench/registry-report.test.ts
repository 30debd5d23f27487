import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render, splice } from './registry-report.js';

const RUN = {
  kind: 'run', date: '2026-01-01T00:00Z', cpu: 'cpu', cores: '2', memGb: '24', kernel: 'k', node: 'v20', skopeo: '1.9.3',
  distribution: '2.8.2', rev: 'abc', baseline: '', loadBefore: '1 1 1', loadAfter: '2 2 2', busyPct: 50, elapsedS: 100,
  sizeMb: 200, bytes: 209715200, digest: `sha256:${'a'.repeat(64)}`, rounds: 2, secs: 10, concurrency: 32, command: 'bash bench/registry.sh',
};
const RAW = [
  ...['berth', 'distribution'].flatMap((server, i) => [
    { kind: 'idle', server, rssMb: 50 - i * 30, privMb: 14 - i * 7 },
    { kind: 'push', server, round: 1, s: 2 + i, cpuS: 1 },
    { kind: 'push', server, round: 2, s: 4 + i, cpuS: 1 },
    { kind: 'pull', server, round: 1, s: 1, cpuS: 0.2 },
    { kind: 'pull', server, round: 2, s: 1, cpuS: 0.4 },
    { kind: 'copyPeak', server, round: 1, rssMb: 70 },
    { kind: 'load', server, method: 'GET', cpuS: 5, result: { requests: 50000, errors: 0, rps: 5000, p50ms: 1, p99ms: 9 } },
    { kind: 'load', server, method: 'HEAD', cpuS: 5, result: { requests: 60000, errors: 1, rps: 6000, p50ms: 1, p99ms: 9 } },
    { kind: 'loadPeak', server, rssMb: 80 },
  ]),
  RUN,
]
  .map((r) => JSON.stringify(r))
  .join('\n');

test('render: medians with all samples, requests per CPU second, berth as a share of distribution; keeps the analysis', () => {
  const old = '<!-- registry:begin -->\nold table\n<!-- registry-analysis:begin -->\nmy notes\n<!-- registry-analysis:end -->\n';
  const s = render(RAW, old);
  assert.match(s, /^## Registry: berth registry vs distribution\n<!-- registry:begin -->/);
  assert.match(s, /\| push, wall s — median \(all 2\) \| 3\.00 \(2\.00 4\.00\) \| 4\.00 \(3\.00 5\.00\) \| 75 % \|/);
  assert.match(s, /\| manifest GET requests per server CPU second \| 10000 \| 10000 \| 100 % \|/);
  assert.match(s, /\| load errors \(non-200\) \| 1 \| 1 \|  \|/);
  assert.match(s, /\| private memory idle, MB \(median\) \| 14\.0 \| 7\.0 \| 200 % \|/);
  assert.match(s, /\| private memory after push \+ pull, MB \(max of rounds\) \| — \| — \| — \|/);
  assert.match(s, /load average 1 1 1 before, 2 2 2 after; the CPUs were 50 % busy/);
  assert.match(s, /<!-- registry-analysis:begin -->\nmy notes\n<!-- registry-analysis:end -->\n\n<!-- registry:end -->$/);
  assert.throws(() => render('', ''), /did not finish/);
});

test('splice replaces its own section in place and leaves the others byte for byte, or appends it', () => {
  const theirs = '## Pull and push\n<!-- pull-push:begin -->\nx\n<!-- pull-push:end -->';
  const mine = (n: number): string => `## Registry: berth registry vs distribution\n<!-- registry:begin -->\n${n}\n<!-- registry:end -->`;
  const file = `# results\n\n${mine(1)}\n\n${theirs}\n`;
  assert.equal(splice(file, mine(2)), `# results\n\n${mine(2)}\n\n${theirs}\n`);
  assert.equal(splice(`# results\n\n${theirs}\n`, mine(1)), `# results\n\n${theirs}\n\n${mine(1)}\n`);
});
