// Authentication and transport: htpasswd basic auth, the built-in token endpoint with
// repository-scoped bearer tokens, anonymous pull next to login-only push, and TLS — over plain
// HTTP requests and with skopeo as the real client. Missing or wrong credentials are 401 with a
// WWW-Authenticate challenge; a valid token for another repository is 403 DENIED.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { Htpasswd } from '../../../src/registry/htpasswd.js';
import { loadOrCreateKey, signToken } from '../../../src/registry/token.js';
import {
  errorCode,
  layoutDigest,
  makeImage,
  pushImage,
  req,
  skopeo,
  startRegistry,
  tempDir,
  writeLayout,
  missing,
  NO_SKOPEO,
  type Resp,
  type TestRegistry,
} from './fixtures.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const basic = (user: string, pw: string): string => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;
// htpasswd -B writes $2y$; bcryptjs writes $2b$: accept both.
const HTPASSWD = `alice:${bcrypt.hashSync('wonderland', 5).replace(/^\$2b\$/, '$2y$')}\nbob:${bcrypt.hashSync('builder', 4)}\n`;

function expect401(r: Resp, scheme: 'Basic' | 'Bearer'): string {
  assert.equal(r.status, 401, r.body.toString());
  assert.equal(errorCode(r), 'UNAUTHORIZED');
  const www = String(r.headers['www-authenticate']);
  assert.ok(www.startsWith(`${scheme} `), www);
  return www;
}

async function getToken(base: string, scopes: string[], auth?: string): Promise<Resp> {
  const q = new URLSearchParams({ service: 'berth-test' });
  for (const s of scopes) q.append('scope', s);
  return req('GET', `${base}/token?${q.toString()}`, auth === undefined ? {} : { headers: { Authorization: auth } });
}

describe('htpasswd parsing', () => {
  it('rejects entries that are not bcrypt, naming the line', () => {
    assert.throws(() => Htpasswd.parse('carol:{SHA}abc=\n', 'f'), /f:1: user "carol" has no bcrypt hash/);
    assert.throws(() => Htpasswd.parse('no-colon\n', 'f'), /f:1: expected "user:hash"/);
    assert.equal(Htpasswd.parse(`# comment\n\n${HTPASSWD}`).size, 2);
  });
});

describe('basic auth (htpasswd)', () => {
  let reg: TestRegistry;
  const img = makeImage({ layers: 1 });
  before(async () => {
    reg = await startRegistry({ auth: { htpasswd: Htpasswd.parse(HTPASSWD), anonymousPull: false } });
    await pushImage(reg.url, 'basic/img', img, 'v1', { Authorization: basic('alice', 'wonderland') });
  });
  after(async () => reg?.stop());

  it('no credentials: 401 with a Basic challenge, on /v2/ and on a pull', async () => {
    expect401(await req('GET', `${reg.url}/v2/`), 'Basic');
    expect401(await req('GET', `${reg.url}/v2/basic/img/manifests/v1`), 'Basic');
  });

  it('a wrong password or an unknown user: 401', async () => {
    expect401(await req('GET', `${reg.url}/v2/`, { headers: { Authorization: basic('alice', 'nope') } }), 'Basic');
    expect401(await req('GET', `${reg.url}/v2/`, { headers: { Authorization: basic('mallory', 'wonderland') } }), 'Basic');
  });

  it('the right credentials pull and push ($2y$ and $2b$ hashes)', async () => {
    assert.equal((await req('GET', `${reg.url}/v2/`, { headers: { Authorization: basic('alice', 'wonderland') } })).status, 200);
    const r = await req('GET', `${reg.url}/v2/basic/img/manifests/v1`, { headers: { Authorization: basic('bob', 'builder'), Accept: OCI_MANIFEST } });
    assert.deepEqual(r.body, img.manifest.data);
  });

  it('skopeo copies with --dest-creds and is refused without', { skip: NO_SKOPEO }, async () => {
    const work = tempDir('basic');
    try {
      const src = makeImage({ layers: 1 });
      writeLayout(join(work, 'src'), src, 'v1');
      const denied = await skopeo(['copy', '--dest-tls-verify=false', `oci:${join(work, 'src')}:v1`, `docker://${reg.host}/basic/sk:v1`]);
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /unauthorized|authentication required/i);
      const ok = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'alice:wonderland', `oci:${join(work, 'src')}:v1`, `docker://${reg.host}/basic/sk:v1`]);
      assert.equal(ok.code, 0, ok.stderr);
      const back = await skopeo(['copy', '--src-tls-verify=false', '--src-creds', 'bob:builder', `docker://${reg.host}/basic/sk:v1`, `oci:${join(work, 'out')}:v1`]);
      assert.equal(back.code, 0, back.stderr);
      assert.equal(layoutDigest(join(work, 'out'), 'v1'), src.manifest.digest);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('basic auth with anonymous pull', () => {
  let reg: TestRegistry;
  const img = makeImage({ layers: 1 });
  before(async () => {
    reg = await startRegistry({ auth: { htpasswd: Htpasswd.parse(HTPASSWD), anonymousPull: true } });
    await pushImage(reg.url, 'anon/img', img, 'v1', { Authorization: basic('alice', 'wonderland') });
  });
  after(async () => reg?.stop());

  it('pulls without credentials; pushes and deletes still need a login (401)', async () => {
    const r = await req('GET', `${reg.url}/v2/anon/img/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
    assert.deepEqual(r.body, img.manifest.data);
    assert.equal((await req('GET', `${reg.url}/v2/anon/img/blobs/${img.layers[0]!.digest}`)).status, 200);
    expect401(await req('POST', `${reg.url}/v2/anon/img/blobs/uploads/`), 'Basic');
    expect401(await req('DELETE', `${reg.url}/v2/anon/img/manifests/v1`), 'Basic');
    // /v2/ still challenges, so `docker login` can check credentials.
    expect401(await req('GET', `${reg.url}/v2/`), 'Basic');
  });
});

describe('bearer tokens from the built-in token endpoint', () => {
  let reg: TestRegistry;
  let key: Buffer;
  const img = makeImage({ layers: 1 });
  const alice = basic('alice', 'wonderland');
  before(async () => {
    const root = tempDir('token');
    key = await loadOrCreateKey(join(root, 'token.key'));
    reg = await startRegistry({
      root,
      auth: { htpasswd: Htpasswd.parse(HTPASSWD), anonymousPull: true, token: { issuer: 'berth-test', key } },
    });
    const t = (await getToken(reg.url, ['repository:tok/a:pull,push'], alice)).json<{ token: string }>().token;
    await pushImage(reg.url, 'tok/a', img, 'v1', { Authorization: `Bearer ${t}` });
  });
  after(async () => {
    await reg?.stop();
    rmSync(reg.root, { recursive: true, force: true });
  });

  it('a request without a token: 401 with a Bearer challenge naming realm, service and scope', async () => {
    const www = expect401(await req('GET', `${reg.url}/v2/`), 'Bearer');
    assert.equal(www, `Bearer realm="${reg.url}/token",service="berth-test"`);
    const push = expect401(await req('POST', `${reg.url}/v2/tok/b/blobs/uploads/`), 'Bearer');
    assert.equal(push, `Bearer realm="${reg.url}/token",service="berth-test",scope="repository:tok/b:pull,push"`);
  });

  it('the token endpoint grants what was asked to a user with the right password, and nothing to a wrong one', async () => {
    const r = await getToken(reg.url, ['repository:tok/a:pull,push'], alice);
    assert.equal(r.status, 200);
    const body = r.json<{ token: string; access_token: string; expires_in: number; issued_at: string }>();
    assert.equal(body.token, body.access_token);
    assert.ok(body.expires_in > 0);
    const claims = JSON.parse(Buffer.from(body.token.split('.')[1]!, 'base64url').toString()) as { sub: string; access: unknown };
    assert.equal(claims.sub, 'alice');
    assert.deepEqual(claims.access, [{ type: 'repository', name: 'tok/a', actions: ['pull', 'push'] }]);
    expect401(await getToken(reg.url, ['repository:tok/a:pull'], basic('alice', 'bad')), 'Basic');
  });

  it('a token for one repository is 403 DENIED on another', async () => {
    const t = (await getToken(reg.url, ['repository:tok/a:pull,push'], alice)).json<{ token: string }>().token;
    const ok = await req('GET', `${reg.url}/v2/tok/a/manifests/v1`, { headers: { Authorization: `Bearer ${t}`, Accept: OCI_MANIFEST } });
    assert.deepEqual(ok.body, img.manifest.data);
    for (const [method, path] of [
      ['GET', '/v2/tok/b/manifests/v1'],
      ['POST', '/v2/tok/b/blobs/uploads/'],
      ['GET', '/v2/_catalog'],
    ] as const) {
      const r = await req(method, `${reg.url}${path}`, { headers: { Authorization: `Bearer ${t}` } });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(errorCode(r), 'DENIED');
      assert.match(String(r.headers['www-authenticate']), /error="insufficient_scope"/);
    }
  });

  it('a forged or expired token is 401 invalid_token', async () => {
    const forged = signToken(
      { iss: 'berth-test', sub: 'x', aud: 'berth-test', exp: Math.floor(Date.now() / 1000) + 60, nbf: 0, iat: 0, jti: 'j', access: [] },
      Buffer.alloc(32, 7),
    );
    const expired = signToken(
      { iss: 'berth-test', sub: 'alice', aud: 'berth-test', exp: Math.floor(Date.now() / 1000) - 3600, nbf: 0, iat: 0, jti: 'j', access: [] },
      key,
    );
    for (const t of [forged, expired, 'not.a.token']) {
      const www = expect401(await req('GET', `${reg.url}/v2/`, { headers: { Authorization: `Bearer ${t}` } }), 'Bearer');
      assert.match(www, /error="invalid_token"/);
    }
  });

  it('an anonymous token pulls but cannot push (403 DENIED)', async () => {
    const r = await getToken(reg.url, ['repository:tok/a:pull,push']);
    assert.equal(r.status, 200);
    const t = r.json<{ token: string }>().token;
    const claims = JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { access: unknown };
    assert.deepEqual(claims.access, [{ type: 'repository', name: 'tok/a', actions: ['pull'] }]);
    assert.equal((await req('GET', `${reg.url}/v2/tok/a/manifests/v1`, { headers: { Authorization: `Bearer ${t}` } })).status, 200);
    const push = await req('POST', `${reg.url}/v2/tok/a/blobs/uploads/`, { headers: { Authorization: `Bearer ${t}` } });
    assert.equal(push.status, 403);
    assert.equal(errorCode(push), 'DENIED');
  });

  it('skopeo follows the token flow: push with credentials, anonymous pull, anonymous push refused', { skip: NO_SKOPEO }, async () => {
    const work = tempDir('tokensk');
    try {
      const src = makeImage({ layers: 2 });
      writeLayout(join(work, 'src'), src, 'v1');
      const push = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'alice:wonderland', `oci:${join(work, 'src')}:v1`, `docker://${reg.host}/tok/sk:v1`]);
      assert.equal(push.code, 0, push.stderr);
      const pull = await skopeo(['copy', '--src-tls-verify=false', `docker://${reg.host}/tok/sk:v1`, `oci:${join(work, 'out')}:v1`]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.equal(layoutDigest(join(work, 'out'), 'v1'), src.manifest.digest);
      const anon = await skopeo(['copy', '--dest-tls-verify=false', `oci:${join(work, 'src')}:v1`, `docker://${reg.host}/tok/anon:v1`]);
      assert.notEqual(anon.code, 0);
      assert.match(anon.stderr, /denied/i);
      const tags = await skopeo(['list-tags', '--tls-verify=false', '--creds', 'bob:builder', `docker://${reg.host}/tok/sk`]);
      assert.equal(tags.code, 0, tags.stderr);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('token endpoint without anonymous pull', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({
      auth: { htpasswd: Htpasswd.parse(HTPASSWD), anonymousPull: false, token: { issuer: 'berth-test', key: Buffer.alloc(32, 1) } },
    });
  });
  after(async () => reg?.stop());

  it('refuses a token to a client without credentials (401)', async () => {
    expect401(await getToken(reg.url, ['repository:x/y:pull']), 'Basic');
  });
});

describe('TLS', { skip: missing('openssl') }, () => {
  let reg: TestRegistry;
  let work: string;
  let ca: Buffer;
  before(async () => {
    work = tempDir('tls');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(work, 'key.pem'), '-out', join(work, 'cert.pem'),
    ], { stdio: 'ignore' });
    ca = readFileSync(join(work, 'cert.pem'));
    writeFileSync(join(work, 'ca.crt'), ca);
    reg = await startRegistry({ tls: { cert: ca, key: readFileSync(join(work, 'key.pem')) } });
  });
  after(async () => {
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('serves HTTPS with the given certificate', async () => {
    assert.ok(reg.url.startsWith('https://'));
    const r = await req('GET', `${reg.url}/v2/`, { ca });
    assert.equal(r.status, 200);
  });

  it('skopeo pushes and pulls over verified TLS', { skip: NO_SKOPEO }, async () => {
    const img = makeImage({ layers: 2 });
    writeLayout(join(work, 'src'), img, 'v1');
    const certDir = work;
    const push = await skopeo(['copy', '--dest-cert-dir', certDir, `oci:${join(work, 'src')}:v1`, `docker://${reg.host}/tls/img:v1`]);
    assert.equal(push.code, 0, push.stderr);
    const pull = await skopeo(['copy', '--src-cert-dir', certDir, `docker://${reg.host}/tls/img:v1`, `oci:${join(work, 'out')}:v1`]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(layoutDigest(join(work, 'out'), 'v1'), img.manifest.digest);
  });
});
