// Pure helpers of the image commands, checked against what docker's Go client produces.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAuthConfig } from './imageApi.js';
import { authConfigKey, convertToHostname } from './registryAuth.js';
import { platformParam } from './save.js';
import { historyRow } from './history.js';

describe('image command helpers', () => {
  it('encodeAuthConfig: base64url with padding of the JSON, empty fields dropped ({} is "e30=")', () => {
    assert.equal(encodeAuthConfig({}), 'e30=');
    const v = encodeAuthConfig({ username: 'a', password: 'p?>', serveraddress: 'h:5000', identitytoken: '' });
    assert.equal(Buffer.from(v, 'base64url').toString(), '{"username":"a","password":"p?\\u003e","serveraddress":"h:5000"}');
    assert.doesNotMatch(v, /[+/]/);
  });

  it('credential keys: Docker Hub under its v1 URL, others by host[:port]', () => {
    assert.equal(authConfigKey('docker.io'), 'https://index.docker.io/v1/');
    assert.equal(authConfigKey('127.0.0.1:5000'), '127.0.0.1:5000');
    assert.equal(convertToHostname('https://reg.example:5000/v2/'), 'reg.example:5000');
    assert.equal(convertToHostname('reg.example'), 'reg.example');
  });

  it('platformParam: the JSON docker sends for --platform', () => {
    assert.equal(platformParam('linux/arm64/v8'), '{"architecture":"arm64","os":"linux","variant":"v8"}');
    assert.equal(platformParam('linux/x86_64'), '{"architecture":"amd64","os":"linux"}');
    assert.throws(() => platformParam('linux//x'), /invalid platform/);
  });

  it('historyRow: truncation, N/A before 2000, sizes human or in bytes', () => {
    const h = { Id: `sha256:${'a'.repeat(64)}`, Created: 100, CreatedBy: `/bin/sh -c\t${'x'.repeat(60)}`, Tags: null, Size: 2140160, Comment: '' };
    const row = historyRow(h, true, true, Date.now());
    assert.equal(row['ID'], 'a'.repeat(12));
    assert.equal(row['CreatedSince'], 'N/A');
    assert.equal(row['CreatedBy']?.length, 45);
    assert.ok(row['CreatedBy']?.startsWith('/bin/sh -c x'));
    assert.equal(row['Size'], '2.14MB');
    assert.equal(historyRow(h, false, false, Date.now())['Size'], '2140160');
  });
});
