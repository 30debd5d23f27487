/**
 * bench/registry-report: renders the "## Registry" section of bench/RESULTS.md from the raw
 * JSON lines of bench/registry.sh and puts it between `<!-- registry:begin -->` and
 * `<!-- registry:end -->` (appended at the end when the markers are not there yet). Everything
 * else in the file is left byte for byte as it is (other benchmarks write their own sections);
 * the hand-written analysis between `<!-- registry-analysis:begin/end -->` survives reruns.
 * Usage: node --import tsx bench/registry-report.ts --raw FILE --out FILE
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { medianOf } from './stats.js';

const TITLE = '## Registry: berth registry vs distribution';
const BEGIN = '<!-- registry:begin -->';
const END = '<!-- registry:end -->';
const A_BEGIN = '<!-- registry-analysis:begin -->';
const A_END = '<!-- registry-analysis:end -->';

interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50ms: number;
  p99ms: number;
}

type Raw =
  | { kind: 'idle'; server: string; rssMb: number; privMb?: number }
  | { kind: 'push' | 'pull'; server: string; round: number; s: number; cpuS: number }
  | { kind: 'copyPeak'; server: string; round: number; rssMb: number; privMb?: number }
  | { kind: 'load'; server: string; method: 'GET' | 'HEAD'; cpuS: number; result: LoadResult }
  | { kind: 'loadPeak'; server: string; rssMb: number; privMb?: number }
  | ({ kind: 'run' } & RunInfo);

interface RunInfo {
  date: string;
  cpu: string;
  cores: string;
  memGb: string;
  kernel: string;
  node: string;
  skopeo: string;
  distribution: string;
  rev: string;
  baseline: string;
  loadBefore: string;
  loadAfter: string;
  busyPct: number;
  elapsedS: number;
  sizeMb: number;
  bytes: number;
  digest: string;
  rounds: number;
  secs: number;
  concurrency: number;
  command: string;
}

const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '—');
const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '—');
const f0 = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : '—');
const pct = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${((100 * a) / b).toFixed(0)} %` : '—');

const LABEL: Record<string, string> = { berth: 'berth registry', baseline: 'berth (baseline)', distribution: 'docker-registry' };

/** The section, from its heading to END; `old` is the file's current text (for the analysis). */
export function render(rawText: string, old: string): string {
  const raw = rawText
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Raw);
  const run = raw.find((r): r is { kind: 'run' } & RunInfo => r.kind === 'run');
  if (run === undefined) throw new Error('raw results without a "run" line: the benchmark did not finish');
  const servers = ['berth', ...(run.baseline !== '' ? ['baseline'] : []), 'distribution'];
  const of = <K extends Raw['kind']>(kind: K, server: string): Extract<Raw, { kind: K }>[] =>
    raw.filter((r): r is Extract<Raw, { kind: K }> => r.kind === kind && 'server' in r && r.server === server);
  const times = (kind: 'push' | 'pull', s: string, key: 's' | 'cpuS'): number[] => of(kind, s).map((r) => r[key]);
  const load = (s: string, m: 'GET' | 'HEAD'): Extract<Raw, { kind: 'load' }> | undefined => of('load', s).find((r) => r.method === m);

  interface Cell {
    value: number;
    text: string;
  }
  const rows: { label: string; cells: Cell[]; lowerIsBetter: boolean }[] = [];
  const timeRow = (label: string, kind: 'push' | 'pull', key: 's' | 'cpuS'): void => {
    rows.push({
      label,
      lowerIsBetter: true,
      cells: servers.map((s) => {
        const all = times(kind, s, key);
        const m = medianOf(all);
        return { value: m, text: `${f2(m)} (${all.map(f2).join(' ')})` };
      }),
    });
  };
  timeRow(`push, wall s — median (all ${run.rounds})`, 'push', 's');
  timeRow('push, server CPU s', 'push', 'cpuS');
  timeRow(`pull, wall s — median (all ${run.rounds})`, 'pull', 's');
  timeRow('pull, server CPU s', 'pull', 'cpuS');
  for (const m of ['GET', 'HEAD'] as const) {
    rows.push({
      label: `manifest ${m} req/s (p50 / p99 ms)`,
      lowerIsBetter: false,
      cells: servers.map((s) => {
        const r = load(s, m)?.result;
        return r === undefined ? { value: NaN, text: '—' } : { value: r.rps, text: `${r.rps} (${f2(r.p50ms)} / ${f2(r.p99ms)})` };
      }),
    });
    rows.push({
      label: `manifest ${m} requests per server CPU second`,
      lowerIsBetter: false,
      cells: servers.map((s) => {
        const l = load(s, m);
        const v = l === undefined || l.cpuS <= 0 ? NaN : l.result.requests / l.cpuS;
        return { value: v, text: f0(v) };
      }),
    });
  }
  rows.push({
    label: 'RSS idle, MB (median)',
    lowerIsBetter: true,
    cells: servers.map((s) => {
      const v = medianOf(of('idle', s).map((r) => r.rssMb));
      return { value: v, text: f1(v) };
    }),
  });
  rows.push({
    label: 'peak RSS after push + pull, MB (max of rounds)',
    lowerIsBetter: true,
    cells: servers.map((s) => {
      const v = Math.max(...of('copyPeak', s).map((r) => r.rssMb));
      return { value: v, text: f1(v) };
    }),
  });
  rows.push({
    label: 'peak RSS after the manifest load, MB',
    lowerIsBetter: true,
    cells: servers.map((s) => {
      const v = of('loadPeak', s)[0]?.rssMb ?? NaN;
      return { value: v, text: f1(v) };
    }),
  });
  const privRow = (label: string, values: (s: string) => number[], pick: (v: number[]) => number): void => {
    rows.push({
      label,
      lowerIsBetter: true,
      cells: servers.map((s) => {
        const v = values(s);
        const x = v.length === 0 ? NaN : pick(v);
        return { value: x, text: f1(x) };
      }),
    });
  };
  const privOf = (r: { privMb?: number }): number[] => (r.privMb === undefined ? [] : [r.privMb]);
  privRow('private memory idle, MB (median)', (s) => of('idle', s).flatMap(privOf), medianOf);
  privRow('private memory after push + pull, MB (max of rounds)', (s) => of('copyPeak', s).flatMap(privOf), (v) => Math.max(...v));
  privRow('private memory after the manifest load, MB', (s) => of('loadPeak', s).flatMap(privOf), (v) => Math.max(...v));
  rows.push({
    label: 'load errors (non-200)',
    lowerIsBetter: true,
    cells: servers.map((s) => {
      const v = (load(s, 'GET')?.result.errors ?? 0) + (load(s, 'HEAD')?.result.errors ?? 0);
      return { value: v, text: String(v) };
    }),
  });

  const dist = servers.indexOf('distribution');
  const L: string[] = [];
  L.push(TITLE, BEGIN, '');
  L.push(
    `Generated by \`${run.command.trim()}\` on ${run.date} (berth ${run.rev}${run.baseline !== '' ? `, baseline ${run.baseline}` : ''}). The table is`,
    'rewritten by every run; the **Analysis** below it is written by hand and kept across runs (check it still matches).',
    '',
    `- Machine: ${run.cpu}, ${run.cores} cores, ${run.memGb} GB, kernel ${run.kernel}; Node ${run.node}, skopeo ${run.skopeo}, docker-registry ${run.distribution} (Debian; its packaged in-memory blob descriptor cache on).`,
    `- Load: load average ${run.loadBefore} before, ${run.loadAfter} after; the CPUs were ${f0(run.busyPct)} % busy over the ${f0(run.elapsedS)} s run (everything on the machine, this benchmark included). Other sessions share this host: compare columns of one run, and server CPU time, rather than absolute times across runs.`,
    `- Image: ${run.sizeMb} MB in 4 random-data tar+gzip layers (${run.bytes} bytes, manifest ${run.digest.slice(7, 19)}), pushed and pulled with \`skopeo copy oci: <-> docker://\` over loopback; digests in and out compared. ${run.rounds} rounds, each on freshly started servers with empty roots, the servers' order rotating.`,
    `- Manifest load: ${run.concurrency} keep-alive clients for ${run.secs} s per method and server after a 2 s warm-up (bench/registry-load.ts, node:http), \`GET\`/\`HEAD /v2/bench/img/manifests/v1\`; the client shares the 2 CPUs with the server. Server CPU = utime + stime of the server process (all threads) during the phase. Private memory = RSS less the pages shared with other processes (smaps_rollup \`Private_*\`; for Node most of the RSS is the node binary's code, shared with every Node process).`,
    '',
  );
  const head = ['', ...servers.map((s) => LABEL[s] ?? s), 'berth ÷ docker-registry'];
  L.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  for (const row of rows) {
    const b = row.cells[0]?.value ?? NaN;
    const d = row.cells[dist]?.value ?? NaN;
    L.push(`| ${row.label} | ${row.cells.map((c) => c.text).join(' | ')} | ${row.label.startsWith('load errors') ? '' : pct(b, d)} |`);
  }
  L.push('', '### Analysis', '', A_BEGIN);
  const a0 = old.indexOf(A_BEGIN);
  const a1 = old.indexOf(A_END);
  L.push(a0 >= 0 && a1 > a0 ? old.slice(a0 + A_BEGIN.length, a1).trim() : '_Not written yet._');
  L.push(A_END, '', END);
  return L.join('\n');
}

/** `text` with this section replaced (or appended); other sections untouched. */
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
    if (v === undefined) throw new Error(`usage: registry-report.ts --raw FILE --out FILE (missing ${flag})`);
    return v;
  };
  const raw = readFileSync(get('--raw'), 'utf8');
  const out = get('--out');
  // Read just before writing: others edit this file too, and only this section is ours.
  const text = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const b = text.indexOf(BEGIN);
  const e = text.indexOf(END, b);
  writeFileSync(out, splice(text, render(raw, b >= 0 && e > b ? text.slice(b, e) : '')));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
