/**
 * build/download: `ADD <url>` — one GET into the build's own directory, size
 * bounded, hashed as it streams, with moby's file naming (the URL's last path
 * element, else Content-Disposition's filename) and mtime (Last-Modified, else
 * the epoch). Never extracts what it downloads.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errdefs/errors.js';
import { MAX_ADD_URL_BYTES } from './limits.js';
import type { ProgressMessage } from '../images/progress.js';
import { defaultRootsFetch } from '../util/extraCaCerts.js';

export interface Downloaded {
  path: string;
  /** '' when neither the URL nor the response names the file. */
  filename: string;
  size: number;
  sha256: string;
  mtimeNs: bigint;
}

/** moby's urlutil.IsURL: http:// or https://. */
export function isURL(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

/** moby's urlutil.IsGitURL (the forms the docker CLI sends as `remote`). */
export function isGitURL(s: string): boolean {
  if (/^git:\/\//.test(s) || /^git@/.test(s) || /^github\.com\//.test(s)) return true;
  return isURL(s) && /\.git(?:#.+)?$/.test(s);
}

function filenameFor(url: URL, disposition: string | null): string {
  const p = url.pathname;
  if (p !== '' && !p.endsWith('/')) {
    const base = decodeURIComponent(p.slice(p.lastIndexOf('/') + 1));
    if (base !== '' && base !== '.' && base !== '..') return base;
  }
  const m = disposition ? /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition) : null;
  if (m && m[1] && !m[1].endsWith('/')) {
    const base = m[1].slice(m[1].lastIndexOf('/') + 1);
    if (base !== '' && base !== '.' && base !== '..') return base;
  }
  return '';
}

export async function download(address: string, dir: string, signal: AbortSignal, progress: (m: ProgressMessage) => void): Promise<Downloaded> {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new InvalidArgumentError(`invalid URL ${address}`);
  }
  let res: Response;
  try {
    res = await (await defaultRootsFetch())(url, { signal, redirect: 'follow' });
  } catch (e) {
    signal.throwIfAborted();
    throw new InvalidArgumentError(`failed to GET ${address}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`);
  }
  if (res.status < 200 || res.status >= 400) {
    const body = (await res.text().catch(() => '')).slice(0, 512);
    throw new InvalidArgumentError(`failed to GET ${address} with status ${res.status} ${res.statusText}: ${body}`);
  }
  const filename = filenameFor(url, res.headers.get('content-disposition'));
  const path = join(dir, 'download');
  const total = Number(res.headers.get('content-length') ?? 0);
  const hash = createHash('sha256');
  const out = createWriteStream(path, { mode: 0o600 });
  let size = 0;
  let last = 0;
  try {
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        if (size > MAX_ADD_URL_BYTES) throw new InvalidArgumentError(`${address} is larger than ${MAX_ADD_URL_BYTES} bytes`);
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        const now = Date.now();
        if (now - last > 100) {
          last = now;
          progress({ status: 'Downloading', progressDetail: { current: size, total } });
        }
      }
    }
  } finally {
    await new Promise<void>((r) => out.end(() => r()));
  }
  const lm = res.headers.get('last-modified');
  const t = lm ? Date.parse(lm) : NaN;
  return { path, filename, size, sha256: hash.digest('hex'), mtimeNs: Number.isNaN(t) ? 0n : BigInt(t) * 1_000_000n };
}
