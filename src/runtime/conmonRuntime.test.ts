import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeCreateError, dockerExitCodeFor, parseRuncError } from './conmonRuntime.js';

describe('parseRuncError', () => {
  it('extracts and unquotes the msg of runc’s logrus error line', () => {
    const raw =
      'time="2026-11-28T08:46:17Z" level=error msg="runc create failed: unable to start container process: exec: \\"nosuch\\": executable file not found in $PATH"\n';
    assert.equal(
      parseRuncError(raw),
      'runc create failed: unable to start container process: exec: "nosuch": executable file not found in $PATH',
    );
  });

  it('takes the last error line and falls back to the plain text', () => {
    const raw = 'time="x" level=warning msg="w"\ntime="x" level=error msg="first"\ntime="x" level=error msg="second"\n';
    assert.equal(parseRuncError(raw), 'second');
    assert.equal(parseRuncError('  plain failure\n'), 'plain failure');
  });
});

describe('RuntimeCreateError', () => {
  it('carries runc’s message and Docker’s exit code: 127 not found, 126 not executable', () => {
    const e = new RuntimeCreateError('exec: "nosuch": executable file not found in $PATH', 'raw');
    assert.equal(e.runtimeMessage, 'exec: "nosuch": executable file not found in $PATH');
    assert.match(e.message, /OCI runtime create failed: exec: "nosuch"/);
    assert.equal(e.exitCode, 127);
    assert.equal(e.kind, 'system');
    assert.equal(dockerExitCodeFor('exec: "/noexec": permission denied'), 126);
    assert.equal(dockerExitCodeFor('something else'), undefined);
  });
});
