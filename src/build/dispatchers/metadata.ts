/**
 * build/dispatchers/metadata: the instructions that change only the image
 * config — ENV, LABEL, MAINTAINER, EXPOSE, USER, VOLUME, STOPSIGNAL, CMD,
 * ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD, ARG — each as moby's dispatcher
 * does it (same config changes, same history text, same errors), each a
 * config-only image.
 */
import { InvalidArgumentError } from '../../errdefs/errors.js';
import type { HealthConfig } from '../../oci/image.js';
import type {
  ArgInstruction,
  CmdInstruction,
  CommandForm,
  EntrypointInstruction,
  EnvInstruction,
  ExposeInstruction,
  HealthcheckInstruction,
  LabelInstruction,
  MaintainerInstruction,
  OnbuildInstruction,
  ShellInstruction,
  StopsignalInstruction,
  UserInstruction,
  VolumeInstruction,
} from '../dockerfile/ast.js';
import { parseDuration } from '../dockerfile/duration.js';
import { parseSignal } from '../../containers/signals.js';
import { goHealthConfig, goList, goQuoteList } from '../goFormat.js';
import { commitMeta, Expander, shellOf } from './common.js';
import type { DispatchContext, StageState } from './types.js';

/** Shell form gets the stage's SHELL in front; exec form is taken as is (moby's resolveCmdLine). */
export function resolveCmdLine(s: StageState, c: CommandForm): string[] {
  return c.json ? [...c.args] : [...shellOf(s), c.shell];
}

export async function dispatchEnv(d: DispatchContext, s: StageState, c: EnvInstruction): Promise<void> {
  const x = new Expander(s);
  const env = [...(s.runConfig.Env ?? [])];
  let msg = 'ENV';
  for (const p of c.pairs) {
    const key = x.word(p.key);
    const value = x.word(p.value);
    const kv = `${key}=${value}`;
    msg += ` ${kv}`;
    const i = env.findIndex((e) => e.split('=')[0] === key);
    if (i >= 0) env[i] = kv;
    else env.push(kv);
  }
  s.runConfig.Env = env;
  await commitMeta(d, s, msg, x.used);
}

export async function dispatchLabel(d: DispatchContext, s: StageState, c: LabelInstruction, noExpand = false): Promise<void> {
  const x = new Expander(s);
  const labels = { ...(s.runConfig.Labels ?? {}) };
  let msg = 'LABEL';
  for (const p of c.pairs) {
    const key = noExpand ? p.key : x.word(p.key);
    const value = noExpand ? p.value : x.word(p.value);
    labels[key] = value;
    msg += ` ${key}=${value}`;
  }
  s.runConfig.Labels = labels;
  await commitMeta(d, s, msg, x.used);
}

export async function dispatchMaintainer(d: DispatchContext, s: StageState, c: MaintainerInstruction): Promise<void> {
  s.maintainer = c.name;
  await commitMeta(d, s, `MAINTAINER ${c.name}`);
}

/** go-connections' nat.ParsePortSpecs for EXPOSE: `80`, `80/udp`, `8000-8010/tcp`. */
export function exposedPorts(specs: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of specs) {
    const parts = raw.split(':');
    const containerPart = parts[parts.length - 1] as string;
    const slash = containerPart.indexOf('/');
    const port = slash < 0 ? containerPart : containerPart.slice(0, slash);
    const proto = (slash < 0 ? 'tcp' : containerPart.slice(slash + 1) || 'tcp').toLowerCase();
    if (port === '') throw new InvalidArgumentError(`no port specified: ${raw}<empty>`);
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new InvalidArgumentError(`invalid proto: ${proto}`);
    const m = /^(\d+)(?:-(\d+))?$/.exec(port);
    const start = m ? Number(m[1]) : NaN;
    const end = m && m[2] !== undefined ? Number(m[2]) : start;
    if (!m || start > 65535 || end > 65535 || end < start) throw new InvalidArgumentError(`invalid containerPort: ${port}`);
    for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  }
  return out;
}

export async function dispatchExpose(d: DispatchContext, s: StageState, c: ExposeInstruction): Promise<void> {
  const x = new Expander(s);
  const ports = c.ports.flatMap((p) => x.words(p));
  const exposed = { ...(s.runConfig.ExposedPorts ?? {}) };
  for (const p of exposedPorts(ports)) exposed[p] = {};
  s.runConfig.ExposedPorts = exposed;
  await commitMeta(d, s, `EXPOSE ${ports.join(' ')}`, x.used);
}

export async function dispatchUser(d: DispatchContext, s: StageState, c: UserInstruction): Promise<void> {
  const x = new Expander(s);
  const user = x.word(c.user);
  s.runConfig.User = user;
  await commitMeta(d, s, `USER ${user}`, x.used);
}

export async function dispatchVolume(d: DispatchContext, s: StageState, c: VolumeInstruction): Promise<void> {
  const x = new Expander(s);
  const vols = { ...(s.runConfig.Volumes ?? {}) };
  const list = c.paths.map((p) => x.word(p));
  for (const v of list) {
    if (v === '') throw new InvalidArgumentError('VOLUME specified can not be an empty string');
    vols[v] = {};
  }
  s.runConfig.Volumes = vols;
  await commitMeta(d, s, `VOLUME ${goList(list)}`, x.used);
}

export async function dispatchStopsignal(d: DispatchContext, s: StageState, c: StopsignalInstruction): Promise<void> {
  const x = new Expander(s);
  const sig = x.word(c.signal);
  try {
    parseSignal(sig);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
  s.runConfig.StopSignal = sig;
  await commitMeta(d, s, `STOPSIGNAL ${sig}`, x.used);
}

export async function dispatchCmd(d: DispatchContext, s: StageState, c: CmdInstruction): Promise<void> {
  const cmd = resolveCmdLine(s, c.command);
  s.runConfig.Cmd = cmd;
  await commitMeta(d, s, `CMD ${goQuoteList(cmd)}`);
  if (!c.command.json || c.command.args.length > 0) s.cmdSet = true;
}

export async function dispatchEntrypoint(d: DispatchContext, s: StageState, c: EntrypointInstruction): Promise<void> {
  const ep = resolveCmdLine(s, c.command);
  s.runConfig.Entrypoint = ep;
  if (!s.cmdSet) s.runConfig.Cmd = null;
  await commitMeta(d, s, `ENTRYPOINT ${goQuoteList(ep)}`, new Map(), { cmdSet: s.cmdSet });
}

export async function dispatchShell(d: DispatchContext, s: StageState, c: ShellInstruction): Promise<void> {
  s.runConfig.Shell = [...c.args];
  await commitMeta(d, s, `SHELL ${goList(c.args)}`);
}

export async function dispatchHealthcheck(d: DispatchContext, s: StageState, c: HealthcheckInstruction): Promise<void> {
  const old = s.runConfig.Healthcheck?.Test;
  if (old && old.length > 0 && old[0] !== 'NONE') d.out.out(`Note: overriding previous HEALTHCHECK: ${goList(old)}\n`);
  let h: HealthConfig;
  if (c.none) h = { Test: ['NONE'] };
  else {
    const dur = (v: string | undefined, name: string): number => {
      if (v === undefined || v === '') return 0;
      let ns: number;
      try {
        ns = parseDuration(v);
      } catch (e) {
        throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
      }
      if (ns !== 0 && ns < 1e6) throw new InvalidArgumentError(`Interval "${name}" cannot be less than 1ms`);
      if (ns < 0) throw new InvalidArgumentError(`Interval "${name}" cannot be negative`);
      return ns;
    };
    h = {
      Test: [...c.test],
      Interval: dur(c.interval, 'interval'),
      Timeout: dur(c.timeout, 'timeout'),
      StartPeriod: dur(c.startPeriod, 'start-period'),
      StartInterval: dur(c.startInterval, 'start-interval'),
      Retries: c.retries === undefined || c.retries === '' ? 0 : Number(c.retries),
    };
    if (!Number.isInteger(h.Retries) || (h.Retries as number) < 0) throw new InvalidArgumentError('--retries cannot be negative');
  }
  s.runConfig.Healthcheck = h;
  await commitMeta(d, s, `HEALTHCHECK ${goHealthConfig(h)}`);
}

export async function dispatchOnbuild(d: DispatchContext, s: StageState, c: OnbuildInstruction): Promise<void> {
  s.runConfig.OnBuild = [...(s.runConfig.OnBuild ?? []), c.trigger];
  await commitMeta(d, s, `ONBUILD ${c.trigger}`);
}

export async function dispatchArg(d: DispatchContext, s: StageState, c: ArgInstruction): Promise<void> {
  const x = new Expander(s);
  const parts: string[] = [];
  for (const a of c.args) {
    const value = a.value === undefined ? undefined : x.word(a.value);
    parts.push(value === undefined ? a.key : `${a.key}=${value}`);
    s.args.addArg(a.key, value);
  }
  await commitMeta(d, s, `ARG ${parts.join(' ')}`, x.used);
}
