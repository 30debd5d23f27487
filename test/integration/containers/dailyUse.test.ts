// What a Docker user runs day to day, through the berth CLI and the real docker CLI against one
// berthd: stdin that is already closed, detaching (ctrl-p ctrl-q, --detach-keys), --env-file, users
// by name, --cpu-shares, --security-opt apparmor/seccomp profiles, --no-healthcheck and
// --health-start-period, ps filters and formats, logs -t/--since/--until and logs of every run,
// stats -a and network I/O, update --restart, inspect's GraphDriver.Data; the daemon's --log-opt
// defaults, a live /events stream without since, detach keys matched by berthd for API clients,
// and resizing a running TTY container.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { REPO, startDaemon, type CmdResult, type TestDaemon } from '../../fixtures/testDaemon.js';
import { onTerminal } from '../../fixtures/terminal.js';

const hasDocker = spawnSync('docker', ['--version']).status === 0;
const skip = process.getuid?.() !== 0 ? 'needs root' : false;

async function until(cond: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}

describe('containers day to day (berth and docker CLIs)', { skip }, () => {
  let d: TestDaemon;
  let tmp: string;
  before(async () => {
    // Daemon-wide log defaults, as daemon.json's log-opts.
    d = await startDaemon(['--log-opt', 'max-size=5m', '--log-opt', 'max-file=2']);
    await d.importBusybox();
    tmp = mkdtempSync('/tmp/berth-daily-');
  });
  after(async () => {
    rmSync(tmp, { recursive: true, force: true });
    await d?.cleanup();
  });

  const clients = hasDocker ? (['berth', 'docker'] as const) : (['berth'] as const);
  for (const client of clients) {
    const run = (args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<CmdResult> =>
      client === 'berth' ? d.berth(args, opts) : d.docker(args, opts);
    const bin = (): string =>
      client === 'berth'
        ? `${join(REPO, 'bin', 'berth')} -H ${d.host}`
        : `DOCKER_HOST=${d.host} DOCKER_CONFIG=${d.root}/docker-config DOCKER_CLI_HINTS=false docker`;
    const json = async <T>(args: string[]): Promise<T> => JSON.parse((await run(args)).stdout) as T;
    const n = (s: string): string => `${client}-${s}`;

    it(`${client}: stdin already closed (</dev/null) ends run -i, start -ai and exec -i`, async () => {
      const r = await run(['run', '-i', '--rm', 'busybox', 'cat'], { timeoutMs: 15_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal((await run(['create', '-i', '--name', n('sai'), 'busybox', 'sh', '-c', 'cat; echo eof'])).code, 0);
      const s = await run(['start', '-ai', n('sai')], { timeoutMs: 15_000 });
      assert.equal(s.code, 0, s.stderr);
      assert.equal(s.stdout, 'eof\n');
      assert.equal((await run(['start', '-ai', n('sai')], { input: 'typed\n', timeoutMs: 15_000 })).stdout, 'typed\neof\n');
      assert.equal((await run(['run', '-d', '--name', n('exi'), 'busybox', 'sleep', '300'])).code, 0);
      const e = await run(['exec', '-i', n('exi'), 'sh', '-c', 'cat; echo eof'], { timeoutMs: 15_000 });
      assert.equal(e.code, 0, e.stderr);
      assert.equal(e.stdout, 'eof\n');
      await run(['rm', '-f', n('sai'), n('exi')]);
    });

    it(`${client}: ctrl-p ctrl-q detaches run -it and exec -it; attach --detach-keys; the container runs on`, async () => {
      const c = n('det');
      const r = await onTerminal(`${bin()} run -it --name ${c} busybox sh`, [{ after: /\/ # /, send: '\x10\x11' }]);
      assert.equal(r.code, 0, r.out);
      const status = async (): Promise<string> => (await run(['inspect', '-f', '{{.State.Status}}', c])).stdout.trim();
      assert.equal(await status(), 'running');
      const a = await onTerminal(`${bin()} attach --detach-keys ctrl-x,x ${c}`, [
        { after: 1000, send: `echo hi-${client}\r` },
        { after: new RegExp(`\\nhi-${client}`), send: '\x18x' },
      ]);
      // Both CLIs end a detached attach with the escape error, status 1 (docker 28 does).
      assert.equal(a.code, 1, a.out);
      assert.match(a.out, new RegExp(`hi-${client}[\\s\\S]*read escape sequence`));
      assert.equal(await status(), 'running');
      const e = await onTerminal(`${bin()} exec -it ${c} sh -c 'echo in-exec; sleep 300'`, [{ after: /in-exec/, send: '\x10\x11' }]);
      assert.equal(e.code, 1, e.out);
      assert.match(e.out, /read escape sequence/);
      // The exec'd process runs on (moby: detaching ends the stream, not the process).
      const top = await run(['top', c]);
      assert.match(top.stdout, /sleep 300/);
      assert.equal(await status(), 'running');
      await run(['rm', '-f', c]);
    });

    it(`${client}: --env-file, -u user:group by name, --cpu-shares, --security-opt apparmor=unconfined and seccomp=<profile>`, async () => {
      const envFile = join(tmp, `${client}.env`);
      writeFileSync(envFile, '# a comment\nA=1\nB=two words\n\nBERTH_T5_FROMHOST\n');
      process.env['BERTH_T5_FROMHOST'] = 'host-value';
      const env = await run(['run', '--rm', '--env-file', envFile, 'busybox', 'sh', '-c', 'echo "$A|$B|$BERTH_T5_FROMHOST"']);
      assert.equal(env.code, 0, env.stderr);
      assert.equal(env.stdout, '1|two words|host-value\n');
      const missingEnv = await run(['run', '--rm', '--env-file', join(tmp, 'nosuch.env'), 'busybox', 'true']);
      assert.notEqual(missingEnv.code, 0);
      assert.match(missingEnv.stderr, /no such file or directory/);
      const user = await run(['run', '--rm', '-u', 'nobody:nogroup', 'busybox', 'id']);
      assert.equal(user.stdout, 'uid=65534(nobody) gid=65534(nogroup)\n');
      const noUser = await run(['run', '--rm', '-u', 'nosuchuser', 'busybox', 'id']);
      assert.equal(noUser.code, 125);
      assert.match(noUser.stderr, /unable to find user nosuchuser: no matching entries in passwd file/);
      const shares = await run(['run', '--rm', '--cpu-shares', '512', 'busybox', 'sh', '-c', 'cat /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu.weight']);
      assert.equal(shares.code, 0, shares.stderr);
      assert.ok(['512\n', '20\n'].includes(shares.stdout), shares.stdout);
      const aa = await run(['run', '--name', n('aa'), '--security-opt', 'apparmor=unconfined', 'busybox', 'true']);
      assert.equal(aa.code, 0, aa.stderr);
      assert.deepEqual(await json<string[]>(['inspect', '-f', '{{json .HostConfig.SecurityOpt}}', n('aa')]), ['apparmor=unconfined']);
      await run(['rm', n('aa')]);
      const profile = join(tmp, `${client}-seccomp.json`);
      writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
      const sec = await run(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'mkdir /x 2>&1; echo rc=$?']);
      assert.equal(sec.code, 0, sec.stderr);
      assert.match(sec.stdout, /Operation not permitted\nrc=1\n$/);
      const noProfile = await run(['run', '--rm', '--security-opt', `seccomp=${join(tmp, 'nosuch.json')}`, 'busybox', 'true']);
      assert.equal(noProfile.code, 125);
      assert.match(noProfile.stderr, /seccomp profile .*no such file or directory/);
    });

    it(`${client}: --no-healthcheck turns the image's off; failures in --health-start-period do not count`, async () => {
      const img = `hc-${client}:1`;
      const build = await run(['build', '-q', '-t', img, '-'], { input: 'FROM busybox\nHEALTHCHECK --interval=200ms --retries=1 CMD false\n', timeoutMs: 60_000 });
      assert.equal(build.code, 0, build.stderr);
      assert.equal((await run(['run', '-d', '--name', n('hcon'), img, 'sleep', '300'])).code, 0);
      assert.equal((await run(['run', '-d', '--name', n('hcoff'), '--no-healthcheck', img, 'sleep', '300'])).code, 0);
      assert.equal(
        (await run(['run', '-d', '--name', n('hcstart'), '--health-cmd', 'false', '--health-interval', '200ms', '--health-retries', '1', '--health-start-period', '60s', 'busybox', 'sleep', '300'])).code,
        0,
      );
      const health = (c: string): Promise<{ Status: string; FailingStreak: number; Log: { ExitCode: number }[] } | null> =>
        json(['inspect', '-f', '{{json .State.Health}}', c]);
      await until(async () => (await health(n('hcon')))?.Status === 'unhealthy');
      assert.equal(await health(n('hcoff')), null);
      assert.deepEqual(await json(['inspect', '-f', '{{json .Config.Healthcheck.Test}}', n('hcoff')]), ['NONE']);
      assert.match((await run(['ps', '--filter', `name=${n('hcoff')}`, '--format', '{{.Status}}'])).stdout, /^Up [^(]*\n$/);
      await until(async () => ((await health(n('hcstart')))?.Log.length ?? 0) >= 3);
      const h = await health(n('hcstart'));
      assert.equal(h?.Status, 'starting');
      assert.equal(h?.FailingStreak, 0);
      assert.ok(h?.Log.every((l) => l.ExitCode === 1));
      await run(['rm', '-f', n('hcon'), n('hcoff'), n('hcstart')]);
      await run(['rmi', img]);
    });

    it(`${client}: ps --filter status, exited, label, ancestor, name and id; --format json and table`, async () => {
      const label = `psuite=${client}`;
      assert.equal((await run(['run', '--name', n('px2'), '--label', label, 'busybox', 'sh', '-c', 'exit 2'])).code, 2);
      assert.equal((await run(['create', '--name', n('pcr'), '--label', label, 'busybox', 'true'])).code, 0);
      assert.equal((await run(['run', '-d', '--name', n('pup'), '--label', label, '--label', 'tier=web', 'busybox', 'sleep', '300'])).code, 0);
      const ps = async (...filters: string[]): Promise<string[]> =>
        (await run(['ps', '-a', '--filter', `label=${label}`, ...filters.flatMap((f) => ['--filter', f]), '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean).sort();
      assert.deepEqual(await ps(), [n('pcr'), n('pup'), n('px2')]);
      assert.deepEqual(await ps('status=exited'), [n('px2')]);
      assert.deepEqual(await ps('status=created'), [n('pcr')]);
      assert.deepEqual(await ps('status=running'), [n('pup')]);
      assert.deepEqual(await ps('exited=2'), [n('px2')]);
      assert.deepEqual(await ps('exited=0'), []);
      assert.deepEqual(await ps('label=tier=web'), [n('pup')]);
      assert.deepEqual(await ps('ancestor=busybox'), [n('pcr'), n('pup'), n('px2')]);
      assert.deepEqual(await ps('ancestor=nosuchimage'), []);
      assert.deepEqual(await ps(`name=${n('pc')}`), [n('pcr')]);
      const id = (await run(['inspect', '-f', '{{.Id}}', n('pup')])).stdout.trim();
      assert.deepEqual(await ps(`id=${id.slice(0, 10)}`), [n('pup')]);
      const bad = await run(['ps', '-a', '--filter', 'status=bogus']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /invalid filter 'status=bogus'/);
      const lines = (await run(['ps', '-a', '--filter', `label=${label}`, '--filter', 'status=running', '--format', 'json'])).stdout.trim().split('\n');
      assert.equal(lines.length, 1);
      const row = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
      assert.equal(row['Names'], n('pup'));
      assert.equal(row['State'], 'running');
      assert.equal(row['Image'], 'busybox');
      assert.equal(row['ID'], id.slice(0, 12));
      assert.match(String(row['Status']), /^Up /);
      assert.match(String(row['Labels']), /tier=web/);
      const table = await run(['ps', '-a', '--filter', `label=${label}`, '--filter', 'status=exited', '--format', 'table {{.Names}}\t{{.Status}}']);
      assert.match(table.stdout, new RegExp(`^NAMES\\s+STATUS\\n${n('px2')}\\s+Exited \\(2\\) .* ago\\n$`));
      await run(['rm', '-f', n('px2'), n('pcr'), n('pup')]);
    });

    it(`${client}: logs -t, --since and --until by timestamp; logs keep the output of every run`, async () => {
      const c = n('lg');
      assert.equal((await run(['run', '-d', '--name', c, 'busybox', 'sh', '-c', 'echo first; sleep 1.5; echo second; sleep 300'])).code, 0);
      await until(async () => (await run(['logs', c])).stdout === 'first\nsecond\n');
      const t = (await run(['logs', '-t', c])).stdout.split('\n').filter(Boolean);
      assert.equal(t.length, 2);
      for (const l of t) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (first|second)$/);
      const [tsFirst, tsSecond] = t.map((l) => l.split(' ')[0] ?? '');
      assert.equal((await run(['logs', '--since', tsSecond ?? '', c])).stdout, 'second\n');
      assert.equal((await run(['logs', '--until', tsFirst ?? '', c])).stdout, 'first\n');
      assert.equal((await run(['logs', '--since', tsFirst ?? '', '--until', tsFirst ?? '', '-t', c])).stdout, `${t[0]}\n`);
      await run(['rm', '-f', c]);
      const r = n('lgr');
      assert.equal((await run(['run', '-d', '--name', r, '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 1'])).code, 0);
      await until(async () => {
        const s = await json<{ State: { Status: string }; RestartCount: number }[]>(['inspect', r]);
        return s[0]?.State.Status === 'exited' && s[0]?.RestartCount === 2;
      });
      assert.equal((await run(['logs', r])).stdout, 'run\nrun\nrun\n');
      assert.equal((await run(['start', '-a', r])).stdout, 'run\n');
      assert.equal((await run(['logs', '--tail', '2', r])).stdout, 'run\nrun\n');
      await run(['rm', '-f', r]);
    });

    it(`${client}: stats counts eth0 traffic; stats -a shows stopped containers as zeros and no removed ones`, async () => {
      const c = n('net');
      assert.equal((await run(['run', '-d', '--name', c, 'busybox', 'sh', '-c', 'ping -c 3 -i 0.2 $(ip route | awk "/default/ {print \\$3}") >/tmp/ping 2>&1; touch /tmp/pinged; sleep 300'])).code, 0);
      await until(async () => (await d.http('HEAD', `/containers/${c}/archive?path=/tmp/pinged`)).status === 200);
      const doc = (await d.http('GET', `/containers/${c}/stats?stream=false`)).json as { networks?: Record<string, { rx_bytes: number; tx_bytes: number; rx_packets: number }> };
      assert.deepEqual(Object.keys(doc.networks ?? {}), ['eth0']);
      assert.ok((doc.networks?.['eth0']?.tx_bytes ?? 0) >= 3 * 84, JSON.stringify(doc.networks));
      assert.ok((doc.networks?.['eth0']?.rx_packets ?? 0) >= 3, JSON.stringify(doc.networks));
      const netio = (await run(['stats', '--no-stream', '--format', '{{.NetIO}}', c])).stdout.trim();
      assert.match(netio, /^[\d.]+k?B \/ [\d.]+k?B$/);
      assert.notEqual(netio, '0B / 0B');
      assert.equal((await run(['create', '--name', n('stz'), 'busybox', 'true'])).code, 0);
      const all = (await run(['stats', '--no-stream', '-a', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.NetIO}}|{{.PIDs}}'])).stdout.split('\n').filter(Boolean);
      assert.ok(all.includes(`${n('stz')}|0.00%|0B / 0B|0B / 0B|0`), all.join('\n'));
      assert.ok(all.some((l) => l.startsWith(`${c}|`)), all.join('\n'));
      assert.ok(!all.some((l) => l.startsWith('--')), `no rows for containers removed earlier:\n${all.join('\n')}`);
      const hostNet = await run(['run', '-d', '--name', n('hostnet'), '--network', 'host', 'busybox', 'sleep', '300']);
      assert.equal(hostNet.code, 0, hostNet.stderr);
      const hdoc = (await d.http('GET', `/containers/${n('hostnet')}/stats?stream=false`)).json as { networks?: unknown };
      assert.equal(hdoc.networks, undefined, 'the host network is not the container\'s');
      await run(['rm', '-f', c, n('stz'), n('hostnet')]);
    });

    it(`${client}: update --restart changes the policy; refused for --rm containers and unknown policies`, async () => {
      assert.equal((await run(['run', '-d', '--name', n('upr'), 'busybox', 'sleep', '300'])).code, 0);
      const u = await run(['update', '--restart', 'on-failure:3', n('upr')]);
      assert.equal(u.code, 0, u.stderr);
      assert.deepEqual(await json(['inspect', '-f', '{{json .HostConfig.RestartPolicy}}', n('upr')]), { Name: 'on-failure', MaximumRetryCount: 3 });
      const bad = await run(['update', '--restart', 'sometimes', n('upr')]);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /invalid restart policy/);
      assert.equal((await run(['run', '-d', '--rm', '--name', n('uprm'), 'busybox', 'sleep', '300'])).code, 0);
      const rm = await run(['update', '--restart', 'always', n('uprm')]);
      assert.equal(rm.code, 1);
      assert.match(rm.stderr, /Restart policy cannot be updated because AutoRemove is enabled for the container/);
      await run(['rm', '-f', n('upr'), n('uprm')]);
    });

    it(`${client}: cp ownership as docker: in as root unless -a keeps the uid/gid; out as the caller`, async () => {
      const c = n('cpown');
      assert.equal((await run(['run', '-d', '--name', c, 'busybox', 'sh', '-c', 'echo x > /tmp/own; chown 77:88 /tmp/own; touch /tmp/ready; sleep 300'])).code, 0);
      await until(async () => (await d.http('HEAD', `/containers/${c}/archive?path=/tmp/ready`)).status === 200);
      const src = join(tmp, `${client}-owned`);
      writeFileSync(src, 'hi\n');
      spawnSync('chown', ['1234:2345', src]);
      assert.equal((await run(['cp', src, `${c}:/tmp/plain`])).code, 0);
      assert.equal((await run(['cp', '-a', src, `${c}:/tmp/arch`])).code, 0);
      assert.equal((await run(['exec', c, 'stat', '-c', '%u:%g', '/tmp/plain', '/tmp/arch'])).stdout, '0:0\n1234:2345\n');
      const out = join(tmp, `${client}-out`);
      const cpOut = await run(['cp', `${c}:/tmp/own`, out]);
      assert.equal(cpOut.code, 0, cpOut.stderr);
      assert.equal(readFileSync(out, 'utf8'), 'x\n');
      const st = spawnSync('stat', ['-c', '%u:%g', out], { encoding: 'utf8' }).stdout;
      assert.equal(st, `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}\n`, 'not the container\'s 77:88');
      await run(['rm', '-f', c]);
    });

    it(`${client}: inspect's GraphDriver.Data names the overlay directories`, async () => {
      const c = n('gd');
      assert.equal((await run(['run', '-d', '--name', c, 'busybox', 'sh', '-c', 'echo mark > /marker; sleep 300'])).code, 0);
      await until(async () => (await d.http('HEAD', `/containers/${c}/archive?path=/marker`)).status === 200);
      const g = await json<{ Name: string; Data: { LowerDir: string; MergedDir: string; UpperDir: string; WorkDir: string } }>(['inspect', '-f', '{{json .GraphDriver}}', c]);
      assert.equal(g.Name, 'overlay2');
      assert.equal(readFileSync(join(g.Data.UpperDir, 'marker'), 'utf8'), 'mark\n');
      assert.ok(existsSync(g.Data.WorkDir));
      assert.ok(g.Data.LowerDir.split(':').every((l) => existsSync(join(l, 'bin', 'busybox')) || existsSync(l)));
      assert.ok(existsSync(join(g.Data.MergedDir, 'bin', 'busybox')), 'the merged root is mounted while it runs');
      assert.equal((await run(['inspect', '-f', '{{.GraphDriver.Data.MergedDir}}', c])).stdout.trim(), g.Data.MergedDir);
      await run(['rm', '-f', c]);
    });
  }

  it('--cpus caps the CPU a busy container gets; --group-add adds supplementary groups (names from its /etc/group, numbers)', async () => {
    // A busy loop for 2 s of wall time under --cpus 0.5 gets at most ~1 s of CPU (CFS quota 50 ms per 100 ms).
    const r = await d.berth(['run', '--rm', '--cpus', '0.5', 'busybox', 'sh', '-c', 'time timeout -s KILL 2 sh -c "while :; do :; done"'], { timeoutMs: 30_000 });
    const secs = (k: string): number => {
      const m = new RegExp(`${k}\\s+(\\d+)m\\s*([\\d.]+)s`).exec(r.stderr + r.stdout);
      assert.ok(m, `no ${k} time in: ${r.stderr}${r.stdout}`);
      return Number(m[1]) * 60 + Number(m[2]);
    };
    assert.ok(secs('real') >= 1.9, `ran ${secs('real')} s`);
    assert.ok(secs('user') + secs('sys') <= 1.25, `used ${secs('user') + secs('sys')} s of CPU in 2 s under --cpus 0.5`);
    const g = await d.berth(['run', '--rm', '--group-add', '1234', '--group-add', 'daemon', '-u', 'nobody', 'busybox', 'id', '-G']);
    assert.equal(g.code, 0, g.stderr);
    const daemonGid = /^daemon:x:(\d+):/m.exec((await d.berth(['run', '--rm', 'busybox', 'cat', '/etc/group'])).stdout)?.[1];
    assert.deepEqual(g.stdout.trim().split(' ').sort(), ['1234', '65534', ...(daemonGid ? [daemonGid] : [])].sort());
    const bad = await d.berth(['run', '--rm', '--group-add', 'nosuchgroup', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Unable to find group nosuchgroup/);
  });

  it('daemon --log-opt sets the rotation of new containers; the container\'s own --log-opt wins', async () => {
    assert.equal((await d.berth(['create', '--name', 'lgdef', 'busybox', 'true'])).code, 0);
    assert.deepEqual(JSON.parse((await d.berth(['inspect', '-f', '{{json .HostConfig.LogConfig}}', 'lgdef'])).stdout), {
      Type: 'json-file',
      Config: { 'max-file': '2', 'max-size': '5m' },
    });
    assert.equal((await d.berth(['create', '--name', 'lgown', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=4', 'busybox', 'true'])).code, 0);
    assert.deepEqual(JSON.parse((await d.berth(['inspect', '-f', '{{json .HostConfig.LogConfig.Config}}', 'lgown'])).stdout), { 'max-file': '4', 'max-size': '1m' });
    await d.berth(['rm', 'lgdef', 'lgown']);
  });

  it('GET /events without since or until streams new events only (no replay of the past)', async () => {
    assert.equal((await d.berth(['run', '--rm', '--name', 'evold', 'busybox', 'true'])).code, 0);
    const lines: string[] = [];
    const ac = new AbortController();
    const done = new Promise<void>((resolve) => {
      const req = request({ socketPath: d.socket, path: `/events?filters=${encodeURIComponent('{"type":["container"]}')}`, headers: { Host: 'localhost' }, signal: ac.signal }, (res) => {
        res.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
        res.on('close', () => resolve());
        res.on('error', () => resolve());
      });
      req.on('error', () => resolve());
      req.end();
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await d.berth(['create', '--name', 'evnew', 'busybox', 'true'])).code, 0);
    await until(async () => lines.length > 0, 5000);
    ac.abort();
    await done;
    const events = lines.map((l) => JSON.parse(l) as { Action: string; Actor: { Attributes: { name?: string } } });
    assert.deepEqual(events.map((e) => `${e.Action} ${e.Actor.Attributes.name}`), ['create evnew']);
    await d.berth(['rm', 'evnew']);
  });

  it('API clients detach too: berthd matches detachKeys on a TTY attach and an exec\'s DetachKeys; bad keys are 400', async () => {
    assert.equal((await d.berth(['run', '-dit', '--name', 'apidet', 'busybox', 'sh'])).code, 0);
    /** A raw hijacked request: writes `input` after a moment, resolves with what came back once the server ends it. */
    const hijack = (method: string, path: string, body: string, ...inputs: string[]): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = connect(d.socket);
        let out = '';
        const t = setTimeout(() => {
          s.destroy();
          reject(new Error(`the server did not end the stream: ${JSON.stringify(out)}`));
        }, 10_000);
        s.on('data', (b: Buffer) => (out += b.toString('latin1')));
        s.on('end', () => {
          clearTimeout(t);
          s.destroy();
          resolve(out);
        });
        s.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        // One input every 700 ms: the container answers the one before first.
        inputs.forEach((input, i) => setTimeout(() => s.write(input), 500 + 700 * i));
      });
    const out = await hijack('POST', '/containers/apidet/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-x,x', '', 'echo typed-in\n', '\x18x');
    assert.match(out, /^HTTP\/1.1 101 /);
    assert.match(out, /typed-in/);
    assert.equal((await d.berth(['inspect', '-f', '{{.State.Status}}', 'apidet'])).stdout, 'running\n');
    const bad = await d.http('POST', '/containers/apidet/attach?stream=1&stdin=1&detachKeys=ctrl-1');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /Invalid detach keys \(ctrl-1\) provided/);
    const ex = await d.http('POST', '/containers/apidet/exec', JSON.stringify({ Cmd: ['sh', '-c', 'echo exec-up; sleep 300'], Tty: true, AttachStdin: true, AttachStdout: true }), { 'Content-Type': 'application/json' });
    assert.equal(ex.status, 201, ex.body);
    const execId = (ex.json as { Id: string }).Id;
    const eout = await hijack('POST', `/exec/${execId}/start`, JSON.stringify({ Detach: false, Tty: true }), '\x10\x11');
    assert.match(eout, /exec-up/);
    assert.equal(((await d.http('GET', `/exec/${execId}/json`)).json as { Running: boolean }).Running, true, 'the exec runs on after the detach');
    const badExec = await d.http('POST', '/containers/apidet/exec', JSON.stringify({ Cmd: ['true'], DetachKeys: 'ctrl-1' }), { 'Content-Type': 'application/json' });
    assert.equal(badExec.status, 400);
    assert.match(badExec.body, /Invalid escape keys \(ctrl-1\) provided/);
    await d.berth(['rm', '-f', 'apidet']);
  });

  it('POST /containers/{id}/resize reaches a running TTY container; a stopped one is a 409, a missing one a 404', async () => {
    assert.equal((await d.berth(['run', '-dit', '--name', 'rsz', 'busybox', 'sh'])).code, 0);
    assert.equal((await d.http('POST', '/containers/rsz/resize?h=31&w=93')).status, 200);
    assert.equal((await d.berth(['exec', 'rsz', 'sh', '-c', 'stty size < /proc/1/fd/0'])).stdout, '31 93\n');
    assert.equal((await d.http('POST', '/containers/rsz/resize?h=x')).status, 400);
    assert.equal((await d.berth(['stop', '-t', '0', 'rsz'])).code, 0);
    assert.equal((await d.http('POST', '/containers/rsz/resize?h=31&w=93')).status, 409);
    assert.equal((await d.http('POST', '/containers/nosuch/resize?h=31&w=93')).status, 404);
    await d.berth(['rm', 'rsz']);
  });
});
