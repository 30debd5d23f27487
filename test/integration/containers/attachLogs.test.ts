// POST /containers/{id}/attach with `logs` and `stream` as moby has them: logs=1 replays what
// the container logged so far; stream=0 (the default) ends the answer there, so SDK calls such
// as docker-py's `attach(stream=False, logs=True)` return instead of hanging.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';

/** The payloads of a stdcopy-framed body, per stream (1 stdout, 2 stderr). */
function demux(body: Buffer): { out: string; err: string } {
  let out = '';
  let err = '';
  for (let i = 0; i + 8 <= body.length; ) {
    const n = body.readUInt32BE(i + 4);
    const data = body.subarray(i + 8, i + 8 + n).toString();
    if (body[i] === 2) err += data;
    else out += data;
    i += 8 + n;
  }
  return { out, err };
}

describe('attach with logs', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  let id = '';
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
    const c = await d.http('POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out1; echo err1 >&2; echo out2'] }), { 'Content-Type': 'application/json' });
    assert.equal(c.status, 201, c.body);
    id = (c.json as { Id: string }).Id;
    assert.equal((await d.http('POST', `/containers/${id}/start`)).status, 204);
    assert.equal((await d.http('POST', `/containers/${id}/wait`)).status, 200);
  });
  after(async () => {
    await d?.cleanup();
  });

  it('logs=1 on a stopped container replays its output and ends (stream defaults to false)', async () => {
    const r = await d.http('POST', `/containers/${id}/attach?logs=1&stdout=1&stderr=1`);
    assert.equal(r.status, 200);
    const { out, err } = demux(Buffer.from(r.body, 'latin1'));
    assert.equal(out, 'out1\nout2\n');
    assert.equal(err, 'err1\n');
  });

  it('only the streams asked for are replayed', async () => {
    const r = await d.http('POST', `/containers/${id}/attach?logs=1&stderr=1`);
    assert.deepEqual(demux(Buffer.from(r.body, 'latin1')), { out: '', err: 'err1\n' });
  });

  it('stream=0 without logs answers at once with nothing', async () => {
    const r = await d.http('POST', `/containers/${id}/attach?stdout=1&stderr=1`);
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
  });
});
