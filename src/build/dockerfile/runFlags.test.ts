// RUN --mount/--device parsing, re-typed from BuildKit's instructions tests
// (commands_runmount, commands_rundevice_test.go) and go-csvvalue's rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '../../errdefs/errors.js';
import { csvFields, parseDevice, parseMount, ramInBytes } from './runFlags.js';

const expand = (vars: Record<string, string>) => (w: string): string => w.replace(/\$(\w+)/g, (_, n: string) => vars[n] ?? '');

describe('runFlags: --mount', () => {
  it('defaults to a read-only bind mount and reads every key', () => {
    assert.deepEqual(parseMount('target=/src', expand({})), { type: 'bind', readOnly: true, required: false, target: '/src' });
    assert.deepEqual(parseMount('type=cache,target=/root/.cache,id=$ID,sharing=locked,mode=0700,uid=1,gid=2', expand({ ID: 'pip' })), {
      type: 'cache',
      readOnly: false,
      required: false,
      target: '/root/.cache',
      id: 'pip',
      sharing: 'locked',
      mode: 0o700,
      uid: 1,
      gid: 2,
    });
    assert.deepEqual(parseMount('type=secret,id=tok,env=TOKEN,required', expand({})), {
      type: 'secret',
      readOnly: true,
      required: true,
      id: 'tok',
      env: 'TOKEN',
    });
    assert.equal(parseMount('type=tmpfs,dst=/t,size=64m', expand({})).sizeLimit, 64 * 1024 * 1024);
    assert.equal(parseMount('type=bind,from=build,src=/out,target=/in,rw', expand({})).readOnly, false);
    assert.equal(parseMount('type=bind,target=/in,readonly=false', expand({})).readOnly, false);
    assert.deepEqual(parseMount('"type=bind","target=/a,b"', expand({})), { type: 'bind', readOnly: true, required: false, target: '/a,b' });
  });

  it('checks only from= at parse time (no expander)', () => {
    assert.doesNotThrow(() => parseMount('type=weird,foo=bar'));
    assert.doesNotThrow(() => parseMount('from=stage$'));
    assert.throws(() => parseMount('type=bind,from=$X'), { message: "'from' doesn't support variable expansion, define alias stage instead" });
  });

  it('refuses bad mounts with BuildKit’s messages', () => {
    const e = expand({});
    const cases: Array<[string, string]> = [
      ['type=tmp', 'unsupported mount type "tmp" (did you mean tmpfs?)'],
      ['type=cache,sharing=lockd', 'unsupported sharing value "lockd" (did you mean locked?)'],
      ['type=bind,target=/x,mode=0700', 'mode not allowed for "bind" type mounts'],
      ['type=tmpfs,target=/x,uid=1', 'uid not allowed for "tmpfs" type mounts'],
      ['type=bind,size=1m', "unexpected key 'size' for mount type 'bind'"],
      ['type=bind,required', "unexpected key 'required' for mount type 'bind'"],
      ['type=cache,target=/x,mode=9', 'invalid value 9 for mode'],
      ['type=cache,target=/x,uid=-1', 'invalid value -1 for uid'],
      ['type=bind,ro=maybe', 'invalid value for ro: maybe'],
      ['type=tmpfs,size=lots', 'invalid value for size: lots'],
      ['type=bind,bogus', "invalid field 'bogus' must be a key=value pair"],
      ['type=bind,targt=/x', "unexpected key 'targt' in 'targt=/x' (did you mean target?)"],
      ['type=secret', 'invalid secret mount. one of source, target required'],
      ['type=secret,id=a,src=b', "both source and id can't be set"],
      ['type=secret,id=a,from=b', 'secret mount should not have a from'],
      ['type=secret,id=a,sharing=shared', 'secret mount should not define sharing'],
      ['type=bind,sharing=shared', 'invalid cache sharing set for bind mount'],
      ['', 'failed to parse csv mounts: EOF'],
      ['type="bind', 'failed to parse csv mounts: parse error on line 1, column 6: bare " in non-quoted-field'],
      ['"type=bind"x', 'failed to parse csv mounts: parse error on line 1, column 11: extraneous or missing " in quoted-field'],
    ];
    for (const [v, msg] of cases) assert.throws(() => parseMount(v, e), { message: msg }, v);
    assert.throws(() => parseMount('type=nope', e), (err: unknown) => isInvalidArgument(err));
  });
});

describe('runFlags: --device (TestParseDevice)', () => {
  it('reads the name and required', () => {
    assert.deepEqual(parseDevice('/dev/fuse'), { name: '/dev/fuse', required: false });
    assert.deepEqual(parseDevice('vendor1.com/device=foo,required'), { name: 'vendor1.com/device=foo', required: true });
    assert.deepEqual(parseDevice('name=/dev/kvm,required=false'), { name: '/dev/kvm', required: false });
    assert.throws(() => parseDevice('/dev/a,name=/dev/b'), { message: 'device name already set to /dev/a' });
    assert.throws(() => parseDevice('/dev/a,foo'), { message: "invalid field 'foo' must be a key=value pair" });
    assert.throws(() => parseDevice('/dev/a,required=maybe'), { message: 'invalid value for required: maybe' });
  });
});

describe('runFlags: helpers', () => {
  it('splits CSV like encoding/csv', () => {
    assert.deepEqual(csvFields('a,b,,c'), ['a', 'b', '', 'c']);
    assert.deepEqual(csvFields('"a,b","c""d"'), ['a,b', 'c"d']);
    assert.deepEqual(csvFields('a\n'), ['a']);
  });
  it('reads sizes like go-units RAMInBytes', () => {
    assert.equal(ramInBytes('32'), 32);
    assert.equal(ramInBytes('32b'), 32);
    assert.equal(ramInBytes('32k'), 32 * 1024);
    assert.equal(ramInBytes('32 KiB'), 32 * 1024);
    assert.equal(ramInBytes('1.5g'), 1.5 * 1024 ** 3);
    assert.equal(ramInBytes('2MB'), 2 * 1024 ** 2);
    for (const bad of ['', 'm', '-1', '1x', '1kbb', '1bb']) assert.equal(ramInBytes(bad), undefined, bad);
  });
});
