// The Engine API's system endpoints and its error contract, over the real socket.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { REPO, startDaemon, TestDaemon } from '../../fixtures/testDaemon.js';

describe('Engine API basics', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.cleanup();
  });

  it('HEAD and GET /_ping answer with the headers docker negotiates from', async () => {
    for (const method of ['HEAD', 'GET']) {
      const r = await d.http(method, '/_ping');
      assert.equal(r.status, 200);
      assert.equal(r.headers['api-version'], '1.51');
      assert.equal(r.headers['ostype'], 'linux');
      assert.equal(r.headers['builder-version'], '1');
      assert.equal(r.headers['swarm'], 'inactive');
      assert.equal(r.body, method === 'GET' ? 'OK' : '');
    }
  });

  it('/version and versioned paths work; too old and too new versions are refused like Docker', async () => {
    const v = await d.http('GET', '/v1.44/version');
    assert.equal(v.status, 200);
    const body = v.json as { ApiVersion: string; MinAPIVersion: string; Os: string };
    assert.equal(body.ApiVersion, '1.51');
    assert.equal(body.Os, 'linux');
    const old = await d.http('GET', '/v1.12/version');
    assert.equal(old.status, 400);
    assert.match((old.json as { message: string }).message, /client version 1.12 is too old/);
    const fresh = await d.http('GET', '/v1.99/version');
    assert.equal(fresh.status, 400);
    assert.match((fresh.json as { message: string }).message, /too new. Maximum supported API version is 1.51/);
  });

  it('/info has a Swarm block and the engine counters', async () => {
    const r = await d.http('GET', '/info');
    assert.equal(r.status, 200);
    const info = r.json as { Swarm: { LocalNodeState: string }; Containers: number; Driver: string; OSType: string };
    assert.equal(info.Swarm.LocalNodeState, 'inactive');
    assert.equal(info.Containers, 0);
    assert.equal(info.Driver, 'overlay2');
    assert.equal(info.OSType, 'linux');
  });

  it('bad input gets Docker status codes and messages, and changes nothing', async () => {
    const bad = await d.http('POST', '/containers/create', '{not json', { 'Content-Type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.match((bad.json as { message: string }).message, /invalid JSON/);
    const noImage = await d.http('POST', '/containers/create', JSON.stringify({ Image: 'nosuchimage' }), { 'Content-Type': 'application/json' });
    assert.equal(noImage.status, 404);
    assert.equal((noImage.json as { message: string }).message, 'No such image: nosuchimage:latest');
    const noCtr = await d.http('GET', '/containers/nosuch/json');
    assert.equal(noCtr.status, 404);
    assert.equal((noCtr.json as { message: string }).message, 'No such container: nosuch');
    const wrongType = await d.http('POST', '/containers/create', JSON.stringify({ Image: 'x', Cmd: 5 }));
    assert.equal(wrongType.status, 400);
    const unknown = await d.http('GET', '/no/such/endpoint');
    assert.equal(unknown.status, 404);
    const list = await d.http('GET', '/containers/json?all=1');
    assert.deepEqual(list.json, []);
  });

  it('a second berthd on the same data-root exits with a clear message', async () => {
    const second = await d.run(`${REPO}/bin/berthd`, [
      '--data-root',
      d.dataRoot,
      '--exec-root',
      `${d.execRoot}2`,
      '-H',
      `unix://${d.socket}2`,
    ]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already using data-root/);
  });
});
