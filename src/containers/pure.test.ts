import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSignal } from './signals.js';
import { canTransition, transition } from './stateMachine.js';
import { initialState, type ContainerRecord } from './types.js';
import { humanDuration, statusText } from './presenters.js';
import { parseGroup, parsePasswd } from './userLookup.js';

describe('parseSignal', () => {
  it('reads names with or without SIG, and numbers', () => {
    assert.equal(parseSignal('SIGTERM'), 15);
    assert.equal(parseSignal('kill'), 9);
    assert.equal(parseSignal('2'), 2);
  });
  it('refuses unknown signals', () => {
    assert.throws(() => parseSignal('SIGNOPE'), /Invalid signal: SIGNOPE/);
    assert.throws(() => parseSignal('99'), /Invalid signal/);
  });
});

describe('container state machine', () => {
  it('allows the lifecycle moves and refuses the illegal ones with a conflict', () => {
    assert.ok(canTransition('created', 'running'));
    assert.ok(canTransition('running', 'exited'));
    assert.ok(canTransition('exited', 'running'));
    assert.equal(canTransition('removing', 'running'), false);
    const running = transition(initialState(), 'running', '/x');
    assert.equal(running.Running, true);
    assert.throws(() => transition(transition(running, 'removing', '/x'), 'running', '/x'), (e: Error & { kind?: string }) => e.kind === 'conflict');
  });
});

describe('status strings as docker ps shows them', () => {
  it('humanises durations like go-units', () => {
    assert.equal(humanDuration(500), 'Less than a second');
    assert.equal(humanDuration(1000), '1 second');
    assert.equal(humanDuration(45_000), '45 seconds');
    assert.equal(humanDuration(70_000), 'About a minute');
    assert.equal(humanDuration(5 * 60_000), '5 minutes');
    assert.equal(humanDuration(3600_000), 'About an hour');
    assert.equal(humanDuration(3 * 86400_000), '3 days');
  });
  it('writes Up / Exited (code) … ago / Created', () => {
    const now = Date.parse('2026-01-01T00:01:00Z');
    const base = { State: initialState() } as ContainerRecord;
    assert.equal(statusText(base, now), 'Created');
    const up = { State: { ...transition(initialState(), 'running', '/x'), StartedAt: '2026-01-01T00:00:50Z' } } as ContainerRecord;
    assert.equal(statusText(up, now), 'Up 10 seconds');
    const ex = { State: { ...initialState(), Status: 'exited', ExitCode: 3, StartedAt: '2026-01-01T00:00:00Z', FinishedAt: '2026-01-01T00:00:58Z' } } as ContainerRecord;
    assert.equal(statusText(ex, now), 'Exited (3) 2 seconds ago');
  });
});

describe('passwd and group parsing', () => {
  it('skips comments and malformed lines', () => {
    assert.deepEqual(parsePasswd(['# c', 'root:x:0:0:root:/root:/bin/sh', 'bad', 'u:x:zz:1::/h:/bin/sh']), [{ name: 'root', uid: 0, gid: 0, home: '/root' }]);
    assert.deepEqual(parseGroup(['wheel:x:10:a,b', 'x']), [{ name: 'wheel', gid: 10, members: ['a', 'b'] }]);
  });
});

describe('goTimeJSON', () => {
  it("formats as Go's time.Time JSON: RFC3339Nano, no trailing zeros", async () => {
    const { goTimeJSON } = await import('./archive.js');
    assert.equal(goTimeJSON(0n), '1970-01-01T00:00:00Z');
    assert.equal(goTimeJSON(1_700_000_000_120_000_000n), '2023-11-14T22:13:20.12Z');
    assert.equal(goTimeJSON(1_700_000_000_000_000_001n), '2023-11-14T22:13:20.000000001Z');
  });
});
