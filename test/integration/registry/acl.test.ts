// Per-user repository ACLs (`--acl`): in token mode the token endpoint grants only what a user's
// rules allow, so a request outside them is 403 DENIED; in basic mode the same rules are checked per
// request. Anonymous clients pull only what `anonymous` rules name and never push; the catalog lists
// only what the caller may pull; the ACL file is re-read while the registry runs. skopeo is the
// real client for the token flow.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { Acl } from '../../../src/registry/acl.js';
import { Htpasswd } from '../../../src/registry/htpasswd.js';
import { ReloadingFile } from '../../../src/registry/reloadingFile.js';
import {
  NO_SKOPEO,
  errorCode,
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

const SERVICE = 'berth-acl';
const basic = (user: string, pw: string): string => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;
const USERS = `alice:${bcrypt.hashSync('wonderland', 4)}\nbob:${bcrypt.hashSync('builder', 4)}\n`;
const ACL = `# who       repositories   actions
alice        **             *
*            \${user}/**     pull,push
*            library/**     pull
anonymous    public/**      pull
`;

async function token(base: string, scopes: string[], auth?: string): Promise<string> {
  const q = new URLSearchParams({ service: SERVICE });
  for (const s of scopes) q.append('scope', s);
  const r = await req('GET', `${base}/token?${q.toString()}`, auth === undefined ? {} : { headers: { Authorization: auth } });
  assert.equal(r.status, 200, r.body.toString());
  return r.json<{ token: string }>().token;
}

const grants = (t: string): unknown => (JSON.parse(Buffer.from(t.split('.')[1] as string, 'base64url').toString()) as { access: unknown }).access;

function expectDenied(r: Resp): void {
  assert.equal(r.status, 403, r.body.toString());
  assert.equal(errorCode(r), 'DENIED');
}

describe('ACLs with token auth', () => {
  let reg: TestRegistry;
  let work: string;
  let aclPath: string;
  const img = makeImage({ layers: 1 });
  const alice = basic('alice', 'wonderland');
  const bob = basic('bob', 'builder');

  before(async () => {
    work = tempDir('acl');
    aclPath = join(work, 'acl');
    writeFileSync(aclPath, ACL);
    const acl = await ReloadingFile.load(aclPath, (t, s) => Acl.parse(t, s), { what: 'ACL file', checkMs: 0 });
    reg = await startRegistry({
      root: join(work, 'root'),
      auth: { htpasswd: Htpasswd.parse(USERS), acl, anonymousPull: false, token: { issuer: SERVICE, key: Buffer.alloc(32, 5) } },
    });
    for (const repo of ['library/base', 'public/tool', 'alice/private', 'bob/app']) {
      const t = await token(reg.url, [`repository:${repo}:pull,push`], alice);
      await pushImage(reg.url, repo, img, 'v1', { Authorization: `Bearer ${t}` });
    }
  });
  after(async () => {
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('grants each user only what the rules allow', async () => {
    assert.deepEqual(grants(await token(reg.url, ['repository:bob/app:pull,push'], bob)), [{ type: 'repository', name: 'bob/app', actions: ['pull', 'push'] }]);
    assert.deepEqual(grants(await token(reg.url, ['repository:library/base:pull,push'], bob)), [{ type: 'repository', name: 'library/base', actions: ['pull'] }]);
    assert.deepEqual(grants(await token(reg.url, ['repository:alice/private:pull,push'], bob)), []);
    assert.deepEqual(grants(await token(reg.url, ['repository:public/tool:pull,push'])), [{ type: 'repository', name: 'public/tool', actions: ['pull'] }]);
    assert.deepEqual(grants(await token(reg.url, ['repository:library/base:pull'])), []);
  });

  it('requests outside a user\'s rules are 403 DENIED; inside them they work', async () => {
    const t = await token(reg.url, ['repository:alice/private:pull,push', 'repository:library/base:pull,push', 'repository:bob/app:pull,push'], bob);
    const h = { Authorization: `Bearer ${t}` };
    expectDenied(await req('GET', `${reg.url}/v2/alice/private/manifests/v1`, { headers: h }));
    expectDenied(await req('POST', `${reg.url}/v2/library/base/blobs/uploads/`, { headers: h }));
    expectDenied(await req('DELETE', `${reg.url}/v2/bob/app/manifests/v1`, { headers: h }));
    assert.equal((await req('GET', `${reg.url}/v2/library/base/manifests/v1`, { headers: h })).status, 200);
    assert.equal((await req('POST', `${reg.url}/v2/bob/app/blobs/uploads/`, { headers: h })).status, 202);
    // Anonymous: public only.
    const anon = { Authorization: `Bearer ${await token(reg.url, ['repository:public/tool:pull', 'repository:library/base:pull'])}` };
    assert.equal((await req('GET', `${reg.url}/v2/public/tool/manifests/v1`, { headers: anon })).status, 200);
    expectDenied(await req('GET', `${reg.url}/v2/library/base/manifests/v1`, { headers: anon }));
  });

  it('the catalog lists only what the caller may pull', async () => {
    const list = async (auth?: string): Promise<string[]> => {
      const t = await token(reg.url, ['registry:catalog:*'], auth);
      const r = await req('GET', `${reg.url}/v2/_catalog`, { headers: { Authorization: `Bearer ${t}` } });
      assert.equal(r.status, 200, r.body.toString());
      return r.json<{ repositories: string[] }>().repositories;
    };
    assert.deepEqual(await list(alice), ['alice/private', 'bob/app', 'library/base', 'public/tool']);
    assert.deepEqual(await list(bob), ['bob/app', 'library/base', 'public/tool']);
    assert.deepEqual(await list(), ['public/tool']);
    // Paging counts visible names only.
    const t = await token(reg.url, ['registry:catalog:*'], bob);
    const page = await req('GET', `${reg.url}/v2/_catalog?n=2`, { headers: { Authorization: `Bearer ${t}` } });
    assert.deepEqual(page.json<{ repositories: string[] }>().repositories, ['bob/app', 'library/base']);
    assert.equal(page.headers['link'], '</v2/_catalog?n=2&last=library%2Fbase>; rel="next"');
  });

  it('an edited ACL applies to the next token; a broken one leaves the last good one in force', async () => {
    writeFileSync(aclPath, `${ACL}bob team/** pull,push\n`);
    assert.deepEqual(grants(await token(reg.url, ['repository:team/x:push'], bob)), [{ type: 'repository', name: 'team/x', actions: ['push'] }]);
    writeFileSync(aclPath, `${ACL}bob team/** fly\n`);
    assert.deepEqual(grants(await token(reg.url, ['repository:team/x:push'], bob)), [{ type: 'repository', name: 'team/x', actions: ['push'] }]);
    writeFileSync(aclPath, ACL);
    assert.deepEqual(grants(await token(reg.url, ['repository:team/x:push'], bob)), []);
  });

  it('skopeo: bob pushes to his own namespace, is denied on alice\'s, pulls library images', { skip: NO_SKOPEO }, async () => {
    const dir = join(work, 'sk');
    const src = makeImage({ layers: 1 });
    writeLayout(join(dir, 'src'), src, 'v1');
    const own = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'bob:builder', `oci:${join(dir, 'src')}:v1`, `docker://${reg.host}/bob/sk:v1`]);
    assert.equal(own.code, 0, own.stderr);
    const other = await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'bob:builder', `oci:${join(dir, 'src')}:v1`, `docker://${reg.host}/alice/sk:v1`]);
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /denied|403 \(Forbidden\)/i);
    const pull = await skopeo(['copy', '--src-tls-verify=false', '--src-creds', 'bob:builder', `docker://${reg.host}/library/base:v1`, `oci:${join(dir, 'out')}:v1`]);
    assert.equal(pull.code, 0, pull.stderr);
  });
});

describe('ACLs with basic auth', () => {
  let reg: TestRegistry;
  const img = makeImage({ layers: 1 });
  before(async () => {
    reg = await startRegistry({ auth: { htpasswd: Htpasswd.parse(USERS), acl: Acl.parse(ACL), anonymousPull: false } });
    for (const repo of ['public/tool', 'alice/private']) await pushImage(reg.url, repo, img, 'v1', { Authorization: basic('alice', 'wonderland') });
  });
  after(async () => reg?.stop());

  it('checks every request against the rules: 403 DENIED for a user outside them, 401 for anonymous pushes', async () => {
    const bob = { Authorization: basic('bob', 'builder') };
    expectDenied(await req('GET', `${reg.url}/v2/alice/private/manifests/v1`, { headers: bob }));
    expectDenied(await req('POST', `${reg.url}/v2/public/tool/blobs/uploads/`, { headers: bob }));
    assert.equal((await req('GET', `${reg.url}/v2/public/tool/manifests/v1`, { headers: bob })).status, 200);
    assert.equal((await req('POST', `${reg.url}/v2/bob/new/blobs/uploads/`, { headers: bob })).status, 202);
    assert.equal((await req('GET', `${reg.url}/v2/public/tool/manifests/v1`)).status, 200);
    const anonPush = await req('POST', `${reg.url}/v2/public/tool/blobs/uploads/`);
    assert.equal(anonPush.status, 401);
    assert.equal(errorCode(anonPush), 'UNAUTHORIZED');
    assert.equal((await req('GET', `${reg.url}/v2/alice/private/manifests/v1`)).status, 401);
    const cat = await req('GET', `${reg.url}/v2/_catalog`, { headers: bob });
    // An upload only started creates no repository; alice/private is hidden from bob.
    assert.deepEqual(cat.json<{ repositories: string[] }>().repositories, ['public/tool']);
  });
});
