/**
 * runtime/runcDirect: the two runc operations a container lifecycle runs every time — signal
 * the init process, delete a stopped container — done in the daemon from runc's own state
 * (<root>/<id>/state.json), the way runc 1.1's libcontainer does them, without starting a runc
 * process (~20 ms of Go start-up plus its CPU each; decisions B78).
 *
 * Every function answers 'fallback' when anything is not the plain case it understands (an
 * unreadable or unexpected state.json, a paused container, a container sharing the host's PID
 * namespace, systemd or rootless cgroups, hooks, a signal name it cannot map, a cgroup that
 * will not go): the caller then runs runc itself, which stays the reference behaviour.
 *
 * Owns: reading runc's state.json and /proc/<pid>/stat, the init start-time check against PID
 * reuse, rmdir of the container's cgroups and removal of its state directory.
 * Never: writes runc state, signals a process whose start time differs from the one runc
 * recorded, touches a cgroup outside /sys/fs/cgroup, or kills anything but the init process.
 */
import { constants as osConstants } from 'node:os';
import { readFileSync } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** What runc's state.json says that these operations need. */
export interface RuncStateInfo {
  initPid: number;
  /** Start time of the init (clock ticks since boot, /proc/<pid>/stat field 22) runc recorded. */
  initStart: number;
  /** cgroup_paths: controller ("" on the unified hierarchy) → directory. */
  cgroupPaths: Record<string, string>;
  /** Everything runc's destroy() would do beyond rmdir of the cgroups and removal of the state dir. */
  plainDestroy: boolean;
}

export type StateRead = { kind: 'ok'; info: RuncStateInfo } | { kind: 'missing' } | { kind: 'fallback' };

const CGROUP_ROOT = '/sys/fs/cgroup/';

/** Parses state.json; null when its shape is not the one runc 1.x writes. */
export function parseRuncState(text: string): RuncStateInfo | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(v)) return null;
  const pid = v['init_process_pid'];
  const start = v['init_process_start'];
  const paths = v['cgroup_paths'];
  const config = v['config'];
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 1) return null;
  if (typeof start !== 'number' || !Number.isInteger(start) || start <= 0) return null;
  if (!isObject(paths) || !isObject(config)) return null;
  const cgroupPaths: Record<string, string> = {};
  for (const [k, p] of Object.entries(paths)) {
    if (typeof p !== 'string' || !isCgroupDir(p)) return null;
    cgroupPaths[k] = p;
  }
  return { initPid: pid, initStart: start, cgroupPaths, plainDestroy: isPlainDestroy(v, config) };
}

/**
 * runc's destroy() of a stopped container is "rmdir the cgroups, remove the state dir" only
 * when: the container has its own PID namespace (else runc first kills every process left in
 * the cgroup), cgroupfs (not systemd) and not rootless, no Intel RDT group, no poststop hooks.
 */
function isPlainDestroy(state: Record<string, unknown>, config: Record<string, unknown>): boolean {
  if (state['rootless'] === true) return false;
  const rdt = state['intel_rdt_path'];
  if (rdt !== undefined && rdt !== '' && rdt !== null) return false;
  const cg = config['cgroups'];
  if (!isObject(cg) || cg['Systemd'] === true || cg['systemd'] === true || cg['Rootless'] === true) return false;
  const ns = config['namespaces'];
  if (!Array.isArray(ns)) return false;
  const ownPid = ns.some((n: unknown) => isObject(n) && n['type'] === 'NEWPID' && (n['path'] === '' || n['path'] === undefined));
  if (!ownPid) return false;
  const hooks = config['Hooks'] ?? config['hooks'];
  if (hooks !== undefined && hooks !== null) {
    if (!isObject(hooks)) return false;
    const post = hooks['poststop'];
    if (post !== null && post !== undefined && !(Array.isArray(post) && post.length === 0)) return false;
  }
  return true;
}

function isCgroupDir(p: string): boolean {
  return p.startsWith(CGROUP_ROOT) && !p.split('/').includes('..');
}

/** /proc/<pid>/stat: the state letter and the start time (field 22); null if unparsable. */
export function parseProcStat(text: string): { state: string; startTime: number } | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' ');
  const state = fields[0];
  const start = Number(fields[19]);
  if (state === undefined || state.length !== 1 || !Number.isInteger(start)) return null;
  return { state, startTime: start };
}

/**
 * libcontainer's runType(): the init is alive when its /proc entry exists, is not a zombie
 * (or dead), and started when runc recorded — otherwise the PID now belongs to someone else.
 */
export function initAlive(info: RuncStateInfo, stat: string | null): boolean {
  if (stat === null) return false;
  const s = parseProcStat(stat);
  if (s === null) return false;
  return s.startTime === info.initStart && s.state !== 'Z' && s.state !== 'X' && s.state !== 'x';
}

/** A signal as runc kill takes it ("SIGTERM", "TERM", "15") → its number; null when unknown here. */
export function signalNumber(signal: string | number): number | null {
  if (typeof signal === 'number') return Number.isInteger(signal) && signal > 0 && signal < 65 ? signal : null;
  if (/^[0-9]{1,2}$/.test(signal)) return signalNumber(Number(signal));
  const name = signal.startsWith('SIG') ? signal : `SIG${signal}`;
  const n = (osConstants.signals as Record<string, number | undefined>)[name];
  return n !== undefined && n > 0 ? n : null;
}

export function readRuncState(stateRoot: string, id: string): StateRead {
  let text: string;
  try {
    text = readFileSync(join(stateRoot, id, 'state.json'), 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? { kind: 'missing' } : { kind: 'fallback' };
  }
  const info = parseRuncState(text);
  return info === null ? { kind: 'fallback' } : { kind: 'ok', info };
}

// The reads below are synchronous: small files on tmpfs, /proc and cgroupfs, each far cheaper
// than a round trip through libuv's thread pool, on the path of every stop and kill.
function procStat(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
}

/** Whether the container's cgroup is thawed; null when that cannot be told (then: runc). */
function thawed(paths: Record<string, string>): boolean | null {
  try {
    const v1 = paths['freezer'];
    if (v1 !== undefined) return readFileSync(join(v1, 'freezer.state'), 'utf8').trim() === 'THAWED';
    const v2 = paths[''];
    if (v2 !== undefined) return readFileSync(join(v2, 'cgroup.freeze'), 'utf8').trim() === '0';
  } catch {
    // unreadable: let runc decide
  }
  return null;
}

/**
 * runc kill (without --all) of a running or created container: the signal goes to the init
 * process after the start-time check. 'not-running': runc would answer "container not
 * running" (the init is gone, or its PID was reused); 'missing': no such container.
 * A paused container goes to runc (it thaws the freezer for SIGKILL).
 */
export async function signalInit(stateRoot: string, id: string, signal: string | number): Promise<'sent' | 'not-running' | 'missing' | 'fallback'> {
  const signo = signalNumber(signal);
  if (signo === null) return 'fallback';
  const st = readRuncState(stateRoot, id);
  if (st.kind !== 'ok') return st.kind;
  const { info } = st;
  // The start-time check and the signal run in one synchronous stretch, as runc's do.
  if (!initAlive(info, procStat(info.initPid))) return 'not-running';
  if (thawed(info.cgroupPaths) !== true) return 'fallback';
  try {
    process.kill(info.initPid, signo);
  } catch (e) {
    // Exited between the check and the signal.
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'not-running';
    return 'fallback';
  }
  return 'sent';
}

/**
 * runc delete of a container whose init is gone: rmdir its cgroups (runc's RemovePaths:
 * children first, EBUSY retried 5 times from 10 ms doubling), then remove the state dir.
 * 'fallback' (runc delete --force decides) while the init lives, when the destroy would be
 * more than that, or when a cgroup will not go.
 */
export async function deleteStopped(stateRoot: string, id: string): Promise<'deleted' | 'missing' | 'fallback'> {
  const st = readRuncState(stateRoot, id);
  if (st.kind !== 'ok') return st.kind;
  const { info } = st;
  if (!info.plainDestroy) return 'fallback';
  if (initAlive(info, procStat(info.initPid))) return 'fallback';
  let left = [...new Set(Object.values(info.cgroupPaths))];
  let delay = 10;
  for (let i = 0; i < 5 && left.length > 0; i++) {
    if (i > 0) {
      await sleep(delay);
      delay *= 2;
    }
    const results = await Promise.all(left.map((p) => removeCgroup(p)));
    left = left.filter((_p, j) => !results[j]);
  }
  if (left.length > 0) return 'fallback';
  await rm(join(stateRoot, id), { recursive: true, force: true });
  return 'deleted';
}

/** rmdir of a cgroup and its sub-cgroups; true when it is gone (or never was). */
async function removeCgroup(path: string): Promise<boolean> {
  if (await rmdirGone(path)) return true;
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
  for (const e of entries) {
    if (e.isDirectory() && !(await removeCgroup(join(path, e.name)))) return false;
  }
  return rmdirGone(path);
}

async function rmdirGone(path: string): Promise<boolean> {
  try {
    await rmdir(path);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
