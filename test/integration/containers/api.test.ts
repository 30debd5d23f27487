// The container endpoints beyond what the CLIs show: exec instances, the /events stream,
// streaming stats, and the bad-input answers, over the real socket.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { TarWriter } from '../../../src/util/tar/writer.js';

async function tarOf(entries: Array<{ name: string; body?: string; type?: 'file' | 'symlink' | 'directory'; linkname?: string }>): Promise<Buffer> {
  const w = new TarWriter();
  const chunks: Buffer[] = [];
  w.stream.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => w.stream.on('end', r));
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = Buffer.from(e.body ?? '');
    await w.add({ name: e.name, type, mode: 0o644, size: type === 'file' ? body.length : 0, ...(e.linkname ? { linkname: e.linkname } : {}) }, type === 'file' ? body : undefined);
  }
  await w.finish();
  await done;
  return Buffer.concat(chunks);
}

interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  ContainerID: string;
  ProcessConfig: { entrypoint: string; arguments: string[]; tty: boolean; privileged: boolean; user: string };
}

async function until(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

/** Reads a streaming JSON-lines response until `enough` says so, then hangs up. */
function streamLines(d: TestDaemon, path: string, enough: (lines: string[]) => boolean, ms = 15_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let buf = '';
    const req = request({ socketPath: d.socket, method: 'GET', path, headers: { Host: 'localhost' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`status ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (s: string) => {
        buf += s;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          lines.push(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
        if (enough(lines)) {
          req.destroy();
          resolve(lines);
        }
      });
      res.on('end', () => resolve(lines));
    });
    req.on('error', (e) => (lines.length > 0 ? resolve(lines) : reject(e)));
    setTimeout(() => {
      req.destroy();
      resolve(lines);
    }, ms);
    req.end();
  });
}

describe('container API: exec, events, stats', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  const json = (body: unknown): [string, Record<string, string>] => [JSON.stringify(body), { 'Content-Type': 'application/json' }];
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
    const r = await d.berth(['run', '-d', '--name', 'api', '--label', 'k=v', 'busybox', 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await d?.cleanup();
  });

  it('exec create, start, inspect: exit code, Pid, ProcessConfig; a second start is refused', async () => {
    const c = await d.http('POST', '/containers/api/exec', ...json({ Cmd: ['sh', '-c', 'exit 4'], AttachStdout: true }));
    assert.equal(c.status, 201, c.body);
    const id = (c.json as { Id: string }).Id;
    assert.match(id, /^[0-9a-f]{64}$/);
    const before = (await d.http('GET', `/exec/${id}/json`)).json as ExecInspect;
    assert.equal(before.Running, false);
    assert.equal(before.ExitCode, null);
    assert.deepEqual(before.ProcessConfig, { tty: false, entrypoint: 'sh', arguments: ['-c', 'exit 4'], privileged: false, user: '' });
    const ids = (await d.http('GET', '/containers/api/json')).json as { ExecIDs: string[] | null; Id: string };
    assert.deepEqual(ids.ExecIDs, [id]);
    const s = await d.http('POST', `/exec/${id}/start`, ...json({ Detach: false, Tty: false }));
    assert.equal(s.status, 200);
    const after = (await d.http('GET', `/exec/${id}/json`)).json as ExecInspect;
    assert.equal(after.ExitCode, 4);
    assert.equal(after.Running, false);
    assert.equal(after.ContainerID, ids.Id);
    assert.equal(((await d.http('GET', '/containers/api/json')).json as { ExecIDs: null }).ExecIDs, null);
    const again = await d.http('POST', `/exec/${id}/start`, ...json({ Detach: false }));
    assert.equal(again.status, 409);
    assert.match((again.json as { message: string }).message, /has already run/);
    const resize = await d.http('POST', `/exec/${id}/resize?h=10&w=10`);
    assert.equal(resize.status, 409);
  });

  it('a detached exec runs in the background and is inspectable while it runs', async () => {
    const c = await d.http('POST', '/containers/api/exec', ...json({ Cmd: ['sleep', '1'] }));
    const id = (c.json as { Id: string }).Id;
    const s = await d.http('POST', `/exec/${id}/start`, ...json({ Detach: true }));
    assert.equal(s.status, 200);
    const running = (await d.http('GET', `/exec/${id}/json`)).json as ExecInspect;
    assert.equal(running.Running, true);
    assert.ok(running.Pid > 0);
    await until(async () => ((await d.http('GET', `/exec/${id}/json`)).json as ExecInspect).ExitCode === 0);
  });

  it('exec bad input: no command (400), unknown container (404), unknown exec (404), stopped container (409)', async () => {
    const noCmd = await d.http('POST', '/containers/api/exec', ...json({ Cmd: [] }));
    assert.equal(noCmd.status, 400);
    assert.equal((noCmd.json as { message: string }).message, 'No exec command specified');
    assert.equal((await d.http('POST', '/containers/nosuch/exec', ...json({ Cmd: ['true'] }))).status, 404);
    const noExec = await d.http('GET', '/exec/nosuch/json');
    assert.equal(noExec.status, 404);
    assert.equal((noExec.json as { message: string }).message, 'No such exec instance: nosuch');
    assert.equal((await d.http('POST', '/exec/nosuch/start', ...json({}))).status, 404);
    assert.equal((await d.berth(['create', '--name', 'idle', 'busybox', 'true'])).code, 0);
    const stopped = await d.http('POST', '/containers/idle/exec', ...json({ Cmd: ['true'] }));
    assert.equal(stopped.status, 409);
    assert.match((stopped.json as { message: string }).message, /^container [0-9a-f]{64} is not running$/);
  });

  it('GET /events streams new events live with Docker’s shape, filtered', async () => {
    const got = streamLines(d, `/events?filters=${encodeURIComponent(JSON.stringify({ container: ['evlive'], event: ['create'] }))}`, (l) => l.length >= 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await d.berth(['create', '--name', 'evlive', '--label', 'team=x', 'busybox', 'true'])).code, 0);
    const lines = await got;
    assert.equal(lines.length, 1);
    const raw = lines[0] as string;
    const e = JSON.parse(raw) as Record<string, unknown> & { Actor: { ID: string; Attributes: Record<string, string> } };
    assert.equal(e.Type, 'container');
    assert.equal(e.Action, 'create');
    assert.equal(e.status, 'create');
    assert.equal(e.id, e.Actor.ID);
    assert.equal(e.from, 'busybox');
    assert.equal(e.scope, 'local');
    assert.deepEqual(e.Actor.Attributes, { image: 'busybox', name: 'evlive', team: 'x' });
    const timeNano = /"timeNano":(\d+)/.exec(raw)?.[1] ?? '';
    assert.equal(timeNano.length, 19);
    assert.equal(BigInt(timeNano) / 1_000_000_000n, BigInt(e.time as number));
  });

  it('GET /events refuses since after until, and unknown filters', async () => {
    const bad = await d.http('GET', '/events?since=200&until=100');
    assert.equal(bad.status, 400);
    const f = await d.http('GET', `/events?until=1&filters=${encodeURIComponent('{"bogus":["x"]}')}`);
    assert.equal(f.status, 400);
    // until is whole seconds: round up, or events of this very second are left out.
    const past = await d.http('GET', `/events?since=1&until=${Math.ceil(Date.now() / 1000)}&filters=${encodeURIComponent('{"event":["exec_die"]}')}`);
    assert.equal(past.status, 200);
    const actions = past.body.trim().split('\n').map((l) => (JSON.parse(l) as { Action: string }).Action);
    assert.ok(actions.length >= 2 && actions.every((a) => a === 'exec_die'));
  });

  it('streaming stats sends a sample a second, each with the previous one as precpu', async () => {
    const lines = await streamLines(d, '/containers/api/stats', (l) => l.length >= 2, 10_000);
    assert.ok(lines.length >= 2);
    const [a, b] = lines.map((l) => JSON.parse(l) as { read: string; cpu_stats: { cpu_usage: { total_usage: number } }; precpu_stats: { cpu_usage: { total_usage: number } }; name: string });
    assert.equal(b?.precpu_stats.cpu_usage.total_usage, a?.cpu_stats.cpu_usage.total_usage);
    assert.equal(a?.name, '/api');
    const gap = Date.parse(b?.read ?? '') - Date.parse(a?.read ?? '');
    assert.ok(gap >= 900 && gap < 3000, `${gap} ms between samples`);
  });

  it('archive: HEAD gives the stat header; PUT refuses entries leaving the directory and writes nothing', async () => {
    const h = await d.http('HEAD', '/containers/api/archive?path=/etc/passwd');
    assert.equal(h.status, 200);
    const st = JSON.parse(Buffer.from(String(h.headers['x-docker-container-path-stat']), 'base64').toString('utf8')) as { name: string; size: number; mode: number; mtime: string; linkTarget: string };
    assert.equal(st.name, 'passwd');
    assert.ok(st.size > 0);
    assert.equal(st.mode & 0o777, 0o644);
    assert.equal(st.linkTarget, '');
    // Go's time.Time JSON: RFC3339 with nanoseconds, trailing zeros dropped.
    assert.match(st.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/);
    const dir = JSON.parse(Buffer.from(String((await d.http('HEAD', '/containers/api/archive?path=/etc')).headers['x-docker-container-path-stat']), 'base64').toString('utf8')) as { mode: number };
    assert.ok(dir.mode >= 2 ** 31, 'Go ModeDir bit');
    assert.equal((await d.http('HEAD', '/containers/api/archive?path=/nope')).status, 404);
    const tag = `berth-escape-${Date.now()}`;
    const evil = await d.http('PUT', '/containers/api/archive?path=/tmp', await tarOf([{ name: `../../../../tmp/${tag}`, body: 'x' }]), { 'Content-Type': 'application/x-tar' });
    assert.equal(evil.status, 400);
    assert.equal(existsSync(`/tmp/${tag}`), false);
    // A symlink in the archive is created, and a later entry through it is refused.
    const viaLink = await d.http('PUT', '/containers/api/archive?path=/tmp', await tarOf([{ name: 'lnk', type: 'symlink', linkname: '/' }, { name: `lnk/tmp/${tag}`, body: 'x' }]), { 'Content-Type': 'application/x-tar' });
    assert.equal(viaLink.status, 400);
    assert.equal(existsSync(`/tmp/${tag}`), false);
    const toFile = await d.http('PUT', '/containers/api/archive?path=/etc/passwd', await tarOf([{ name: 'x', body: 'x' }]), { 'Content-Type': 'application/x-tar' });
    assert.equal(toFile.status, 400);
    assert.match((toFile.json as { message: string }).message, /not a directory/);
    const ok = await d.http('PUT', '/containers/api/archive?path=/tmp', await tarOf([{ name: 'good.txt', body: 'fine' }]), { 'Content-Type': 'application/x-tar' });
    assert.equal(ok.status, 200, ok.body);
    assert.equal((await d.berth(['exec', 'api', 'cat', '/tmp/good.txt'])).stdout, 'fine');
    // A stopped container's filesystem is reachable too.
    const stopped = await d.http('GET', '/containers/idle/archive?path=/etc/passwd');
    assert.equal(stopped.status, 200);
    assert.equal(stopped.headers['content-type'], 'application/x-tar');
  });

  it('lifecycle bad input: unknown containers 404, invalid update 400, pausing a stopped one 409', async () => {
    for (const [m, p] of [
      ['POST', '/containers/nosuch/pause'],
      ['POST', '/containers/nosuch/unpause'],
      ['POST', '/containers/nosuch/restart'],
      ['POST', '/containers/nosuch/rename?name=x2'],
      ['GET', '/containers/nosuch/top'],
      ['GET', '/containers/nosuch/stats?stream=0'],
    ] as const) {
      assert.equal((await d.http(m, p)).status, 404, `${m} ${p}`);
    }
    assert.equal((await d.http('POST', '/containers/api/update', ...json({ Memory: 'x' }))).status, 400);
    assert.equal((await d.http('POST', '/containers/api/update', ...json({ RestartPolicy: { Name: 'sometimes' } }))).status, 400);
    assert.equal((await d.http('POST', '/containers/idle/pause')).status, 409);
    assert.equal((await d.http('POST', '/containers/api/kill?signal=SIGNOPE')).status, 400);
    assert.equal((await d.http('POST', '/containers/api/rename?name=')).status, 400);
    // Nothing changed.
    const c = (await d.http('GET', '/containers/api/json')).json as { State: { Status: string }; Name: string };
    assert.equal(c.State.Status, 'running');
    assert.equal(c.Name, '/api');
  });
});
