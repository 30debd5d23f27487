/**
 * bench/build-vs-dockerd: the same contexts built by the same client — `DOCKER_BUILDKIT=0 docker build`
 * — against a private berthd and a private dockerd (its own data-root, exec-root, pidfile, socket and
 * cgroup parent; no bridge, no iptables), rows interleaved and their order alternated each round:
 * a fully cached rebuild of the realistic project (5 stages, 20 instructions, 2,000 files / 50 MB),
 * a fully cached rebuild of a small project (the "about 0.23 s for a small file" case), and
 * the realistic project after one source file changed. Wall time, the client's CPU (user+sys) and
 * the daemon's CPU (berthd; dockerd + its containerd) per build, medians, load average per round.
 * BuildKit on dockerd needs the buildx plugin, which this machine's docker CLI lacks: not measured.
 * RUN steps use `--network none` on both sides (this dockerd has no bridge).
 * Writes its section of bench/RESULTS.md between `<!-- build-vs-dockerd:begin -->` and `:end -->`.
 * Usage: node --import tsx bench/build-vs-dockerd.ts [-n ROUNDS] [--out FILE] [--no-write]
 * Stops what it started by PID, unmounts and removes its directories and cgroups even on failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { busyboxRootfsTar, REPO, startDaemon } from '../test/fixtures/testDaemon.js';
import { bytes, makeProject, makeSmallProject } from './buildProject.js';

const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf('-n') + 1] ?? '') || 3;
const OUT = args.includes('--out') ? (args[args.indexOf('--out') + 1] as string) : join(REPO, 'bench', 'RESULTS.md');
const WRITE = !args.includes('--no-write');
const DOCKER = process.env['DOCKER'] ?? 'docker';
const TICK = 100; // USER_HZ on Linux

/** Side paths dockerd makes outside its roots: removed at the end only if new and no other dockerd runs. */
const SIDE_PATHS = ['/etc/docker/key.json', '/run/docker', '/run/containerd', '/var/lib/containers'];

interface Sample {
  wall: number;
  clientCpu: number;
  daemonCpu: number;
  ran: number;
}

function pidCpu(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    // utime stime cutime cstime are fields 14–17; `rest` starts at field 3.
    return (Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14])) / TICK;
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function ping(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: sock, path: '/_ping', headers: { Host: 'x' } }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** `docker build` with bash's `times`: wall seconds, the client's user+sys, its output. */
function dockerBuild(host: string, ctxDir: string, extra: string[], daemonPids: () => number[]): Promise<Sample & { out: string }> {
  return new Promise((resolve, reject) => {
    const before = daemonPids().reduce((a, p) => a + pidCpu(p), 0);
    const t0 = performance.now();
    const p = spawn('bash', ['-c', '"$@" >"$OUTF" 2>&1; rc=$?; times; exit $rc', '_', DOCKER, 'build', '--network', 'none', ...extra, ctxDir], {
      env: { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '0', OUTF: join(ctxDir, '..', 'out.txt') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let times = '';
    p.stdout.on('data', (b: Buffer) => (times += b.toString()));
    p.on('exit', (code) => {
      const wall = (performance.now() - t0) / 1000;
      const daemonCpu = daemonPids().reduce((a, q) => a + pidCpu(q), 0) - before;
      const out = readFileSync(join(ctxDir, '..', 'out.txt'), 'utf8');
      if (code !== 0) return reject(new Error(`docker build against ${host} failed (${code}): ${out.slice(-1500)}`));
      const child = times.trim().split('\n')[1] ?? '';
      const secs = [...child.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      // Steps run rather than taken from the cache (FROM and ARG-before-FROM, which make nothing, left out).
      const ran = out.split('\n').filter((l, i, a) => /^Step \d+\/\d+ : (?!FROM)/.test(l) && a[i + 1] !== ' ---> Using cache' && !/^Step /.test(a[i + 1] ?? '')).length;
      resolve({ wall, clientCpu: (secs[0] ?? 0) + (secs[1] ?? 0), daemonCpu, ran, out });
    });
    p.on('error', reject);
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.floor((s.length - 1) / 2)] as number);
}

const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'berth-bvd-'));
  const sideExisted = new Map(SIDE_PATHS.map((p) => [p, existsSync(p)]));
  const cgParent = `/berth-bench-${randomBytes(4).toString('hex')}`;
  const berthd = await startDaemon();
  let dockerd: ChildProcess | null = null;
  const dsock = join(work, 'dockerd', 'docker.sock');
  const started = Date.now();
  try {
    const load0 = loadavg();
    await berthd.importBusybox();
    mkdirSync(join(work, 'dockerd'), { recursive: true });
    writeFileSync(join(work, 'dockerd', 'daemon.json'), '{}');
    const dlog = join(work, 'dockerd.log');
    dockerd = spawn(
      'dockerd',
      [
        '--config-file', join(work, 'dockerd', 'daemon.json'),
        '--data-root', join(work, 'dockerd', 'data'),
        '--exec-root', join(work, 'dockerd', 'exec'),
        '--pidfile', join(work, 'dockerd', 'dockerd.pid'),
        '-H', `unix://${dsock}`,
        '--bridge=none', '--iptables=false', '--ip6tables=false',
        '--cgroup-parent', cgParent,
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    const dpid = dockerd.pid as number;
    let up = false;
    for (let i = 0; i < 600 && !up; i++) {
      up = await ping(dsock);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    if (!up) throw new Error(`dockerd did not start: ${existsSync(dlog) ? readFileSync(dlog, 'utf8').slice(-500) : ''}`);
    const dhost = `unix://${dsock}`;
    const imp = spawnSync(DOCKER, ['-H', dhost, 'import', '-c', 'CMD ["sh"]', busyboxRootfsTar(), 'busybox:latest'], { encoding: 'utf8' });
    if (imp.status !== 0) throw new Error(`docker import into dockerd failed: ${imp.stderr}`);
    const dockerdVersion = spawnSync('dockerd', ['--version'], { encoding: 'utf8' }).stdout.trim();
    const dockerVersion = spawnSync(DOCKER, ['--version'], { encoding: 'utf8' }).stdout.trim();

    // The same bytes for both daemons, each its own copy (an edit on one side must not show on the other).
    const dirs = { big: { berthd: join(work, 'b-big', 'ctx'), dockerd: join(work, 'd-big', 'ctx') }, small: { berthd: join(work, 'b-small', 'ctx'), dockerd: join(work, 'd-small', 'ctx') } };
    let size = { files: 0, bytes: 0 };
    for (const side of ['berthd', 'dockerd'] as const) {
      mkdirSync(dirs.big[side], { recursive: true });
      size = makeProject(dirs.big[side]);
      mkdirSync(dirs.small[side], { recursive: true });
      makeSmallProject(dirs.small[side]);
    }
    const hosts = { berthd: berthd.host, dockerd: dhost };
    const pids = { berthd: () => [berthd.pid], dockerd: () => [dpid, ...childPids(dpid)] };
    // Cold builds fill both caches (timed once, for reference).
    const cold: Record<string, Sample> = {};
    for (const side of ['berthd', 'dockerd'] as const) {
      cold[`big ${side}`] = await dockerBuild(hosts[side], dirs.big[side], ['-t', 'bench:big'], pids[side]);
      cold[`small ${side}`] = await dockerBuild(hosts[side], dirs.small[side], ['-t', 'bench:small'], pids[side]);
    }
    type Case = 'cached-big' | 'cached-small' | 'touched-big';
    const samples = new Map<string, Sample[]>();
    const add = (c: Case, side: string, s: Sample): void => {
      const k = `${c} ${side}`;
      samples.set(k, [...(samples.get(k) ?? []), s]);
    };
    const loads: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      loads.push(loadavg());
      const order = r % 2 === 0 ? (['berthd', 'dockerd'] as const) : (['dockerd', 'berthd'] as const);
      for (const side of order) add('cached-small', side, await dockerBuild(hosts[side], dirs.small[side], ['-t', 'bench:small'], pids[side]));
      for (const side of order) add('cached-big', side, await dockerBuild(hosts[side], dirs.big[side], ['-t', 'bench:big'], pids[side]));
      for (const side of order) {
        writeFileSync(join(dirs.big[side], 'src/mod7/file7.c'), bytes(`edit-${r}`, 6000));
        add('touched-big', side, await dockerBuild(hosts[side], dirs.big[side], ['-t', 'bench:big'], pids[side]));
      }
      process.stderr.write(`round ${r + 1}/${ROUNDS} done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    }
    loads.push(loadavg());
    const f = (v: number): string => v.toFixed(3);
    const lines: string[] = [];
    lines.push('<!-- build-vs-dockerd:begin -->');
    lines.push('## Build: berthd vs dockerd, side by side — `bench/build-vs-dockerd.ts`');
    lines.push('');
    lines.push(`Run ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, shared with other sessions' work; ${ROUNDS} rounds, rows interleaved`);
    lines.push(`(order alternated each round). Client for both: \`DOCKER_BUILDKIT=0 docker build --network none\` (${dockerVersion}); dockerd: ${dockerdVersion},`);
    lines.push(`its own roots, no bridge. Big context: ${size.files} files / ${(size.bytes / 1e6).toFixed(1)} MB, 5 stages, 20 instructions (\`bench/buildProject.ts\`);`);
    lines.push('small: 3 files, 6 instructions. BuildKit on dockerd is not measured: the docker CLI here has no buildx plugin.');
    lines.push(`Load average (1/5/15 min) at start ${load0}; per round ${loads.join(' → ')}.`);
    lines.push('');
    lines.push('Medians, seconds. "client CPU" is the docker CLI process (user+sys); "daemon CPU" is berthd\'s, or dockerd\'s plus its containerd\'s');
    lines.push('(user+sys, reaped children included; container shims and conmon are outside both, so RUN rows undercount both).');
    lines.push('');
    lines.push('| build | daemon | wall | client CPU | daemon CPU | steps run | n |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const side of ['berthd', 'dockerd']) {
      for (const k of ['big', 'small']) {
        const s = cold[`${k} ${side}`] as Sample;
        lines.push(`| cold build, ${k} context (once) | ${side} | ${f(s.wall)} | ${f(s.clientCpu)} | ${f(s.daemonCpu)} | ${s.ran} | 1 |`);
      }
    }
    const names: Record<Case, string> = { 'cached-small': 'fully cached rebuild, small context', 'cached-big': 'fully cached rebuild, 50 MB context', 'touched-big': 'one source file changed, 50 MB context' };
    const ratio: string[] = [];
    for (const c of ['cached-small', 'cached-big', 'touched-big'] as Case[]) {
      const m: Record<string, { wall: number; cpu: number }> = {};
      for (const side of ['berthd', 'dockerd']) {
        const xs = samples.get(`${c} ${side}`) ?? [];
        m[side] = { wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.daemonCpu)) };
        lines.push(`| ${names[c]} | ${side} | ${f(median(xs.map((x) => x.wall)))} | ${f(median(xs.map((x) => x.clientCpu)))} | ${f(median(xs.map((x) => x.daemonCpu)))} | ${median(xs.map((x) => x.ran))} | ${xs.length} |`);
      }
      const b = m['berthd'] as { wall: number; cpu: number };
      const dk = m['dockerd'] as { wall: number; cpu: number };
      ratio.push(`${names[c]}: dockerd/berthd wall ${(dk.wall / b.wall).toFixed(2)}×, daemon CPU ${(dk.cpu / Math.max(b.cpu, 0.001)).toFixed(2)}×`);
    }
    lines.push('');
    lines.push(`Ratios (higher: berth faster): ${ratio.join('; ')}.`);
    lines.push('<!-- build-vs-dockerd:end -->');
    const section = lines.join('\n');
    process.stdout.write(`${section}\n`);
    if (WRITE) {
      const old = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '# Benchmark results\n';
      const b = old.indexOf('<!-- build-vs-dockerd:begin -->');
      const e = old.indexOf('<!-- build-vs-dockerd:end -->');
      const next = b >= 0 && e > b ? `${old.slice(0, b)}${section}${old.slice(e + '<!-- build-vs-dockerd:end -->'.length)}` : `${old.trimEnd()}\n\n${section}\n`;
      writeFileSync(OUT, next);
    }
  } finally {
    if (dockerd?.pid && dockerd.exitCode === null) {
      const exited = new Promise<void>((r) => dockerd?.once('exit', () => r()));
      dockerd.kill('SIGTERM');
      const t = setTimeout(() => dockerd?.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    }
    await berthd.cleanup();
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${work}/`)).sort().reverse();
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    for (const ctl of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', ctl, cgParent);
      if (!existsSync(dir)) continue;
      for (const sub of readdirSync(dir, { withFileTypes: true })) if (sub.isDirectory()) try { rmdirSync(join(dir, sub.name)); } catch { /* busy */ }
      try { rmdirSync(dir); } catch { /* busy */ }
    }
    const otherDockerd = spawnSync('pgrep', ['-x', 'dockerd']).status === 0;
    if (!otherDockerd) for (const [p, existed] of sideExisted) if (!existed) rmSync(p, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
