/**
 * `berth info`: the client section, then GET /info laid out like
 * `docker info`. When the daemon is unreachable the client part still prints,
 * then the connection error (exit 1).
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import { CLI_VERSION, type CliContext } from '../../context.js';
import { DaemonUnreachableError } from '../../../client/errors.js';
import type { SystemInfo } from '../../../client/types.js';
import { StatusError, errorText } from '../../errors.js';
import { bytesSize } from '../../format/units.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'Display system-wide information',
  aliases: ['system info', 'info'],
  args: { kind: 'none' },
  flags: [
    {
      name: 'format',
      short: 'f',
      type: 'string',
      usage:
        "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
    },
  ],
};

const line = (...parts: Array<string | number | boolean | undefined>): string => `${parts.map((p) => String(p ?? '')).join(' ')}\n`;
const nonEmpty = (label: string, value: string | undefined): string => (value ? line(label, value) : '');

/** docker's prettyPrintServerInfo, for the fields berth's daemon reports. */
export function renderServerInfo(info: SystemInfo, debug: boolean): string {
  let o = '';
  o += line(' Containers:', info.Containers);
  o += line('  Running:', info.ContainersRunning);
  o += line('  Paused:', info.ContainersPaused);
  o += line('  Stopped:', info.ContainersStopped);
  o += line(' Images:', info.Images);
  o += nonEmpty(' Server Version:', info.ServerVersion);
  o += nonEmpty(' Storage Driver:', info.Driver);
  for (const pair of info.DriverStatus ?? []) o += `  ${pair[0]}: ${pair[1]}\n`;
  for (const pair of info.SystemStatus ?? []) o += ` ${pair[0]}: ${pair[1]}\n`;
  o += nonEmpty(' Logging Driver:', info.LoggingDriver);
  o += nonEmpty(' Cgroup Driver:', info.CgroupDriver);
  o += nonEmpty(' Cgroup Version:', info.CgroupVersion);
  o += line(' Plugins:');
  o += line('  Volume:', (info.Plugins?.Volume ?? []).join(' '));
  o += line('  Network:', (info.Plugins?.Network ?? []).join(' '));
  if ((info.Plugins?.Authorization ?? []).length > 0) o += line('  Authorization:', (info.Plugins?.Authorization ?? []).join(' '));
  o += line('  Log:', (info.Plugins?.Log ?? []).join(' '));
  o += line(' Swarm:', info.Swarm?.LocalNodeState ?? '');
  const runtimes = Object.keys(info.Runtimes ?? {});
  if (runtimes.length > 0) {
    o += line(' Runtimes:', runtimes.join(' '));
    o += line(' Default Runtime:', info.DefaultRuntime ?? '');
  }
  if (info.OSType === 'linux') {
    o += line(' Init Binary:', info.InitBinary ?? '');
    o += line(' containerd version:', info.ContainerdCommit?.ID ?? '');
    o += line(' runc version:', info.RuncCommit?.ID ?? '');
    o += line(' init version:', info.InitCommit?.ID ?? '');
    const sec = info.SecurityOptions ?? [];
    if (sec.length > 0) {
      o += line(' Security Options:');
      for (const s of sec) {
        const kv = Object.fromEntries(s.split(',').map((p) => p.split('=', 2) as [string, string]));
        o += line(`  ${kv['name'] ?? s}`);
        if (kv['profile'] !== undefined) o += line('   Profile:', kv['profile']);
      }
    }
  }
  o += nonEmpty(' Kernel Version:', info.KernelVersion);
  o += nonEmpty(' Operating System:', info.OperatingSystem);
  o += nonEmpty(' OSType:', info.OSType);
  o += nonEmpty(' Architecture:', info.Architecture);
  o += line(' CPUs:', info.NCPU ?? 0);
  o += line(' Total Memory:', bytesSize(info.MemTotal ?? 0));
  o += nonEmpty(' Name:', info.Name);
  o += nonEmpty(' ID:', info.ID);
  o += line(' Docker Root Dir:', info.DockerRootDir ?? '');
  o += line(' Debug Mode:', info.Debug ?? false);
  if (info.Debug || debug) {
    o += line('  File Descriptors:', info.NFd ?? 0);
    o += line('  Goroutines:', info.NGoroutines ?? 0);
    o += line('  System Time:', info.SystemTime ?? '');
    o += line('  EventsListeners:', info.NEventsListener ?? 0);
  }
  o += nonEmpty(' HTTP Proxy:', info.HttpProxy);
  o += nonEmpty(' HTTPS Proxy:', info.HttpsProxy);
  o += nonEmpty(' No Proxy:', info.NoProxy);
  if ((info.Labels ?? []).length > 0) {
    o += line(' Labels:');
    for (const l of info.Labels ?? []) o += line(`  ${l}`);
  }
  o += line(' Experimental:', info.ExperimentalBuild ?? false);
  o += line(' Live Restore Enabled:', info.LiveRestoreEnabled ?? false);
  o += '\n';
  return o;
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const format = p.string('format');
  let info: SystemInfo | undefined;
  let connErr: unknown;
  let serverErr: string | undefined;
  try {
    info = await ctx.client.info();
  } catch (e) {
    if (e instanceof DaemonUnreachableError) connErr = e;
    else serverErr = errorText(e);
  }
  if (format !== '') {
    if (serverErr !== undefined) ctx.err(`${serverErr}\n`);
    const data = {
      ClientInfo: { Version: CLI_VERSION, Context: 'default', Debug: ctx.debug },
      ...(info ?? {}),
      ServerErrors: serverErr !== undefined ? [serverErr] : undefined,
    };
    if (connErr !== undefined) throw connErr;
    const { renderTemplate } = await import('../../format/template.js');
    try {
      ctx.out(`${renderTemplate(format === 'json' ? '{{json .}}' : format, data)}\n`);
    } catch (e) {
      throw new StatusError(e instanceof Error ? e.message : String(e), 64);
    }
    return 0;
  }
  let o = 'Client:\n';
  o += line(' Version:   ', CLI_VERSION);
  o += line(' Context:   ', 'default');
  o += line(' Debug Mode:', ctx.debug);
  o += '\nServer:\n';
  ctx.out(o);
  if (info !== undefined) {
    ctx.out(renderServerInfo(info, ctx.debug));
    for (const w of info.Warnings ?? []) ctx.err(`${w}\n`);
  }
  if (serverErr !== undefined) {
    ctx.err(`ERROR: ${serverErr}\n`);
    throw new Error('errors pretty printing info');
  }
  if (connErr !== undefined) throw connErr;
  return 0;
}
