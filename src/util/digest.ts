/**
 * util/digest: content digests ("sha256:<64 hex>"). Parsing is strict because a
 * digest names a file path in the content store.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errdefs/errors.js';

export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

export function parseDigest(s: string): Digest {
  if (!isDigest(s)) throw new InvalidArgumentError(`invalid digest "${s}"`);
  return s;
}

export function sha256Of(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}
