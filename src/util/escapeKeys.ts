/**
 * util/escapeKeys: the detach key sequence of an interactive attach, as
 * moby/term — parsing "ctrl-p,ctrl-q" and finding the sequence in what the
 * user types. Used by the CLI (before anything is sent) and by berthd for API
 * clients that leave it to the daemon. Pure.
 */

/** ctrl-p, ctrl-q */
export const DEFAULT_ESCAPE_KEYS = [16, 17];

/** The user typed the detach sequence. */
export class DetachError extends Error {
  constructor() {
    super('read escape sequence');
    this.name = 'DetachError';
  }
}

/** moby/term ToBytes: "ctrl-p,ctrl-q" or "a,b" → key codes. */
export function detachKeysToBytes(keys: string): number[] {
  const codes: number[] = [];
  for (const key of keys.split(',')) {
    if (key.length === 1) {
      codes.push(key.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/i.exec(key);
    const ch = m?.[1]?.toLowerCase();
    if (ch !== undefined && ch >= 'a' && ch <= 'z') codes.push(ch.charCodeAt(0) - 96);
    else if (ch !== undefined && '@[\\]^_'.includes(ch)) codes.push('@[\\]^_'.indexOf(ch) === 0 ? 0 : 27 + '[\\]^_'.indexOf(ch));
    else throw new Error(`Unknown character: '${key}'`);
  }
  return codes;
}

/**
 * moby/term's escapeProxy (as the docker CLI 2x ships it): finds the key
 * sequence anywhere in what is read — typed key by key, or arriving in one
 * read (a paste, a terminal multiplexer). Bytes before it are forwarded; a
 * partial match followed by another key is forwarded as typed.
 */
export class EscapeProxy {
  private pos = 0;

  constructor(private readonly keys: number[]) {}

  feed(chunk: Buffer): { out: Buffer; detached: boolean } {
    if (this.keys.length === 0) return { out: chunk, detached: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.pos]) {
        this.pos++;
        if (this.pos === this.keys.length) {
          this.pos = 0;
          return { out: Buffer.from(out), detached: true };
        }
        continue;
      }
      if (this.pos > 0) {
        out.push(...this.keys.slice(0, this.pos));
        this.pos = 0;
        if (b === this.keys[0]) {
          this.pos = 1;
          continue;
        }
      }
      out.push(b);
    }
    return { out: Buffer.from(out), detached: false };
  }
}
