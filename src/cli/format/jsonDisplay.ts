/**
 * cli/format/jsonDisplay: prints a JSON message stream (pull, import…) the way
 * docker's jsonmessage.DisplayJSONMessagesStream does: one line per layer id
 * redrawn in place on a terminal, plain lines otherwise, progress bars only on
 * a terminal. An `errorDetail` message ends the display with that error.
 */
import type { Readable } from 'node:stream';
import { readJSONMessages } from '../../client/jsonMessages.js';
import type { JSONMessage, JSONProgress } from '../../client/types.js';
import type { OutStream } from '../context.js';
import { humanSize } from './units.js';

function goDurationString(ms: number): string {
  const total = Math.round(ms / 1000);
  if (total === 0) return '0s';
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** JSONProgress.String(): "[=====>     ]  1.2MB/3.4MB 5s". */
export function progressString(p: JSONProgress, width: number, nowMs: number = Date.now()): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) {
    if (!p.units) return humanSize(current).padStart(8);
    return `${current} ${p.units}`;
  }
  let percentage = Math.trunc(Math.trunc((current / total) * 100) / 2);
  if (percentage > 50) percentage = 50;
  let pbBox = '';
  if (width > 110) {
    pbBox = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  }
  let numbersBox = '';
  if (p.hidecounts) {
    numbersBox = '';
  } else if (!p.units) {
    const cur = humanSize(current).padStart(8);
    numbersBox = current > total ? cur : `${cur}/${humanSize(total)}`;
  } else {
    numbersBox = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
  }
  let timeLeftBox = '';
  if (width > 50 && current > 0 && (p.start ?? 0) > 0 && percentage < 50) {
    const fromStart = nowMs - (p.start as number) * 1000;
    const perEntry = fromStart / current;
    timeLeftBox = ` ${goDurationString((total - current) * perEntry)}`;
  }
  return pbBox + numbersBox + timeLeftBox;
}

function hasProgress(m: JSONMessage): boolean {
  return m.progressDetail !== undefined && m.progressDetail !== null;
}

/** jsonmessage.JSONMessage.Display for one message (errors handled by the caller). */
function displayOne(out: OutStream, m: JSONMessage, isTerminal: boolean, width: number): void {
  let endl = '';
  const progress = hasProgress(m) ? progressString(m.progressDetail as JSONProgress, width) : '';
  if (isTerminal && !m.stream && hasProgress(m)) {
    out.write('\x1b[2K\r');
    endl = '\r';
  } else if (hasProgress(m) && progress !== '') {
    // No progress bars off a terminal.
    return;
  }
  let line = '';
  if (m.timeNano) line += `${new Date(m.timeNano / 1e6).toISOString()} `;
  else if (m.time) line += `${new Date(m.time * 1000).toISOString()} `;
  if (m.id) line += `${m.id}: `;
  if (m.from) line += `(from ${m.from}) `;
  if (hasProgress(m) && isTerminal) line += `${m.status ?? ''} ${progress}${endl}`;
  else if (m.progress) line += `${m.status ?? ''} ${m.progress}${endl}`;
  else if (m.stream) line += `${m.stream}${endl}`;
  else line += `${m.status ?? ''}${endl}\n`;
  out.write(line);
}

export interface DisplayOptions {
  onAux?: (m: JSONMessage) => void;
}

/** Renders the stream to `out`; rejects with JSONMessageError at an error message. */
export async function displayJSONMessages(src: Readable, out: OutStream, opts: DisplayOptions = {}): Promise<void> {
  const isTerminal = out.isTTY === true;
  const width = isTerminal ? (out.columns ?? 200) : 200;
  const ids = new Map<string, number>();
  for await (const m of readJSONMessages(src)) {
    if (m.aux !== undefined && m.aux !== null) {
      opts.onAux?.(m);
      continue;
    }
    let diff = 0;
    if (m.id && (hasProgress(m) || m.progress)) {
      let line = ids.get(m.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(m.id, line);
        if (isTerminal) out.write('\n');
      }
      diff = ids.size - line;
      if (isTerminal && diff > 0) out.write(`\x1b[${diff}A`);
    } else {
      ids.clear();
    }
    displayOne(out, m, isTerminal, width);
    if (m.id && isTerminal && diff > 0) out.write(`\x1b[${diff}B`);
  }
}
