import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { registryServiceConfig } from './serviceConfig.js';

describe('registryServiceConfig (GET /info RegistryConfig)', () => {
  it('with no settings: Docker Hub official and secure, loopback CIDRs only', () => {
    assert.deepEqual(registryServiceConfig({}), {
      InsecureRegistryCIDRs: ['::1/128', '127.0.0.0/8'],
      IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
      Mirrors: [],
    });
  });

  it('splits insecure names from CIDRs and lists each registry\'s mirrors, Hub ones at the top level too', () => {
    const c = registryServiceConfig({
      insecureRegistries: ['reg.example:5000', '10.0.0.0/8'],
      mirrors: { 'docker.io': ['https://hub-mirror.example'], 'reg.example:5000': ['http://m1.example/'], 'other.example': ['https://m2.example'] },
    });
    assert.deepEqual(c['InsecureRegistryCIDRs'], ['10.0.0.0/8', '::1/128', '127.0.0.0/8']);
    assert.deepEqual(c['Mirrors'], ['https://hub-mirror.example/']);
    assert.deepEqual(c['IndexConfigs'], {
      'docker.io': { Name: 'docker.io', Mirrors: ['https://hub-mirror.example/'], Secure: true, Official: true },
      'reg.example:5000': { Name: 'reg.example:5000', Mirrors: ['http://m1.example/'], Secure: false, Official: false },
      'other.example': { Name: 'other.example', Mirrors: ['https://m2.example/'], Secure: true, Official: false },
    });
  });
});
