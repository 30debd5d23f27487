import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, hostOf, isCidr, isInsecureRegistry } from './insecure.js';

describe('insecure registries (moby isSecureIndex)', () => {
  const noDns = async (): Promise<string[]> => Promise.reject(new Error('no such host'));
  const dns = (ips: string[]) => async (): Promise<string[]> => ips;

  it('splits host from port, IPv6 brackets included', () => {
    assert.equal(hostOf('reg.example:5000'), 'reg.example');
    assert.equal(hostOf('[::1]:5000'), '::1');
    assert.equal(hostOf('10.1.2.3'), '10.1.2.3');
  });

  it('reads CIDRs and matches addresses in them, IPv4-mapped IPv6 as IPv4', () => {
    assert.ok(isCidr('10.0.0.0/8'));
    assert.ok(isCidr('fd00::/8'));
    assert.ok(!isCidr('10.0.0.0/33'));
    assert.ok(!isCidr('reg.example:5000'));
    assert.ok(cidrContains('10.0.0.0/8', '10.200.3.4'));
    assert.ok(!cidrContains('10.0.0.0/8', '11.0.0.1'));
    assert.ok(cidrContains('fd00::/8', 'fd12:3456::1'));
    assert.ok(!cidrContains('fd00::/8', 'fe80::1'));
    assert.ok(cidrContains('127.0.0.0/8', '::ffff:127.0.0.1'));
    assert.ok(cidrContains('0.0.0.0/0', '8.8.8.8'));
  });

  it('loopback is insecure by default, by address or by a name that resolves to it', async () => {
    assert.equal(await isInsecureRegistry('127.0.0.1:5000', [], noDns), true);
    assert.equal(await isInsecureRegistry('127.9.9.9', [], noDns), true);
    assert.equal(await isInsecureRegistry('[::1]:5000', [], noDns), true);
    assert.equal(await isInsecureRegistry('localhost:5000', [], dns(['127.0.0.1'])), true);
    assert.equal(await isInsecureRegistry('myreg.internal:5000', [], dns(['127.0.1.1'])), true);
    assert.equal(await isInsecureRegistry('reg.example', [], dns(['192.0.2.1'])), false);
  });

  it('the list names registries exactly ("host:port") or by CIDR; an unresolvable name is secure', async () => {
    assert.equal(await isInsecureRegistry('reg.example:5000', ['reg.example:5000'], noDns), true);
    assert.equal(await isInsecureRegistry('reg.example:5001', ['reg.example:5000'], dns(['192.0.2.1'])), false);
    assert.equal(await isInsecureRegistry('reg.example', ['192.0.2.0/24'], dns(['192.0.2.7'])), true);
    assert.equal(await isInsecureRegistry('10.1.2.3:443', ['10.0.0.0/8'], noDns), true);
    assert.equal(await isInsecureRegistry('nowhere.example', ['0.0.0.0/0'], noDns), false);
  });

  it('Docker Hub stays secure', async () => {
    assert.equal(await isInsecureRegistry('docker.io', ['0.0.0.0/0'], dns(['127.0.0.1'])), false);
  });
});
