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

  it('reads tcp://host:port, with docker default ports (2376 with TLS, 2375 without) and IPv6 brackets', () => {
    assert.deepEqual(parseHost('tcp://127.0.0.1:2376'), { proto: 'tcp', socketPath: '', tcpHost: '127.0.0.1', port: 2376, url: 'tcp://127.0.0.1:2376' });
    assert.equal(parseHost('tcp://10.0.0.1').port, 2375);
    assert.equal(parseHost('tcp://10.0.0.1', true).port, 2376);
    assert.equal(parseHost('tcp://[::1]:99').tcpHost, '::1');
    assert.equal(parseHost('tcp://[::1]:99').url, 'tcp://[::1]:99');
    assert.equal(parseHost('tcp://').tcpHost, 'localhost');
  });

  it('rejects other schemes, bad ports and anything without a scheme', () => {
    assert.throws(() => parseHost('ssh://me@host'), HostParseError);
    assert.throws(() => parseHost('tcp://1.2.3.4:99999'), HostParseError);
    assert.throws(() => parseHost('tcp://1.2.3.4:x'), HostParseError);
    assert.throws(() => parseHost('/run/berth.sock'), /Invalid bind address format/);
    assert.throws(() => parseHost('unix://relative.sock'), /Invalid bind address format/);
  });
});

describe('resolveHost', () => {
  it('prefers -H, then BERTH_HOST, then DOCKER_HOST, then the default', () => {
    const env = { BERTH_HOST: 'unix:///from/env.sock', DOCKER_HOST: 'tcp://127.0.0.1:1' };
    assert.equal(resolveHost('unix:///from/flag.sock', env).socketPath, '/from/flag.sock');
    assert.equal(resolveHost(undefined, env).socketPath, '/from/env.sock');
    assert.equal(resolveHost(undefined, { DOCKER_HOST: 'tcp://127.0.0.1:1' }).url, 'tcp://127.0.0.1:1');
    assert.equal(resolveHost(undefined, {}).socketPath, '/run/berth.sock');
  });
});
