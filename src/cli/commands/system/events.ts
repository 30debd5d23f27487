/**
 * `berth events`: GET /events?since=&until=&filters= and docker's rendering —
 * "<time> <type> <action> <id> (k=v, …)" per event, `--format json` or a
 * Go template. Relative --since/--until ("10m") become timestamps here, as
 * in docker. Runs until --until passes or the user interrupts it.
 */
import type { CommandSpec, ParsedArgs } from '../../command.js';
import type { CliContext } from '../../context.js';
import { buildFilters, validateFilter } from '../../format/filters.js';
import { renderTemplate } from '../../format/template.js';
import { getTimestamp } from '../../opts/timestamp.js';
import { ContainerApi, type EventMessage } from '../container/containerApi.js';
import { flushed } from '../container/flush.js';

export const spec: CommandSpec = {
  usage: '[OPTIONS]',
  short: 'Get real time events from the server',
  aliases: ['system events', 'events'],
  args: { kind: 'none' },
  flags: [
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', usage: 'Filter output based on conditions provided', validate: validateFilter },
    {
      name: 'format',
      type: 'string',
      usage:
        "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
    },
    { name: 'since', type: 'string', usage: 'Show all events created since timestamp' },
    { name: 'until', type: 'string', usage: 'Stream events until this timestamp' },
  ],
};

/** Go's RFC3339NanoFixed in the local zone: 2006-01-02T15:04:05.000000000Z07:00. */
export function rfc3339NanoFixed(timeNano: bigint): string {
  const ms = Number(timeNano / 1_000_000n);
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const local = new Date(ms + off * 60_000);
  const frac = (timeNano % 1_000_000_000n).toString().padStart(9, '0');
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
  return `${local.toISOString().slice(0, 19)}.${frac}${zone}`;
}

/** docker's printOutput for one event. */
export function formatEvent(e: EventMessage, timeNano: bigint): string {
  let line = `${rfc3339NanoFixed(timeNano)} ${e.Type} ${e.Action} ${e.Actor.ID}`;
  const attrs = Object.entries(e.Actor.Attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (attrs.length > 0) line += ` (${attrs.map(([k, v]) => `${k}=${v}`).join(', ')})`;
  return `${line}\n`;
}

export async function run(ctx: CliContext, p: ParsedArgs): Promise<number> {
  const format = p.string('format');
  const now = new Date();
  const opts: Parameters<ContainerApi['events']>[0] = { filters: buildFilters(p.list('filter')) };
  if (p.string('since') !== '') opts.since = getTimestamp(p.string('since'), now);
  if (p.string('until') !== '') opts.until = getTimestamp(p.string('until'), now);
  const api = new ContainerApi(ctx.client);
  const res = await api.events(opts);
  let partial = '';
  const decoder = new TextDecoder('utf-8');
  const handle = (line: string): void => {
    if (line.trim() === '') return;
    const e = JSON.parse(line) as EventMessage;
    const ns = /"timeNano":(\d+)/.exec(line)?.[1];
    const timeNano = ns !== undefined ? BigInt(ns) : BigInt(e.time) * 1_000_000_000n;
    if (format === '') ctx.out(formatEvent(e, timeNano));
    else if (format === 'json' || format === '{{json .}}') ctx.out(`${line.trim()}\n`);
    else ctx.out(`${renderTemplate(format, e)}\n`);
  };
  for await (const chunk of res) {
    partial += decoder.decode(chunk as Buffer, { stream: true });
    for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
      handle(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
    }
  }
  handle(partial);
  await flushed(ctx.stdout);
  return 0;
}
