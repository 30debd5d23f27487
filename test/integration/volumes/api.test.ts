// Volumes through the Engine API: bad input answers Docker's status and message and changes
// nothing (no container, volume row, volume directory or mount left behind); filters, prune by
// API version, force, inspect's Mounts, ps --filter volume, events, and a tmpfs volume across a
// berthd restart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { isMountedOnHost, type MountJson, type VolumeJson } from './scenarios.js';

const JSON_HEADERS = { 'Content-Type': 'application/json' };

describe('volumes via the Engine API', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  let hostDir: string;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
    hostDir = mkdtempSync('/tmp/berth-volapi-');
  });
  after(async () => {
    await d?.cleanup();
    rmSync(hostDir, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown): ReturnType<TestDaemon['http']> => d.http('POST', path, JSON.stringify(body), JSON_HEADERS);
  const message = (r: { json: unknown }): string => (r.json as { message: string }).message;
  const volumes = async (query = ''): Promise<VolumeJson[]> => ((await d.http('GET', `/volumes${query}`)).json as { Volumes: VolumeJson[] }).Volumes;
  const mountsUnderRoot = (): string[] =>
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(d.root))
      .sort();
  /** Everything a failed request must leave as it was. */
  const state = async (): Promise<unknown> => ({
    containers: ((await d.http('GET', '/containers/json?all=1')).json as { Id: string }[]).map((c) => c.Id).sort(),
    volumes: (await volumes()).map((v) => v.Name).sort(),
    dirs: readdirSync(join(d.dataRoot, 'volumes')).sort(),
    mounts: mountsUnderRoot(),
  });
  /** Containers here get no network: volumes need none, and bridge set-up is not under test. */
  const createContainer = (body: Record<string, unknown>, name?: string): ReturnType<TestDaemon['http']> =>
    post(`/containers/create${name ? `?name=${name}` : ''}`, { Image: 'busybox', Cmd: ['true'], ...body, HostConfig: { NetworkMode: 'none', ...((body.HostConfig as object | undefined) ?? {}) } });

  it('refuses a volume name with a slash (400, Docker\'s message), a one-letter name, an unknown driver or option — and creates nothing', async () => {
    const before = await state();
    const slash = await post('/volumes/create', { Name: 'a/b' });
    assert.equal(slash.status, 400);
    assert.equal(
      message(slash),
      'create a/b: "a/b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path',
    );
    const short = await post('/volumes/create', { Name: 'x' });
    assert.equal(short.status, 400);
    assert.equal(message(short), 'create x: volume name is too short, names should be at least two alphanumeric characters');
    const driver = await post('/volumes/create', { Name: 'withplugin', Driver: 'nfsplugin' });
    assert.equal(driver.status, 404);
    assert.equal(message(driver), 'error looking up volume plugin nfsplugin: plugin "nfsplugin" not found');
    const opt = await post('/volumes/create', { Name: 'badopt', DriverOpts: { colour: 'blue' } });
    assert.equal(opt.status, 400);
    assert.equal(message(opt), 'create badopt: invalid option: "colour"');
    const missing = await post('/volumes/create', { Name: 'badopt', DriverOpts: { type: 'tmpfs' } });
    assert.equal(missing.status, 400);
    assert.equal(message(missing), 'create badopt: missing required option: "device"');
    // The same name through -v: the container is not created either.
    const run = await createContainer({ HostConfig: { Binds: ['good:/a', 'bad/name:/b'] } });
    assert.equal(run.status, 400);
    assert.match(message(run), /^create bad\/name: "bad\/name" includes invalid characters for a local volume name/);
    assert.deepEqual(await state(), before);
  });

  it('refuses a missing --mount bind source (400) but creates a missing -v source; nothing else changes', async () => {
    const before = await state();
    const src = join(hostDir, 'nonexistent');
    const r = await createContainer({ Volumes: { '/anon': {} }, HostConfig: { Binds: ['willnotexist:/w'], Mounts: [{ Type: 'bind', Source: src, Target: '/x' }] } });
    assert.equal(r.status, 400);
    assert.equal(message(r), `invalid mount config for type "bind": bind source path does not exist: ${src}`);
    assert.deepEqual(await state(), before);
    const bad = await createContainer({ HostConfig: { Mounts: [{ Type: 'bind', Source: 'relative', Target: '/x' }] } });
    assert.equal(bad.status, 400);
    assert.equal(message(bad), "invalid mount config for type \"bind\": invalid mount path: 'relative' mount path must be absolute");
    const spec = await createContainer({ HostConfig: { Binds: ['/h:/c:bogus'] } });
    assert.equal(spec.status, 400);
    assert.equal(message(spec), 'invalid mode: bogus');
    assert.deepEqual(await state(), before);
  });

  it('refuses duplicate mount points (400) across Binds, Mounts and Tmpfs, creating nothing', async () => {
    const before = await state();
    const a = await createContainer({ HostConfig: { Binds: ['dupa:/x'], Mounts: [{ Type: 'volume', Source: 'dupb', Target: '/x' }] } });
    assert.equal(a.status, 400);
    assert.equal(message(a), 'Duplicate mount point: /x');
    const b = await createContainer({ HostConfig: { Binds: ['dupa:/x', `${hostDir}:/x/`] } });
    assert.equal(b.status, 400);
    assert.equal(message(b), 'Duplicate mount point: /x');
    const c = await createContainer({ HostConfig: { Binds: ['dupa:/t'], Tmpfs: { '/t': 'size=1m' } } });
    assert.equal(c.status, 400);
    assert.equal(message(c), 'Duplicate mount point: /t');
    assert.deepEqual(await state(), before);
  });

  it('refuses at start a bind of a file where the image has a directory (and the reverse), before the process runs, leaving nothing mounted', async () => {
    const file = join(hostDir, 'afile');
    writeFileSync(file, 'x\n');
    await post('/volumes/create', { Name: 'tmpv', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } });
    const created = await createContainer({ Cmd: ['sh', '-c', 'echo ran > /tv/ran'], HostConfig: { Binds: [`${file}:/etc`, 'tmpv:/tv'] } }, 'filedir');
    assert.equal(created.status, 201, created.body);
    const before = await state();
    const start = await d.http('POST', '/containers/filedir/start');
    assert.equal(start.status, 400);
    assert.equal(
      message(start),
      `error mounting "${file}" to rootfs at "/etc": not a directory: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type`,
    );
    const insp = (await d.http('GET', '/containers/filedir/json')).json as { State: { Status: string; Running: boolean } };
    assert.equal(insp.State.Running, false);
    assert.equal(insp.State.Status, 'created');
    assert.deepEqual(await state(), before);
    assert.equal(isMountedOnHost(join(d.dataRoot, 'volumes', 'tmpv', '_data')), false);
    // A directory onto a file.
    const rev = await createContainer({ HostConfig: { Binds: [`${hostDir}:/etc/passwd`] } }, 'dirfile');
    assert.equal(rev.status, 201);
    const start2 = await d.http('POST', '/containers/dirfile/start');
    assert.equal(start2.status, 400);
    assert.match(message(start2), /to rootfs at "\/etc\/passwd": not a directory: Are you trying to mount a directory onto a file/);
    assert.equal((await d.http('DELETE', '/containers/filedir')).status, 204);
    assert.equal((await d.http('DELETE', '/containers/dirfile')).status, 204);
    assert.equal((await d.http('DELETE', '/volumes/tmpv')).status, 204);
  });

  it('volume rm of a volume in use is a 409 naming the containers, running or not; the volume and its data stay; force only forgives a missing one', async () => {
    assert.equal((await post('/volumes/create', { Name: 'busy' })).status, 201);
    const c1 = await createContainer({ Cmd: ['sh', '-c', 'echo data > /b/f; sleep 300'], HostConfig: { Binds: ['busy:/b'] } }, 'busy1');
    const c2 = await createContainer({ HostConfig: { Mounts: [{ Type: 'volume', Source: 'busy', Target: '/b' }] } }, 'busy2');
    const ids = [(c1.json as { Id: string }).Id, (c2.json as { Id: string }).Id];
    assert.equal((await d.http('POST', '/containers/busy1/start')).status, 204);
    const before = await state();
    for (const force of ['', '?force=1']) {
      const r = await d.http('DELETE', `/volumes/busy${force}`);
      assert.equal(r.status, 409);
      assert.match(message(r), /^remove busy: volume is in use - \[[a-f0-9]{64}, [a-f0-9]{64}\]$/);
      for (const id of ids) assert.ok(message(r).includes(id));
    }
    assert.deepEqual(await state(), before);
    // busy1 writes its 5 bytes once its shell runs: on a loaded host that can be after the start returns.
    let usage: VolumeJson & { UsageData: { RefCount: number; Size: number } };
    for (let tries = 0; ; tries++) {
      usage = (await d.http('GET', '/volumes/busy?usage=1')).json as VolumeJson & { UsageData: { RefCount: number; Size: number } };
      if (usage.UsageData.Size === 5 || tries >= 100) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(usage.UsageData.RefCount, 2);
    assert.equal(usage.UsageData.Size, 5);
    assert.equal((await d.http('DELETE', '/containers/busy1?force=1')).status, 204);
    assert.equal((await d.http('DELETE', '/volumes/busy')).status, 409);
    assert.equal((await d.http('DELETE', '/containers/busy2')).status, 204);
    assert.equal(readFileSync(join(d.dataRoot, 'volumes', 'busy', '_data', 'f'), 'utf8'), 'data\n');
    assert.equal((await d.http('DELETE', '/volumes/busy')).status, 204);
    const gone = await d.http('DELETE', '/volumes/busy');
    assert.equal(gone.status, 404);
    assert.equal(message(gone), 'get busy: no such volume');
    assert.equal((await d.http('DELETE', '/volumes/busy?force=1')).status, 204);
    assert.equal((await d.http('GET', '/volumes/busy')).status, 404);
  });

  it('lists with the dangling, name, driver and label filters; refuses unknown filters', async () => {
    for (const n of ['flt-one', 'flt-two', 'other']) assert.equal((await post('/volumes/create', { Name: n, Labels: n === 'flt-one' ? { tier: 'a' } : {} })).status, 201);
    const c = await createContainer({ HostConfig: { Binds: ['flt-two:/x'] } }, 'fltuser');
    assert.equal(c.status, 201);
    const names = async (f: unknown): Promise<string[]> => (await volumes(`?filters=${encodeURIComponent(JSON.stringify(f))}`)).map((v) => v.Name).sort();
    assert.deepEqual(await names({ name: ['flt'] }), ['flt-one', 'flt-two']);
    assert.deepEqual(await names({ name: ['^flt-t'] }), ['flt-two']);
    assert.deepEqual(await names({ dangling: ['true'], name: ['flt'] }), ['flt-one']);
    assert.deepEqual(await names({ dangling: ['false'] }), ['flt-two']);
    assert.deepEqual(await names({ label: ['tier=a'] }), ['flt-one']);
    assert.deepEqual(await names({ label: ['tier'] }), ['flt-one']);
    assert.deepEqual(await names({ driver: ['local'], name: ['other'] }), ['other']);
    assert.deepEqual(await names({ driver: ['nfs'] }), []);
    const bad = await d.http('GET', `/volumes?filters=${encodeURIComponent(JSON.stringify({ colour: ['x'] }))}`);
    assert.equal(bad.status, 400);
    assert.equal(message(bad), "invalid filter 'colour'");
    // ps --filter volume=: by volume name or by mount destination.
    const ps = async (v: string): Promise<string[]> =>
      ((await d.http('GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ volume: [v] }))}`)).json as { Names: string[] }[]).map((x) => x.Names[0] ?? '');
    assert.deepEqual(await ps('flt-two'), ['/fltuser']);
    assert.deepEqual(await ps('/x'), ['/fltuser']);
    assert.deepEqual(await ps('flt-one'), []);
    const summary = ((await d.http('GET', '/containers/json?all=1')).json as { Names: string[]; Mounts: MountJson[] }[]).find((x) => x.Names[0] === '/fltuser');
    assert.equal(summary?.Mounts[0]?.Name, 'flt-two');
    assert.equal((await d.http('DELETE', '/containers/fltuser')).status, 204);
    for (const n of ['flt-one', 'flt-two', 'other']) assert.equal((await d.http('DELETE', `/volumes/${n}`)).status, 204);
  });

  it('prunes only anonymous volumes at API 1.42+, every unused one before 1.42 (and with all=true), and publishes volume events', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    assert.equal((await post('/volumes/create', { Name: 'named-keep' })).status, 201);
    const anon = (await post('/volumes/create', {})).json as VolumeJson;
    assert.match(anon.Name, /^[a-f0-9]{64}$/);
    assert.deepEqual(anon.Labels, { 'com.docker.volume.anonymous': '' });
    const p1 = (await d.http('POST', '/v1.44/volumes/prune')).json as { VolumesDeleted: string[]; SpaceReclaimed: number };
    assert.deepEqual(p1, { VolumesDeleted: [anon.Name], SpaceReclaimed: 0 });
    assert.deepEqual((await volumes()).map((v) => v.Name), ['named-keep']);
    const bad = await d.http('POST', `/volumes/prune?filters=${encodeURIComponent(JSON.stringify({ all: ['maybe'] }))}`);
    assert.equal(bad.status, 400);
    const p2 = (await d.http('POST', '/v1.41/volumes/prune')).json as { VolumesDeleted: string[] };
    assert.deepEqual(p2.VolumesDeleted, ['named-keep']);
    assert.equal((await post('/volumes/create', { Name: 'named-two' })).status, 201);
    const p3 = (await d.http('POST', `/volumes/prune?filters=${encodeURIComponent(JSON.stringify({ all: ['true'] }))}`)).json as { VolumesDeleted: string[] };
    assert.deepEqual(p3.VolumesDeleted, ['named-two']);
    const until = Math.floor(Date.now() / 1000) + 1;
    const ev = await d.http('GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ type: ['volume'] }))}`);
    const actions = ev.body
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { Action: string; Actor: { ID: string } })
      .map((e) => `${e.Action} ${e.Actor.ID}`);
    assert.ok(actions.includes('create named-keep'), actions.join('\n'));
    assert.ok(actions.includes('destroy named-keep'));
    assert.ok(actions.some((a) => a.startsWith('prune')));
  });

  it('keeps a tmpfs volume mounted for a container that survives a berthd restart, and unmounts it when that container stops', async () => {
    assert.equal((await post('/volumes/create', { Name: 'live', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } })).status, 201);
    assert.equal((await createContainer({ Cmd: ['sh', '-c', 'echo alive > /l/f; sleep 300'], HostConfig: { Binds: ['live:/l'] } }, 'survivor')).status, 201);
    assert.equal((await d.http('POST', '/containers/survivor/start')).status, 204);
    const data = join(d.dataRoot, 'volumes', 'live', '_data');
    assert.equal(isMountedOnHost(data), true);
    await d.restart();
    assert.equal(isMountedOnHost(data), true);
    assert.equal(readFileSync(join(data, 'f'), 'utf8'), 'alive\n');
    const insp = (await d.http('GET', '/containers/survivor/json')).json as { State: { Running: boolean }; Mounts: MountJson[] };
    assert.equal(insp.State.Running, true);
    assert.deepEqual(insp.Mounts, [{ Type: 'volume', Name: 'live', Source: data, Destination: '/l', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }]);
    assert.equal((await d.http('POST', '/containers/survivor/stop?t=0')).status, 204);
    assert.equal(isMountedOnHost(data), false);
    assert.equal((await d.http('DELETE', '/containers/survivor')).status, 204);
    assert.equal((await d.http('DELETE', '/volumes/live')).status, 204);
  });
});
