// POST /build's query as the docker CLI and other clients send it: JSON-encoded and possibly empty
// buildargs/labels/cachefrom/ulimits, repeated t/extrahosts, rm defaulting to true, forcerm implying
// rm, networkmode and version checked, squash refused, X-Registry-Config decoded — 400s for bad input.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildOptionsFrom, decodeRegistryConfig } from './build.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);

describe('buildOptionsFrom', () => {
  it('reads what `docker build` sends, empty JSON parameters included', () => {
    const { opts, quiet, remote } = buildOptionsFrom(
      q('t=a:1&t=b&buildargs=%7B%22A%22%3A%221%22%2C%22B%22%3Anull%7D&labels=&cachefrom=%5B%22img%3A1%22%2C%22%22%5D&ulimits=%5B%7B%22Name%22%3A%22nofile%22%2C%22Soft%22%3A1%2C%22Hard%22%3A2%7D%5D&extrahosts=h%3A1.2.3.4&shmsize=1024&networkmode=none&target=t&q=1&platform=linux%2Farm64&dockerfile=.dockerfile.abc'),
      undefined,
    );
    assert.deepEqual(opts.tags.map((t) => `${t.path}:${t.tag ?? ''}`), ['library/a:1', 'library/b:latest']);
    assert.deepEqual([...opts.buildArgs], [['A', '1'], ['B', null]]);
    assert.deepEqual(opts.labels, {});
    assert.deepEqual(opts.cacheFrom, ['img:1']);
    assert.deepEqual(opts.ulimits, [{ Name: 'nofile', Soft: 1, Hard: 2 }]);
    assert.deepEqual(opts.extraHosts, ['h:1.2.3.4']);
    assert.equal(opts.shmSize, 1024);
    assert.equal(opts.networkMode, 'none');
    assert.equal(opts.target, 't');
    assert.equal(opts.dockerfile, '.dockerfile.abc');
    assert.equal(opts.platform?.architecture, 'arm64');
    assert.equal(quiet, true);
    assert.equal(remote, '');
    assert.equal(opts.remove, true, 'rm defaults to true');
  });

  it('honours rm=0, and forcerm implies rm', () => {
    assert.equal(buildOptionsFrom(q('rm=0'), undefined).opts.remove, false);
    const f = buildOptionsFrom(q('rm=0&forcerm=1'), undefined).opts;
    assert.equal(f.forceRemove, true);
    assert.equal(f.remove, true);
  });

  it('refuses malformed JSON, non-string cache-from entries, bad ulimits, networks, hosts, squash and BuildKit', () => {
    const bad: Array<[string, RegExp]> = [
      ['buildargs=%7B', /error reading build args/],
      ['cachefrom=%5B1%5D', /error reading cache-from/],
      ['cachefrom=%7B%7D', /error reading cache-from/],
      ['ulimits=%5B%7B%22Name%22%3A1%7D%5D', /error reading ulimit settings/],
      ['networkmode=weird', /network weird not found/],
      ['extrahosts=nocolon', /invalid extra host/],
      ['squash=1', /squash is only supported with experimental mode/],
      ['version=2', /BuildKit is not supported/],
      ['t=UPPER', /./],
    ];
    for (const [query, re] of bad) assert.throws(() => buildOptionsFrom(q(query), undefined), re, query);
  });

  it('decodes X-Registry-Config (base64url JSON, `auth` split into user and password); garbage means none', () => {
    const cfg = Buffer.from(JSON.stringify({ 'reg.example:5000': { auth: Buffer.from('bob:pw').toString('base64') } })).toString('base64url');
    assert.deepEqual(decodeRegistryConfig(cfg), { 'reg.example:5000': { username: 'bob', password: 'pw' } });
    assert.deepEqual(decodeRegistryConfig('!!!'), {});
    assert.deepEqual(decodeRegistryConfig(undefined), {});
  });
});
