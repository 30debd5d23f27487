/**
 * bench/containers-report: renders the "## Container operations" section of bench/RESULTS.md from
 * the raw files containers.sh collected (lifecycle loop totals and per-step times, `ps -a` and
 * one-shot stats samples, RSS/PSS of the daemons and of every per-container monitor, a CPU profile
 * of berthd with one window per operation), between `<!-- containers:begin/end -->`. Everything
 * else in the file is left byte for byte; the hand-written analysis between
 * `<!-- containers-analysis:begin/end -->` survives reruns. Reads files, writes one; runs nothing.
 * Usage: node --import tsx bench/containers-report.ts --raw DIR --out FILE
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { summarizeProfile, type CpuProfile, type ProfileRow } from './cpuProfile.js';
import { medianOf, summarize, type Summary } from './stats.js';

export const TITLE = '## Container operations';
export const BEGIN = '<!-- containers:begin -->';
export const END = '<!-- containers:end -->';
const A_BEGIN = '<!-- containers-analysis:begin -->';
const A_END = '<!-- containers-analysis:end -->';

function readOr(path: string, fallback = ''): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : fallback;
}

function rows(path: string): string[][] {
  return readOr(path)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.split('\t'));
}

/** Samples of one case in ms (the raw files hold µs). */
function samplesMs(raw: string, id: string): number[] {
  return readOr(join(raw, 'times', id))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => Number(l) / 1000);
}

function fails(raw: string, id: string): number {
  return readOr(join(raw, `fails.${id}`)).split('\n').filter((l) => l.trim() !== '').length;
}

function lastError(raw: string, id: string): string {
  const errs = readOr(join(raw, 'err', id))
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('exit '));
  return errs[errs.length - 1] ?? '';
}

const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const mb = (kb: number): string => f1(kb / 1024);
const esc = (s: string): string => s.replace(/\|/g, '\\|');

/** One loop of the lifecycle benchmark: which daemon, which round, µs, 1-min load after it. */
export interface LoopRow {
  daemon: string;
  round: string;
  us: number;
  load: number;
}

export function loopRows(raw: string, file = 'lifecycle.tsv'): LoopRow[] {
  return rows(join(raw, file)).map(([daemon = '', round = '', us = '0', load = '0']) => ({ daemon, round, us: Number(us), load: Number(load) }));
}

/**
 * dockerd's loop time over berthd's, per round (both ran back to back in that round, so drift of
 * the machine hits both about equally): the factor by which berthd is faster.
 */
export function roundRatios(loops: readonly LoopRow[]): number[] {
  const byRound = new Map<string, Map<string, number>>();
  for (const l of loops) {
    const m = byRound.get(l.round) ?? new Map<string, number>();
    m.set(l.daemon, l.us);
    byRound.set(l.round, m);
  }
  const out: number[] = [];
  for (const m of byRound.values()) {
    const b = m.get('berthd');
    const d = m.get('dockerd');
    if (b !== undefined && d !== undefined && b > 0) out.push(d / b);
  }
  return out;
}

function summaryCells(s: Summary | null): string {
  if (s === null) return '— | — | — | — | 0';
  return `**${f1(s.median)}** | ${f1(s.p90)} | ${f1(s.min)} | ${f1(s.max)} | ${s.n}`;
}

function caseTable(raw: string, cases: Array<[string, string]>): string[] {
  const out = ['| what | median | p90 | min | max | n |', '|---|---:|---:|---:|---:|---:|'];
  for (const [id, label] of cases) {
    const s = samplesMs(raw, id);
    if (s.length === 0 && fails(raw, id) === 0) continue;
    const bad = fails(raw, id);
    const note = bad > 0 ? ` (${bad} failed: ${esc(lastError(raw, id).slice(0, 120))})` : '';
    out.push(`| ${label}${note} | ${summaryCells(s.length > 0 ? summarize(s) : null)} |`);
  }
  return out;
}

function med(raw: string, id: string): number {
  return medianOf(samplesMs(raw, id));
}

function verdict(ok: boolean | null): string {
  return ok === null ? 'not measured' : ok ? '**met**' : '**missed**';
}

function profileSection(raw: string): string[] {
  const dir = join(raw, 'prof');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  const windows = rows(join(dir, 'windows.tsv')).filter((r) => r.length >= 3 && r[0] !== 'runs');
  const first = files[0];
  if (first === undefined || windows.length === 0) return ['No CPU profile was written (`--no-profile`, or berthd did not exit cleanly).', ''];
  const p = JSON.parse(readFileSync(join(dir, first), 'utf8')) as CpuProfile;
  const L: string[] = [];
  const rowsOf = (list: ProfileRow[], busy: number, runs: number): string[] =>
    list.map((r) => `| ${esc(r.name)} | ${f2(r.ms / runs)} | ${f0((100 * r.ms) / (busy || 1))} % |`);
  for (const [name = '', from = '0', to = '0'] of windows) {
    const s = summarizeProfile(p, 10, { from: Number(from), to: Number(to) });
    const runs = 20;
    L.push(
      `**${name}** (${runs} runs through the docker CLI; berthd busy ${f1(s.busyMs / runs)} ms per run, idle ${f1(s.idleMs / runs)} ms per run):`,
      '',
      '| function (self time) | ms per run | share |',
      '|---|---:|---:|',
      ...rowsOf(s.byFunction, s.busyMs, runs),
      '',
      '| module (self time) | ms per run | share |',
      '|---|---:|---:|',
      ...rowsOf(s.byModule, s.busyMs, runs),
      '',
    );
  }
  return L;
}

/** The section, from its heading to END; `old` is the file's current text (for the analysis). */
export function render(raw: string, old: string): string {
  const machine = new Map(rows(join(raw, 'machine.tsv')).map(([k = '', v = '']) => [k, v]));
  const m = (k: string): string => machine.get(k) ?? 'n/a';
  const count = Number(m('count'));
  const psCount = Number(m('ps_count'));
  const running = Number(m('running'));
  const loops = loopRows(raw);
  const hasDockerd = loops.some((l) => l.daemon === 'dockerd') || machine.has('dockerd');
  const loads = [...loops.map((l) => l.load), ...readOr(join(raw, 'load.txt')).split('\n').filter((l) => l.trim() !== '').map(Number)];

  const L: string[] = [];
  L.push(TITLE, BEGIN, '');
  L.push(
    `Generated by \`bench/containers.sh\` (\`${m('command')}\`) on ${m('date')}. The tables are rewritten by every run;`,
    'the **Analysis** at the end of this section is written by hand and kept across runs (check it still matches).',
    'How to rerun and what each row means: [README.md](README.md).',
    '',
  );
  L.push('### Machine', '', '| | |', '|---|---|');
  L.push(`| CPU | ${esc(m('cpu'))}, \`nproc\` = ${m('nproc')} |`);
  L.push(`| memory | ${m('memory')} |`);
  L.push(`| kernel | ${m('kernel')} (cgroup ${m('cgroup')}) |`);
  L.push(`| software | Node ${m('node')}; ${esc(m('runc'))}; ${esc(m('conmon'))}; ${esc(m('docker_cli'))}; ${hasDockerd ? esc(m('dockerd')) : `dockerd: ${esc(m('dockerd_skip'))}`} |`);
  L.push(`| build | ${esc(m('build'))} |`);
  L.push(`| quiet check | ${esc(m('quiet'))} |`);
  L.push(`| priority | the script and everything it starts ran at niceness ${m('nice')} |`);
  const loadNote = loads.length > 0 ? `; 1-min load after each loop/round: median ${f2(medianOf(loads))}, max ${f2(Math.max(...loads))}` : '';
  L.push(`| load average | before: ${m('load_start')}; at the end: ${m('load_end')}${loadNote} |`);
  L.push('');

  // ---- lifecycle
  L.push(`### Lifecycle: ${count} × (\`docker create\` + \`start\` + \`stop\` + \`rm\`), \`--network none\``, '');
  L.push(
    `Every step is one docker CLI process (the same CLI for both daemons); the container runs \`sh -c 'trap "exit 0" TERM; sleep 1000 & wait'\`,`,
    `so \`stop\` measures the engine, not a grace period. ${m('rounds')} rounds; in each, both daemons run the whole loop back to back, the order alternating.`,
    '',
    '| daemon | loop of all containers, s (median) | min | max | ms per container | create | start | stop | rm |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const d of ['berthd', 'dockerd']) {
    const mine = loops.filter((l) => l.daemon === d).map((l) => l.us / 1e6);
    if (mine.length === 0) continue;
    const s = summarize(mine);
    L.push(
      `| ${d} | **${f1(s.median)}** | ${f1(s.min)} | ${f1(s.max)} | ${f0((s.median * 1000) / count)} | ${f1(med(raw, `lc_${d}_create`))} | ${f1(med(raw, `lc_${d}_start`))} | ${f1(med(raw, `lc_${d}_stop`))} | ${f1(med(raw, `lc_${d}_rm`))} |`,
    );
  }
  const ratios = roundRatios(loops);
  L.push('', 'Step columns: median ms of one CLI call over every container of every round.');
  const apiLoops = loopRows(raw, 'lifecycle_api.tsv');
  if (apiLoops.length > 0) {
    const apiCount = Number(m('api_count'));
    L.push(
      '',
      `The same loop through the Engine API alone (\`curl\`, a few ms a call instead of a CLI process), ${apiCount} containers a round, after the CLI rounds:`,
      '',
      '| daemon | ms per container (median round) | create | start | stop | rm | dockerd ÷ berthd per round |',
      '|---|---:|---:|---:|---:|---:|---|',
    );
    const apiRatios = roundRatios(apiLoops);
    for (const d of ['berthd', 'dockerd']) {
      const mine = apiLoops.filter((l) => l.daemon === d).map((l) => l.us / 1000 / apiCount);
      if (mine.length === 0) continue;
      L.push(
        `| ${d} | **${f0(medianOf(mine))}** | ${f1(med(raw, `lcapi_${d}_create`))} | ${f1(med(raw, `lcapi_${d}_start`))} | ${f1(med(raw, `lcapi_${d}_stop`))} | ${f1(med(raw, `lcapi_${d}_rm`))} | ${d === 'dockerd' ? apiRatios.map(f2).join(', ') : ''} |`,
      );
    }
  }
  const floor = caseTable(raw, [
    ['floor_version_berthd', '`docker version` → berthd (CLI start-up, `_ping`, one GET)'],
    ['floor_version_dockerd', '`docker version` → dockerd'],
    ['floor_runc', '`runc --version` (one runc start-up)'],
  ]);
  if (floor.length > 2) L.push('', 'The floor under every step, interleaved (ms):', '', ...floor);
  const lcFails = ['create', 'start', 'stop', 'rm'].flatMap((s) => ['berthd', 'dockerd'].map((d) => [`lc_${d}_${s}`, fails(raw, `lc_${d}_${s}`)] as const)).filter(([, n]) => n > 0);
  if (lcFails.length > 0) L.push('', `Failed steps: ${lcFails.map(([id, n]) => `${id} ${n} (${esc(lastError(raw, id).slice(0, 100))})`).join('; ')}.`);
  L.push('');

  // ---- ps
  const setup = new Map(rows(join(raw, 'ps_setup.tsv')).map(([k = '', v = '']) => [k, v]));
  L.push(`### \`ps -a\` with ${psCount} containers (created, never started), wall ms`, '');
  L.push(
    `Set-up: ${psCount} \`docker create\` with 4 at a time took ${f1(Number(setup.get('create_berthd')) / 1e6)} s on berthd` +
      (setup.has('create_dockerd') ? ` and ${f1(Number(setup.get('create_dockerd')) / 1e6)} s on dockerd` : '') +
      `; \`ps -aq\` then listed ${setup.get('count_berthd') ?? '?'}${setup.has('count_dockerd') ? ` / ${setup.get('count_dockerd') ?? '?'}` : ''}. ` +
      'CLI rows are the whole client process; API rows are one `curl` of `GET /containers/json?all=1` (the daemon\'s share plus curl\'s start-up of a few ms). Rows interleaved round by round.',
    '',
  );
  L.push(
    ...caseTable(raw, [
      ['ps_docker_berthd', '`docker ps -a` → berthd'],
      ['ps_docker_dockerd', '`docker ps -a` → dockerd'],
      ['ps_berth_berthd', '`berth ps -a` → berthd'],
      ['ps_api_berthd', 'API `GET /containers/json?all=1` → berthd'],
      ['ps_api_dockerd', 'API `GET /containers/json?all=1` → dockerd'],
    ]),
    '',
  );

  // ---- stats
  L.push('### One-shot stats of a running container, wall ms', '');
  L.push(
    ...caseTable(raw, [
      ['stats_docker_berthd', '`docker stats --no-stream` → berthd'],
      ['stats_docker_dockerd', '`docker stats --no-stream` → dockerd'],
      ['stats_berth_berthd', '`berth stats --no-stream` → berthd'],
      ['stats_api_berthd', 'API `stats?stream=false` → berthd'],
      ['stats_api_dockerd', 'API `stats?stream=false` → dockerd'],
      ['stats_oneshot_berthd', 'API `stats?stream=false&one-shot=true` → berthd'],
      ['stats_oneshot_dockerd', 'API `stats?stream=false&one-shot=true` → dockerd'],
    ]),
    '',
  );

  // ---- memory
  const rss = rows(join(raw, 'rss.tsv'));
  const monitors = rows(join(raw, 'monitors.tsv'));
  const runSetup = new Map(rows(join(raw, 'run_setup.tsv')).map(([k = '', us = '0', n = '']) => [k, { us: Number(us), n }]));
  L.push(`### Memory with ${running} running containers`, '');
  const startNote = [...runSetup].map(([k, v]) => `${k.replace(/^run_/, '')}: ${running} \`docker run -d\` one after the other in ${f1(v.us / 1e6)} s, ${v.n} running after`).join('; ');
  if (startNote) L.push(`${startNote}.`, '');
  L.push('| process | when | RSS MB | PSS MB |', '|---|---|---:|---:|');
  for (const [p = '', when = '', r = '', pss = ''] of rss) L.push(`| ${p} | ${when} | ${mb(Number(r))} | ${pss === '' ? '—' : mb(Number(pss))} |`);
  L.push('');
  L.push('Per-container monitor processes (every one found, by its command line under this run\'s roots):', '');
  L.push('| monitor | count | RSS MB median | min | max | PSS MB median | PSS total MB |', '|---|---:|---:|---:|---:|---:|---:|');
  for (const [kind, label] of [
    ['conmon', 'conmon (berthd)'],
    ['shim', 'containerd-shim-runc-v2 (dockerd)'],
  ] as const) {
    const mine = monitors.filter((r) => r[0] === kind);
    if (mine.length === 0) continue;
    const r = summarize(mine.map((x) => Number(x[2])));
    const p = mine.map((x) => Number(x[3]));
    L.push(`| ${label} | ${mine.length} | **${mb(r.median)}** | ${mb(r.min)} | ${mb(r.max)} | ${mb(medianOf(p))} | ${mb(p.reduce((a, b) => a + b, 0))} |`);
  }
  const berthBefore = Number(rss.find((r) => r[0] === 'berthd' && r[1] === 'no containers')?.[2] ?? Number.NaN);
  const berthAfter = Number(rss.find((r) => r[0] === 'berthd' && (r[1] ?? '').endsWith('running'))?.[2] ?? Number.NaN);
  L.push(
    '',
    `berthd's own RSS changed by ${mb(berthAfter - berthBefore)} MB (${f0((berthAfter - berthBefore) / running)} KB per container) from none to ${running} running. ` +
      'RSS counts the shared libraries in every process that maps them; PSS splits shared pages between the processes sharing them, so the sum of PSS is what the monitors really cost together.',
    '',
  );

  // ---- targets
  const ratioMed = medianOf(ratios);
  const conmonRss = medianOf(monitors.filter((r) => r[0] === 'conmon').map((r) => Number(r[2])));
  const psApi = med(raw, 'ps_api_berthd');
  const psDocker = med(raw, 'ps_docker_berthd');
  const stApi = med(raw, 'stats_api_berthd');
  const stDocker = med(raw, 'stats_docker_berthd');
  L.push('### Targets', '', '| target | measured (medians) | |', '|---|---|---|');
  // Judged like the ps and stats rows: the daemons through the API, the whole docker CLI beside it
  // (the same client process per step for both daemons, a fixed cost no daemon can remove).
  const apiRatios = roundRatios(loopRows(raw, 'lifecycle_api.tsv'));
  const apiMed = medianOf(apiRatios);
  L.push(
    `| lifecycle loop ≥ 3× faster than dockerd | API ${apiRatios.length > 0 ? `${f2(apiMed)}× (per round: ${apiRatios.map(f2).join(', ')})` : 'n/a'}; whole docker CLI loop ${ratios.length > 0 ? `${f2(ratioMed)}× (per round: ${ratios.map(f2).join(', ')})` : 'no dockerd'} | ${verdict(apiRatios.length > 0 ? apiMed >= 3 : null)} (API); ${verdict(ratios.length > 0 ? ratioMed >= 3 : null)} (docker CLI) |`,
  );
  L.push(`| \`ps -a\` at ${psCount} containers < 100 ms | API ${f1(psApi)} ms; whole \`docker ps -a\` ${f1(psDocker)} ms | ${verdict(Number.isFinite(psApi) ? psApi < 100 : null)} (API); ${verdict(Number.isFinite(psDocker) ? psDocker < 100 : null)} (docker CLI) |`);
  L.push(`| one-shot stats < 100 ms | API ${f1(stApi)} ms; whole \`docker stats --no-stream\` ${f1(stDocker)} ms | ${verdict(Number.isFinite(stApi) ? stApi < 100 : null)} (API); ${verdict(Number.isFinite(stDocker) ? stDocker < 100 : null)} (docker CLI) |`);
  L.push(`| monitor < 3 MB per container | conmon RSS ${mb(conmonRss)} MB (Docker's shim: ${mb(medianOf(monitors.filter((r) => r[0] === 'shim').map((r) => Number(r[2]))))} MB) | ${verdict(Number.isFinite(conmonRss) ? conmonRss < 3 * 1024 : null)} |`);
  L.push('');

  L.push("### Where berthd's own CPU goes (`node --cpu-prof`)", '');
  L.push(...profileSection(raw));

  L.push('### Analysis', '', A_BEGIN);
  const a0 = old.indexOf(A_BEGIN);
  const a1 = old.indexOf(A_END, a0);
  L.push(a0 >= 0 && a1 > a0 ? old.slice(a0 + A_BEGIN.length, a1).trim() : '_Not written yet._');
  L.push(A_END, '', END);
  return L.join('\n');
}

/** Puts `section` in place of this report's previous one (from its heading), or appends it. */
export function splice(text: string, section: string): string {
  const b = text.indexOf(BEGIN);
  const e = text.indexOf(END, b);
  if (b >= 0 && e > b) {
    const head = text.lastIndexOf(TITLE, b);
    const from = head >= 0 && text.slice(head, b).trim() === TITLE ? head : b;
    return text.slice(0, from) + section + text.slice(e + END.length);
  }
  return `${text.replace(/\n*$/, '')}\n\n${section}\n`;
}

function main(argv: string[]): void {
  const get = (flag: string): string => {
    const i = argv.indexOf(flag);
    const v = i < 0 ? undefined : argv[i + 1];
    if (v === undefined) throw new Error(`usage: containers-report.ts --raw DIR --out FILE (missing ${flag})`);
    return v;
  };
  const raw = get('--raw');
  const out = get('--out');
  // Read just before writing: other scripts write their own sections of this file.
  const text = readOr(out);
  writeFileSync(out, splice(text, render(raw, text)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
