import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { formatAddress, parseListenAddress, prepareListenConfig, type ListenFlags } from './listenConfig.js';

function flags(over: Partial<ListenFlags>): ListenFlags {
  return { hosts: [], group: undefined, tls: false, tlsverify: false, tlscacert: undefined, tlscert: undefined, tlskey: undefined, insecureTcp: false, ...over };
}

/** A pino logger writing into an array, to check warnings. */
function captureLog(): { log: pino.Logger; lines: () => Array<{ level: number; msg: string }> } {
  const out: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void out.push(s) });
  return { log, lines: () => out.map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

describe('parseListenAddress', () => {
  it('reads unix:// (empty = default), bare paths and tcp:// with dockerd default ports', () => {
    assert.deepEqual(parseListenAddress('unix:///tmp/x.sock', false), { proto: 'unix', path: '/tmp/x.sock' });
    assert.deepEqual(parseListenAddress('unix://', false), { proto: 'unix', path: '/run/berth.sock' });
    assert.deepEqual(parseListenAddress('/tmp/y.sock', false), { proto: 'unix', path: '/tmp/y.sock' });
    assert.deepEqual(parseListenAddress('tcp://127.0.0.1:2376', true), { proto: 'tcp', host: '127.0.0.1', port: 2376 });
    assert.deepEqual(parseListenAddress('tcp://127.0.0.1', true), { proto: 'tcp', host: '127.0.0.1', port: 2376 });
    assert.deepEqual(parseListenAddress('tcp://127.0.0.1', false), { proto: 'tcp', host: '127.0.0.1', port: 2375 });
    assert.deepEqual(parseListenAddress('tcp://[::1]:7', true), { proto: 'tcp', host: '::1', port: 7 });
    assert.equal(formatAddress(parseListenAddress('tcp://[::1]:7', true)), 'tcp://[::1]:7');
  });

  it('rejects other schemes, relative paths and bad ports, naming the value', () => {
    assert.throws(() => parseListenAddress('fd://', false), /invalid -H "fd:\/\/": only unix:\/\/ and tcp:\/\//);
    assert.throws(() => parseListenAddress('unix://rel.sock', false), /must be absolute/);
    assert.throws(() => parseListenAddress('tcp://1.2.3.4:70000', true), /bad port/);
    assert.throws(() => parseListenAddress('localhost:2375', true), /invalid -H/);
  });
});

describe('prepareListenConfig', () => {
  const nobody = async (): Promise<null> => null;

  it('refuses tcp:// without TLS unless --insecure-tcp, and then warns loudly', async () => {
    const { log, lines } = captureLog();
    await assert.rejects(prepareListenConfig(flags({ hosts: ['tcp://127.0.0.1:2375'] }), log, {}, nobody), /refusing to serve the API on tcp:\/\/127\.0\.0\.1:2375 without TLS.*--insecure-tcp/);
    const cfg = await prepareListenConfig(flags({ hosts: ['tcp://127.0.0.1:2375'], insecureTcp: true }), log, {}, nobody);
    assert.equal(cfg.tls, null);
    assert.ok(lines().some((l) => l.level === 40 && /^INSECURE: serving the API over plain TCP on tcp:\/\/127\.0\.0\.1:2375/.test(l.msg)));
  });

  it('falls back to root-only with a warning when the default group is missing; a named missing group is an error', async () => {
    const { log, lines } = captureLog();
    const cfg = await prepareListenConfig(flags({ hosts: ['unix:///tmp/a.sock'] }), log, {}, nobody);
    assert.equal(cfg.socketGid, null);
    assert.ok(lines().some((l) => l.level === 40 && /group "berth" not found: the API socket is root-only \(0600\)/.test(l.msg)));
    await assert.rejects(prepareListenConfig(flags({ hosts: ['unix:///tmp/a.sock'], group: 'staff-x' }), log, {}, nobody), /--group "staff-x": no such group/);
    const withGroup = await prepareListenConfig(flags({ group: 'g' }), log, {}, async () => 1234);
    assert.equal(withGroup.socketGid, 1234);
    assert.deepEqual(withGroup.addresses, [{ proto: 'unix', path: '/run/berth.sock' }]);
  });

  it('names the missing or unreadable certificate file and the flag', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-lc-'));
    try {
      const { log } = captureLog();
      const tcp = { hosts: ['tcp://127.0.0.1:2376'], tlsverify: true };
      await assert.rejects(
        prepareListenConfig(flags({ ...tcp, tlscacert: join(dir, 'ca.pem'), tlscert: join(dir, 'nope.pem'), tlskey: join(dir, 'key.pem') }), log, {}, nobody),
        new RegExp(`cannot read --tlscert file "${join(dir, 'nope.pem')}": no such file`),
      );
      mkdirSync(join(dir, 'adir'));
      await assert.rejects(
        prepareListenConfig(flags({ ...tcp, tlscert: join(dir, 'adir') }), log, {}, nobody),
        /cannot read --tlscert file ".*adir": is a directory/,
      );
      writeFileSync(join(dir, 'junk.pem'), 'not a certificate');
      await assert.rejects(prepareListenConfig(flags({ ...tcp, tlscert: join(dir, 'junk.pem'), tlskey: join(dir, 'junk.pem') }), log, {}, nobody), /--tlscert file ".*junk\.pem" holds no usable PEM certificate/);
      // Defaults come from DOCKER_CERT_PATH, as in dockerd.
      await assert.rejects(prepareListenConfig(flags(tcp), log, { DOCKER_CERT_PATH: dir }, nobody), new RegExp(`--tlscert file "${join(dir, 'cert.pem')}"`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
