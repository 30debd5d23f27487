// The bearer-token flow (Docker Hub's): docker-registry trusting a token server; login, push
// with credentials, anonymous pull, refusals — driven by the real docker CLI through berthd.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { TestRegistry } from '../../fixtures/testRegistry.js';
import { TokenServer } from '../../fixtures/tokenServer.js';

describe('registry with bearer-token auth', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let tokens: TokenServer;
  let reg: TestRegistry;
  let d: TestDaemon;
  let image: string;
  before(async () => {
    tokens = new TokenServer('alice', 's3cret');
    await tokens.start();
    reg = new TestRegistry({ authConfig: tokens.registryAuthConfig() });
    await reg.start();
    d = await startDaemon();
    image = `${reg.host}/alice/app:1`;
    await d.importBusybox(image);
  });
  after(async () => {
    await d?.cleanup();
    await reg?.stop();
    await tokens?.stop();
  });

  it('refuses a push without credentials and changes nothing remote', async () => {
    const r = await d.docker(['push', image]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /unauthorized|denied/i);
  });

  it('refuses a login with a wrong password with a 401 message', async () => {
    const r = await d.docker(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 'wrong\n' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /401 Unauthorized|unauthorized/i);
  });

  it('logs in, pushes with a token scoped to the repository, and pulls back anonymously', async () => {
    const login = await d.docker(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 's3cret\n' });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    const push = await d.docker(['push', image]);
    assert.equal(push.code, 0, push.stderr);
    assert.ok(tokens.requests.some((q) => q.user === 'alice' && q.scope === 'repository:alice/app:pull,push'), JSON.stringify(tokens.requests));
    assert.equal((await d.docker(['logout', reg.host])).code, 0);
    assert.equal((await d.docker(['rmi', image])).code, 0);
    const pull = await d.docker(['pull', image]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.ok(tokens.requests.some((q) => q.user === '' && q.scope === 'repository:alice/app:pull'));
    const run = await d.docker(['run', '--rm', image, 'echo', 'token-flow-ok']);
    assert.equal(run.stdout, 'token-flow-ok\n');
  });
});
