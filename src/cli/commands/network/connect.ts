/**
 * `berth network connect [--alias] [--ip] … NETWORK CONTAINER`: POST
 * /networks/{id}/connect with the endpoint settings docker's CLI sends.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { NetworkApi } from './networkApi.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS] NETWORK CONTAINER',
  short: 'Connect a container to a network',
  args: { kind: 'exact', n: 2 },
  flags: [
    { name: 'alias', type: 'list', valueName: 'strings', usage: 'Add network-scoped alias for the container' },
    { name: 'driver-opt', type: 'list', valueName: 'strings', usage: 'driver options for the network' },
    { name: 'gw-priority', type: 'int', usage: 'Highest gw-priority provides the default gateway. Accepts positive and negative values.' },
    { name: 'ip', type: 'string', usage: 'IPv4 address (e.g., "172.30.100.104")' },
    { name: 'ip6', type: 'string', usage: 'IPv6 address (e.g., "2001:db8::33")' },
    { name: 'link', type: 'list', valueName: 'list', usage: 'Add link to another container' },
    { name: 'link-local-ip', type: 'list', valueName: 'strings', usage: 'Add a link-local address for the container' },
  ],
};

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const [network, container] = p.args as [string, string];
  const driverOpts: Record<string, string> = {};
  for (const kv of p.list('driver-opt')) {
    const i = kv.indexOf('=');
    driverOpts[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1);
  }
  const endpoint = {
    IPAMConfig: { IPv4Address: p.string('ip'), IPv6Address: p.string('ip6'), LinkLocalIPs: p.list('link-local-ip') },
    Links: p.list('link'),
    Aliases: p.list('alias'),
    DriverOpts: driverOpts,
    GwPriority: p.int('gw-priority'),
  };
  await new NetworkApi(ctx.client).connect(network, container, endpoint);
  return 0;
}
