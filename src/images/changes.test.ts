import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges } from './changes.js';

describe('applyChanges (docker import -c)', () => {
  it('takes CMD and ENTRYPOINT in JSON and shell form', () => {
    assert.deepEqual(applyChanges({}, ['CMD ["sh"]']).Cmd, ['sh']);
    assert.deepEqual(applyChanges({}, ['CMD echo hi']).Cmd, ['/bin/sh', '-c', 'echo hi']);
    assert.deepEqual(applyChanges({}, ['ENTRYPOINT ["/bin/app", "--x"]']).Entrypoint, ['/bin/app', '--x']);
  });
  it('merges ENV and LABEL pairs, quoted values included, and the legacy ENV form', () => {
    const c = applyChanges({ Env: ['A=1'] }, ['ENV A=2 B="two words"', 'ENV C legacy value', 'LABEL "k"=v x=y']);
    assert.deepEqual(c.Env, ['A=2', 'B=two words', 'C=legacy value']);
    assert.deepEqual(c.Labels, { k: 'v', x: 'y' });
  });
  it('normalises EXPOSE, and takes WORKDIR, USER, VOLUME, STOPSIGNAL', () => {
    const c = applyChanges({}, ['EXPOSE 80 53/UDP', 'WORKDIR /app', 'USER nobody', 'VOLUME /data', 'STOPSIGNAL SIGINT']);
    assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
    assert.equal(c.WorkingDir, '/app');
    assert.equal(c.User, 'nobody');
    assert.deepEqual(c.Volumes, { '/data': {} });
    assert.equal(c.StopSignal, 'SIGINT');
  });
  it('rejects instructions that are not change commands, and bad ports', () => {
    assert.throws(() => applyChanges({}, ['RUN echo']), /RUN is not a valid change command/);
    assert.throws(() => applyChanges({}, ['EXPOSE eighty']), /invalid containerPort/);
  });
  it('does not modify its input', () => {
    const base = { Env: ['A=1'] };
    applyChanges(base, ['ENV A=2']);
    assert.deepEqual(base.Env, ['A=1']);
  });
});
