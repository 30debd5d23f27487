/**
 * server/routes/events: `GET /events` — replays the buffered events since
 * `since`, then streams new ones as JSON lines until `until` or until the
 * client hangs up, with Docker's filters (moby daemon/events/filter.go).
 */
import { InvalidArgumentError } from '../../errdefs/errors.js';
import { eventJson, type EngineEvent, type EventBus } from '../../events/eventBus.js';
import { checkFilterKeys, parseFilters, type Filters } from '../filters.js';
import { COMMON_HEADERS, get, type Route } from '../router.js';

const FILTER_KEYS = ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume'];

/** Docker's `since`/`until` for events: "seconds[.nanoseconds]" (what the CLI sends) or RFC 3339. */
export function parseEventTime(v: string | null, name: string): bigint | undefined {
  if (v === null || v === '') return undefined;
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m) return BigInt(m[1] as string) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`invalid value for ${name}: ${v}`);
  return BigInt(ms) * 1_000_000n;
}

/** "busybox:latest" → "busybox"; digests and registry ports kept. */
function stripTag(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(0, at);
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(0, colon) : image;
}

function familiar(image: string): string {
  return image.replace(/^docker\.io\/(library\/)?/, '');
}

function matchImage(values: string[], e: EngineEvent): boolean {
  // moby: an image event's own name is its `name` attribute (a container event's, `image`).
  const candidates = [(e.Type === 'image' ? e.Actor.Attributes.name : e.Actor.Attributes.image) ?? '', e.Type === 'image' ? e.Actor.ID : ''].filter((x) => x !== '');
  return values.some((v) =>
    candidates.some((c) => {
      if (c === v || familiar(c) === familiar(v)) return true;
      // A filter without a tag matches every tag of that name.
      if (stripTag(v) === v && familiar(stripTag(c)) === familiar(v)) return true;
      return c.startsWith('sha256:') && (c === `sha256:${v}` || c.slice(7).startsWith(v));
    }),
  );
}

function matchLabels(values: string[], attrs: Record<string, string>): boolean {
  return values.every((f) => {
    const i = f.indexOf('=');
    if (i < 0) return f in attrs;
    return attrs[f.slice(0, i)] === f.slice(i + 1);
  });
}

/** Whether event `e` passes Docker's event filters. */
export function matchEvent(f: Filters, e: EngineEvent): boolean {
  const types = f.get('type');
  if (types && !types.includes(e.Type)) return false;
  const scopes = f.get('scope');
  if (scopes && !scopes.includes(e.scope)) return false;
  const evs = f.get('event');
  if (evs) {
    // exec_create, exec_start and health_status carry a suffix ("exec_start: sh -c …"): prefix match, as moby.
    const fuzzy = evs.some((v) => ['health_status', 'exec_create', 'exec_start'].includes(v));
    const ok = evs.some((v) => v === e.Action || (fuzzy && e.Action.startsWith(v)));
    if (!ok) return false;
  }
  const labels = f.get('label');
  if (labels && !matchLabels(labels, e.Actor.Attributes)) return false;
  const byName = (key: string, type: EngineEvent['Type']): boolean => {
    const vals = f.get(key);
    if (!vals) return true;
    if (e.Type !== type) return false;
    const name = e.Actor.Attributes.name ?? '';
    return vals.some((v) => v === e.Actor.ID || v === name || (v.length >= 1 && /^[a-f0-9]+$/.test(v) && e.Actor.ID.startsWith(v)));
  };
  if (!byName('container', 'container')) return false;
  if (!byName('network', 'network')) return false;
  if (!byName('volume', 'volume')) return false;
  if (!byName('plugin', 'plugin')) return false;
  if (!byName('daemon', 'daemon')) return false;
  const images = f.get('image');
  if (images && !matchImage(images, e)) return false;
  // Swarm objects never happen here.
  for (const k of ['config', 'node', 'secret', 'service']) if (f.get(k)) return false;
  return true;
}

export function eventRoutes(bus: EventBus): Route[] {
  return [
    get('/events', async (ctx) => {
      const since = parseEventTime(ctx.query.get('since'), 'since');
      const until = parseEventTime(ctx.query.get('until'), 'until');
      if (since !== undefined && until !== undefined && until < since) {
        throw new InvalidArgumentError('`since` time cannot be after `until` time');
      }
      const f = parseFilters(ctx.query.get('filters'));
      checkFilterKeys(f, FILTER_KEYS);
      const res = ctx.res;
      res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json' });
      res.flushHeaders();
      const send = (e: EngineEvent): void => {
        if (!res.writableEnded && !res.destroyed && matchEvent(f, e)) res.write(`${eventJson(e)}\n`);
      };
      let stop!: () => void;
      const stopped = new Promise<void>((resolve) => {
        stop = resolve;
      });
      const { past, unsubscribe } = bus.replayAndSubscribe(since, until, (e) => {
        if (until !== undefined && e.timeNano > until) {
          stop();
          return;
        }
        send(e);
      });
      try {
        // moby replays its buffer only when a bound is given: a bare `GET /events` (docker events,
        // docker stats -a) streams new events only.
        if (since !== undefined || until !== undefined) for (const e of past) send(e);
        const nowNs = BigInt(Date.now()) * 1_000_000n;
        if (until !== undefined && until <= nowNs) return;
        let timer: NodeJS.Timeout | undefined;
        if (until !== undefined) timer = setTimeout(stop, Number((until - nowNs) / 1_000_000n) + 1);
        ctx.signal.addEventListener('abort', stop, { once: true });
        res.once('close', stop);
        await stopped;
        if (timer) clearTimeout(timer);
      } finally {
        unsubscribe();
        if (!res.writableEnded) res.end();
      }
    }),
  ];
}
