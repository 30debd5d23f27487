// The berth CLI without a daemon, and its start-up path.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../../fixtures/testDaemon.js';

const berth = join(REPO, 'bin', 'berth');

describe('berth CLI without a daemon', () => {
  it('says in one line that it cannot connect, with no stack trace, and exits 1', () => {
    const r = spawnSync(berth, ['-H', 'unix:///tmp/berth-no-such.sock', 'ps'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'Cannot connect to the berth daemon at unix:///tmp/berth-no-such.sock. Is berthd running?\n');
  });
  it('takes the daemon address from BERTH_HOST', () => {
    const r = spawnSync(berth, ['images'], { encoding: 'utf8', env: { ...process.env, BERTH_HOST: 'unix:///tmp/berth-env.sock' } });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unix:\/\/\/tmp\/berth-env.sock/);
  });
  it('answers --help without a daemon', () => {
    const r = spawnSync(berth, ['run', '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Usage:\s+berth run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]/);
  });
});
