/**
 * cli/commands/image/buildProgress: the compact view of a legacy build's JSON
 * stream for a terminal (`--progress tty`) — one line per step (`[2/7] RUN
 * make`, or `… CACHED`), the running step's latest output line redrawn in
 * place under it, and, when a step fails, its last output lines before the
 * error. Only renders; the stream is the daemon's classic one.
 */
import type { Readable } from 'node:stream';
import { JSONMessageError } from '../../../client/errors.js';
import { readJSONMessages } from '../../../client/jsonMessages.js';
import type { OutStream } from '../../context.js';

/** Output lines of a failed step shown with the error. */
export const FAILED_STEP_TAIL_LINES = 10;

const CLEAR = '\x1b[2K\r';

export async function renderCompact(src: Readable, out: OutStream): Promise<string> {
  const width = Math.max(20, (out.columns ?? 100) - 1);
  const fit = (s: string): string => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
  let imageId = '';
  /** A step line not printed yet: it waits to learn whether the step was cached. */
  let pending = '';
  let live = false;
  let partial = '';
  const tail: string[] = [];
  const flushStep = (suffix: string): void => {
    if (pending === '') return;
    out.write(`${fit(`${pending}${suffix}`)}\n`);
    pending = '';
  };
  const clearLive = (): void => {
    if (live) out.write(CLEAR);
    live = false;
  };
  const showLive = (line: string): void => {
    out.write(`${CLEAR}${fit(`    ${line}`)}`);
    live = true;
  };
  try {
    for await (const m of readJSONMessages(src)) {
      if (m.aux && typeof m.aux === 'object' && 'ID' in m.aux) {
        imageId = String((m.aux as { ID: unknown }).ID);
        continue;
      }
      if (m.status) {
        flushStep('');
        showLive(`${m.id ? `${m.id}: ` : ''}${m.status}`);
        continue;
      }
      const text = m.stream ?? '';
      const step = /^Step (\d+)\/(\d+) : (.*)\n$/.exec(text);
      if (step) {
        clearLive();
        flushStep('');
        pending = `[${step[1]}/${step[2]}] ${step[3]}`;
        tail.length = 0;
        partial = '';
        continue;
      }
      if (text === ' ---> Using cache\n') {
        flushStep(' CACHED');
        continue;
      }
      if (/^ ---> /.test(text)) continue;
      if (/^Successfully (built|tagged) /.test(text) || /^\[Warning\]/.test(text) || /^# Executing/.test(text)) {
        clearLive();
        flushStep('');
        out.write(text);
        continue;
      }
      flushStep('');
      partial += text.replace(/\x1b\[[0-9;]*m/g, '');
      const lines = partial.split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const l of lines) {
        tail.push(l);
        if (tail.length > FAILED_STEP_TAIL_LINES) tail.shift();
      }
      const last = partial.trim() !== '' ? partial : [...lines].reverse().find((l) => l.trim() !== '');
      if (last !== undefined) showLive(last);
    }
  } catch (e) {
    clearLive();
    flushStep('');
    if (e instanceof JSONMessageError) {
      if (partial !== '') tail.push(partial);
      if (tail.length > 0) out.write(`${tail.slice(-FAILED_STEP_TAIL_LINES).map((l) => `    ${l}`).join('\n')}\n`);
    }
    throw e;
  }
  clearLive();
  flushStep('');
  return imageId;
}
