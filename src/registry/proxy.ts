/**
 * registry/proxy: the pull-through cache (`--proxy-remote URL`). What the
 * local store lacks is fetched from the remote registry, verified against its
 * digest, stored, and served; later pulls are served locally. Tags are
 * re-checked with the remote (a HEAD) at most every PROXY_TAG_TTL_MS; when
 * the remote cannot be reached the cached copy is served. Speaks the remote's
 * auth: anonymous or basic credentials, and Docker's bearer-token challenge.
 * Never pushes to the remote and never sends the remote's credentials to
 * anyone else (fetch drops Authorization on cross-origin redirects).
 */
import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Digest } from '../util/digest.js';
import type { PullThroughSource } from './api.js';
import { reply, type Exchange } from './http.js';
import { PROXY_TAG_TTL_MS, REMOTE_JSON_MAX_BYTES, REMOTE_MANIFEST_MAX_BYTES } from './limits.js';
import { parseManifest } from './manifest.js';
import { ACCEPT_ALL, bareType } from './mediaTypes.js';
import { isSha256 } from './names.js';
import type { Registry } from './registry.js';
import type { ManifestRow } from './registryDb.js';
import { defaultRootsFetch } from '../util/extraCaCerts.js';

export interface RemoteCredentials {
  username: string;
  password: string;
}

class RemoteError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function readLimited(res: Response, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  if (res.body === null) return Buffer.alloc(0);
  for await (const c of res.body) {
    const b = Buffer.from(c as Uint8Array);
    n += b.length;
    if (n > max) throw new RemoteError(`remote response larger than ${max} bytes`, 502);
    chunks.push(b);
  }
  return Buffer.concat(chunks, n);
}

function challengeParams(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of header.matchAll(/(\w+)="([^"]*)"/g)) out[(m[1] as string).toLowerCase()] = m[2] as string;
  return out;
}

/** A minimal distribution client for one remote registry: GET/HEAD with its auth. */
class RemoteClient {
  private readonly tokens = new Map<string, { token: string; until: number }>();
  private readonly base: string;

  constructor(
    remote: string,
    private readonly creds: RemoteCredentials | undefined,
  ) {
    this.base = remote.replace(/\/+$/, '');
  }

  private basic(): string | undefined {
    if (this.creds === undefined) return undefined;
    return `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}`;
  }

  private async token(challenge: Record<string, string>, scope: string): Promise<string> {
    const key = `${challenge['realm']}|${scope}`;
    const hit = this.tokens.get(key);
    if (hit !== undefined && hit.until > Date.now()) return hit.token;
    const realm = challenge['realm'];
    if (realm === undefined) throw new RemoteError('remote bearer challenge without realm', 502);
    const u = new URL(realm);
    if (challenge['service'] !== undefined) u.searchParams.set('service', challenge['service']);
    u.searchParams.set('scope', scope);
    const headers: Record<string, string> = {};
    const b = this.basic();
    if (b !== undefined) headers['Authorization'] = b;
    const res = await (await defaultRootsFetch())(u, { headers });
    const body = await readLimited(res, REMOTE_JSON_MAX_BYTES);
    if (!res.ok) throw new RemoteError(`remote token endpoint answered ${res.status}`, res.status === 401 ? 401 : 502);
    const j = JSON.parse(body.toString('utf8')) as { token?: string; access_token?: string; expires_in?: number };
    const token = j.token ?? j.access_token;
    if (typeof token !== 'string') throw new RemoteError('remote token response without token', 502);
    const ttl = Math.max(30, (j.expires_in ?? 60) - 10) * 1000;
    this.tokens.set(key, { token, until: Date.now() + ttl });
    return token;
  }

  /** GET/HEAD `path` of `repo`, answering an auth challenge once. */
  async request(method: 'GET' | 'HEAD', repo: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
    const url = `${this.base}${path}`;
    const scope = `repository:${repo}:pull`;
    let auth: string | undefined;
    const cached = [...this.tokens.entries()].find(([k, v]) => k.endsWith(`|${scope}`) && v.until > Date.now());
    if (cached !== undefined) auth = `Bearer ${cached[1].token}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const h = { ...headers };
      if (auth !== undefined) h['Authorization'] = auth;
      const res = await (await defaultRootsFetch())(url, { method, headers: h, redirect: 'follow' });
      if (res.status !== 401 || attempt === 1) return res;
      await res.body?.cancel();
      const www = res.headers.get('www-authenticate') ?? '';
      if (/^bearer/i.test(www)) auth = `Bearer ${await this.token(challengeParams(www), scope)}`;
      else if (/^basic/i.test(www) && this.basic() !== undefined) auth = this.basic();
      else return res;
    }
    throw new RemoteError('unreachable', 502);
  }
}

export class PullThrough implements PullThroughSource {
  private readonly remote: RemoteClient;
  /** When each repo:tag was last confirmed with the remote. */
  private readonly checked = new Map<string, number>();

  private readonly tagTtlMs: number;

  constructor(
    private readonly registry: Registry,
    remoteUrl: string,
    creds?: RemoteCredentials,
    opts: { tagTtlMs?: number } = {},
  ) {
    this.remote = new RemoteClient(remoteUrl, creds);
    this.tagTtlMs = opts.tagTtlMs ?? PROXY_TAG_TTL_MS;
  }

  async manifest(repo: string, ref: string): Promise<ManifestRow | undefined> {
    const db = this.registry.db;
    if (ref.includes(':')) {
      const local = db.manifest(repo, ref);
      if (local !== undefined) return local;
      return this.fetchManifest(repo, ref, []);
    }
    const key = `${repo}:${ref}`;
    const local = db.tag(repo, ref);
    const at = this.checked.get(key);
    if (local !== undefined && at !== undefined && Date.now() - at < this.tagTtlMs) return local;
    let res: Response;
    try {
      res = await this.remote.request('HEAD', repo, `/v2/${repo}/manifests/${ref}`, { Accept: ACCEPT_ALL });
    } catch {
      return local; // remote unreachable: serve what we have
    }
    if (res.status === 404) return undefined;
    if (!res.ok) return local;
    const digest = res.headers.get('docker-content-digest');
    this.checked.set(key, Date.now());
    if (digest !== null && local !== undefined && local.digest === digest) return local;
    if (digest !== null && isSha256(digest)) {
      const have = db.manifest(repo, digest);
      if (have !== undefined) {
        db.immediate(() => db.putManifest({ repo, ...have, artifactType: null, subject: null, annotations: null, created: Date.now() }, [], [ref]));
        return db.tag(repo, ref);
      }
    }
    return this.fetchManifest(repo, ref, [ref]).catch(() => local);
  }

  private async fetchManifest(repo: string, ref: string, tags: string[]): Promise<ManifestRow | undefined> {
    const res = await this.remote.request('GET', repo, `/v2/${repo}/manifests/${ref}`, { Accept: ACCEPT_ALL });
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new RemoteError(`remote answered ${res.status} for manifest ${repo}:${ref}`, 502);
    }
    const bytes = await readLimited(res, REMOTE_MANIFEST_MAX_BYTES);
    const digest: Digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (ref.includes(':') && ref !== digest) throw new RemoteError(`remote manifest ${ref} hashes to ${digest}`, 502);
    const claimed = res.headers.get('docker-content-digest');
    if (claimed !== null && isSha256(claimed) && claimed !== digest) {
      throw new RemoteError(`remote manifest digest header ${claimed} does not match content ${digest}`, 502);
    }
    const parsed = parseManifest(bytes, bareType(res.headers.get('content-type') ?? undefined));
    await this.registry.storeManifest(repo, digest, bytes, parsed, tags, false);
    return this.registry.db.manifest(repo, digest);
  }

  async serveBlob(x: Exchange, repo: string, digest: Digest): Promise<boolean> {
    if (x.method === 'HEAD') {
      const res = await this.remote.request('HEAD', repo, `/v2/${repo}/blobs/${digest}`);
      if (!res.ok) return false;
      reply(x, 200, {
        'Content-Type': 'application/octet-stream',
        'Docker-Content-Digest': digest,
        'Content-Length': res.headers.get('content-length') ?? '0',
      });
      return true;
    }
    const res = await this.remote.request('GET', repo, `/v2/${repo}/blobs/${digest}`);
    if (!res.ok || res.body === null) {
      await res.body?.cancel();
      return false;
    }
    const tmp = join(this.registry.store.uploadDir, `p-${randomBytes(12).toString('hex')}.tmp`);
    const fh = await open(tmp, 'wx', 0o644);
    const hash = createHash('sha256');
    let size = 0;
    let ok = false;
    try {
      const headers: Record<string, string> = {
        'Content-Type': 'application/octet-stream',
        'Docker-Content-Digest': digest,
        'Docker-Distribution-API-Version': 'registry/2.0',
      };
      const len = res.headers.get('content-length');
      if (len !== null) headers['Content-Length'] = len;
      x.res.writeHead(200, headers);
      for await (const c of res.body) {
        const b = Buffer.from(c as Uint8Array);
        hash.update(b);
        size += b.length;
        await fh.write(b);
        // A client that hangs up does not stop the fetch: the cache still gets the blob.
        if (!x.res.destroyed && !x.res.write(b)) {
          await new Promise<void>((resolve) => {
            x.res.once('drain', resolve);
            x.res.once('close', resolve);
          });
        }
      }
      await fh.sync();
      ok = `sha256:${hash.digest('hex')}` === digest;
    } finally {
      await fh.close();
      if (!ok) await rm(tmp, { force: true });
    }
    if (!ok) {
      // The remote sent other bytes: the client's own digest check will fail; do not keep them.
      x.res.destroy();
      return true;
    }
    await this.registry.installBlob(repo, tmp, digest, size);
    x.res.end();
    return true;
  }
}
