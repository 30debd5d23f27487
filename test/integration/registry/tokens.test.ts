// The token endpoint's OAuth2 side and the users file at run time: POST /token with the password and
// refresh_token grants (distribution's oauth.md), refresh tokens from `GET /token?offline_token=true`
// (what `docker login` asks for, stored by Docker as the identity token), skopeo pushing and pulling
// with nothing but an identity token, refresh tokens revoked by a password change or a removed user,
// and the htpasswd file reloaded while the registry runs. Every bad request gets its status and
// OAuth2 error, and the endpoint keeps working afterwards.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { Htpasswd } from '../../../src/registry/htpasswd.js';
import { ReloadingFile } from '../../../src/registry/reloadingFile.js';
import {
  NO_SKOPEO,
  errorCode,
  layoutDigest,
  makeImage,
  pushImage,
  req,
  skopeo,
  startRegistry,
  tempDir,
  writeLayout,
  type Resp,
  type TestRegistry,
} from './fixtures.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const SERVICE = 'berth-oauth';
const basic = (user: string, pw: string): string => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;
// One hash per user and password, so that rewriting the file with the same password keeps the same line.
const hashes = new Map<string, string>();
const entry = (user: string, pw: string): string => {
  const k = `${user}:${pw}`;
  if (!hashes.has(k)) hashes.set(k, `${user}:${bcrypt.hashSync(pw, 4)}\n`);
  return hashes.get(k) as string;
};

function postToken(base: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Resp> {
  return req('POST', `${base}/token`, {
    body: new URLSearchParams(fields).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
  });
}

interface TokenBody {
  access_token: string;
  refresh_token?: string;
  scope?: string;
  expires_in: number;
}

function oauthError(r: Resp, status: number, code: string): void {
  assert.equal(r.status, status, r.body.toString());
  const body = r.json<{ error: string; error_description: string; errors: { code: string }[] }>();
  assert.equal(body.error, code);
  assert.ok(body.error_description.length > 0);
  assert.ok(Array.isArray(body.errors) && body.errors.length === 1, 'registry-style errors too');
}

describe('POST /token (OAuth2) and refresh tokens', () => {
  let reg: TestRegistry;
  let work: string;
  let users: string;
  const logs: string[] = [];
  const img = makeImage({ layers: 1 });

  before(async () => {
    work = tempDir('oauth');
    users = join(work, 'htpasswd');
    writeFileSync(users, entry('alice', 'wonderland') + entry('bob', 'builder'));
    const htpasswd = await ReloadingFile.load(users, (t, s) => Htpasswd.parse(t, s), { what: 'htpasswd file', checkMs: 0, log: (l) => logs.push(l) });
    reg = await startRegistry({
      root: join(work, 'root'),
      auth: { htpasswd, anonymousPull: true, token: { issuer: SERVICE, key: Buffer.alloc(32, 3) } },
    });
    const t = (await postToken(reg.url, { grant_type: 'password', username: 'alice', password: 'wonderland', service: SERVICE, client_id: 'test', scope: 'repository:o/a:pull,push' })).json<TokenBody>();
    await pushImage(reg.url, 'o/a', img, 'v1', { Authorization: `Bearer ${t.access_token}` });
  });
  after(async () => {
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('the password grant gives an access token for the granted scope, and a refresh token with access_type=offline', async () => {
    const online = await postToken(reg.url, { grant_type: 'password', username: 'bob', password: 'builder', service: SERVICE, client_id: 'test', scope: 'repository:o/a:pull' });
    assert.equal(online.status, 200, online.body.toString());
    assert.equal(online.headers['cache-control'], 'no-store');
    const body = online.json<TokenBody>();
    assert.equal(body.scope, 'repository:o/a:pull');
    assert.equal(body.refresh_token, undefined);
    assert.ok(body.expires_in >= 60);
    const pulled = await req('GET', `${reg.url}/v2/o/a/manifests/v1`, { headers: { Authorization: `Bearer ${body.access_token}`, Accept: OCI_MANIFEST } });
    assert.deepEqual(pulled.body, img.manifest.data);

    const offline = (await postToken(reg.url, { grant_type: 'password', username: 'bob', password: 'builder', service: SERVICE, client_id: 'test', access_type: 'offline' })).json<TokenBody>();
    assert.ok(offline.refresh_token !== undefined && offline.refresh_token.length > 40);
    assert.equal(offline.scope, '', 'no scope asked, none granted');
  });

  it('the refresh_token grant gives access tokens for any scope asked, and hands the same refresh token back', async () => {
    const rt = (await postToken(reg.url, { grant_type: 'password', username: 'bob', password: 'builder', service: SERVICE, client_id: 'test', access_type: 'offline' })).json<TokenBody>().refresh_token as string;
    const r = await postToken(reg.url, { grant_type: 'refresh_token', refresh_token: rt, service: SERVICE, client_id: 'test', scope: 'repository:o/a:pull repository:o/b:pull,push' });
    assert.equal(r.status, 200, r.body.toString());
    const body = r.json<TokenBody>();
    assert.equal(body.refresh_token, rt);
    assert.equal(body.scope, 'repository:o/a:pull repository:o/b:pull,push');
    const start = await req('POST', `${reg.url}/v2/o/b/blobs/uploads/`, { headers: { Authorization: `Bearer ${body.access_token}` } });
    assert.equal(start.status, 202);
  });

  it('GET /token?offline_token=true (docker login) returns a refresh token to a user, never to anonymous', async () => {
    const q = `service=${SERVICE}&client_id=docker&offline_token=true&scope=repository:o/a:pull`;
    const user = await req('GET', `${reg.url}/token?${q}`, { headers: { Authorization: basic('alice', 'wonderland') } });
    assert.equal(user.status, 200);
    const rt = user.json<TokenBody>().refresh_token;
    assert.ok(rt !== undefined);
    const again = await postToken(reg.url, { grant_type: 'refresh_token', refresh_token: rt, service: SERVICE, client_id: 'docker' });
    assert.equal(again.status, 200, again.body.toString());
    const anon = await req('GET', `${reg.url}/token?${q}`);
    assert.equal(anon.status, 200);
    assert.equal(anon.json<TokenBody>().refresh_token, undefined);
  });

  it('bad requests: 400 with OAuth2 error codes, 401 invalid_grant for bad credentials; the endpoint keeps working', async () => {
    const base = { service: SERVICE, client_id: 'test' };
    oauthError(await postToken(reg.url, { ...base }), 400, 'invalid_request');
    oauthError(await postToken(reg.url, { ...base, grant_type: 'client_credentials' }), 400, 'unsupported_grant_type');
    oauthError(await postToken(reg.url, { ...base, grant_type: 'password', username: 'alice' }), 400, 'invalid_request');
    oauthError(await postToken(reg.url, { ...base, grant_type: 'password', username: 'alice', password: 'nope' }), 401, 'invalid_grant');
    oauthError(await postToken(reg.url, { ...base, grant_type: 'password', username: 'mallory', password: 'wonderland' }), 401, 'invalid_grant');
    oauthError(await postToken(reg.url, { ...base, grant_type: 'refresh_token' }), 400, 'invalid_request');
    oauthError(await postToken(reg.url, { ...base, grant_type: 'refresh_token', refresh_token: 'garbage' }), 401, 'invalid_grant');
    oauthError(await postToken(reg.url, { ...base, grant_type: 'password', username: 'alice', password: 'wonderland', service: 'elsewhere' }), 400, 'invalid_request');
    const access = (await postToken(reg.url, { ...base, grant_type: 'password', username: 'alice', password: 'wonderland' })).json<TokenBody>().access_token;
    oauthError(await postToken(reg.url, { ...base, grant_type: 'refresh_token', refresh_token: access }), 401, 'invalid_grant');
    const json = await req('POST', `${reg.url}/token`, { body: '{"grant_type":"password"}', headers: { 'Content-Type': 'application/json' } });
    oauthError(json, 400, 'invalid_request');
    const huge = await req('POST', `${reg.url}/token`, {
      body: `grant_type=password&username=alice&password=${'x'.repeat(100_000)}`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    oauthError(huge, 400, 'invalid_request');
    // A refresh token is not a bearer token.
    const rt = (await postToken(reg.url, { ...base, grant_type: 'password', username: 'alice', password: 'wonderland', access_type: 'offline' })).json<TokenBody>().refresh_token as string;
    const asBearer = await req('GET', `${reg.url}/v2/o/a/manifests/v1`, { headers: { Authorization: `Bearer ${rt}` } });
    assert.equal(asBearer.status, 401);
    assert.match(String(asBearer.headers['www-authenticate']), /error="invalid_token"/);
    // Still serving.
    assert.equal((await postToken(reg.url, { ...base, grant_type: 'refresh_token', refresh_token: rt })).status, 200);
  });

  it('a password change revokes that user\'s refresh tokens, removing the user revokes theirs; the file is re-read while running', async () => {
    const offline = async (user: string, pw: string): Promise<string> =>
      (await postToken(reg.url, { grant_type: 'password', username: user, password: pw, service: SERVICE, client_id: 't', access_type: 'offline' })).json<TokenBody>().refresh_token as string;
    const aliceRt = await offline('alice', 'wonderland');
    const bobRt = await offline('bob', 'builder');
    writeFileSync(users, entry('alice', 'looking-glass') + entry('bob', 'builder') + entry('carol', 'c4rol'));
    const refresh = (rt: string): Promise<Resp> => postToken(reg.url, { grant_type: 'refresh_token', refresh_token: rt, service: SERVICE, client_id: 't' });
    oauthError(await refresh(aliceRt), 401, 'invalid_grant');
    assert.equal((await refresh(bobRt)).status, 200);
    assert.equal((await postToken(reg.url, { grant_type: 'password', username: 'alice', password: 'looking-glass', service: SERVICE, client_id: 't' })).status, 200);
    assert.equal((await postToken(reg.url, { grant_type: 'password', username: 'carol', password: 'c4rol', service: SERVICE, client_id: 't' })).status, 200);
    writeFileSync(users, entry('alice', 'looking-glass'));
    oauthError(await refresh(bobRt), 401, 'invalid_grant');
    // Restore for the other tests.
    writeFileSync(users, entry('alice', 'wonderland') + entry('bob', 'builder'));
    assert.ok(logs.some((l) => l.includes('reloaded htpasswd file')), logs.join('\n'));
  });

  it('skopeo pushes and pulls with only an identity token in its auth file (refresh_token grant)', { skip: NO_SKOPEO }, async () => {
    const rt = (await postToken(reg.url, { grant_type: 'password', username: 'bob', password: 'builder', service: SERVICE, client_id: 'test', access_type: 'offline' })).json<TokenBody>().refresh_token as string;
    const dir = join(work, 'sk');
    mkdirSync(dir, { recursive: true });
    const authfile = join(dir, 'auth.json');
    // What `docker login` writes when the registry hands out an identity token: the user name, no password.
    const identity = (token: string): string => JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('bob:').toString('base64'), identitytoken: token } } });
    writeFileSync(authfile, identity(rt));
    const src = makeImage({ layers: 2 });
    writeLayout(join(dir, 'src'), src, 'v1');
    const push = await skopeo(['--debug', 'copy', '--dest-tls-verify=false', '--authfile', authfile, `oci:${join(dir, 'src')}:v1`, `docker://${reg.host}/bob/idt:v1`]);
    assert.equal(push.code, 0, push.stderr);
    // It asked with the refresh_token grant (POST), not with a password (GET).
    assert.match(push.stderr, /POST http:\/\/127\.0\.0\.1:\d+\/token/);
    assert.doesNotMatch(push.stderr, /GET http:\/\/127\.0\.0\.1:\d+\/token/);
    const pull = await skopeo(['copy', '--src-tls-verify=false', '--authfile', authfile, `docker://${reg.host}/bob/idt:v1`, `oci:${join(dir, 'out')}:v1`]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(layoutDigest(join(dir, 'out'), 'v1'), src.manifest.digest);
    // A forged identity token gets nothing.
    writeFileSync(authfile, identity(`${rt.slice(0, -4)}AAAA`));
    const bad = await skopeo(['copy', '--dest-tls-verify=false', '--authfile', authfile, `oci:${join(dir, 'src')}:v1`, `docker://${reg.host}/bob/idt:v2`]);
    assert.notEqual(bad.code, 0);
  });
});

describe('POST /token on a registry without token auth', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ auth: { htpasswd: Htpasswd.parse(entry('alice', 'x')), anonymousPull: false } });
  });
  after(async () => reg?.stop());

  it('is 404, so Docker clients fall back to GET', async () => {
    const r = await postToken(reg.url, { grant_type: 'password', username: 'alice', password: 'x' });
    assert.equal(r.status, 404);
  });
});

describe('htpasswd reloaded while serving (basic auth)', () => {
  let reg: TestRegistry;
  let work: string;
  let users: string;
  const logs: string[] = [];
  before(async () => {
    work = tempDir('reload');
    users = join(work, 'htpasswd');
    writeFileSync(users, entry('alice', 'wonderland'));
    const htpasswd = await ReloadingFile.load(users, (t, s) => Htpasswd.parse(t, s), { what: 'htpasswd file', checkMs: 0, log: (l) => logs.push(l) });
    reg = await startRegistry({ root: join(work, 'root'), auth: { htpasswd, anonymousPull: false } });
  });
  after(async () => {
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const login = (user: string, pw: string): Promise<number> =>
    req('GET', `${reg.url}/v2/`, { headers: { Authorization: basic(user, pw) } }).then((r) => r.status);

  it('a user added to the file can log in at once, a removed one no longer can; a broken file keeps the last good one', async () => {
    assert.equal(await login('dave', 'd4ve'), 401);
    writeFileSync(users, entry('alice', 'wonderland') + entry('dave', 'd4ve'));
    assert.equal(await login('dave', 'd4ve'), 200);
    writeFileSync(users, entry('dave', 'd4ve'));
    assert.equal(await login('alice', 'wonderland'), 401);
    const r = await req('GET', `${reg.url}/v2/`, { headers: { Authorization: basic('alice', 'wonderland') } });
    assert.equal(errorCode(r), 'UNAUTHORIZED');
    writeFileSync(users, 'dave:not-bcrypt\n');
    assert.equal(await login('dave', 'd4ve'), 200, 'the broken file is not used');
    assert.ok(logs.some((l) => /keeping the previous htpasswd file: .*user "dave" has no bcrypt hash/.test(l)), logs.join('\n'));
    rmSync(users);
    assert.equal(await login('dave', 'd4ve'), 200, 'a deleted file is not used either');
    writeFileSync(users, entry('alice', 'wonderland'));
    assert.equal(await login('alice', 'wonderland'), 200);
    assert.equal(await login('dave', 'd4ve'), 401);
  });
});
