import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideRestart, restartOnDaemonStart, validateRestartPolicy } from './restartPolicy.js';
import { mergeUpdate, validateUpdateBody } from './updateConfig.js';
import { logPolicy, normalizeLogConfig, parseLogSize } from './logConfig.js';
import { mergeEnv, validateExecConfig } from './execService.js';
import type { HostConfig } from './types.js';

const MiB = 1024 * 1024;

describe('restart policy decisions (moby restartmanager)', () => {
  const exit = { exitCode: 1, ranForMs: 100, manuallyStopped: false, restartCount: 0 };
  it('backs off 100 ms, doubling to a minute, and resets after a 10 s run', () => {
    let d = decideRestart({ Name: 'always' }, exit, 0);
    assert.deepEqual(d, { restart: true, delayMs: 100 });
    d = decideRestart({ Name: 'always' }, exit, d.delayMs);
    assert.equal(d.delayMs, 200);
    assert.equal(decideRestart({ Name: 'always' }, exit, 40_000).delayMs, 60_000);
    assert.equal(decideRestart({ Name: 'always' }, exit, 60_000).delayMs, 60_000);
    assert.equal(decideRestart({ Name: 'always' }, { ...exit, ranForMs: 10_000 }, 60_000).delayMs, 100);
  });
  it('restarts on-failure only for a non-zero exit and up to the maximum', () => {
    assert.equal(decideRestart({ Name: 'on-failure', MaximumRetryCount: 2 }, exit, 0).restart, true);
    assert.equal(decideRestart({ Name: 'on-failure', MaximumRetryCount: 2 }, { ...exit, restartCount: 2 }, 0).restart, false);
    assert.equal(decideRestart({ Name: 'on-failure' }, { ...exit, exitCode: 0 }, 0).restart, false);
    assert.equal(decideRestart({ Name: 'on-failure' }, { ...exit, restartCount: 99 }, 0).restart, true);
  });
  it('never restarts a stopped container, nor with no policy', () => {
    assert.equal(decideRestart({ Name: 'always' }, { ...exit, manuallyStopped: true }, 0).restart, false);
    assert.equal(decideRestart({ Name: 'no' }, exit, 0).restart, false);
    assert.equal(decideRestart(undefined, exit, 0).restart, false);
  });
  it('on daemon start: always even if stopped by hand, unless-stopped only if not', () => {
    const st = { exitCode: 0, manuallyStopped: true, restartCount: 0, wasRestarting: false };
    assert.equal(restartOnDaemonStart({ Name: 'always' }, st), true);
    assert.equal(restartOnDaemonStart({ Name: 'unless-stopped' }, st), false);
    assert.equal(restartOnDaemonStart({ Name: 'unless-stopped' }, { ...st, manuallyStopped: false }), true);
    assert.equal(restartOnDaemonStart({ Name: 'no' }, { ...st, manuallyStopped: false }), false);
  });
  it('refuses unknown policies and misplaced retry counts with moby wording', () => {
    assert.throws(() => validateRestartPolicy({ Name: 'sometimes' as 'no' }), /invalid restart policy: unknown policy 'sometimes'/);
    assert.throws(() => validateRestartPolicy({ Name: 'always', MaximumRetryCount: 3 }), /maximum retry count can only be used with 'on-failure'/);
    assert.throws(() => validateRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -1 }), /cannot be negative/);
  });
});

describe('container update (moby UpdateContainer)', () => {
  const base: HostConfig = { Memory: 64 * MiB, MemorySwap: 128 * MiB, PidsLimit: 0 };
  it('changes only the fields given and keeps the rest', () => {
    const out = mergeUpdate(base, validateUpdateBody({ Memory: 32 * MiB, PidsLimit: 10, CpusetCpus: '0', RestartPolicy: { Name: 'always' } }));
    assert.equal(out.Memory, 32 * MiB);
    assert.equal(out.MemorySwap, 128 * MiB);
    assert.equal(out.PidsLimit, 10);
    assert.equal(out.CpusetCpus, '0');
    assert.deepEqual(out.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
    assert.equal(base.Memory, 64 * MiB);
  });
  it('refuses bad values with Docker’s messages', () => {
    assert.throws(() => mergeUpdate(base, { Memory: MiB }), /Minimum memory limit allowed is 6MB/);
    assert.throws(() => mergeUpdate({}, { Memory: 32 * MiB }), /update the memoryswap at the same time/);
    assert.throws(() => mergeUpdate(base, { NanoCpus: 1e15 }), /Range of CPUs is from 0.01 to/);
    assert.throws(() => mergeUpdate(base, { CpusetCpus: 'x' }), /Invalid value x for cpuset cpus/);
    assert.throws(() => mergeUpdate({ AutoRemove: true }, { RestartPolicy: { Name: 'always' } }), /AutoRemove is enabled/);
    assert.throws(() => validateUpdateBody({ Memory: 'lots' }), /Memory must be a number/);
  });
});

describe('log options', () => {
  it('fills the daemon defaults (rotation on) and reads them back as a policy', () => {
    const lc = normalizeLogConfig({ Type: '', Config: {} });
    assert.deepEqual(lc, { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
    assert.deepEqual(logPolicy(lc), { driver: 'json-file', maxSize: 10 * MiB, maxFile: 3 });
    assert.deepEqual(logPolicy(normalizeLogConfig({ Type: 'json-file', Config: { 'max-size': '100k' } })), { driver: 'json-file', maxSize: 100 * 1024, maxFile: 1 });
    assert.deepEqual(logPolicy(normalizeLogConfig({ Type: 'none' })), { driver: 'none', maxSize: -1, maxFile: 1 });
    assert.equal(parseLogSize('1.5m'), 1.5 * MiB);
    assert.equal(parseLogSize('-1'), -1);
  });
  it('refuses unknown drivers, options and sizes', () => {
    assert.throws(() => normalizeLogConfig({ Type: 'syslog' }), /no log driver named 'syslog'/);
    assert.throws(() => normalizeLogConfig({ Type: 'json-file', Config: { foo: '1' } }), /unknown log opt 'foo'/);
    assert.throws(() => normalizeLogConfig({ Type: 'json-file', Config: { 'max-size': '10x' } }), /invalid size/);
    assert.throws(() => normalizeLogConfig({ Type: 'json-file', Config: { 'max-size': '-1', 'max-file': '3' } }), /max-file cannot be set without max-size/);
    assert.throws(() => normalizeLogConfig({ Type: 'none', Config: { 'max-size': '1m' } }), /invalid logging opts for driver none/);
  });
});

describe('exec config', () => {
  it('needs a command and checks types', () => {
    assert.throws(() => validateExecConfig({}), /No exec command specified/);
    assert.throws(() => validateExecConfig({ Cmd: 'ls' }), /Cmd must be an array of strings/);
    assert.throws(() => validateExecConfig({ Cmd: ['ls'], WorkingDir: 'rel' }), /must be an absolute path/);
    assert.deepEqual(validateExecConfig({ Cmd: ['ls'], Tty: true }).Cmd, ['ls']);
  });
  it('merges env like Docker: same key replaced, new appended, bare key removed', () => {
    assert.deepEqual(mergeEnv(['A=1', 'B=2', 'C=3'], ['B=x', 'D=4', 'C']), ['A=1', 'B=x', 'D=4']);
  });
});

describe('top: ps output parsing (moby parsePSOutput)', () => {
  it('keeps the rows of the given PIDs and the spaces of the last column', async () => {
    const { parsePs } = await import('./statsService.js');
    const out = 'UID PID PPID C STIME TTY TIME CMD\nroot 10 1 0 10:00 ? 00:00:00 sh -c sleep 5\nroot 11 1 0 10:00 ? 00:00:00 other\n';
    assert.deepEqual(parsePs(out, new Set([10])), {
      Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
      Processes: [['root', '10', '1', '0', '10:00', '?', '00:00:00', 'sh -c sleep 5']],
    });
    assert.throws(() => parsePs('USER COMMAND\nx y\n', new Set([1])), /Couldn't find PID field/);
  });
});
