/**
 * `berth version`: client and daemon versions, laid out like `docker version`
 * (HEAD /_ping, GET /version). The client part prints even when the daemon is
 * unreachable, then the connection error. `--format json` prints JSON.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import { CLI_VERSION, type CliContext } from '../../context.js';
import { Tabwriter } from '../../format/tabwriter.js';
import { MAX_API_VERSION } from '../../../client/engineClient.js';
import type { ComponentVersion, SystemVersion } from '../../../client/types.js';
import { StatusError } from '../../errors.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'Show the Berth version information',
  flags: [
    {
      name: 'format',
      short: 'f',
      type: 'string',
      usage:
        "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
    },
  ],
  args: { kind: 'none' },
};

/** Node's arch names → Go's, which docker prints. */
export function goArch(arch: string = process.arch): string {
  switch (arch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    default:
      return arch;
  }
}

interface ClientVersion {
  Version: string;
  ApiVersion: string;
  DefaultAPIVersion: string;
  NodeVersion: string;
  Os: string;
  Arch: string;
  Context: string;
}

function reformatDate(buildTime: string): string {
  const t = Date.parse(buildTime);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(buildTime)) return buildTime;
  // Go's time.ANSIC: "Mon Jan _2 15:04:05 2006" in the time's own zone (UTC here).
  const d = new Date(t);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

export function renderVersion(client: ClientVersion, server: SystemVersion | undefined): string {
  const lines: string[] = [];
  lines.push('Client:');
  lines.push(` Version:\t${client.Version}`);
  const downgraded = client.ApiVersion !== client.DefaultAPIVersion ? ` (downgraded from ${client.DefaultAPIVersion})` : '';
  lines.push(` API version:\t${client.ApiVersion}${downgraded}`);
  lines.push(` Node version:\t${client.NodeVersion}`);
  lines.push(` OS/Arch:\t${client.Os}/${client.Arch}`);
  lines.push(` Context:\t${client.Context}`);
  if (server !== undefined) {
    const platform = server.Platform?.Name ?? '';
    lines.push('');
    lines.push(`Server:${platform !== '' ? ` ${platform}` : ''}`);
    for (const c of engineComponents(server)) {
      lines.push(` ${c.Name}:`);
      const d = c.Details ?? {};
      if (c.Name === 'Engine') {
        lines.push(`  Version:\t${c.Version}`);
        lines.push(`  API version:\t${d['ApiVersion'] ?? ''} (minimum version ${d['MinAPIVersion'] ?? ''})`);
        if (d['NodeVersion'] !== undefined) lines.push(`  Node version:\t${d['NodeVersion']}`);
        else lines.push(`  Go version:\t${d['GoVersion'] ?? ''}`);
        lines.push(`  Git commit:\t${d['GitCommit'] ?? ''}`);
        lines.push(`  Built:\t${d['BuildTime'] ?? ''}`);
        lines.push(`  OS/Arch:\t${d['Os'] ?? ''}/${d['Arch'] ?? ''}`);
        lines.push(`  Experimental:\t${d['Experimental'] ?? ''}`);
      } else {
        lines.push(`  Version:\t${c.Version}`);
        for (const k of Object.keys(d).sort()) lines.push(`  ${k}:\t${d[k]}`);
      }
    }
  }
  const tw = new Tabwriter({ minwidth: 20, tabwidth: 1, padding: 1, padchar: ' ' });
  tw.write(`${lines.join('\n')}\n`);
  return tw.flush();
}

function engineComponents(sv: SystemVersion): ComponentVersion[] {
  const comps: ComponentVersion[] = (sv.Components ?? []).map((c) => {
    if (c.Name !== 'Engine' || c.Details === undefined || c.Details['BuildTime'] === undefined) return c;
    return { ...c, Details: { ...c.Details, BuildTime: reformatDate(c.Details['BuildTime']) } };
  });
  if (!comps.some((c) => c.Name === 'Engine')) {
    comps.push({
      Name: 'Engine',
      Version: sv.Version,
      Details: {
        ApiVersion: sv.ApiVersion,
        MinAPIVersion: sv.MinAPIVersion ?? '',
        GitCommit: sv.GitCommit ?? '',
        GoVersion: sv.GoVersion ?? '',
        Os: sv.Os,
        Arch: sv.Arch,
        BuildTime: reformatDate(sv.BuildTime ?? ''),
        Experimental: String(sv.Experimental ?? false),
      },
    });
  }
  return comps;
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const format = p.string('format');
  const client: ClientVersion = {
    Version: CLI_VERSION,
    ApiVersion: MAX_API_VERSION,
    DefaultAPIVersion: MAX_API_VERSION,
    NodeVersion: process.version,
    Os: 'linux',
    Arch: goArch(),
    Context: 'default',
  };
  let server: SystemVersion | undefined;
  let failure: unknown;
  try {
    client.ApiVersion = await ctx.client.negotiate();
    server = await ctx.client.version();
  } catch (e) {
    failure = e;
  }
  if (format === '') {
    ctx.out(renderVersion(client, server));
  } else {
    const data = { Client: client, Server: server ?? null };
    // The template engine is loaded only when a format is asked for.
    const { renderTemplate } = await import('../../format/template.js');
    try {
      ctx.out(`${renderTemplate(format === 'json' ? '{{json .}}' : format, data)}\n`);
    } catch (e) {
      throw new StatusError(e instanceof Error ? e.message : String(e), 64);
    }
  }
  if (failure !== undefined) throw failure;
  return 0;
}
