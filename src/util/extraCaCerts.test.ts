import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server } from 'node:tls';
import { DEFERRED_EXTRA_CA_ENV, deferredExtraCaFile, extraCaContext } from './extraCaCerts.js';

describe('util/extraCaCerts', () => {
  let dir: string;
  let server: Server;
  let port = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-extraca-unit-'));
    const ssl = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=unit CA', '-keyout', 'ca-key.pem', '-out', 'ca.pem']);
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'key.pem', '-out', 'server.csr']);
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1', '-extfile', 'server.ext', '-out', 'cert.pem']);
    writeFileSync(join(dir, 'garbage.pem'), 'not a certificate\n');
    server = createServer({ cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) }, (s) => s.end('hi'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    port = typeof a === 'object' && a !== null ? a.port : 0;
  });
  after(() => {
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Whether a verified TLS connection to the local server succeeds with these options. */
  const handshake = (opts: { secureContext?: ReturnType<typeof extraCaContext> }): Promise<boolean> =>
    new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port, ...(opts.secureContext ? { secureContext: opts.secureContext } : {}) }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });

  it('names no file when the launcher passed none (unset or empty)', () => {
    assert.equal(deferredExtraCaFile({}), undefined);
    assert.equal(deferredExtraCaFile({ [DEFERRED_EXTRA_CA_ENV]: '' }), undefined);
    assert.equal(deferredExtraCaFile({ [DEFERRED_EXTRA_CA_ENV]: '/x/ca.pem' }), '/x/ca.pem');
    assert.equal(extraCaContext({}), null);
  });

  it('trusts Node\'s roots plus the file\'s certificates: a server signed by the file\'s CA verifies only with the context', async () => {
    const ctx = extraCaContext({ [DEFERRED_EXTRA_CA_ENV]: join(dir, 'ca.pem') });
    assert.ok(ctx !== null);
    assert.equal(extraCaContext({ [DEFERRED_EXTRA_CA_ENV]: join(dir, 'ca.pem') }), ctx, 'made once per file');
    assert.equal(await handshake({ secureContext: ctx }), true);
    assert.equal(await handshake({}), false);
  });

  it('a file that cannot be read is warned about and ignored, as Node does at start; one without certificates adds none', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      assert.equal(extraCaContext({ [DEFERRED_EXTRA_CA_ENV]: join(dir, 'missing.pem') }), null);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    assert.ok(warnings.some((m) => m.includes('missing.pem') && m.startsWith('Ignoring extra certs from')), warnings.join('\n'));
    const garbage = extraCaContext({ [DEFERRED_EXTRA_CA_ENV]: join(dir, 'garbage.pem') });
    assert.equal(await handshake(garbage === null ? {} : { secureContext: garbage }), false);
  });
});
