/**
 * `berth port`: the published ports of a container, from inspect's
 * NetworkSettings.Ports, in docker's "80/tcp -> 0.0.0.0:8080" form.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { flushed } from './flush.js';

export const spec: CommandSpec = {
  usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  short: 'List port mappings or a specific mapping for the container',
  aliases: ['container port', 'port'],
  args: { kind: 'range', min: 1, max: 2 },
  flags: [],
};

type Bindings = Record<string, Array<{ HostIp: string; HostPort: string }> | null>;

function hostPort(b: { HostIp: string; HostPort: string }): string {
  const ip = b.HostIp === '' ? '0.0.0.0' : b.HostIp;
  return ip.includes(':') ? `[${ip}]:${b.HostPort}` : `${ip}:${b.HostPort}`;
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const name = p.args[0] as string;
  const { value: c } = await ctx.client.containerInspect(name);
  const ports = ((c as unknown as { NetworkSettings?: { Ports?: Bindings | null } }).NetworkSettings?.Ports ?? {}) as Bindings;
  const want = p.args[1];
  if (want !== undefined) {
    const [port, proto = 'tcp'] = want.split('/');
    if (!/^\d+$/.test(port ?? '')) throw new Error(`Error: invalid port (${want})`);
    const key = `${port}/${proto}`;
    const binds = ports[key];
    if (!binds || binds.length === 0) throw new Error(`Error: No public port '${want}' published for ${name}`);
    ctx.out(binds.map((b) => `${hostPort(b)}\n`).join(''));
  } else {
    const lines: string[] = [];
    for (const key of Object.keys(ports).sort()) for (const b of ports[key] ?? []) lines.push(`${key} -> ${hostPort(b)}\n`);
    ctx.out(lines.join(''));
  }
  await flushed(ctx.stdout);
  return 0;
}
