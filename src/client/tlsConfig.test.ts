import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveClientTls, tlsEnabled } from './tlsConfig.js';

describe('client TLS settings (as the docker CLI decides them)', () => {
  it('is off unless --tls, --tlsverify or DOCKER_TLS_VERIFY says otherwise', () => {
    assert.equal(tlsEnabled({}, {}), false);
    assert.equal(tlsEnabled({ tls: true }, {}), true);
    assert.equal(tlsEnabled({ tlsverify: false }, {}), true, 'any --tlsverify turns TLS on');
    assert.equal(tlsEnabled({}, { DOCKER_TLS_VERIFY: '1' }), true);
    assert.equal(resolveClientTls({}, {}), null);
  });

  it('reads ca/cert/key from DOCKER_CERT_PATH; a missing default client pair is simply not sent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), 'CA');
      const noPair = resolveClientTls({}, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
      assert.deepEqual(noPair, { verify: true, ca: Buffer.from('CA') });
      writeFileSync(join(dir, 'cert.pem'), 'C');
      writeFileSync(join(dir, 'key.pem'), 'K');
      const full = resolveClientTls({}, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
      assert.equal(full?.cert?.toString(), 'C');
      assert.equal(full?.key?.toString(), 'K');
      // --tls alone: encrypted, not verified, no CA read.
      assert.deepEqual(resolveClientTls({ tls: true, tlscacert: '/nonexistent' }, { DOCKER_CERT_PATH: dir })?.verify, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a file it cannot read', () => {
    assert.throws(() => resolveClientTls({ tlsverify: true, tlscacert: '/nonexistent/ca.pem' }, {}), /Could not read CA certificate "\/nonexistent\/ca\.pem": no such file or directory/);
    assert.throws(
      () => resolveClientTls({ tlsverify: true, tlscacert: '/dev/null', tlscert: '/nonexistent/c.pem', tlskey: '/dev/null' }, {}),
      /Could not read client certificate "\/nonexistent\/c\.pem"/,
    );
    assert.throws(() => resolveClientTls({ tlsverify: true, tlscacert: '/dev/null', tlscert: '/dev/null' }, { DOCKER_CERT_PATH: '/nonexistent' }), /--tlscert and --tlskey go together/);
  });
});
