// COPY --chmod values: BuildKit's octal rule and chmod(1) symbolic modes
// (cases after dchapes-mode's mode_test.go, re-typed).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '../../errdefs/errors.js';
import { parseChmod, type Chmod } from './chmod.js';

function apply(spec: string, mode: number, isDir = false): number {
  const c: Chmod = parseChmod(spec);
  assert.equal(c.kind, 'symbolic');
  return c.kind === 'symbolic' ? c.apply(mode, isDir) : -1;
}

describe('chmod: --chmod values', () => {
  it('takes octal up to 07777', () => {
    assert.deepEqual(parseChmod('755'), { kind: 'octal', mode: 0o755 });
    assert.deepEqual(parseChmod('0644'), { kind: 'octal', mode: 0o644 });
    assert.deepEqual(parseChmod('7777'), { kind: 'octal', mode: 0o7777 });
    const msg = (v: string): string => `invalid chmod parameter: '${v}'. it should be octal string and between 0 and 07777`;
    for (const v of ['10000', '999', '0x1f', '7a']) assert.throws(() => parseChmod(v), { message: msg(v) }, v);
  });

  it('applies symbolic modes as chmod(1) does', () => {
    assert.equal(apply('u+x', 0o644), 0o744);
    assert.equal(apply('go-w', 0o666), 0o644);
    assert.equal(apply('a=r', 0o777), 0o444);
    assert.equal(apply('=rw,+X', 0o644), 0o666);
    assert.equal(apply('=rw,+X', 0o744), 0o777);
    assert.equal(apply('+X', 0o644, true), 0o755);
    assert.equal(apply('u=rwx,go=rx', 0), 0o755);
    assert.equal(apply('u=rwx,go=u-w', 0), 0o755);
    assert.equal(apply('go=', 0o777), 0o700);
    assert.equal(apply('g=u', 0o640), 0o660);
    assert.equal(apply('u+s,+t', 0o755), 0o5755);
    assert.equal(apply('o+t', 0o755), 0o755);
    assert.equal(apply('u+x-w', 0o644), 0o544);
  });

  it('refuses malformed symbolic modes', () => {
    for (const v of ['u', 'u+x,', 'q+x', 'u*x']) assert.throws(() => parseChmod(v), { message: 'invalid syntax' }, v);
    assert.throws(() => parseChmod('99999'), (err: unknown) => isInvalidArgument(err));
  });
});
