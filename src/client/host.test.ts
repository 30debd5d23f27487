import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_HOST, HostParseError, parseHost, resolveHost } from './host.js';

describe('parseHost', () => {
  it('reads a unix:// URL into a socket path and keeps the URL for messages', () => {
    assert.deepEqual(parseHost('unix:///tmp/xyz.sock'), { proto: 'unix', socketPath: '/tmp/xyz.sock', url: 'unix:///tmp/xyz.sock' });
  });

  it('treats unix:// and the empty string as the default socket', () => {
    assert.equal(parseHost('unix://').socketPath, '/run/berth.sock');
    assert.equal(parseHost('').url, DEFAULT_HOST);
  });

  it('rejects tcp:// for now and anything without a scheme', () => {
    assert.throws(() => parseHost('tcp://127.0.0.1:2375'), HostParseError);
    assert.throws(() => parseHost('/run/berth.sock'), /Invalid bind address format/);
    assert.throws(() => parseHost('unix://relative.sock'), /Invalid bind address format/);
  });
});

describe('resolveHost', () => {
  it('prefers -H, then BERTH_HOST, then the default', () => {
    const env = { BERTH_HOST: 'unix:///from/env.sock' };
    assert.equal(resolveHost('unix:///from/flag.sock', env).socketPath, '/from/flag.sock');
    assert.equal(resolveHost(undefined, env).socketPath, '/from/env.sock');
    assert.equal(resolveHost(undefined, {}).socketPath, '/run/berth.sock');
  });
});
