/**
 * bench/network: what networking costs, side by side in one run, against one berthd (its own
 * data-root, bridge and subnets, from the test fixture; everything removed at the end):
 *  - container start: `run --rm busybox true` on the default bridge vs `--network none`, through
 *    the berth CLI and the docker CLI, interleaved round by round (the first row rotating);
 *  - container-to-container TCP throughput: iperf3 (Debian's, in an image made from the host's
 *    binary and its libraries) over the default bridge vs the same pair on the host's loopback
 *    (`--network host`), interleaved; and a fixed byte count through busybox `nc` on the same paths,
 *    which writes 1 KiB at a time and so measures the cost per TCP segment.
 * Writes its section of bench/RESULTS.md between `<!-- network:begin/end -->`; the hand-written
 * analysis between `<!-- network-analysis:begin/end -->` is kept across runs.
 * Usage: node --import tsx bench/network.ts [-n ROUNDS] [-w WARMUP] [--tput-rounds N] [--mib N] [--iperf-secs N] [--out FILE]
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { REPO, startDaemon, type TestDaemon } from '../test/fixtures/testDaemon.js';

const args = process.argv.slice(2);
function flag(name: string, def: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
}
const N = flag('-n', 20);
const WARM = flag('-w', 3);
const TPUT_ROUNDS = flag('--tput-rounds', 5);
const MIB = flag('--mib', 1024);
const IPERF_SECS = flag('--iperf-secs', 5);
const GAP_MS = flag('--gap-ms', 1000);
const CPU_RUNS = flag('--cpu-runs', 10);
const outIdx = args.indexOf('--out');
const OUT = outIdx >= 0 ? (args[outIdx + 1] as string) : join(REPO, 'bench', 'RESULTS.md');

const BEGIN = '<!-- network:begin -->';
const END = '<!-- network:end -->';
const A_BEGIN = '<!-- network-analysis:begin -->';
const A_END = '<!-- network-analysis:end -->';
const TITLE = '## Networking';

interface Row {
  label: string;
  run: (d: TestDaemon) => Promise<{ code: number; stderr: string }>;
}

const ROWS: Row[] = [
  { label: 'berth run --rm busybox true (default bridge)', run: (d) => d.berth(['run', '--rm', 'busybox', 'true']) },
  { label: 'berth run --rm --network none busybox true', run: (d) => d.berth(['run', '--rm', '--network', 'none', 'busybox', 'true']) },
  { label: 'docker run --rm busybox true → berthd (default bridge)', run: (d) => d.docker(['run', '--rm', 'busybox', 'true']) },
  { label: 'docker run --rm --network none busybox true → berthd', run: (d) => d.docker(['run', '--rm', '--network', 'none', 'busybox', 'true']) },
];

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}
const median = (xs: number[]): number => quantile(xs, 0.5);
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

async function timed(fn: () => Promise<{ code: number; stderr: string }>): Promise<number> {
  const t = process.hrtime.bigint();
  const r = await fn();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.code !== 0) throw new Error(`run failed (${r.code}): ${r.stderr}`);
  return ms;
}

/** CPU time (ms) of a process and of its children it has waited for (the helpers berthd runs). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  const tick = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  // utime, stime, cutime, cstime are fields 14-17 of stat (11-14 after the command name).
  return (((f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0)) * 1000) / tick;
}

/** MB/s of MIB MiB from `client` to host:port, timed inside the client (from /proc/uptime, 10 ms steps). */
async function transfer(d: TestDaemon, client: string, host: string, port: number): Promise<number> {
  const script = `s=$(cut -d' ' -f1 /proc/uptime); dd if=/dev/zero bs=1048576 count=${MIB} 2>/dev/null | nc ${host} ${port}; e=$(cut -d' ' -f1 /proc/uptime); echo $s $e`;
  const r = await d.berth(['exec', client, 'sh', '-c', script], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`transfer failed: ${r.stderr}`);
  const [s, e] = r.stdout.trim().split(/\s+/).map(Number) as [number, number];
  const secs = Math.max(0.01, e - s);
  return (MIB * 1.048576) / secs;
}

/**
 * A tar of a root file system holding the host's iperf3 and the libraries it links (ldd), or null
 * when iperf3 is not installed (network.sh installs Debian's package).
 */
function iperfRootfsTar(): string | null {
  const bin = spawnSync('sh', ['-c', 'command -v iperf3'], { encoding: 'utf8' }).stdout.trim();
  if (bin === '') return null;
  const ldd = spawnSync('ldd', [bin], { encoding: 'utf8' }).stdout;
  const files = [bin, ...[...ldd.matchAll(/(\/\S+\.so[.\d]*)/g)].map((m) => m[1] as string)];
  const dir = mkdtempSync('/tmp/berth-iperf-');
  const root = join(dir, 'rootfs');
  for (const f of new Set(files)) {
    mkdirSync(join(root, dirname(f)), { recursive: true });
    cpSync(f, join(root, f), { dereference: true });
  }
  mkdirSync(join(root, 'tmp'), { recursive: true });
  const out = join(dir, 'iperf3.tar');
  const r = spawnSync('tar', ['-C', root, '-cf', out, '.']);
  if (r.status !== 0) throw new Error(`tar of the iperf3 rootfs failed: ${String(r.stderr)}`);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return out;
}

/** iperf3 client run in `client` against host:port for IPERF_SECS (first second omitted): received MB/s. */
async function iperf(d: TestDaemon, client: string, host: string, port: number): Promise<number> {
  const r = await d.berth(['exec', client, '/usr/bin/iperf3', '-c', host, '-p', String(port), '-t', String(IPERF_SECS), '-O', '1', '-J'], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`iperf3 failed: ${r.stderr} ${r.stdout.slice(0, 500)}`);
  const j = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } } };
  const bps = j.end?.sum_received?.bits_per_second;
  if (bps === undefined) throw new Error(`iperf3 gave no result: ${r.stdout.slice(0, 500)}`);
  return bps / 8 / 1e6;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/network.ts must run as root');
  // Debug logs carry the network module's own timings (set-up on the start path, CNI ADD, teardown).
  const d = await startDaemon(['--log-level', 'debug']);
  const started = new Date();
  const load0 = loadavg();
  const times = new Map<string, number[]>(ROWS.map((r) => [r.label, []]));
  const tput = { bridge: [] as number[], loopback: [] as number[], jumbo: [] as number[] };
  const iperfTput = { bridge: [] as number[], loopback: [] as number[] };
  const iperfTar = iperfRootfsTar();
  const cpu = { bridge: [] as number[], none: [] as number[] };
  try {
    await d.importBusybox();
    for (let round = -WARM; round < N; round++) {
      const order = ROWS.map((_, i) => ROWS[(i + Math.max(0, round)) % ROWS.length] as Row);
      for (const row of order) {
        const ms = await timed(() => row.run(d));
        if (round >= 0) times.get(row.label)?.push(ms);
        // Let the previous run's background teardown finish, so it does not land in the next sample.
        await new Promise((r) => setTimeout(r, GAP_MS));
      }
      process.stderr.write(`start round ${round + 1}/${N}\r`);
    }
    // CPU per start, load-independent: berthd's own and its helpers' (CNI plugins, unshare, umount, runc
    // start/delete; not conmon's runc create), over a block of runs of each kind, background work included.
    for (const [key, a] of [
      ['bridge', ['run', '--rm', 'busybox', 'true']],
      ['none', ['run', '--rm', '--network', 'none', 'busybox', 'true']],
      ['bridge', ['run', '--rm', 'busybox', 'true']],
      ['none', ['run', '--rm', '--network', 'none', 'busybox', 'true']],
    ] as const) {
      const before = cpuMs(d.pid);
      for (let i = 0; i < CPU_RUNS; i++) {
        await timed(() => d.docker([...a]));
        await new Promise((r) => setTimeout(r, GAP_MS));
      }
      cpu[key].push((cpuMs(d.pid) - before) / CPU_RUNS);
    }
    // Throughput: a persistent discarding server, a long-lived client, each pair on its network.
    const port = randomInt(20000, 60000);
    const serve = ['nc', '-ll', '-p', String(port), '-e', 'sh', '-c', 'cat >/dev/null'];
    const okRun = async (a: string[]): Promise<void> => {
      const r = await d.berth(a);
      if (r.code !== 0) throw new Error(`${a.join(' ')}: ${r.stderr}`);
    };
    await okRun(['run', '-d', '--name', 'srv-bridge', 'busybox', ...serve]);
    await okRun(['run', '-d', '--name', 'cli-bridge', 'busybox', 'sleep', '100000']);
    await okRun(['run', '-d', '--name', 'srv-host', '--network', 'host', 'busybox', ...serve]);
    await okRun(['run', '-d', '--name', 'cli-host', '--network', 'host', 'busybox', 'sleep', '100000']);
    // The same pair on a user network whose MTU matches loopback's: busybox nc writes 1 KiB at a
    // time, so segments (not bytes) are what the path pays for, and the MTU bounds their size.
    await okRun(['network', 'create', '-o', 'com.docker.network.driver.mtu=65520', 'jumbo']);
    await okRun(['run', '-d', '--name', 'srv-jumbo', '--network', 'jumbo', 'busybox', ...serve]);
    await okRun(['run', '-d', '--name', 'cli-jumbo', '--network', 'jumbo', 'busybox', 'sleep', '100000']);
    const srvIp = (await d.berth(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'srv-bridge'])).stdout.trim();
    const jumboIp = (await d.berth(['inspect', '-f', '{{.NetworkSettings.Networks.jumbo.IPAddress}}', 'srv-jumbo'])).stdout.trim();
    await new Promise((r) => setTimeout(r, 500));
    const paths: Array<[keyof typeof tput, () => Promise<number>]> = [
      ['bridge', () => transfer(d, 'cli-bridge', srvIp, port)],
      ['loopback', () => transfer(d, 'cli-host', '127.0.0.1', port)],
      ['jumbo', () => transfer(d, 'cli-jumbo', jumboIp, port)],
    ];
    for (const [, fn] of paths) await fn();
    for (let i = 0; i < TPUT_ROUNDS; i++) {
      for (let k = 0; k < paths.length; k++) {
        const [key, fn] = paths[(i + k) % paths.length] as [keyof typeof tput, () => Promise<number>];
        tput[key].push(await fn());
      }
      process.stderr.write(`throughput round ${i + 1}/${TPUT_ROUNDS}\r`);
    }
    if (iperfTar !== null) {
      // iperf3 writes 128 KiB at a time, as bulk transfers do: the path's cost per byte, not per write.
      const iport = randomInt(20000, 60000);
      const r = await d.berth(['import', iperfTar, 'berth-bench-iperf3:1']);
      if (r.code !== 0) throw new Error(`import of the iperf3 image failed: ${r.stderr}`);
      const server = ['/usr/bin/iperf3', '-s', '-p', String(iport)];
      await okRun(['run', '-d', '--name', 'isrv-bridge', 'berth-bench-iperf3:1', ...server]);
      await okRun(['run', '-d', '--name', 'icli-bridge', '--entrypoint', '/usr/bin/iperf3', 'berth-bench-iperf3:1', '-s', '-p', String(iport + 1)]);
      await okRun(['run', '-d', '--name', 'isrv-host', '--network', 'host', 'berth-bench-iperf3:1', ...server]);
      const isrvIp = (await d.berth(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'isrv-bridge'])).stdout.trim();
      await new Promise((r) => setTimeout(r, 500));
      const ipaths: Array<[keyof typeof iperfTput, () => Promise<number>]> = [
        ['bridge', () => iperf(d, 'icli-bridge', isrvIp, iport)],
        // The loopback client runs in the host-network server container itself: the same binary, lo both ways.
        ['loopback', () => iperf(d, 'isrv-host', '127.0.0.1', iport)],
      ];
      for (let i = 0; i < TPUT_ROUNDS; i++) {
        for (let k = 0; k < ipaths.length; k++) {
          const [key, fn] = ipaths[(i + k) % ipaths.length] as [keyof typeof iperfTput, () => Promise<number>];
          iperfTput[key].push(await fn());
        }
        process.stderr.write(`iperf3 round ${i + 1}/${TPUT_ROUNDS}\r`);
      }
    }
  } finally {
    await d.cleanup();
  }
  const phases = { setUp: [] as number[], waited: [] as number[], add: [] as number[], teardown: [] as number[] };
  for (const line of d.log.split('\n')) {
    if (!line.includes('"network: ')) continue;
    try {
      const j = JSON.parse(line) as { msg: string; ms?: number; setUpMs?: number; waitedMs?: number };
      if (j.msg === 'network: ready') {
        phases.setUp.push(j.setUpMs ?? NaN);
        phases.waited.push(j.waitedMs ?? NaN);
      } else if (j.msg === 'network: CNI ADD done') phases.add.push(j.ms ?? NaN);
      else if (j.msg === 'network: torn down') phases.teardown.push(j.ms ?? NaN);
    } catch {
      // not a log line of ours
    }
  }
  const load1 = loadavg();
  const filter = spawnSync('iptables', ['-w', '-S'], { encoding: 'utf8' }).stdout.split('\n');
  const fwdRules = filter.filter((l) => l.startsWith('-A ')).length;
  const fwdJumps = filter.filter((l) => l.startsWith('-A FORWARD ')).length;
  const L: string[] = [TITLE, BEGIN, ''];
  L.push(
    `Generated by \`bench/network.sh\` (\`bench/network.ts\`) on ${started.toISOString().replace('T', ' ').slice(0, 19)} UTC. The tables are rewritten by every run;`,
    'the **Analysis** at the end is written by hand and kept across runs (check it still matches).',
    '',
    '| | |',
    '|---|---|',
    `| CPU | ${cpus()[0]?.model ?? 'n/a'}, ${cpus().length} CPUs |`,
    `| memory | ${(totalmem() / 2 ** 30).toFixed(0)} GiB |`,
    `| kernel | ${release()} |`,
    `| CNI plugins | ${spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'containernetworking-plugins'], { encoding: 'utf8' }).stdout || 'n/a'} |`,
    `| load average | before ${load0.map((x) => x.toFixed(2)).join(' ')}; after ${load1.map((x) => x.toFixed(2)).join(' ')} |`,
    `| iptables on the host | ${fwdRules} rules in the filter table (${fwdJumps} jumps in FORWARD: every bridged packet walks them) |`,
    `| samples | start: n = ${N} per row after ${WARM} warm-up rounds, rows interleaved round by round, ${GAP_MS} ms pause after each; throughput: ${TPUT_ROUNDS} rounds per path of iperf3 for ${IPERF_SECS} s (the first second omitted) and of ${MIB} MiB through nc, the first path rotating |`,
    '',
    '### Container start: wall time of the whole CLI process (ms)',
    '',
    '| what | median | p90 | min | max | n |',
    '|---|---:|---:|---:|---:|---:|',
  );
  for (const r of ROWS) {
    const xs = times.get(r.label) ?? [];
    L.push(`| ${r.label} | **${f1(median(xs))}** | ${f1(quantile(xs, 0.9))} | ${f1(Math.min(...xs))} | ${f1(Math.max(...xs))} | ${xs.length} |`);
  }
  const paired = (a: string, b: string): number[] => {
    const xa = times.get(a) ?? [];
    const xb = times.get(b) ?? [];
    return xa.map((x, i) => x - (xb[i] ?? NaN)).filter(Number.isFinite);
  };
  const dBerth = paired(ROWS[0]?.label ?? '', ROWS[1]?.label ?? '');
  const dDocker = paired(ROWS[2]?.label ?? '', ROWS[3]?.label ?? '');
  L.push(
    '',
    '**Bridge cost per start** (bridge minus none, paired by round; target < 50 ms):',
    '',
    '| client | median of paired differences | difference of medians |',
    '|---|---:|---:|',
    `| berth | **${f1(median(dBerth))} ms** | ${f1(median(times.get(ROWS[0]?.label ?? '') ?? []) - median(times.get(ROWS[1]?.label ?? '') ?? []))} ms |`,
    `| docker | **${f1(median(dDocker))} ms** | ${f1(median(times.get(ROWS[2]?.label ?? '') ?? []) - median(times.get(ROWS[3]?.label ?? '') ?? []))} ms |`,
    '',
    "**Inside berthd** (its debug log, every bridged start of the run): what the network module adds to a start's path, and what it does beside it:",
    '',
    '| phase | median ms | p90 ms | n | on the start path? |',
    '|---|---:|---:|---:|---|',
    `| set-up: hold ports, take a netns made ahead, record the sandbox | **${f1(median(phases.setUp))}** | ${f1(quantile(phases.setUp, 0.9))} | ${phases.setUp.length} | yes |`,
    `| wait for the CNI ADD after \`runc create\` returned | **${f1(median(phases.waited))}** | ${f1(quantile(phases.waited, 0.9))} | ${phases.waited.length} | yes |`,
    `| CNI ADD (bridge + host-local), run while runc creates the container | ${f1(median(phases.add))} | ${f1(quantile(phases.add, 0.9))} | ${phases.add.length} | no (overlapped) |`,
    `| teardown after exit: CNI DEL, unmount the netns | ${f1(median(phases.teardown))} | ${f1(quantile(phases.teardown, 0.9))} | ${phases.teardown.length} | no (background) |`,
    '',
    `**CPU per start** (berthd and the helpers it waits for, over 2 blocks of ${CPU_RUNS} \`docker run --rm\` each, background teardown included; independent of the machine's load):`,
    '',
    '| network | CPU ms per start (each block) |',
    '|---|---|',
    `| default bridge | ${cpu.bridge.map(f1).join(', ')} |`,
    `| none | ${cpu.none.map(f1).join(', ')} |`,
    `| **bridge − none** | **${f1(median(cpu.bridge) - median(cpu.none))}** |`,
    '',
    '### Container-to-container TCP throughput, iperf3 (MB/s received)',
    '',
    ...(iperfTar === null
      ? ['iperf3 is not installed on the host (`apt-get install iperf3`; network.sh does it): no rows.', '']
      : [
          '| path | median | min | max | n |',
          '|---|---:|---:|---:|---:|',
          `| default bridge (veth → bridge → veth, MTU 1500) | **${f1(median(iperfTput.bridge))}** | ${f1(Math.min(...iperfTput.bridge))} | ${f1(Math.max(...iperfTput.bridge))} | ${iperfTput.bridge.length} |`,
          `| host loopback (--network host, 127.0.0.1) | **${f1(median(iperfTput.loopback))}** | ${f1(Math.min(...iperfTput.loopback))} | ${f1(Math.max(...iperfTput.loopback))} | ${iperfTput.loopback.length} |`,
          '',
          `Loopback / default bridge = **${(median(iperfTput.loopback) / median(iperfTput.bridge)).toFixed(2)}×** (target ≤ 1.5×).`,
          '',
        ]),
    `### The same paths, ${MIB} MiB through busybox nc (1 KiB writes: the cost per segment), MB/s`,
    '',
    '| path | median | min | max | n |',
    '|---|---:|---:|---:|---:|',
    `| default bridge (veth → bridge → veth) | **${f1(median(tput.bridge))}** | ${f1(Math.min(...tput.bridge))} | ${f1(Math.max(...tput.bridge))} | ${tput.bridge.length} |`,
    `| host loopback (both --network host; lo's MTU is 65536) | **${f1(median(tput.loopback))}** | ${f1(Math.min(...tput.loopback))} | ${f1(Math.max(...tput.loopback))} | ${tput.loopback.length} |`,
    `| user network with \`-o com.docker.network.driver.mtu=65520\` | **${f1(median(tput.jumbo))}** | ${f1(Math.min(...tput.jumbo))} | ${f1(Math.max(...tput.jumbo))} | ${tput.jumbo.length} |`,
    '',
    `Loopback / default bridge = **${(median(tput.loopback) / median(tput.bridge)).toFixed(2)}×**; loopback / bridge at loopback's MTU = **${(median(tput.loopback) / median(tput.jumbo)).toFixed(2)}×** (nc writes 1 KiB at a time, so it pays per segment and the MTU bounds the segment).`,
    '',
  );
  let old = '';
  try {
    old = readFileSync(OUT, 'utf8');
  } catch {
    old = '';
  }
  const ai = old.indexOf(A_BEGIN);
  const aj = old.indexOf(A_END, ai);
  const analysis = ai >= 0 && aj > ai ? old.slice(ai + A_BEGIN.length, aj).trim() : '_Not written yet._';
  L.push('### Analysis', '', A_BEGIN, analysis, A_END, '', END);
  const section = L.join('\n');
  const b = old.indexOf(BEGIN);
  const e = old.indexOf(END, b);
  let text: string;
  if (b >= 0 && e > b) {
    const head = old.lastIndexOf(TITLE, b);
    const from = head >= 0 && old.slice(head, b).trim() === TITLE ? head : b;
    text = old.slice(0, from) + section + old.slice(e + END.length);
  } else {
    text = `${old.replace(/\n*$/, '')}\n\n${section}\n`;
  }
  writeFileSync(OUT, text);
  process.stderr.write(`\nwrote ${OUT}\n`);
  process.stdout.write(`${section}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
