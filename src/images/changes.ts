/**
 * images/changes: the Dockerfile-instruction subset that `docker import -c` and
 * `docker commit -c` accept (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD,
 * STOPSIGNAL, USER, VOLUME, WORKDIR), applied to an image's runnable config.
 * Pure: text in, config out.
 */
import { InvalidArgumentError } from '../errdefs/errors.js';
import type { ContainerConfigPart } from '../oci/image.js';

const ALLOWED = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

function jsonOrShell(rest: string): string[] {
  const t = rest.trim();
  if (t.startsWith('[')) {
    try {
      const v: unknown = JSON.parse(t);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      // not JSON: Docker falls back to the shell form
    }
  }
  return ['/bin/sh', '-c', t];
}

/** Splits `K=V K2="a b"` (or the legacy `K V`) into pairs. */
function keyValues(rest: string, instr: string): [string, string][] {
  const t = rest.trim();
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let any = false;
  for (let i = 0; i < t.length; i++) {
    const c = t[i] as string;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < t.length) cur += t[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      any = true;
    } else if (c === '\\' && i + 1 < t.length) {
      cur += t[++i];
      any = true;
    } else if (/\s/.test(c)) {
      if (cur || any) words.push(cur);
      cur = '';
      any = false;
    } else {
      cur += c;
      any = true;
    }
  }
  if (cur || any) words.push(cur);
  if (words.length === 0) throw new InvalidArgumentError(`${instr} requires at least one argument`);
  if (!(words[0] as string).includes('=')) {
    // Legacy form: `ENV KEY value with spaces`
    const [k, ...v] = t.split(/\s+/);
    return [[k as string, t.slice((k as string).length).trim() || v.join(' ')]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(`${instr} names can not be blank: "${w}"`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

export function applyChanges(base: ContainerConfigPart, changes: readonly string[]): ContainerConfigPart {
  const cfg: ContainerConfigPart = structuredClone(base);
  for (const raw of changes) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line);
    const instr = (m?.[1] ?? '').toUpperCase();
    const rest = m?.[2] ?? '';
    if (!ALLOWED.has(instr)) throw new InvalidArgumentError(`${m?.[1] ?? line} is not a valid change command`);
    switch (instr) {
      case 'CMD':
        cfg.Cmd = jsonOrShell(rest);
        break;
      case 'ENTRYPOINT':
        cfg.Entrypoint = jsonOrShell(rest);
        break;
      case 'ENV': {
        const env = cfg.Env ?? [];
        for (const [k, v] of keyValues(rest, 'ENV')) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        cfg.Env = env;
        break;
      }
      case 'LABEL': {
        const labels = cfg.Labels ?? {};
        for (const [k, v] of keyValues(rest, 'LABEL')) labels[k] = v;
        cfg.Labels = labels;
        break;
      }
      case 'EXPOSE': {
        const ports = cfg.ExposedPorts ?? {};
        for (const p of rest.trim().split(/\s+/).filter(Boolean)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw new InvalidArgumentError(`invalid containerPort: ${p}`);
          ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        cfg.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = cfg.Volumes ?? {};
        const t = rest.trim();
        const list = t.startsWith('[') ? jsonOrShell(t) : t.split(/\s+/).filter(Boolean);
        for (const v of list) vols[v] = {};
        cfg.Volumes = vols;
        break;
      }
      case 'WORKDIR':
        cfg.WorkingDir = rest.trim();
        break;
      case 'USER':
        cfg.User = rest.trim();
        break;
      case 'STOPSIGNAL':
        cfg.StopSignal = rest.trim();
        break;
      case 'ONBUILD':
        cfg.OnBuild = [...(cfg.OnBuild ?? []), rest.trim()];
        break;
    }
  }
  return cfg;
}
