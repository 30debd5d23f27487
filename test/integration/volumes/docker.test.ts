// The same volume scenarios through the real docker CLI (DOCKER_HOST=unix://…) against berthd.
import { after, before, describe } from 'node:test';
import { spawnSync } from 'node:child_process';
import { busyboxRootfsTar, startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { volumeScenarios } from './scenarios.js';

const hasDocker = spawnSync('docker', ['--version']).status === 0;
const skip = process.getuid?.() !== 0 ? 'needs root' : !hasDocker ? 'the docker CLI binary is not on PATH' : false;

describe('volumes via the real docker CLI', { skip }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    const r = await d.docker(['import', '-c', 'CMD ["sh"]', busyboxRootfsTar(), 'busybox:latest']);
    if (r.code !== 0) throw new Error(`docker import failed: ${r.stderr}`);
  });
  after(async () => {
    await d?.cleanup();
  });
  volumeScenarios('docker', () => d, () => (args, opts) => d.docker(args, opts));
});
