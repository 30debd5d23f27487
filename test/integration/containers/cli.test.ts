// Container lifecycle through the berth CLI against a real berthd (runc, conmon, overlayfs).
import { after, before, describe } from 'node:test';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { containerScenarios } from '../../fixtures/containerScenarios.js';

describe('containers via the berth CLI', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });
  containerScenarios('berth', () => d, () => (args, opts) => d.berth(args, opts));
});
