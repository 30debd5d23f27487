/**
 * bench/pull-push-report: renders the "## Pull and push" section of bench/RESULTS.md from the raw
 * files of bench/pull-push.sh, and puts it between `<!-- pull-push:begin -->` and
 * `<!-- pull-push:end -->` (appended at the end when the markers are not there yet). Everything
 * else in the file is left byte for byte as it is (other benchmarks write their own sections);
 * the hand-written analysis between `<!-- pull-push-analysis:begin/end -->` survives reruns.
 * Usage: node --import tsx bench/pull-push-report.ts --raw DIR --out FILE
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarize, medianOf, type Summary } from './stats.js';
import type { CpuProfile } from './cpuProfile.js';

const BEGIN = '<!-- pull-push:begin -->';
const END = '<!-- pull-push:end -->';
const A_BEGIN = '<!-- pull-push-analysis:begin -->';
const A_END = '<!-- pull-push-analysis:end -->';

const readOr = (p: string, fallback = ''): string => (existsSync(p) ? readFileSync(p, 'utf8') : fallback);
const lines = (p: string): string[] => readOr(p).split('\n').filter((l) => l.trim() !== '');
const f0 = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : '—');
const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '—');
const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '—');
const esc = (s: string): string => s.replace(/\|/g, '\\|');

interface ImageInfo {
  layers: { plainSize: number; gzSize: number; files: number }[];
  totalPlain: number;
  totalGz: number;
  files: number;
}

interface Row {
  id: string;
  label: string;
  skip: string;
  /** Wall ms per sample (unpack rows: the in-process time). */
  ms: number[];
  /** Whole-process wall ms (unpack rows only). */
  procMs: number[];
  /** In-process CPU ms (unpack rows only). */
  inCpuMs: number[];
  cpuMs: number[];
  fails: number;
  lastError: string;
}

function loadRows(raw: string): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const l of lines(join(raw, 'cases.tsv'))) {
    const [id = '', label = '', skip = ''] = l.split('\t');
    const us = lines(join(raw, 'times', id)).map(Number);
    const runs = lines(join(raw, 'unpack', `${id}.jsonl`)).map((x) => JSON.parse(x) as { totalMs: number; cpuMs?: number });
    const unpack = runs.map((r) => r.totalMs);
    const err = lines(join(raw, 'err', id)).filter((x) => !x.startsWith('exit '));
    rows.set(id, {
      id,
      label,
      skip,
      ms: unpack.length > 0 ? unpack : us.map((u) => u / 1000),
      procMs: unpack.length > 0 ? us.map((u) => u / 1000) : [],
      inCpuMs: runs.flatMap((r) => (r.cpuMs === undefined ? [] : [r.cpuMs])),
      cpuMs: lines(join(raw, 'cpu', id)).map(Number),
      fails: lines(join(raw, `fails.${id}`)).length,
      lastError: err[err.length - 1] ?? '',
    });
  }
  return rows;
}

function med(rows: Map<string, Row>, id: string): number {
  const r = rows.get(id);
  return r === undefined || r.ms.length === 0 ? Number.NaN : medianOf(r.ms);
}

/** Fastest sample: on a shared machine, the least disturbed one. */
function best(rows: Map<string, Row>, id: string): number {
  const r = rows.get(id);
  return r === undefined || r.ms.length === 0 ? Number.NaN : Math.min(...r.ms);
}

function cpuMed(rows: Map<string, Row>, id: string): number {
  const r = rows.get(id);
  return r === undefined || r.cpuMs.length === 0 ? Number.NaN : medianOf(r.cpuMs);
}

function table(rows: Map<string, Row>, ids: string[], bytesOf: (id: string) => number, ref: { name: string; ms: number } | null): string[] {
  const head = ['| what | median ms | min | max | n | CPU s (median) | MB/s |' + (ref ? ` × ${ref.name} |` : ''), '|---|---:|---:|---:|---:|---:|---:|' + (ref ? '---:|' : '')];
  const out = [...head];
  for (const id of ids) {
    const r = rows.get(id);
    if (r === undefined) continue;
    if (r.skip !== '') {
      out.push(`| ${esc(r.label)} | not measured: ${esc(r.skip)} | | | | | |${ref ? ' |' : ''}`);
      continue;
    }
    if (r.ms.length === 0) {
      out.push(`| ${esc(r.label)} | every sample failed (${r.fails}): ${esc(r.lastError)} | | | | | |${ref ? ' |' : ''}`);
      continue;
    }
    const s: Summary = summarize(r.ms);
    const cpu = r.cpuMs.length > 0 ? medianOf(r.cpuMs) / 1000 : Number.NaN;
    const mbs = bytesOf(id) / 1e6 / (s.median / 1000);
    const fails = r.fails > 0 ? ` (${r.fails} failed)` : '';
    out.push(
      `| ${esc(r.label)} | **${f0(s.median)}** | ${f0(s.min)} | ${f0(s.max)} | ${s.n}${fails} | ${f2(cpu)} | ${f0(mbs)} |` +
        (ref ? ` ${f2(s.median / ref.ms)}× |` : ''),
    );
  }
  return out;
}

interface Phase {
  daemon: string;
  op: 'pull' | 'push';
  totalMs: number;
  firstMessageMs: number;
  error: string;
  layers: Record<string, Record<string, number>>;
}

function phaseSection(raw: string): string[] {
  const all = lines(join(raw, 'phases.jsonl')).map((l) => JSON.parse(l) as Phase).filter((p) => p.error === '');
  if (all.length === 0) return ['No phase runs.'];
  const out: string[] = [];
  const daemons = [...new Set(all.map((p) => p.daemon))];
  const m = (xs: number[]): string => f0(medianOf(xs.filter((x) => Number.isFinite(x))));
  const ev = (p: Phase, name: string, pick: (xs: number[]) => number): number => {
    const xs = Object.values(p.layers).map((l) => l[name]).filter((x): x is number => x !== undefined);
    return xs.length > 0 ? pick(xs) : Number.NaN;
  };
  const min = (xs: number[]): number => Math.min(...xs);
  const max = (xs: number[]): number => Math.max(...xs);
  const perLayer = (ps: Phase[], from: string, to: string): number[] =>
    ps.flatMap((p) => Object.values(p.layers).map((l) => (l[to] !== undefined && l[from] !== undefined ? (l[to] as number) - (l[from] as number) : Number.NaN)));
  const sumPerRun = (ps: Phase[], from: string, to: string): number[] =>
    ps.map((p) => Object.values(p.layers).reduce((s, l) => s + ((l[to] ?? Number.NaN) - (l[from] ?? Number.NaN)), 0));

  const pulls = daemons.map((d) => all.filter((p) => p.daemon === d && p.op === 'pull'));
  const partial = all.filter((p) => p.op === 'pull' && Object.values(p.layers).some((l) => l['Already exists'] !== undefined)).length;
  if (partial > 0) out.push(`**Warning:** ${partial} phase-run pull(s) found layers already there ("Already exists"): those were not full pulls.`, '');
  out.push(`### Pull, phase by phase (Engine API progress messages, time-stamped on arrival; medians of ${pulls.map((p) => p.length).join('/')} runs)`, '');
  out.push(`| ms since the request | ${daemons.join(' | ')} |`, `|---|${daemons.map(() => '---:').join('|')}|`);
  const prow = (name: string, f: (ps: Phase[]) => string): void => {
    out.push(`| ${name} | ${pulls.map((ps) => (ps.length > 0 ? f(ps) : '—')).join(' | ')} |`);
  };
  prow('first message (manifest and config fetched)', (ps) => m(ps.map((p) => p.firstMessageMs)));
  prow('first layer "Downloading"', (ps) => m(ps.map((p) => ev(p, 'Downloading', min))));
  prow('first layer "Download complete"', (ps) => m(ps.map((p) => ev(p, 'Download complete', min))));
  prow('last layer "Download complete"', (ps) => m(ps.map((p) => ev(p, 'Download complete', max))));
  prow('first "Extracting"', (ps) => m(ps.map((p) => ev(p, 'Extracting', min))));
  prow('last "Pull complete"', (ps) => m(ps.map((p) => ev(p, 'Pull complete', max))));
  prow('response ended', (ps) => m(ps.map((p) => p.totalMs)));
  prow('per layer: "Downloading" → "Download complete" (median layer)', (ps) => m(perLayer(ps, 'Downloading', 'Download complete')));
  prow('per layer: "Download complete" → first "Extracting" (median layer)', (ps) => m(perLayer(ps, 'Download complete', 'Extracting')));
  prow('per layer: first "Extracting" → "Pull complete" (median layer)', (ps) => m(perLayer(ps, 'Extracting', 'Pull complete')));
  prow('sum over layers of "Extracting" → "Pull complete"', (ps) => m(sumPerRun(ps, 'Extracting', 'Pull complete')));
  out.push('');

  const pushes = daemons.map((d) => all.filter((p) => p.daemon === d && p.op === 'push'));
  if (pushes.some((p) => p.length > 0)) {
    out.push(`### Push, phase by phase (medians of ${pushes.map((p) => p.length).join('/')} runs)`, '');
    out.push(`| ms since the request | ${daemons.join(' | ')} |`, `|---|${daemons.map(() => '---:').join('|')}|`);
    const qrow = (name: string, f: (ps: Phase[]) => string): void => {
      out.push(`| ${name} | ${pushes.map((ps) => (ps.length > 0 ? f(ps) : '—')).join(' | ')} |`);
    };
    qrow('first message', (ps) => m(ps.map((p) => p.firstMessageMs)));
    qrow('first layer "Pushing"', (ps) => m(ps.map((p) => ev(p, 'Pushing', min))));
    qrow('last layer "Pushed"', (ps) => m(ps.map((p) => ev(p, 'Pushed', max))));
    qrow('response ended (config and manifest after the layers)', (ps) => m(ps.map((p) => p.totalMs)));
    qrow('per layer: first "Pushing" → "Pushed" (median layer)', (ps) => m(perLayer(ps, 'Pushing', 'Pushed')));
    out.push('');
  }
  // One berthd pull, layer by layer: where the serialization is visible.
  const rep = pulls[daemons.indexOf('berthd')]?.slice().sort((a, b) => a.totalMs - b.totalMs)[0];
  if (rep !== undefined) {
    out.push(`<details><summary>berthd: the fastest phase-run pull (${f0(rep.totalMs)} ms), layer by layer (ms since the request)</summary>`, '');
    out.push('| layer | Downloading | Download complete | Extracting | Pull complete |', '|---|---:|---:|---:|---:|');
    const ls = Object.entries(rep.layers).sort((a, b) => (a[1]['Downloading'] ?? 0) - (b[1]['Downloading'] ?? 0));
    for (const [id, l] of ls) out.push(`| ${id} | ${f0(l['Downloading'] ?? Number.NaN)} | ${f0(l['Download complete'] ?? Number.NaN)} | ${f0(l['Extracting'] ?? Number.NaN)} | ${f0(l['Pull complete'] ?? Number.NaN)} |`);
    out.push('', '</details>', '');
  }
  return out;
}

/** Self time by module and function over several profiles (each limited to the window). */
function profileTotals(profiles: CpuProfile[], window: { from: number; to: number } | undefined): { busy: number; idle: number; mod: Map<string, number>; fn: Map<string, number> } {
  const mod = new Map<string, number>();
  const fn = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((x) => [x.id, x]));
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      const dt = p.timeDeltas[i] ?? 0;
      t += dt;
      if (window !== undefined && (t < window.from || t > window.to)) continue;
      const node = byId.get(p.samples[i] as number);
      if (node === undefined || dt <= 0) continue;
      const f = node.callFrame;
      if (f.functionName === '(idle)') {
        idle += dt;
        continue;
      }
      busy += dt;
      const url = f.url;
      const ours = /\/(?:dist\/)?src\/([^/]+)\/([^/]+)$/.exec(url);
      const module =
        url === ''
          ? f.functionName.startsWith('(')
            ? f.functionName
            : '(native)'
          : ours !== null
            ? `berth ${ours[1]}/${ours[2]?.replace(/\.[jt]s$/, '')}`
            : /^node:/.test(url)
              ? `node ${url.replace(/^node:(internal\/)?/, '')}`
              : url.slice(url.lastIndexOf('/') + 1);
      mod.set(module, (mod.get(module) ?? 0) + dt);
      const name = `${f.functionName || '(anonymous)'}${url === '' ? '' : ` (${url.slice(url.lastIndexOf('/') + 1)}:${f.lineNumber + 1})`}`;
      fn.set(name, (fn.get(name) ?? 0) + dt);
    }
  }
  return { busy: busy / 1000, idle: idle / 1000, mod, fn };
}

function profileSection(raw: string): string[] {
  const dir = join(raw, 'prof', 'berthd');
  if (!existsSync(dir)) return ['No profile.'];
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return ['No profile was written.'];
  const win = lines(join(dir, 'window')).map(Number);
  const window = win.length === 2 ? { from: win[0] as number, to: win[1] as number } : undefined;
  // CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile: thread 0 is the main thread.
  const threadOf = (f: string): number => Number(f.split('.')[4]);
  const load = (f: string): CpuProfile => JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
  const main = files.filter((f) => threadOf(f) === 0).map(load);
  const workers = files.filter((f) => threadOf(f) !== 0).map(load);
  const out: string[] = [];
  const runs = 2;
  const block = (title: string, ps: CpuProfile[]): void => {
    if (ps.length === 0) {
      out.push(`${title}: no profile written.`, '');
      return;
    }
    const t = profileTotals(ps, window);
    out.push(`${title}: on-CPU ${f0(t.busy / runs)} ms per pull (idle ${f0(t.idle / runs)} ms).`, '');
    out.push('| module (self time) | ms per pull | share |', '|---|---:|---:|');
    for (const [k, v] of [...t.mod].sort((a, b) => b[1] - a[1]).slice(0, 8)) out.push(`| ${esc(k)} | ${f0(v / 1000 / runs)} | ${f0((100 * v) / 1000 / t.busy)} % |`);
    out.push('', '| function (self time) | ms per pull | share |', '|---|---:|---:|');
    for (const [k, v] of [...t.fn].sort((a, b) => b[1] - a[1]).slice(0, 10)) out.push(`| ${esc(k)} | ${f0(v / 1000 / runs)} | ${f0((100 * v) / 1000 / t.busy)} % |`);
    out.push('');
  };
  block('**berthd main thread**', main);
  if (workers.length > 0) block(`**berthd unpack worker threads** (${workers.length} profiles)`, workers);
  // What a worker runs, profiled in-process from a cold start (the daemon's first pull).
  const udir = join(raw, 'prof', 'unpack');
  // Thread 0 only: tsx runs its module hooks on a thread of their own, idle meanwhile.
  const ufiles = existsSync(udir) ? readdirSync(udir).filter((f) => f.endsWith('.cpuprofile') && threadOf(f) === 0) : [];
  const ures = readOr(join(udir, 'result.json'));
  if (ufiles.length > 0 && ures !== '') {
    const r = JSON.parse(ures) as { totalMs: number; windowFromUs: number; windowToUs: number };
    const t = profileTotals(
      ufiles.map((f) => JSON.parse(readFileSync(join(udir, f), 'utf8')) as CpuProfile),
      { from: r.windowFromUs, to: r.windowToUs },
    );
    out.push(
      `**What an unpack worker runs** (\`unpackLayerFile\` on the ${'compressed'} layers, one after the other, in one process under \`--cpu-prof\`, ${f0(r.totalMs)} ms): on-CPU ${f0(t.busy)} ms of JavaScript/V8 main thread (idle ${f0(t.idle)} ms: waiting on the kernel and libuv's pool).`,
      '',
      '| module (self time) | ms | share |',
      '|---|---:|---:|',
    );
    for (const [k, v] of [...t.mod].sort((a, b) => b[1] - a[1]).slice(0, 8)) out.push(`| ${esc(k)} | ${f0(v / 1000)} | ${f0((100 * v) / 1000 / t.busy)} % |`);
    out.push('', '| function (self time) | ms | share |', '|---|---:|---:|');
    for (const [k, v] of [...t.fn].sort((a, b) => b[1] - a[1]).slice(0, 12)) out.push(`| ${esc(k)} | ${f0(v / 1000)} | ${f0((100 * v) / 1000 / t.busy)} % |`);
    out.push('');
  }
  return out;
}

function render(raw: string, previous: string): string {
  const machine = new Map(lines(join(raw, 'machine.tsv')).map((l) => l.split('\t') as [string, string]));
  const mach = (k: string): string => machine.get(k) ?? '—';
  const img = JSON.parse(readOr(join(raw, 'image.json'), '{}')) as Partial<ImageInfo>;
  const rows = loadRows(raw);
  const gz = img.totalGz ?? Number.NaN;
  const plain = img.totalPlain ?? Number.NaN;
  const loads = lines(join(raw, 'load.txt')).map(Number);
  const L: string[] = [];
  L.push('## Pull and push', '', BEGIN, '');
  L.push(
    `_Written by \`bench/pull-push.sh\` (${esc(mach('command'))}) on ${mach('date')}; rerun it to replace everything between the pull-push markers except the analysis._`,
    '',
  );
  L.push('| | |', '|---|---|');
  L.push(`| machine | ${mach('nproc')} CPUs (${esc(mach('cpu'))}), ${mach('memory')}, kernel ${mach('kernel')}, work dir on ${esc(mach('filesystem'))} |`);
  L.push(`| software | Node ${mach('node')}; ${esc(mach('docker_cli'))}; ${esc(mach('skopeo'))}; ${esc(mach('registry'))}; ${esc(mach('dockerd'))}; ${esc(mach('tar'))}; ${esc(mach('gzip'))}; unpigz: ${esc(mach('unpigz'))} |`);
  L.push(
    `| image | ${img.layers?.length ?? '?'} layers, ${f1(plain / 1e6)} MB plain, ${f1(gz / 1e6)} MB gzip (-6), ${img.files ?? '?'} files; each layer half incompressible "binary" files, half pseudo-word text (gzip ≈ 2.5× on it); sizes log-uniform (4 KB–2 MB binary, 256 B–256 KB text); Docker schema 2 manifest at the registry |`,
  );
  L.push(`| registry | Debian's docker-registry on 127.0.0.1, its own root; pulls from one registry; every push sample into a fresh empty registry (new root, new port) so nothing can be skipped or cross-mounted |`);
  L.push(
    `| method | ${mach('runs')} measured rounds after ${mach('warmups')} warm-up round(s) (the first sample of each row); two groups, each row once per round, the first row rotating: pulls + floor + unpack rows, then pushes; \`sync\` and 0.2 s pause before each sample; every pull-group round (the probe included), phase run and profiled pull takes a variant of the image not pulled before (same files and sizes, other bytes and digests) and nothing pulled or unpacked is removed before the end of the run (why: the pull analysis, decisions B87); nice ${mach('nice')}; wall time of the client process; CPU = client process + daemon (berthd incl. its worker threads; dockerd + containerd) user+sys, 10 ms ticks |`,
  );
  L.push(`| load | 1-min load average: ${mach('load_start')} at start; after each round median ${f1(medianOf(loads))}, max ${f1(Math.max(...loads))}; ${mach('load_end')} at the end. ${esc(mach('quiet'))}. Measured part took ${mach('measured_s')} s. |`);
  L.push(`| build | ${esc(mach('build'))} |`, '');

  const bytesFor = (id: string): number => (/untar|unpack|ref_/.test(id) ? plain : gz);
  const floorIds = ['floor_download', 'floor_sha256', 'floor_gunzip', 'floor_untar'];
  const floorMed = floorIds.map((id) => ({ id, ms: med(rows, id) })).filter((x) => Number.isFinite(x.ms));
  const slowest = floorMed.sort((a, b) => b.ms - a.ms)[0];
  const slowestRef = slowest ? { name: 'slowest floor stage', ms: slowest.ms } : null;

  L.push('### Pull (wall ms of the client process)', '');
  L.push(...table(rows, ['pull_berthd', 'pull_dockerd', 'pull_skopeo_oci', 'pull_skopeo_dir', 'pull_skopeo_cs'], () => gz, slowestRef), '');
  L.push('skopeo to `oci:` and `dir:` only stores the blobs (no decompression, no unpack); berthd, dockerd and skopeo to `containers-storage:` also gunzip, hash the plain tar against the diff ID and unpack every layer. MB/s is of the compressed bytes.', '');
  L.push('### Push (wall ms of the client process)', '');
  const skopeoPush = med(rows, 'push_skopeo');
  L.push(...table(rows, ['push_berthd', 'push_berthd_plain', 'push_dockerd', 'push_skopeo'], () => gz, Number.isFinite(skopeoPush) ? { name: 'skopeo push', ms: skopeoPush } : null), '');
  L.push('### The floor: one stage at a time over the same bytes, one layer after the other', '');
  L.push(...table(rows, [...floorIds, 'ref_untar_gz', 'ref_pipeline'], bytesFor, null), '');
  if (slowest) L.push(`Slowest single floor stage: **${rows.get(slowest.id)?.label ?? slowest.id}, ${f0(slowest.ms)} ms**. The last two rows are references, not floor stages: GNU tools doing two or all stages, pipelined per layer. MB/s: compressed bytes for the first three stages, plain bytes for the rest.`, '');
  L.push('### Layer unpack alone (in-process time; Node start-up and module loading excluded)', '');
  const untar = med(rows, 'floor_untar');
  L.push(
    '| what | median ms | min | max | n | CPU s in-process (median) | whole process, median ms | vs GNU tar (median ms; CPU s) | ratio of medians | ratio of fastest | ratio of CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|',
  );
  for (const [id, refId, refName] of [
    ['unpack_berth_apply', 'floor_untar', 'tar -x of the plain layers'],
    ['unpack_berth_apply_cached', 'floor_untar', 'tar -x of the plain layers'],
    ['unpack_berth_file', 'ref_untar_gz', 'tar -xzf of the compressed layers'],
  ] as const) {
    const r = rows.get(id);
    if (r === undefined || r.ms.length === 0) {
      L.push(`| ${esc(r?.label ?? id)} | ${r?.skip || r?.lastError || 'no samples'} | | | | | | | | | |`);
      continue;
    }
    const s = summarize(r.ms);
    const inCpu = r.inCpuMs.length > 0 ? medianOf(r.inCpuMs) : Number.NaN;
    const ref = med(rows, refId);
    const refCpu = cpuMed(rows, refId);
    L.push(
      `| ${esc(r.label)} | **${f0(s.median)}** | ${f0(s.min)} | ${f0(s.max)} | ${s.n} | ${f2(inCpu / 1000)} | ${f0(medianOf(r.procMs))} | ${refName}: ${f0(ref)}; ${f2(refCpu / 1000)} | ${f2(s.median / ref)}× | ${f2(s.min / best(rows, refId))}× | ${f2(inCpu / refCpu)}× |`,
    );
  }
  L.push('', 'The GNU tar rows are the ones of the floor table (same rounds). CPU: user+sys of all the process\'s threads over the timed span (berth) or of the tar/gzip processes (GNU).', '');

  // Targets.
  const pb = med(rows, 'pull_berthd');
  const pd = med(rows, 'pull_dockerd');
  const so = med(rows, 'pull_skopeo_oci');
  const sd = med(rows, 'pull_skopeo_dir');
  const sc = med(rows, 'pull_skopeo_cs');
  const qb = med(rows, 'push_berthd');
  const qbp = med(rows, 'push_berthd_plain');
  const qd = med(rows, 'push_dockerd');
  const ua = med(rows, 'unpack_berth_apply');
  const uac = med(rows, 'unpack_berth_apply_cached');
  const verdict = (ok: boolean): string => (ok ? 'met' : '**missed**');
  // The same ratio taken on the fastest sample of each row: the least disturbed ones on a shared machine.
  const byBest = (a: string, b: string, inv = false): string => {
    const r = inv ? best(rows, b) / best(rows, a) : best(rows, a) / best(rows, b);
    return Number.isFinite(r) ? `; by fastest samples ${f2(r)}` : '';
  };
  L.push('### Targets (issue 3)', '', '| target | measured (medians) | |', '|---|---|---|');
  if (slowest) L.push(`| pull within 1.3× of the slowest single floor stage | ${f2(pb / slowest.ms)}× (${f0(pb)} / ${f0(slowest.ms)} ms${byBest('pull_berthd', slowest.id)}×) | ${verdict(pb / slowest.ms <= 1.3)} |`);
  // Like for like: a pull leaves an unpacked, runnable image, as skopeo into containers-storage:
  // does (what podman pull runs); skopeo into oci:/dir: only stores the blobs (the download and
  // sha256 floor stages), so it is a reference, not the target.
  if (Number.isFinite(sc)) L.push(`| pull faster than skopeo (like for like: skopeo into containers-storage:, which unpacks as a pull does) | ${f0(pb)} vs ${f0(sc)} ms (${f2(pb / sc)}×${byBest('pull_berthd', 'pull_skopeo_cs')}×) | ${verdict(pb < sc)} |`);
  else L.push('| pull faster than skopeo (like for like: skopeo into containers-storage:) | no containers-storage row | — |');
  L.push(`| (reference) pull vs skopeo into oci: / dir:, which only store the blobs (no gunzip, no unpack) | ${f0(pb)} ms vs ${f0(so)} (oci:) / ${f0(sd)} (dir:) ms: ${f2(pb / Math.min(so, sd))}× skopeo's faster one | ${pb < Math.min(so, sd) ? 'faster' : 'slower'} |`);
  L.push(`| push faster than skopeo | ${f0(qb)} ms vs ${f0(skopeoPush)} ms (${f2(qb / skopeoPush)}×${byBest('push_berthd', 'push_skopeo')}×); from plain layers ${f0(qbp)} ms (${f2(qbp / skopeoPush)}×) | ${verdict(qb < skopeoPush)} |`);
  if (Number.isFinite(pd)) L.push(`| pull ≥ 2× faster than dockerd | dockerd / berthd = ${f2(pd / pb)} (${f0(pd)} / ${f0(pb)} ms${byBest('pull_berthd', 'pull_dockerd', true)}) | ${verdict(pd / pb >= 2)} |`);
  else L.push('| pull ≥ 2× faster than dockerd | no dockerd row | — |');
  if (Number.isFinite(qd)) L.push(`| push ≥ 2× faster than dockerd | dockerd / berthd = ${f2(qd / qb)} (${f0(qd)} / ${f0(qb)} ms${byBest('push_berthd', 'push_dockerd', true)}); from plain layers ${f2(qd / qbp)}${byBest('push_berthd_plain', 'push_dockerd', true)} | ${verdict(qd / qb >= 2)} |`);
  else L.push('| push ≥ 2× faster than dockerd | no dockerd row | — |');
  // Like for like: tar -x reads its input through the page cache (warm: the bench just wrote the
  // tars), so the verdict is taken on the row that reads the same way; berthd's own path reads a
  // stored layer with O_DIRECT, from the disk (decisions B90), and is shown beside it.
  if (Number.isFinite(uac)) L.push(`| layer unpack ≤ 1.5× GNU tar -x (like for like: both read the plain tars through the page cache) | ${f2(uac / untar)}× (${f0(uac)} / ${f0(untar)} ms${byBest('unpack_berth_apply_cached', 'floor_untar')}×); reading with O_DIRECT as berthd does, ${f2(ua / untar)}× (${f0(ua)} ms${byBest('unpack_berth_apply', 'floor_untar')}×) | ${verdict(uac / untar <= 1.5)} |`, '');
  else L.push(`| layer unpack ≤ 1.5× GNU tar -x | ${f2(ua / untar)}× (${f0(ua)} / ${f0(untar)} ms${byBest('unpack_berth_apply', 'floor_untar')}×) | ${verdict(ua / untar <= 1.5)} |`, '');

  L.push(...phaseSection(raw));
  L.push('### Where berthd\'s CPU goes during a pull (`node --cpu-prof`, 2 pulls after a warm-up)', '');
  L.push(...profileSection(raw));

  L.push('### Analysis', '', A_BEGIN);
  const a0 = previous.indexOf(A_BEGIN);
  const a1 = previous.indexOf(A_END);
  L.push(a0 >= 0 && a1 > a0 ? previous.slice(a0 + A_BEGIN.length, a1).trim() : '_Not written yet._');
  L.push(A_END, '', END);
  return L.join('\n');
}

function main(argv: string[]): void {
  const get = (flag: string): string => {
    const i = argv.indexOf(flag);
    const v = i < 0 ? undefined : argv[i + 1];
    if (v === undefined) throw new Error(`usage: pull-push-report.ts --raw DIR --out FILE (missing ${flag})`);
    return v;
  };
  const raw = get('--raw');
  const out = get('--out');
  // Read just before writing: others edit this file too, and only this section is ours.
  const text = readOr(out);
  const b = text.indexOf(BEGIN);
  const e = text.indexOf(END);
  if (b >= 0 && e > b) {
    // The "## Pull and push" heading sits just before the begin marker: replace from it.
    const head = text.lastIndexOf('## Pull and push', b);
    const from = head >= 0 && text.slice(head, b).trim() === '## Pull and push' ? head : b;
    const section = render(raw, text.slice(b, e));
    writeFileSync(out, text.slice(0, from) + section + text.slice(e + END.length));
  } else {
    const section = render(raw, '');
    writeFileSync(out, `${text.replace(/\n*$/, '')}\n\n${section}\n`);
  }
}

main(process.argv.slice(2));
