import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRegistryAuth, storedCredentials } from './credentials.js';

describe('credentials shared with the docker CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-creds-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.json');
  const b64 = (s: string): string => Buffer.from(s).toString('base64');

  it('reads auth as user:password, under the bare host or an http(s) URL key', async () => {
    writeFileSync(file, JSON.stringify({ auths: { 'reg.example:5000': { auth: b64('alice:pw:with:colons') }, 'https://other.example': { auth: b64('bob:x') } } }));
    assert.deepEqual(await storedCredentials('reg.example:5000', file), { username: 'alice', password: 'pw:with:colons', serveraddress: 'reg.example:5000' });
    assert.equal((await storedCredentials('other.example', file))?.username, 'bob');
    assert.equal(await storedCredentials('nowhere.example', file), undefined);
  });

  it('keeps the identity token docker login stores beside "user:" (a token server\'s refresh token)', async () => {
    writeFileSync(file, JSON.stringify({ auths: { 'reg.example': { auth: b64('alice:'), identitytoken: 'rt-1' }, tokenonly: { identitytoken: 'rt-2' } } }));
    assert.deepEqual(await storedCredentials('reg.example', file), { username: 'alice', password: '', serveraddress: 'reg.example', identitytoken: 'rt-1' });
    assert.deepEqual(await storedCredentials('tokenonly', file), { identitytoken: 'rt-2', serveraddress: 'tokenonly' });
  });

  it('decodes X-Registry-Auth (base64url JSON), dropping empty and non-string fields', () => {
    const h = Buffer.from(JSON.stringify({ username: 'u', password: '', identitytoken: 'rt', email: 1 })).toString('base64url');
    assert.deepEqual(decodeRegistryAuth(h), { username: 'u', identitytoken: 'rt' });
    assert.equal(decodeRegistryAuth('not base64 json'), undefined);
    assert.equal(decodeRegistryAuth(undefined), undefined);
  });
});
