// Volumes through the berth CLI: named, anonymous and image-initialised volumes, binds, tmpfs,
// --volumes-from, rm -v, volume rm/prune (scenarios.ts, shared with docker.test.ts).
import { after, before, describe } from 'node:test';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { volumeScenarios } from './scenarios.js';

describe('volumes via the berth CLI', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });
  volumeScenarios('berth', () => d, () => (args, opts) => d.berth(args, opts));
});
