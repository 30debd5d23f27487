/**
 * bench/traceTimeline: turns `strace -f -ttt -q` output of a traced berthd into process segments
 * (which helper ran when: mount, conmon, runc create/start/delete, the container, umount) and the
 * HTTP requests/responses it served, then splits one CLI run's wall time into client start-up,
 * helper processes, berthd's own work and client tear-down. Pure: text in, numbers out; never
 * runs anything.
 */

/** One stretch of a process's life under one program (a process that execs gets a new segment). */
export interface Segment {
  pid: number;
  label: string;
  start: number; // seconds, realtime clock
  end: number;
}

export interface HttpEvent {
  t: number;
  kind: 'request' | 'response' | 'result';
  text: string;
}

export interface Trace {
  daemonPid: number;
  segments: Segment[];
  http: HttpEvent[];
}

export interface TimelineEvent {
  ms: number; // since the CLI started
  text: string;
}

export interface RunBreakdown {
  totalMs: number;
  /** CLI start → the daemon reads the first request. */
  clientStartMs: number;
  /** The daemon's last response write → the CLI has exited. */
  clientEndMs: number;
  /** First request → last response: the daemon's share of the run. */
  serverMs: number;
  /** Within serverMs: time during which at least one helper process ran. */
  helpersMs: number;
  /** Within serverMs: time with no helper running (node itself, or waiting on the client). */
  daemonAloneMs: number;
  /** Wall time of each helper label within the run (union of its segments). */
  byLabel: Map<string, number>;
  events: TimelineEvent[];
}

/** Labels that are alive without being waited on: counting them would count idle waiting. */
const NOT_WORK = new Set(['berthd', 'runc init', 'conmon monitor']);

interface Line {
  tid: number;
  t: number;
  body: string;
}

const LINE_RE = /^(\d+)\s+(\d+\.\d+)\s+(.*)$/;
const CALL_RE = /^([a-z_0-9]+)\((.*)$/;
const RESUMED_RE = /^<\.\.\. ([a-z_0-9]+) resumed>(.*)$/;
const RET_RE = /\)\s+=\s+(-?\d+)/;

/** Joins `<unfinished ...>` / `<... x resumed>` pairs into whole calls, keeping the start time. */
function* calls(text: string): Generator<{ tid: number; t: number; name: string; args: string; ret: number | null } | { tid: number; t: number; exit: true }> {
  const pending = new Map<number, { t: number; name: string; args: string }>();
  for (const raw of text.split('\n')) {
    const m = LINE_RE.exec(raw);
    if (m === null) continue;
    const line: Line = { tid: Number(m[1]), t: Number(m[2]), body: m[3] as string };
    if (line.body.startsWith('+++ exited with') || line.body.startsWith('+++ killed by')) {
      yield { tid: line.tid, t: line.t, exit: true };
      continue;
    }
    const resumed = RESUMED_RE.exec(line.body);
    if (resumed !== null) {
      const p = pending.get(line.tid);
      pending.delete(line.tid);
      if (p === undefined) continue;
      const whole = p.args + (resumed[2] as string);
      const r = RET_RE.exec(whole);
      yield { tid: line.tid, t: p.t, name: p.name, args: whole, ret: r === null ? null : Number(r[1]) };
      continue;
    }
    const c = CALL_RE.exec(line.body);
    if (c === null) continue;
    const name = c[1] as string;
    const rest = c[2] as string;
    if (rest.endsWith('<unfinished ...>')) {
      pending.set(line.tid, { t: line.t, name, args: rest.slice(0, -'<unfinished ...>'.length) });
      continue;
    }
    const r = RET_RE.exec(rest);
    yield { tid: line.tid, t: line.t, name, args: rest, ret: r === null ? null : Number(r[1]) };
  }
}

/** The C-escaped strings of an execve argv array: `["/usr/sbin/runc", "--root=…", "create"]`. */
function argvOf(args: string): string[] {
  const open = args.indexOf('[');
  const close = args.indexOf(']', open);
  if (open < 0 || close < 0) return [];
  return [...args.slice(open, close).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] as string);
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function labelFor(argv: string[], previous: string | undefined): string {
  const base = basename(argv[0] ?? '?');
  if (base === 'runc' || base === 'crun') {
    const sub = argv.slice(1).find((a) => !a.startsWith('-'));
    return sub === undefined ? base : `${base} ${sub}`;
  }
  if (previous === 'runc init' || previous === 'crun init') return `container: ${base}`;
  return base;
}

function shortPath(path: string): string {
  return path
    .replace(/^\/v\d+\.\d+/, '')
    .replace(/[0-9a-f]{64}/g, '{id}')
    .slice(0, 60);
}

export function parseStrace(text: string): Trace {
  const all = [...calls(text)];
  // Pass 1: who cloned whom (a child's own lines can be printed before its parent's clone returns).
  const threadOf = new Map<number, number>(); // tid -> thread-group leader
  const parentOf = new Map<number, { parent: number; t: number }>(); // new process -> cloner
  for (const c of all) {
    if ('exit' in c) continue;
    if (!/^(clone3?|v?fork)$/.test(c.name) || c.ret === null || c.ret <= 0) continue;
    if (c.args.includes('CLONE_THREAD')) threadOf.set(c.ret, c.tid);
    else parentOf.set(c.ret, { parent: c.tid, t: c.t });
  }
  const tgid = (tid: number): number => {
    let x = tid;
    for (let i = 0; i < 8 && threadOf.has(x); i++) x = threadOf.get(x) as number;
    return x;
  };
  const first = all[0];
  const daemonPid = first === undefined ? 0 : tgid(first.tid);

  // Pass 2: segments and HTTP events in time order (a resumed call counts at its start, so sort).
  const ordered = all.map((c, i) => ({ c, i })).sort((a, b) => a.c.t - b.c.t || a.i - b.i);
  const open = new Map<number, { label: string; start: number }>();
  const segments: Segment[] = [];
  const http: HttpEvent[] = [];
  const ended = new Set<number>();
  const close = (pid: number, t: number): void => {
    const o = open.get(pid);
    if (o === undefined) return;
    open.delete(pid);
    segments.push({ pid, label: o.label, start: o.start, end: t });
  };
  const labelOf = (pid: number): string | undefined => open.get(pid)?.label ?? (pid === daemonPid ? 'berthd' : undefined);
  // A new process carries its parent's program until it execs; name that stretch by who forked it.
  const childLabel = (parentLabel: string | undefined): string => {
    if (parentLabel === 'berthd') return 'berthd fork→exec';
    if (parentLabel === 'conmon' || parentLabel === 'conmon monitor') return 'conmon monitor';
    return parentLabel ?? '?';
  };
  const startProcess = (pid: number, t: number): void => {
    if (open.has(pid) || ended.has(pid)) return;
    if (pid === daemonPid) {
      open.set(pid, { label: 'berthd', start: t });
      return;
    }
    // A tid with no clone() we could read (a thread made inside a container's PID namespace,
    // where clone returns namespaced ids) is left out rather than guessed at.
    const p = parentOf.get(pid);
    if (p !== undefined) open.set(pid, { label: childLabel(labelOf(tgid(p.parent))), start: p.t });
  };
  for (const { c } of ordered) {
    const pid = tgid(c.tid);
    if ('exit' in c) {
      // An exit is no reason to open a process: threads created inside a container's PID
      // namespace have clone() results strace cannot map to host tids, and only exit here.
      // strace reports each traced thread's end; only the leader's is the process's.
      if (c.tid !== pid) continue;
      close(pid, c.t);
      ended.add(pid);
      continue;
    }
    startProcess(pid, c.t);
    if (/^(clone3?|v?fork)$/.test(c.name) && c.ret !== null && c.ret > 0 && !threadOf.has(c.ret)) {
      startProcess(c.ret, c.t);
      continue;
    }
    if (c.name === 'exit_group') {
      close(pid, c.t);
      ended.add(pid);
      continue;
    }
    if (c.name === 'execve' && c.ret === 0) {
      if (pid === daemonPid) continue;
      const o = open.get(pid);
      // conmon's monitor forks runc: that child's pre-exec stretch is conmon's spawning work.
      if (o !== undefined && o.label === 'conmon monitor') o.label = 'conmon fork→exec';
      const label = labelFor(argvOf(c.args), o?.label);
      close(pid, c.t);
      open.set(pid, { label, start: c.t });
      continue;
    }
    if (pid !== daemonPid || c.ret === null || c.ret <= 0 || /^[12], /.test(c.args)) continue;
    if (c.name === 'read') {
      const m = /^\d+, "(GET|POST|HEAD|PUT|DELETE) (\S+) HTTP\/1\.1\\r\\n/.exec(c.args);
      if (m !== null) http.push({ t: c.t, kind: 'request', text: `${m[1] as string} ${shortPath(m[2] as string)}` });
    } else if (c.name === 'write' || c.name === 'writev') {
      const m = /^\d+, (?:\[\{iov_base=)?"HTTP\/1\.1 (\d{3}[^\\]*)\\r\\n/.exec(c.args);
      if (m !== null) http.push({ t: c.t, kind: 'response', text: `→ ${m[1] as string}` });
      if (c.args.includes('StatusCode')) http.push({ t: c.t, kind: 'result', text: '→ wait result (StatusCode)' });
    }
  }
  const lastT = all.length === 0 ? 0 : (all[all.length - 1] as { t: number }).t;
  for (const pid of [...open.keys()]) close(pid, lastT);
  segments.sort((a, b) => a.start - b.start);
  return { daemonPid, segments, http };
}

/** Total length of the union of intervals, each clipped to [lo, hi]. */
function unionLength(intervals: Array<[number, number]>, lo: number, hi: number): number {
  const xs = intervals
    .map(([a, b]): [number, number] => [Math.max(a, lo), Math.min(b, hi)])
    .filter(([a, b]) => b > a)
    .sort((p, q) => p[0] - q[0]);
  let total = 0;
  let curA = Number.NaN;
  let curB = Number.NaN;
  for (const [a, b] of xs) {
    if (Number.isNaN(curA) || a > curB) {
      if (!Number.isNaN(curA)) total += curB - curA;
      curA = a;
      curB = b;
    } else curB = Math.max(curB, b);
  }
  if (!Number.isNaN(curA)) total += curB - curA;
  return total;
}

/** Splits the CLI run [t0, t1] (seconds) into its parts; see RunBreakdown. */
export function breakdown(trace: Trace, t0: number, t1: number): RunBreakdown {
  const inWindow = (t: number): boolean => t >= t0 && t <= t1;
  const http = trace.http.filter((h) => inWindow(h.t));
  const work = trace.segments.filter((s) => !NOT_WORK.has(s.label) && s.end > t0 && s.start < t1);
  const firstReq = http.find((h) => h.kind === 'request')?.t ?? t0;
  const writes = http.filter((h) => h.kind !== 'request');
  const lastResp = writes.length === 0 ? t1 : (writes[writes.length - 1] as HttpEvent).t;
  const byLabelIntervals = new Map<string, Array<[number, number]>>();
  for (const s of work) {
    const list = byLabelIntervals.get(s.label) ?? [];
    list.push([s.start, s.end]);
    byLabelIntervals.set(s.label, list);
  }
  const byLabel = new Map<string, number>();
  for (const [label, iv] of byLabelIntervals) byLabel.set(label, unionLength(iv, t0, t1) * 1000);
  const serverMs = Math.max(0, lastResp - firstReq) * 1000;
  const helpersMs = unionLength(work.map((s): [number, number] => [s.start, s.end]), firstReq, lastResp) * 1000;

  const events: TimelineEvent[] = [];
  const ms = (t: number): number => (t - t0) * 1000;
  for (const h of http) events.push({ ms: ms(h.t), text: h.text });
  for (const s of work) {
    if (inWindow(s.start)) events.push({ ms: ms(s.start), text: `▶ ${s.label}` });
    if (inWindow(s.end)) events.push({ ms: ms(s.end), text: `■ ${s.label} ended (${((s.end - s.start) * 1000).toFixed(1)} ms)` });
  }
  events.sort((a, b) => a.ms - b.ms);
  events.unshift({ ms: 0, text: 'CLI process started' });
  events.push({ ms: ms(t1), text: 'CLI process exited' });
  return {
    totalMs: (t1 - t0) * 1000,
    clientStartMs: (firstReq - t0) * 1000,
    clientEndMs: (t1 - lastResp) * 1000,
    serverMs,
    helpersMs,
    daemonAloneMs: serverMs - helpersMs,
    byLabel,
    events,
  };
}
