/**
 * bench/cpuProfile: summarizes a V8 `.cpuprofile` (node --cpu-prof) into self time per module
 * and per function, so RESULTS.md can say where berthd's own CPU goes. Pure: JSON in, rows out.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

export interface CpuProfile {
  startTime: number; // µs, CLOCK_MONOTONIC
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  name: string;
  ms: number;
}

export interface ProfileSummary {
  /** Sampled time not idle, ms. */
  busyMs: number;
  idleMs: number;
  byModule: ProfileRow[];
  byFunction: ProfileRow[];
}

/** Which part of the process a frame belongs to: our source folder, a package, or node itself. */
export function moduleOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native bindings)';
  const ours = /\/dist\/src\/([^/]+)\//.exec(url);
  if (ours !== null) return `berth ${ours[1] as string}/`;
  // The CLI bundle (scripts/build-cli.mjs): its code, commander included, is one module here.
  if (/\/dist\/bundle\/cli\//.test(url)) return 'berth cli (bundle)';
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg !== null) return `npm ${pkg[1] as string}`;
  const internal = /^node:(?:internal\/)?([^/]+(?:\/[^/]+)?)/.exec(url);
  if (internal !== null) return `node ${(internal[1] as string).replace(/\.js$/, '')}`;
  return url.slice(url.lastIndexOf('/') + 1);
}

function top(map: Map<string, number>, n: number): ProfileRow[] {
  return [...map]
    .map(([name, us]) => ({ name, ms: us / 1000 }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, n);
}

/** Self time by module and function; with a window (µs, the profile's clock), only samples in it. */
export function summarizeProfile(p: CpuProfile, n = 12, window?: { from: number; to: number }): ProfileSummary {
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const mod = new Map<string, number>();
  const fn = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  // timeDeltas[i] is the time since the previous sample; charge it to sample i's frame.
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i] as number);
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (window !== undefined && (t < window.from || t > window.to)) continue;
    if (node === undefined || dt <= 0) continue;
    const f = node.callFrame;
    if (f.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    busy += dt;
    const m = moduleOf(f.url, f.functionName);
    mod.set(m, (mod.get(m) ?? 0) + dt);
    const where = f.url === '' ? '' : ` (${f.url.slice(f.url.lastIndexOf('/') + 1)}:${f.lineNumber + 1})`;
    const name = `${f.functionName || '(anonymous)'}${where}`;
    fn.set(name, (fn.get(name) ?? 0) + dt);
  }
  return { busyMs: busy / 1000, idleMs: idle / 1000, byModule: top(mod, n), byFunction: top(fn, n) };
}
