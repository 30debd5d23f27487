/**
 * network/cni: runs CNI plugins the way libcni does (D6) — each plugin of a
 * network's list gets its config on stdin with `name`, `cniVersion`,
 * `prevResult` and `runtimeConfig` merged in and CNI_* in its environment;
 * ADD in order, DEL in reverse. A failed ADD is undone with DEL before the
 * error is thrown. portmap calls hold a host-wide lock (flock) shared with
 * the removal of portmap's top-level chains. Knows no Docker semantics.
 */
import { SystemError } from '../errdefs/errors.js';
import { ProcessError, run } from '../util/process.js';

export const CNI_VERSION = '1.0.0';

export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [k: string]: unknown;
}

export interface NetworkConfList {
  name: string;
  plugins: PluginConf[];
}

export interface CniCall {
  containerId: string;
  /** '' on DEL when the namespace is already gone. */
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs (e.g. IP=… for host-local). */
  args?: Record<string, string>;
  /** runtimeConfig for plugins declaring these capabilities (portMappings). */
  runtimeConfig?: Record<string, unknown>;
}

export interface CniOptions {
  pluginDir: string;
  /** Lock file every portmap call (and the chain clean-up) holds. */
  portmapLock: string;
}

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}

export interface CniResult {
  cniVersion?: string;
  interfaces?: CniInterface[];
  ips?: Array<{ interface?: number; address: string; gateway?: string }>;
  routes?: unknown[];
  dns?: unknown;
}

export class CniDriver {
  constructor(private readonly opts: CniOptions) {}

  private pluginConfig(list: NetworkConfList, p: PluginConf, call: CniCall, prev: unknown): string {
    const conf: Record<string, unknown> = { ...p, name: list.name, cniVersion: CNI_VERSION };
    if (prev !== undefined && prev !== null) conf.prevResult = prev;
    if (call.runtimeConfig && p.capabilities) {
      const rc: Record<string, unknown> = {};
      for (const [cap, on] of Object.entries(p.capabilities)) if (on && cap in call.runtimeConfig) rc[cap] = call.runtimeConfig[cap];
      if (Object.keys(rc).length > 0) conf.runtimeConfig = rc;
    }
    return JSON.stringify(conf);
  }

  private async exec(command: 'ADD' | 'DEL' | 'CHECK', list: NetworkConfList, p: PluginConf, call: CniCall, prev: unknown): Promise<unknown> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: call.containerId,
      CNI_NETNS: call.netns,
      CNI_IFNAME: call.ifName,
      CNI_PATH: this.opts.pluginDir,
    };
    const args = Object.entries({ IgnoreUnknown: '1', ...(call.args ?? {}) });
    env.CNI_ARGS = args.map(([k, v]) => `${k}=${v}`).join(';');
    const bin = `${this.opts.pluginDir}/${p.type}`;
    const input = this.pluginConfig(list, p, call, prev);
    try {
      const r = p.type === 'portmap' ? await run('flock', ['-w', '60', this.opts.portmapLock, bin], { env, input }) : await run(bin, [], { env, input, noFork: true });
      return r.stdout.trim() === '' ? prev : (JSON.parse(r.stdout) as unknown);
    } catch (e) {
      throw new SystemError(`plugin type="${p.type}" failed (${command.toLowerCase()}): ${pluginMessage(e)}`, { cause: e });
    }
  }

  /** ADD through the whole list; on failure, DEL what was added and throw. */
  async add(list: NetworkConfList, call: CniCall): Promise<CniResult> {
    let prev: unknown = undefined;
    for (const p of list.plugins) {
      try {
        prev = await this.exec('ADD', list, p, call, prev);
      } catch (e) {
        await this.del(list, call, prev).catch(() => undefined);
        throw e;
      }
    }
    return (prev ?? {}) as CniResult;
  }

  /** DEL in reverse order; every plugin is asked even if one fails (the first error is thrown after). */
  async del(list: NetworkConfList, call: CniCall, prevResult?: unknown): Promise<void> {
    let first: unknown = null;
    for (const p of [...list.plugins].reverse()) {
      try {
        await this.exec('DEL', list, p, call, prevResult);
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== null) throw first;
  }
}

/** A plugin's error is JSON on stdout ({code, msg, details}); fall back to its stderr. */
function pluginMessage(e: unknown): string {
  if (e instanceof ProcessError) {
    try {
      const j = JSON.parse(e.stdout) as { msg?: string; details?: string };
      if (j.msg) return j.details ? `${j.msg}: ${j.details}` : j.msg;
    } catch {
      // not JSON
    }
    return (e.stderr.trim() || e.stdout.trim() || e.message).split('\n').slice(-3).join(' ');
  }
  return e instanceof Error ? e.message : String(e);
}
