import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { commandOf, DEFAULT_PATH, mergeImageConfig, validateCreateBody } from './createConfig.js';

describe('mergeImageConfig (moby merge at create time)', () => {
  const image = { Env: ['PATH=/img/bin', 'A=1'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '/w', User: 'nobody', Labels: { l: 'img' } };
  it('fills gaps from the image and lets the container win', () => {
    const c = mergeImageConfig({ Env: ['A=2', 'B=3'], Labels: { m: 'ctr' } }, image);
    assert.deepEqual(c.Env, ['PATH=/img/bin', 'A=2', 'B=3']);
    assert.deepEqual(c.Cmd, ['sh']);
    assert.equal(c.WorkingDir, '/w');
    assert.equal(c.User, 'nobody');
    assert.deepEqual(c.Labels, { l: 'img', m: 'ctr' });
  });
  it('adds the default PATH when neither sets one', () => {
    assert.deepEqual(mergeImageConfig({}, {}).Env, [DEFAULT_PATH]);
  });
  it('an explicit entrypoint drops the image CMD; an empty one clears the image entrypoint', () => {
    const withEp = mergeImageConfig({ Entrypoint: ['/bin/echo'] }, { Cmd: ['x'], Entrypoint: ['/e'] });
    assert.deepEqual([withEp.Entrypoint, withEp.Cmd ?? null], [['/bin/echo'], null]);
    const cleared = mergeImageConfig({ Entrypoint: [''] }, { Cmd: ['x'], Entrypoint: ['/e'] });
    assert.deepEqual([cleared.Entrypoint, cleared.Cmd], [null, ['x']]);
    const kept = mergeImageConfig({ Cmd: ['y'] }, { Cmd: ['x'], Entrypoint: ['/e'] });
    assert.deepEqual([kept.Entrypoint, kept.Cmd], [['/e'], ['y']]);
  });
  it('commandOf splits path and args and refuses an empty command', () => {
    assert.deepEqual(commandOf({ Entrypoint: ['/e', '-x'], Cmd: ['a'] }), { path: '/e', args: ['-x', 'a'] });
    assert.throws(() => commandOf({}), /no command specified/);
  });
});

describe('validateCreateBody', () => {
  it('accepts a docker CLI body and separates HostConfig', () => {
    const { config, hostConfig } = validateCreateBody({ Image: 'busybox', Cmd: ['true'], HostConfig: { Memory: 16777216 }, NetworkingConfig: {} });
    assert.equal(config.Image, 'busybox');
    assert.equal(hostConfig.Memory, 16777216);
    assert.equal('HostConfig' in config, false);
  });
  it('answers type mistakes and impossible limits with 400-kind errors', () => {
    for (const bad of [null, [], { Cmd: 5 }, { Tty: 'yes' }, { HostConfig: { Memory: 'x' } }, { HostConfig: { Memory: 1000 } },
      { HostConfig: { Memory: 10_000_000, MemorySwap: 5_000_000 } }, { HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } },
      { HostConfig: { NetworkMode: 5 } }]) {
      assert.throws(() => validateCreateBody(bad), (e: Error & { kind?: string }) => e.kind === 'invalid-argument', JSON.stringify(bad));
    }
  });
});
