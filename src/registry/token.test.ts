import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseScope,
  passwordFingerprint,
  signRefreshToken,
  signToken,
  tokenAllows,
  verifyRefreshToken,
  verifyToken,
  type RefreshClaims,
  type TokenClaims,
} from './token.js';

const key = Buffer.alloc(32, 9);
const now = 1_700_000_000;
const claims = (over: Partial<TokenClaims> = {}): TokenClaims => ({
  iss: 'svc',
  sub: 'u',
  aud: 'svc',
  exp: now + 300,
  nbf: now - 1,
  iat: now,
  jti: 'j',
  access: [{ type: 'repository', name: 'a/b', actions: ['pull', 'push'] }],
  ...over,
});

describe('bearer tokens', () => {
  it('verify what was signed, and grant exactly its scopes', () => {
    const c = verifyToken(signToken(claims(), key), key, 'svc', 'svc', now);
    assert.equal(typeof c, 'object');
    const ok = c as TokenClaims;
    assert.ok(tokenAllows(ok, 'repository', 'a/b', 'push'));
    assert.ok(!tokenAllows(ok, 'repository', 'a/c', 'pull'));
    assert.ok(!tokenAllows(ok, 'repository', 'a/b', 'delete'));
    assert.ok(tokenAllows(claims({ access: [{ type: 'repository', name: 'a/b', actions: ['*'] }]}), 'repository', 'a/b', 'delete'));
  });
  it('refuse another key, issuer, audience, an expired or tampered token', () => {
    const t = signToken(claims(), key);
    assert.equal(verifyToken(t, Buffer.alloc(32, 1), 'svc', 'svc', now), 'bad token signature');
    assert.equal(verifyToken(t, key, 'other', 'svc', now), 'token from another issuer');
    assert.equal(verifyToken(t, key, 'svc', 'other', now), 'token for another service');
    assert.equal(verifyToken(t, key, 'svc', 'svc', now + 3600), 'token expired');
    const [h, , s] = t.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify(claims({ access: [{ type: 'repository', name: '*', actions: ['*'] }] }))).toString('base64url')}.${s}`;
    assert.equal(verifyToken(forged, key, 'svc', 'svc', now), 'bad token signature');
    assert.equal(verifyToken('x.y', key, 'svc', 'svc', now), 'malformed token');
  });
  it('parse scopes, plugin types and names with slashes', () => {
    assert.deepEqual(parseScope('repository:a/b:pull,push'), { type: 'repository', name: 'a/b', actions: ['pull', 'push'] });
    assert.deepEqual(parseScope('repository(plugin):p:pull'), { type: 'repository', name: 'p', actions: ['pull'] });
    assert.deepEqual(parseScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
    assert.equal(parseScope('garbage'), undefined);
  });
});

describe('refresh tokens', () => {
  const refresh = (over: Partial<RefreshClaims> = {}): RefreshClaims => ({
    iss: 'svc',
    aud: 'svc',
    sub: 'alice',
    iat: now,
    exp: now + 3600,
    jti: 'j',
    cid: 'docker',
    pwd: passwordFingerprint(key, 'alice', '$2y$hash'),
    ...over,
  });
  it('verify what was signed; refuse another service, expiry, another key', () => {
    const t = signRefreshToken(refresh(), key);
    assert.equal((verifyRefreshToken(t, key, 'svc', now) as RefreshClaims).sub, 'alice');
    assert.equal(verifyRefreshToken(t, key, 'other', now), 'refresh token for another service');
    assert.equal(verifyRefreshToken(t, key, 'svc', now + 7200), 'refresh token expired');
    assert.equal(verifyRefreshToken(t, Buffer.alloc(32, 1), 'svc', now), 'bad refresh token signature');
  });
  it('an access token is never a refresh token, nor the other way round', () => {
    const access = signToken(claims(), key);
    const rt = signRefreshToken(refresh(), key);
    assert.equal(verifyRefreshToken(access, key, 'svc', now), 'not a refresh token');
    assert.equal(verifyToken(rt, key, 'svc', 'svc', now), 'unsupported token header');
  });
  it('the password fingerprint changes with the hash and cannot be made without the key', () => {
    const a = passwordFingerprint(key, 'alice', '$2y$hash');
    assert.notEqual(a, passwordFingerprint(key, 'alice', '$2y$other'));
    assert.notEqual(a, passwordFingerprint(key, 'bob', '$2y$hash'));
    assert.notEqual(a, passwordFingerprint(Buffer.alloc(32, 1), 'alice', '$2y$hash'));
  });
});
