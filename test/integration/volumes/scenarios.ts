/**
 * The volume behaviours a user sees, written once and run through two
 * clients — the berth CLI and the real docker CLI — against a daemon with
 * busybox:latest imported. Host-side paths live in a temp dir the scenarios
 * remove themselves; volumes live in the daemon's data-root.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CmdResult, TestDaemon } from '../../fixtures/testDaemon.js';

export type Cli = (args: string[], opts?: { input?: string; timeoutMs?: number }) => Promise<CmdResult>;

export interface VolumeJson {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  Scope: string;
  CreatedAt: string;
}

export interface MountJson {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export function isMountedOnHost(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path);
}

async function until(cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}

/**
 * Containers here get `--network none`: volumes need no network, and these
 * tests then depend neither on bridge set-up nor on other tests' bridges.
 */
function withoutNetwork(args: string[]): string[] {
  return args[0] === 'run' || args[0] === 'create' ? [args[0], '--network', 'none', ...args.slice(1)] : args;
}

export function volumeScenarios(name: string, daemon: () => TestDaemon, cli: () => Cli): void {
  const run = (args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<CmdResult> => cli()(withoutNetwork(args), opts);
  const ok = async (args: string[], opts?: { input?: string }): Promise<string> => {
    const r = await run(args, opts);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const volumeNames = async (): Promise<string[]> => ((await daemon().http('GET', '/volumes')).json as { Volumes: VolumeJson[] }).Volumes.map((v) => v.Name).sort();
  const mountsOf = async (c: string): Promise<MountJson[]> => ((await daemon().http('GET', `/containers/${c}/json`)).json as { Mounts: MountJson[] }).Mounts;
  const tmp = (): string => mkdtempSync('/tmp/berth-vol-');

  it(`${name}: a named volume keeps data from one container to the next, and volume create/ls/inspect show it`, async () => {
    assert.equal((await ok(['volume', 'create', '--label', 'team=db', 'keep'])).trim(), 'keep');
    const ls = await ok(['volume', 'ls']);
    assert.match(ls, /^DRIVER\s+VOLUME NAME\n/);
    assert.match(ls, /\nlocal\s+keep\n/);
    assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'label=team=db']), 'keep\n');
    const insp = JSON.parse(await ok(['volume', 'inspect', 'keep'])) as VolumeJson[];
    assert.equal(insp.length, 1);
    assert.equal(insp[0]?.Name, 'keep');
    assert.equal(insp[0]?.Driver, 'local');
    assert.equal(insp[0]?.Scope, 'local');
    assert.deepEqual(insp[0]?.Labels, { team: 'db' });
    assert.equal(insp[0]?.Mountpoint, join(daemon().dataRoot, 'volumes', 'keep', '_data'));
    assert.match(insp[0]?.CreatedAt ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    assert.equal(await ok(['volume', 'inspect', '--format', '{{.Name}} {{.Driver}}', 'keep']), 'keep local\n');
    await ok(['run', '--rm', '-v', 'keep:/data', 'busybox', 'sh', '-c', 'echo persisted > /data/file']);
    assert.equal(await ok(['run', '--rm', '-v', 'keep:/data', 'busybox', 'cat', '/data/file']), 'persisted\n');
    // The data is on the host, in the volume's directory.
    assert.equal(readFileSync(join(daemon().dataRoot, 'volumes', 'keep', '_data', 'file'), 'utf8'), 'persisted\n');
    // Creating an existing name returns it, data intact.
    assert.equal((await ok(['volume', 'create', 'keep'])).trim(), 'keep');
    assert.equal(await ok(['run', '--rm', '--mount', 'source=keep,target=/d', 'busybox', 'cat', '/d/file']), 'persisted\n');
    assert.equal(await ok(['volume', 'rm', 'keep']), 'keep\n');
    assert.ok(!existsSync(join(daemon().dataRoot, 'volumes', 'keep')));
  });

  it(`${name}: a named volume used for the first time is initialised from the image's content, owners and modes kept`, async () => {
    await ok(['run', '--name', 'seedsrc', 'busybox', 'sh', '-c',
      'mkdir -p /data/sub && echo seed > /data/seed && echo deep > /data/sub/f && chown -R 1000:1001 /data/sub && chmod 0750 /data/sub && chmod 0711 /data']);
    await ok(['commit', '-c', 'VOLUME /data', 'seedsrc', `seeded-${name}:1`]);
    await ok(['rm', 'seedsrc']);
    const img = `seeded-${name}:1`;
    // -v name:/path creates the volume and copies /data in.
    const r = await ok(['run', '--rm', '-v', `seedvol-${name}:/data`, img, 'sh', '-c', 'cat /data/seed /data/sub/f; stat -c "%u:%g %a" /data/sub /data']);
    assert.equal(r, 'seed\ndeep\n1000:1001 750\n0:0 711\n');
    // Once filled, the volume is the user's: changes stay, the image is not copied over them.
    await ok(['run', '--rm', '-v', `seedvol-${name}:/data`, img, 'sh', '-c', 'echo mine > /data/seed; rm /data/sub/f']);
    assert.equal(await ok(['run', '--rm', '-v', `seedvol-${name}:/data`, img, 'sh', '-c', 'cat /data/seed; ls /data/sub']), 'mine\n');
    // nocopy leaves a new volume empty.
    assert.equal(await ok(['run', '--rm', '-v', `empty-${name}:/data:nocopy`, img, 'ls', '-A', '/data']), '');
    assert.equal(await ok(['run', '--rm', '--mount', `type=volume,src=empty2-${name},dst=/data,volume-nocopy`, img, 'ls', '-A', '/data']), '');
    // The image's VOLUME gets an anonymous volume, initialised the same way, marked anonymous.
    await ok(['run', '--name', 'anon', img, 'cat', '/data/seed']);
    const mounts = await mountsOf('anon');
    assert.equal(mounts.length, 1);
    const m = mounts[0] as MountJson;
    assert.match(m.Name ?? '', /^[a-f0-9]{64}$/);
    assert.deepEqual({ ...m, Name: '', Source: '' }, { Type: 'volume', Name: '', Source: '', Destination: '/data', Driver: 'local', Mode: '', RW: true, Propagation: '' });
    const v = JSON.parse(await ok(['volume', 'inspect', m.Name ?? ''])) as VolumeJson[];
    assert.deepEqual(v[0]?.Labels, { 'com.docker.volume.anonymous': '' });
    assert.equal(readFileSync(join(m.Source, 'seed'), 'utf8'), 'seed\n');
    // A -v over the image's VOLUME replaces the anonymous one.
    await ok(['run', '--name', 'named', '-v', `seedvol-${name}:/data`, img, 'true']);
    const nm = await mountsOf('named');
    assert.deepEqual(nm.map((x) => [x.Name, x.Destination, x.Mode]), [[`seedvol-${name}`, '/data', 'z']]);
    await ok(['rm', '-v', 'anon', 'named']);
    assert.ok(!(await volumeNames()).includes(m.Name ?? ''), 'rm -v removes the anonymous volume');
    await ok(['volume', 'rm', `seedvol-${name}`, `empty-${name}`, `empty2-${name}`]);
    await ok(['rmi', img]);
  });

  it(`${name}: bind mounts see the host's changes, the host sees the container's, and -v makes a missing source`, async () => {
    const dir = tmp();
    try {
      const src = join(dir, 'shared');
      mkdirSync(src);
      writeFileSync(join(src, 'from-host'), 'one\n');
      await ok(['run', '-d', '--name', 'binder', '-v', `${src}:/b`, 'busybox', 'sleep', '300']);
      assert.equal(await ok(['exec', 'binder', 'cat', '/b/from-host']), 'one\n');
      writeFileSync(join(src, 'from-host'), 'two\n');
      assert.equal(await ok(['exec', 'binder', 'cat', '/b/from-host']), 'two\n');
      await ok(['exec', 'binder', 'sh', '-c', 'echo hi > /b/from-container']);
      assert.equal(readFileSync(join(src, 'from-container'), 'utf8'), 'hi\n');
      const m = (await mountsOf('binder'))[0] as MountJson;
      assert.deepEqual(m, { Type: 'bind', Source: src, Destination: '/b', Mode: '', RW: true, Propagation: 'rprivate' });
      await ok(['rm', '-f', 'binder']);
      // -v with a host path that does not exist: created as a directory.
      const made = join(dir, 'made', 'deep');
      await ok(['run', '--rm', '-v', `${made}:/m`, 'busybox', 'sh', '-c', 'echo x > /m/x']);
      assert.ok(statSync(made).isDirectory());
      assert.equal(readFileSync(join(made, 'x'), 'utf8'), 'x\n');
      // A single file can be bind-mounted too.
      writeFileSync(join(dir, 'conf'), 'setting=1\n');
      assert.equal(await ok(['run', '--rm', '--mount', `type=bind,src=${join(dir, 'conf')},dst=/etc/app.conf`, 'busybox', 'cat', '/etc/app.conf']), 'setting=1\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(`${name}: read-only mounts refuse writes (bind, volume, --mount readonly)`, async () => {
    const dir = tmp();
    try {
      chmodSync(dir, 0o755);
      const w1 = await run(['run', '--rm', '-v', `${dir}:/ro:ro`, 'busybox', 'touch', '/ro/x']);
      assert.notEqual(w1.code, 0);
      assert.match(w1.stderr, /Read-only file system/);
      const w2 = await run(['run', '--rm', '--mount', `type=bind,src=${dir},dst=/ro,readonly`, 'busybox', 'touch', '/ro/x']);
      assert.notEqual(w2.code, 0);
      assert.match(w2.stderr, /Read-only file system/);
      const w3 = await run(['run', '--rm', '-v', `rovol-${name}:/ro:ro`, 'busybox', 'touch', '/ro/x']);
      assert.notEqual(w3.code, 0);
      assert.match(w3.stderr, /Read-only file system/);
      assert.ok(!existsSync(join(dir, 'x')));
      await ok(['volume', 'rm', `rovol-${name}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(`${name}: tmpfs mounts with size and mode; a tmpfs volume is mounted only while a container uses it`, async () => {
    const r = await ok(['run', '--rm', '--tmpfs', '/t1:size=1m', '--mount', 'type=tmpfs,dst=/t2,tmpfs-size=2m,tmpfs-mode=1770', 'busybox', 'sh', '-c',
      'df -k /t1 /t2 | awk \'NR>1 {print $2}\'; stat -c %a /t2; grep -E " /t[12] " /proc/mounts | cut -d" " -f3']);
    assert.equal(r, '1024\n2048\n1770\ntmpfs\ntmpfs\n');
    await ok(['volume', 'create', '--driver', 'local', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=3m,uid=1000', `tv-${name}`]);
    const data = join(daemon().dataRoot, 'volumes', `tv-${name}`, '_data');
    assert.equal(isMountedOnHost(data), false);
    const insp = JSON.parse(await ok(['volume', 'inspect', `tv-${name}`])) as VolumeJson[];
    assert.deepEqual(insp[0]?.Options, { device: 'tmpfs', o: 'size=3m,uid=1000', type: 'tmpfs' });
    await ok(['run', '-d', '--name', 'tv1', '-v', `tv-${name}:/t`, 'busybox', 'sh', '-c', 'echo in-tmpfs > /t/f; sleep 300']);
    await ok(['run', '-d', '--name', 'tv2', '-v', `tv-${name}:/t`, 'busybox', 'sleep', '300']);
    await until(() => existsSync(join(data, 'f')));
    assert.equal(isMountedOnHost(data), true);
    assert.equal(await ok(['exec', 'tv2', 'sh', '-c', 'cat /t/f; stat -c %u /t; df -k /t | awk \'NR>1 {print $2}\'']), 'in-tmpfs\n1000\n3072\n');
    await ok(['stop', '-t', '0', 'tv1']);
    assert.equal(isMountedOnHost(data), true, 'still used by tv2');
    await ok(['stop', '-t', '0', 'tv2']);
    await until(() => !isMountedOnHost(data));
    await ok(['rm', 'tv1', 'tv2']);
    await ok(['volume', 'rm', `tv-${name}`]);
  });

  it(`${name}: --volumes-from shares another container's volumes and binds, read-only with :ro`, async () => {
    const dir = tmp();
    try {
      await ok(['create', '--name', 'store', '-v', '/anon', '-v', `vf-${name}:/named`, '-v', `${dir}:/host`, 'busybox', 'true']);
      await ok(['run', '--rm', '--volumes-from', 'store', 'busybox', 'sh', '-c', 'echo a > /anon/a; echo n > /named/n; echo h > /host/h']);
      assert.equal(await ok(['run', '--rm', '--volumes-from', 'store:ro', 'busybox', 'sh', '-c', 'cat /anon/a /named/n /host/h']), 'a\nn\nh\n');
      const ro = await run(['run', '--rm', '--volumes-from', 'store:ro', 'busybox', 'touch', '/named/x']);
      assert.match(ro.stderr, /Read-only file system/);
      const missing = await run(['run', '--rm', '--volumes-from', 'nosuchcontainer', 'busybox', 'true']);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /No such container: nosuchcontainer/);
      await ok(['rm', '-v', 'store']);
      await ok(['volume', 'rm', `vf-${name}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(`${name}: rm -v and --rm remove anonymous volumes only; named volumes and their data survive`, async () => {
    const before = await volumeNames();
    await ok(['run', '--name', 'both', '-v', '/anon', '-v', `survivor-${name}:/named`, 'busybox', 'sh', '-c', 'echo kept > /named/k']);
    const anon = (await mountsOf('both')).find((m) => m.Destination === '/anon')?.Name ?? '';
    assert.match(anon, /^[a-f0-9]{64}$/);
    await ok(['rm', 'both']);
    assert.ok((await volumeNames()).includes(anon), 'rm without -v keeps the anonymous volume');
    await ok(['volume', 'rm', anon]);
    await ok(['run', '--name', 'both2', '-v', '/anon', '-v', `survivor-${name}:/named`, 'busybox', 'true']);
    const anon2 = (await mountsOf('both2')).find((m) => m.Destination === '/anon')?.Name ?? '';
    await ok(['rm', '-v', 'both2']);
    let after = await volumeNames();
    assert.ok(!after.includes(anon2));
    assert.ok(after.includes(`survivor-${name}`));
    // --rm: the same.
    await ok(['run', '--rm', '-v', '/anon', '-v', `survivor-${name}:/named`, 'busybox', 'cat', '/named/k']);
    after = await volumeNames();
    assert.deepEqual(after, [...before, `survivor-${name}`].sort());
    assert.equal(await ok(['run', '--rm', '-v', `survivor-${name}:/named`, 'busybox', 'cat', '/named/k']), 'kept\n');
    await ok(['volume', 'rm', `survivor-${name}`]);
  });

  it(`${name}: volume rm refuses a volume in use by any container (409), and volume prune removes only what is unused`, async () => {
    await ok(['volume', 'create', `used-${name}`]);
    await ok(['create', '--name', 'user', '-v', `used-${name}:/u`, 'busybox', 'true']);
    const id = (await ok(['inspect', '--format', '{{.Id}}', 'user'])).trim();
    const rm = await run(['volume', 'rm', `used-${name}`]);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, new RegExp(`remove used-${name}: volume is in use - \\[${id}\\]`));
    const rmf = await run(['volume', 'rm', '-f', `used-${name}`]);
    assert.notEqual(rmf.code, 0, 'force does not remove a volume in use');
    assert.ok((await volumeNames()).includes(`used-${name}`));
    // prune: the anonymous unused one goes; named ones stay without -a; used ones stay with -a.
    await ok(['volume', 'create', `unused-${name}`]);
    await ok(['volume', 'create', '--label', 'keep=yes', `labelled-${name}`]);
    await ok(['run', '--name', 'anonsrc', '-v', '/x', 'busybox', 'sh', '-c', 'head -c 5000 /dev/zero > /x/z']);
    const anon = (await mountsOf('anonsrc')).find((m) => m.Destination === '/x')?.Name ?? '';
    await ok(['rm', 'anonsrc']);
    const p1 = await ok(['volume', 'prune', '-f']);
    assert.equal(p1, `Deleted Volumes:\n${anon}\n\nTotal reclaimed space: 5kB\n`);
    let names = await volumeNames();
    assert.ok(names.includes(`unused-${name}`) && names.includes(`labelled-${name}`) && names.includes(`used-${name}`));
    const p2 = await ok(['volume', 'prune', '-a', '-f', '--filter', 'label!=keep']);
    assert.match(p2, new RegExp(`^Deleted Volumes:\\nunused-${name}\\n\\nTotal reclaimed space: 0B\\n$`));
    names = await volumeNames();
    assert.ok(names.includes(`labelled-${name}`) && names.includes(`used-${name}`) && !names.includes(`unused-${name}`));
    // Without -f the prompt decides; "n" keeps everything.
    const p3 = await run(['volume', 'prune', '-a'], { input: 'n\n' });
    assert.match(p3.stdout, /WARNING! This will remove all local volumes not used by at least one container\.\nAre you sure you want to continue\? \[y\/N\] /);
    assert.ok((await volumeNames()).includes(`labelled-${name}`));
    await ok(['rm', 'user']);
    await ok(['volume', 'rm', `used-${name}`, `labelled-${name}`]);
  });
}
