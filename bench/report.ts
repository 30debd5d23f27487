/**
 * bench/report: renders the "## Container start latency" section of bench/RESULTS.md from the raw
 * files start-latency.sh collected (per-case wall times, RSS, CPU ticks, machine facts, the strace
 * of a traced berthd, CPU profiles), between `<!-- start-latency:begin/end -->`. Everything else in
 * the file (other benchmarks' sections) is left byte for byte; the hand-written analysis between
 * `<!-- start-latency-analysis:begin/end -->` survives reruns. Reads files, writes one; runs nothing.
 * Usage: node --import tsx bench/report.ts --raw DIR --out FILE
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { summarizeProfile, type CpuProfile, type ProfileRow } from './cpuProfile.js';
import { medianOf, summarize, type Summary } from './stats.js';
import { breakdown, parseStrace, type RunBreakdown } from './traceTimeline.js';

interface CaseInfo {
  id: string;
  label: string;
  skip: string;
  summary: Summary | null;
  fails: number;
  lastError: string;
}

const START_CASES = ['berth_run', 'docker_berthd', 'runc_floor', 'docker_dockerd', 'podman'];
const CLI_CASES = ['berth_version', 'docker_version_berthd', 'node_floor'];
const BEGIN = '<!-- start-latency:begin -->';
const END = '<!-- start-latency:end -->';
const ANALYSIS_BEGIN = '<!-- start-latency-analysis:begin -->';
const ANALYSIS_END = '<!-- start-latency-analysis:end -->';
/** Markers of this report's first version, which owned the whole file. */
const LEGACY_ANALYSIS = ['<!-- analysis:begin -->', '<!-- analysis:end -->'] as const;
const LEGACY_TITLE = '# berth start-latency results';
const FILE_HEADER = [
  '# berth benchmark results',
  '',
  'Each section is written by its own script in bench/ (see [README.md](README.md)) and rewritten on',
  'every run of that script; the hand-written analysis at the end of each section is kept.',
  '',
].join('\n');

function readOr(path: string, fallback = ''): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : fallback;
}

function tsvRows(path: string): string[][] {
  return readOr(path)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.split('\t'));
}

function loadCases(raw: string): Map<string, CaseInfo> {
  const out = new Map<string, CaseInfo>();
  for (const [id = '', label = '', skip = ''] of tsvRows(join(raw, 'cases.tsv'))) {
    const us = readOr(join(raw, 'times', id))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(Number);
    const fails = readOr(join(raw, `fails.${id}`)).split('\n').filter((l) => l.trim() !== '').length;
    const errLines = readOr(join(raw, 'err', id))
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('exit '));
    out.set(id, {
      id,
      label,
      skip,
      summary: us.length === 0 ? null : summarize(us.map((u) => u / 1000)),
      fails,
      lastError: errLines[errLines.length - 1] ?? '',
    });
  }
  return out;
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');

function caseTable(cases: Map<string, CaseInfo>, ids: string[], floor: number | null): string[] {
  const lines = [
    `| what | median | p90 | min | max | n |${floor === null ? '' : ' × runc floor |'}`,
    `|---|---:|---:|---:|---:|---:|${floor === null ? '' : '---:|'}`,
  ];
  const notes: string[] = [];
  for (const id of ids) {
    const c = cases.get(id);
    if (c === undefined) continue;
    const s = c.summary;
    if (s === null) {
      lines.push(`| ${c.label} | — | — | — | — | 0 |${floor === null ? '' : ' — |'}`);
      notes.push(`- *${c.label}*: not measured — ${c.skip || c.lastError || 'no successful run'}`);
      continue;
    }
    const ratio = floor === null ? '' : ` ${(s.median / floor).toFixed(1)}× |`;
    lines.push(`| ${c.label} | **${f1(s.median)}** | ${f1(s.p90)} | ${f1(s.min)} | ${f1(s.max)} | ${s.n} |${ratio}`);
    if (c.fails > 0) notes.push(`- *${c.label}*: ${c.fails} failed run(s) left out; last error: \`${c.lastError}\``);
  }
  return notes.length === 0 ? lines : [...lines, '', ...notes];
}

function median(cases: Map<string, CaseInfo>, id: string): number | null {
  return cases.get(id)?.summary?.median ?? null;
}

function targets(cases: Map<string, CaseInfo>, rssKb: number | null): string[] {
  const minOf = (id: string): number | null => cases.get(id)?.summary?.min ?? null;
  // The same ratio from the fastest samples: noise from other work on the machine only adds time,
  // so mins are the least disturbed view; if both agree, the verdict does not hang on the noise.
  const byMin = (a: string, b: string): string => {
    const x = minOf(a);
    const y = minOf(b);
    return x === null || y === null ? '' : `; by fastest samples ${(x / y).toFixed(2)}`;
  };
  const floor = median(cases, 'runc_floor');
  const viaDocker = median(cases, 'docker_berthd');
  const dockerd = median(cases, 'docker_dockerd');
  const berth = median(cases, 'berth_run');
  const bv = median(cases, 'berth_version');
  const dv = median(cases, 'docker_version_berthd');
  const verdict = (ok: boolean): string => (ok ? 'met' : '**missed**');
  const rows = ['| target | measured (medians) | |', '|---|---|---|'];
  if (floor !== null && viaDocker !== null) {
    const r = viaDocker / floor;
    rows.push(`| docker CLI → berthd ≤ 2.5× raw runc | ${r.toFixed(2)}× (${f1(viaDocker)} / ${f1(floor)} ms${byMin('docker_berthd', 'runc_floor')}×) | ${verdict(r <= 2.5)} |`);
  }
  if (floor !== null && dockerd !== null) {
    rows.push(`| (reference) docker CLI → dockerd, said to be ~9× raw runc | ${(dockerd / floor).toFixed(2)}× (${f1(dockerd)} / ${f1(floor)} ms${byMin('docker_dockerd', 'runc_floor')}×) | — |`);
  }
  if (berth !== null && dockerd !== null) {
    const r = berth / dockerd;
    rows.push(`| berth CLI → berthd ≤ ½ of docker CLI → dockerd | ${r.toFixed(2)} (${f1(berth)} / ${f1(dockerd)} ms${byMin('berth_run', 'docker_dockerd')}) | ${verdict(r <= 0.5)} |`);
  } else if (berth !== null) {
    rows.push(`| berth CLI → berthd ≤ ½ of docker CLI → dockerd | ${f1(berth)} ms; no dockerd row to compare | — |`);
  }
  if (rssKb !== null) {
    rows.push(`| berthd idle RSS < 60 MB | ${(rssKb / 1024).toFixed(1)} MB | ${verdict(rssKb / 1024 < 60)} |`);
  }
  if (bv !== null && dv !== null) {
    rows.push(`| (start-up) \`berth version\` vs \`docker version\`, both → berthd | ${f1(bv)} vs ${f1(dv)} ms (${(bv / dv).toFixed(2)}×) | — |`);
  }
  return rows;
}

interface TraceSection {
  lines: string[];
}

function traceSection(raw: string, cases: Map<string, CaseInfo>): TraceSection {
  const text = readOr(join(raw, 'trace', 'strace.txt'));
  const runs = tsvRows(join(raw, 'trace', 'runs.tsv'));
  if (text === '' || runs.length === 0) return { lines: ['No traced runs (the traced berthd did not start).'] };
  const trace = parseStrace(text);
  const lines: string[] = [];
  const byCase = new Map<string, RunBreakdown[]>();
  for (const [id = '', t0 = '0', t1 = '0'] of runs) {
    const list = byCase.get(id) ?? [];
    list.push(breakdown(trace, Number(t0) / 1e6, Number(t1) / 1e6));
    byCase.set(id, list);
  }
  for (const [id, list] of byCase) {
    const label = cases.get(id)?.label ?? id;
    const untraced = median(cases, id);
    const med = (pick: (b: RunBreakdown) => number): number => medianOf(list.map(pick));
    const total = med((b) => b.totalMs);
    lines.push(`#### ${label}`, '');
    lines.push(
      `${list.length} traced runs; median ${f1(total)} ms under strace` +
        (untraced === null ? '.' : ` (untraced median ${f1(untraced)} ms: strace stretches the helpers most, since they are the processes that make traced syscalls).`),
      '',
      '| part of the run | median ms | share of the traced median |',
      '|---|---:|---:|',
    );
    const part = (name: string, v: number): void => {
      lines.push(`| ${name} | ${f1(v)} | ${f0((100 * v) / total)} % |`);
    };
    part('CLI start-up: process start → berthd reads the first request', med((b) => b.clientStartMs));
    part('berthd serving, a helper process running (below)', med((b) => b.helpersMs));
    part('berthd serving, no helper running (node: HTTP, SQLite, bundle and spec writing, waiting on the client)', med((b) => b.daemonAloneMs));
    part('CLI tear-down: last response written → CLI exited', med((b) => b.clientEndMs));
    lines.push('', '| helper process (wall time alive within the run) | median ms |', '|---|---:|');
    const labels = new Set<string>();
    for (const b of list) for (const l of b.byLabel.keys()) labels.add(l);
    const rows = [...labels].map((l) => ({ l, v: med((b) => b.byLabel.get(l) ?? 0) })).sort((a, b) => b.v - a.v);
    for (const r of rows) lines.push(`| ${r.l} | ${f1(r.v)} |`);
    // The fastest traced run, event by event: on a shared machine it is the least disturbed one.
    const rep = [...list].sort((a, b) => a.totalMs - b.totalMs)[0];
    if (rep !== undefined) {
      lines.push('', `<details><summary>Timeline of the fastest traced run (${f1(rep.totalMs)} ms)</summary>`, '');
      lines.push('| ms since CLI start | Δ ms | event |', '|---:|---:|---|');
      let prev = 0;
      for (const e of rep.events) {
        lines.push(`| ${f1(e.ms)} | ${f1(e.ms - prev)} | ${e.text} |`);
        prev = e.ms;
      }
      lines.push('', '</details>');
    }
    lines.push('');
  }
  return { lines };
}

function loadProfile(dir: string): CpuProfile | null {
  if (!existsSync(dir)) return null;
  const f = readdirSync(dir).find((x) => x.endsWith('.cpuprofile'));
  return f === undefined ? null : (JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile);
}

function profileSection(raw: string): string[] {
  const L: string[] = [];
  const runs = 10;
  const daemon = loadProfile(join(raw, 'prof', 'berthd'));
  const win = readOr(join(raw, 'prof', 'berthd', 'window')).split('\n').filter((l) => l.trim() !== '').map(Number);
  const rowsOf = (rows: ProfileRow[], busy: number, per: number): string[] =>
    rows.map((r) => `| ${r.name.replace(/\|/g, '\\|')} | ${f1(r.ms / per)} | ${f0((100 * r.ms) / busy)} % |`);
  if (daemon !== null && win.length === 2) {
    const s = summarizeProfile(daemon, 10, { from: win[0] as number, to: win[1] as number });
    L.push(
      `#### berthd during ${runs} \`docker run --rm\` (after one warm-up run)`,
      '',
      `On-CPU JavaScript/V8 time: ${f1(s.busyMs / runs)} ms per run (idle ${f1(s.idleMs / runs)} ms per run). Self time:`,
      '',
      '| module (self time) | ms per run | share |',
      '|---|---:|---:|',
      ...rowsOf(s.byModule, s.busyMs, runs),
      '',
      '| function (self time) | ms per run | share |',
      '|---|---:|---:|',
      ...rowsOf(s.byFunction, s.busyMs, runs),
      '',
    );
  }
  const cli = loadProfile(join(raw, 'prof', 'cli'));
  if (cli !== null) {
    const s = summarizeProfile(cli, 10);
    L.push(
      '#### `berth version` (one process, start to exit)',
      '',
      `On-CPU JavaScript/V8 time after Node's own bootstrap: ${f1(s.busyMs)} ms (idle ${f1(s.idleMs)} ms).`,
      '',
      '| module (self time) | ms | share |',
      '|---|---:|---:|',
      ...rowsOf(s.byModule, s.busyMs, 1),
      '',
    );
  }
  return L.length === 0 ? ['No CPU profile was written.', ''] : L;
}

function previousAnalysis(old: string): string | null {
  for (const [b, e] of [[ANALYSIS_BEGIN, ANALYSIS_END], LEGACY_ANALYSIS]) {
    const i = old.indexOf(b);
    const j = old.indexOf(e, i);
    if (i >= 0 && j > i) return old.slice(i + b.length, j).trim();
  }
  return null;
}

/**
 * Puts `section` (which starts with its heading and ends with END) into the file text: in place of
 * the previous one (from its heading, just before BEGIN), else after everything that is there.
 * A file from this report's first version, which owned the whole file, is replaced whole.
 */
export function splice(text: string, section: string): string {
  if (text.trim() === '' || text.startsWith(LEGACY_TITLE)) return `${FILE_HEADER}\n${section}\n`;
  const b = text.indexOf(BEGIN);
  const e = text.indexOf(END, b);
  if (b >= 0 && e > b) {
    const head = text.lastIndexOf(SECTION_TITLE, b);
    const from = head >= 0 && text.slice(head, b).trim() === SECTION_TITLE ? head : b;
    return text.slice(0, from) + section + text.slice(e + END.length);
  }
  return `${text.replace(/\n*$/, '')}\n\n${section}\n`;
}

const SECTION_TITLE = '## Container start latency';

/** The section, from its heading to END; `old` is the file's current text (for the analysis). */
export function render(raw: string, old: string): string {
  const machine = new Map(tsvRows(join(raw, 'machine.tsv')).map(([k = '', v = '']) => [k, v]));
  const m = (k: string): string => machine.get(k) ?? 'n/a';
  const cases = loadCases(raw);
  const floor = median(cases, 'runc_floor');
  const rss = tsvRows(join(raw, 'rss.tsv'));
  const idle = rss.find(([p, w]) => p === 'berthd' && (w ?? '').startsWith('idle after start'));
  const idleKb = idle === undefined ? null : Number(idle[2]);

  const L: string[] = [];
  L.push(SECTION_TITLE, BEGIN, '');
  L.push(
    `Generated by \`bench/start-latency.sh\` on ${m('date')}. The tables are rewritten by every run;`,
    'the **Analysis** at the end of this section is written by hand and kept across runs (check it still matches).',
    'How to rerun and what each row means: [README.md](README.md).',
    '',
  );
  L.push('### Machine', '', '| | |', '|---|---|');
  L.push(`| CPU | ${m('cpu')}, \`nproc\` = ${m('nproc')} |`);
  L.push(`| memory | ${m('memory')} |`);
  L.push(`| kernel | ${m('kernel')} (cgroup ${m('cgroup')}) |`);
  L.push(`| Node.js | ${m('node')} |`);
  L.push(`| runc, conmon | ${m('runc')}; ${m('conmon')} |`);
  L.push(`| docker CLI | ${m('docker_cli')} |`);
  L.push(`| dockerd | ${m('dockerd')} |`);
  L.push(`| podman | ${m('podman')} |`);
  L.push(`| samples | n = ${m('runs')} per row after ${m('warmups')} warm-up rounds; rows interleaved round by round, the first row rotating; ${m('gap')} s pause after each sample |`);
  L.push(`| build | ${m('build')} |`);
  L.push(`| quiet check | ${m('quiet')} |`);
  L.push(`| priority | the script and everything it starts ran at niceness ${m('nice')} |`);
  const load = readOr(join(raw, 'load.txt')).split('\n').filter((l) => l.trim() !== '').map(Number);
  const loadText = load.length === 0 ? '' : `; 1-min load after each round: median ${summarize(load).median.toFixed(2)}, max ${summarize(load).max.toFixed(2)}`;
  L.push(`| load average | before: ${m('load_start')}; after the measured rounds: ${m('load_end')}${loadText} (this script alone keeps about 1 of ${m('nproc')} CPUs busy) |`);
  L.push('', '`free -h`:', '', '```', ...m('free').split('|').filter((l) => l !== ''), '```', '');

  L.push('### Container start: `run --rm … true`, wall time of the whole CLI process (ms)', '');
  L.push(...caseTable(cases, START_CASES, floor), '');
  L.push('### CLI start-up (ms)', '');
  L.push(...caseTable(cases, CLI_CASES, null), '');
  const comps: Array<[string, string]> = [
    ['comp_runc_create', '`runc create` (floor bundle, detached)'],
    ['comp_runc_start', '`runc start`'],
    ['comp_runc_delete', '`runc delete` (after the exit)'],
    ['comp_mount', '`mount -t overlay` (one lower)'],
    ['comp_umount', '`umount`'],
    ['comp_conmon_version', '`conmon --version` (process start-up only)'],
  ];
  if (comps.some(([id]) => cases.get(id)?.summary)) {
    for (const [id, label] of comps) {
      const c = cases.get(id);
      if (c !== undefined) c.label = label;
    }
    L.push('### Helper commands alone, no daemon (ms)', '');
    L.push(
      'The steps of a container run as separate processes, each timed by itself on the floor bundle, interleaved',
      'in rounds after the measured rounds. berthd spawns only conmon (which runs `runc create`) on the path of a',
      'run, plus `runc delete` after it (decisions B54); start, mount and umount are done in-process (B53, B54).',
      'The sum is what a run would cost if each step were a process.',
      '',
    );
    L.push(...caseTable(cases, comps.map(([id]) => id), null));
    const sum = comps.slice(0, 5).reduce((acc, [id]) => acc + (median(cases, id) ?? Number.NaN), 0);
    const sumMin = comps.slice(0, 5).reduce((acc, [id]) => acc + (cases.get(id)?.summary?.min ?? Number.NaN), 0);
    const floorMin = cases.get('runc_floor')?.summary?.min ?? null;
    if (Number.isFinite(sum) && floor !== null && floorMin !== null) {
      L.push(
        '',
        `Sum of create + start + delete + mount + umount: medians **${f1(sum)} ms** (${(sum / floor).toFixed(2)}× the \`runc run\` median); ` +
          `fastest samples ${f1(sumMin)} ms (${(sumMin / floorMin).toFixed(2)}× the fastest \`runc run\`).`,
      );
    }
    L.push('');
  }
  L.push('### Targets', '');
  L.push(...targets(cases, idleKb), '');

  L.push('### Memory (VmRSS from /proc/PID/status)', '', '| process | when | MB |', '|---|---|---:|');
  for (const [p = '', w = '', kb = '0'] of rss) L.push(`| ${p} | ${w} | ${(Number(kb) / 1024).toFixed(1)} |`);
  L.push('');

  const cpu = tsvRows(join(raw, 'cpu.tsv'));
  if (cpu.length > 0) {
    L.push('### CPU per container run (10 `docker run --rm` in a row, from /proc/PID/stat)', '');
    L.push('| process | own user+sys ms per run | children it waited for, ms per run |', '|---|---:|---:|');
    for (const [name = '', own = '0', kids = '-', runs = '1', clk = '100'] of cpu) {
      const per = (ticks: string): string => (ticks === '-' ? '—' : f1((Number(ticks) * 1000) / Number(clk) / Number(runs)));
      L.push(`| ${name} | ${per(own)} | ${per(kids)} |`);
    }
    L.push('', 'Clock-tick resolution is 10 ms, so these are averages over the 10 runs.', '');
  }

  L.push('### Where the time goes (berthd traced with `strace -f --seccomp-bpf`)', '');
  L.push(
    'A second berthd on the same roots runs under strace (execve, exit_group, clone, read, write, writev),',
    'then each CLI runs a few times. Helper processes (conmon, runc create, the container, and any',
    'runc, mount or umount process) are timed from exec to exit; `runc init` and the conmon monitor are left out, as they are',
    'alive while waiting. HTTP requests are the daemon\'s reads, responses its writes.',
    '',
  );
  L.push(...traceSection(raw, cases).lines);

  L.push('### Where berthd\'s own CPU goes (`node --cpu-prof`)', '');
  L.push(...profileSection(raw));

  L.push('### Analysis', '', ANALYSIS_BEGIN);
  L.push(previousAnalysis(old) ?? '_Not written yet: read the tables above and write what dominates here._');
  L.push(ANALYSIS_END, '', END);
  return L.join('\n');
}

function main(argv: string[]): void {
  const get = (flag: string): string => {
    const i = argv.indexOf(flag);
    const v = i < 0 ? undefined : argv[i + 1];
    if (v === undefined) throw new Error(`usage: report.ts --raw DIR --out FILE (missing ${flag})`);
    return v;
  };
  const raw = get('--raw');
  const out = get('--out');
  const old = readOr(out);
  writeFileSync(out, splice(old, render(raw, old)));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2));
}
