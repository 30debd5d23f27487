/**
 * events/: the typed engine event bus. Services publish what happened
 * (Docker's event shape: Type, Action, Actor); the API's /events and internal
 * waiters subscribe. The newest HISTORY_SIZE events are kept so `events
 * --since` can replay them (moby keeps 256). Publishing never blocks or throws.
 */
import { EventEmitter } from 'node:events';

export type EventType = 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'plugin';

export interface EngineEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  /** Unix seconds. */
  time: number;
  /** Unix nanoseconds (exact; JSON numbers cannot hold it, see eventJson). */
  timeNano: bigint;
}

export const HISTORY_SIZE = 1024;

/** Nanoseconds since the epoch, strictly increasing within this process (orders events that share a millisecond). */
let lastNs = 0n;
function nowNs(): bigint {
  const ms = BigInt(Date.now());
  // The sub-millisecond part from the monotonic clock; process.hrtime, not performance.now(): the
  // `performance` global loads perf_hooks (~0.25 MB resident) into a daemon that needs nothing else of it (B100).
  let ns = ms * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return ns;
}

/** Docker's JSON for one event, with the deprecated status/id/from fields API 1.51 still sends. */
export function eventJson(e: EngineEvent): string {
  const legacy: Record<string, string> = {};
  if (e.Type === 'container') {
    legacy.status = e.Action;
    legacy.id = e.Actor.ID;
    if (e.Actor.Attributes.image !== undefined) legacy.from = e.Actor.Attributes.image;
  } else if (e.Type === 'image') {
    legacy.status = e.Action;
    legacy.id = e.Actor.ID;
  }
  const body = JSON.stringify({ ...legacy, Type: e.Type, Action: e.Action, Actor: e.Actor, scope: e.scope, time: e.time, timeNano: 0 });
  // The exact nanoseconds replace the placeholder (the last field).
  return body.replace(/"timeNano":0}$/, `"timeNano":${e.timeNano.toString()}}`);
}

export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly history: EngineEvent[] = [];

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): void {
    const ns = nowNs();
    const ev: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(ns / 1_000_000_000n),
      timeNano: ns,
    };
    this.history.push(ev);
    if (this.history.length > HISTORY_SIZE) this.history.shift();
    try {
      this.emitter.emit('event', ev);
    } catch {
      // A subscriber's failure is its own; publishers never see it.
    }
  }

  subscribe(fn: (e: EngineEvent) => void): () => void {
    const safe = (e: EngineEvent): void => {
      try {
        fn(e);
      } catch {
        // never reaches the publisher
      }
    };
    this.emitter.on('event', safe);
    return () => this.emitter.off('event', safe);
  }

  /**
   * Past events with since <= timeNano <= until (either bound optional), oldest first,
   * and a subscription to the ones after, atomically (nothing falls between the two).
   */
  replayAndSubscribe(sinceNs: bigint | undefined, untilNs: bigint | undefined, fn: (e: EngineEvent) => void): { past: EngineEvent[]; unsubscribe: () => void } {
    const past = this.history.filter((e) => (sinceNs === undefined || e.timeNano >= sinceNs) && (untilNs === undefined || e.timeNano <= untilNs));
    return { past, unsubscribe: this.subscribe(fn) };
  }

  /** Subscribers now (for `info`'s NEventsListener). */
  get listeners(): number {
    return this.emitter.listenerCount('event');
  }
}
