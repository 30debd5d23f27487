/**
 * client/jsonMessages: reads the newline-delimited JSON progress stream of
 * pull / push / import / load / build (Docker's jsonmessage format). A message
 * with `errorDetail` (or the legacy `error`) ends the stream as a thrown
 * JSONMessageError, like the docker CLI. Never renders: cli/format does that.
 */
import type { Readable } from 'node:stream';
import { JSONMessageError } from './errors.js';
import type { JSONMessage } from './types.js';

/** Longest single message accepted; a daemon that never sends a newline must not eat our memory. */
const MAX_LINE = 16 * 1024 * 1024;

function parseLine(line: string): JSONMessage {
  const value: unknown = JSON.parse(line);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SyntaxError(`invalid JSON message: ${line.slice(0, 200)}`);
  }
  return value as JSONMessage;
}

/** The error a message carries, if any. */
export function messageError(msg: JSONMessage): JSONMessageError | undefined {
  if (msg.errorDetail !== undefined && msg.errorDetail !== null) {
    return new JSONMessageError(msg.errorDetail.message ?? msg.error ?? '', msg.errorDetail.code);
  }
  if (typeof msg.error === 'string' && msg.error !== '') return new JSONMessageError(msg.error, undefined);
  return undefined;
}

/**
 * Splits a byte stream into JSON messages. Lines may end in `\n` or `\r\n` and
 * may be split across chunks; blank lines are skipped.
 */
export class JSONLineSplitter {
  private partial = '';
  private readonly decoder = new TextDecoder('utf-8');

  push(chunk: Buffer): JSONMessage[] {
    this.partial += this.decoder.decode(chunk, { stream: true });
    const out: JSONMessage[] = [];
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, nl).trim();
      this.partial = this.partial.slice(nl + 1);
      if (line !== '') out.push(parseLine(line));
    }
    if (this.partial.length > MAX_LINE) throw new SyntaxError('JSON message too long');
    return out;
  }

  end(): JSONMessage[] {
    this.partial += this.decoder.decode();
    const line = this.partial.trim();
    this.partial = '';
    return line === '' ? [] : [parseLine(line)];
  }
}

export interface ReadJSONMessagesOptions {
  /** Throw at the first message carrying an error (default true). */
  throwOnError?: boolean;
}

/** Yields each message of `src`; throws JSONMessageError at an `errorDetail` message. */
export async function* readJSONMessages(src: Readable, opts: ReadJSONMessagesOptions = {}): AsyncGenerator<JSONMessage> {
  const throwOnError = opts.throwOnError ?? true;
  const splitter = new JSONLineSplitter();
  const check = (msg: JSONMessage): JSONMessage => {
    if (throwOnError) {
      const err = messageError(msg);
      if (err) throw err;
    }
    return msg;
  };
  for await (const chunk of src) {
    for (const msg of splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))) yield check(msg);
  }
  for (const msg of splitter.end()) yield check(msg);
}
