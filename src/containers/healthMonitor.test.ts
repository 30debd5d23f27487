import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateHealthcheck } from './healthMonitor.js';
import type { HealthConfig } from '../oci/image.js';

describe('validateHealthcheck', () => {
  it('drops fields sent as null, as Go decodes them to zero (docker-py sends every field)', () => {
    const h = { Test: ['CMD', 'true'], Interval: 1_000_000_000, Timeout: null, Retries: null, StartPeriod: null } as unknown as HealthConfig;
    validateHealthcheck(h);
    assert.deepEqual(h, { Test: ['CMD', 'true'], Interval: 1_000_000_000 });
  });

  it("refuses what moby refuses, with moby's words", () => {
    assert.throws(() => validateHealthcheck({ Interval: 10 } as HealthConfig), /Interval in Healthcheck cannot be less than 1ms/);
    assert.throws(() => validateHealthcheck({ Retries: -1 } as HealthConfig), /Retries in Healthcheck cannot be negative/);
    assert.throws(() => validateHealthcheck({ Timeout: '1s' } as unknown as HealthConfig), /Healthcheck.Timeout must be a number/);
  });
});
