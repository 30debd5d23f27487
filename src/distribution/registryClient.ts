/**
 * distribution/registryClient: one registry host's HTTP API (OCI
 * Distribution v1.1) on undici: endpoint choice (HTTPS, plain HTTP for
 * loopback and insecure registries, mirrors), the auth dance (Bearer token
 * per scope, Basic), manifests and blobs with size limits, and uploads.
 * Verifies nothing about content itself; callers verify digests as they read.
 */
import type { Agent, Dispatcher, request as requestFn } from 'undici';
import type { Readable } from 'node:stream';
import { InvalidArgumentError, NotFoundError, SystemError, UnauthorizedError, UnavailableError, ForbiddenError } from '../errdefs/errors.js';
import { parseChallenges, type Challenge } from './challenge.js';
import { isInsecureRegistry } from './insecure.js';
import type { AuthConfig } from './credentials.js';
import { MAX_ERROR_BYTES, MAX_MANIFEST_BYTES, MAX_TOKEN_BYTES } from './limits.js';
import { MediaType } from '../oci/image.js';
import { defaultRootsTls } from '../util/extraCaCerts.js';

type Res = Dispatcher.ResponseData<unknown>;
type ReqOpts = NonNullable<Parameters<typeof requestFn>[1]>;

/**
 * undici is loaded on first use: it costs ~18 MB of resident memory, and a
 * daemon that never talks to a registry should not carry it (idle RSS target).
 */
let undiciModule: Promise<typeof import('undici')> | null = null;
const loadUndici = (): Promise<typeof import('undici')> => (undiciModule ??= import('undici'));

async function request(url: string | URL, opts: ReqOpts): Promise<Res> {
  return (await loadUndici()).request(url, opts);
}

export const MANIFEST_ACCEPT = [
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
].join(', ');

export interface RegistryOptions {
  /** Insecure registries besides loopback ones: "host:port" names or CIDRs (moby's insecure-registries). */
  insecureRegistries?: readonly string[];
  /** Mirror base URLs per registry domain, tried in order before the registry itself (pulls only). */
  mirrors?: Readonly<Record<string, readonly string[]>>;
  userAgent?: string;
}

export interface FetchedManifest {
  mediaType: string;
  bytes: Buffer;
  /** Docker-Content-Digest, when the registry sent one. */
  digest?: string;
}

/** How long an insecure registry may take to answer over HTTPS before plain HTTP is tried. */
const HTTPS_PROBE_TIMEOUT_MS = 10_000;

async function readLimited(body: Res['body'], max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) {
      body.destroy();
      throw new InvalidArgumentError(`${what} is larger than the ${max}-byte limit`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** The registry's own error text (`{"errors":[{code,message}]}`), for messages a user can act on. */
async function errorText(res: Res): Promise<string> {
  try {
    const buf = await readLimited(res.body, MAX_ERROR_BYTES, 'error body');
    const v = JSON.parse(buf.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    const e = v.errors?.[0];
    if (e) return `${(e.code ?? '').toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`.trim();
    return buf.toString('utf8').slice(0, 200);
  } catch {
    return '';
  }
}

interface TokenEntry {
  token: string;
  expires: number;
}

export class RegistryClient {
  private base: string;
  /**
   * Null once the endpoint is known. An insecure registry (moby's rule: listed,
   * or in 127.0.0.0/8) is tried as Docker does — HTTPS without certificate
   * checks first, plain HTTP when that fails — on the first request.
   */
  private endpointChoice: Promise<void> | null = null;
  private endpointKnown: boolean;
  private skipVerify = false;
  private agent: Agent | null = null;
  private challenge: Challenge | null = null;
  private readonly tokens = new Map<string, TokenEntry>();
  /**
   * Set by login: token requests ask for offline access (a refresh token), as
   * moby's loginV2 does, so `docker login` can store that instead of the password.
   */
  offlineAccess = false;
  /** The refresh token a token server handed out while offlineAccess was on. */
  refreshToken: string | undefined;

  /** Pull-through mirrors of this registry, tried in order before it (pulls only). */
  private readonly mirrors: RegistryClient[];

  constructor(
    readonly domain: string,
    private readonly auth: AuthConfig | undefined,
    private readonly opts: RegistryOptions = {},
    baseOverride?: string,
  ) {
    this.base = baseOverride ?? `https://${domain === 'docker.io' ? 'registry-1.docker.io' : domain}`;
    this.endpointKnown = baseOverride !== undefined;
    // Credentials are for the registry itself; mirrors are asked anonymously.
    this.mirrors = baseOverride ? [] : (opts.mirrors?.[domain] ?? []).map((url) => new RegistryClient(domain, undefined, opts, url.replace(/\/+$/, '')));
  }

  async close(): Promise<void> {
    await Promise.all([this.agent?.close(), ...this.mirrors.map((m) => m.close())]);
  }

  /** The API base URL in use ("https://host" or, after the fallback, "http://host"). */
  get endpoint(): string {
    return this.base;
  }

  private async chooseEndpoint(): Promise<void> {
    const host = this.base.slice('https://'.length);
    if (!(await isInsecureRegistry(this.domain, this.opts.insecureRegistries ?? []))) return;
    this.skipVerify = true;
    try {
      const res = await request(`${this.base}/v2/`, {
        method: 'GET',
        headers: { 'user-agent': this.userAgent() },
        dispatcher: await this.dispatcher(),
        headersTimeout: HTTPS_PROBE_TIMEOUT_MS,
      });
      await res.body.dump();
    } catch {
      // Not TLS (e.g. "wrong version number"), or no answer: Docker's next endpoint is plain HTTP.
      this.base = `http://${host}`;
    }
  }

  private async dispatcher(): Promise<Agent> {
    if (!this.agent) {
      const { Agent } = await loadUndici();
      // Verified TLS trusts the default roots, NODE_EXTRA_CA_CERTS's included (util/extraCaCerts).
      const connect = this.skipVerify ? { timeout: 30_000, rejectUnauthorized: false } : { timeout: 30_000, ...defaultRootsTls() };
      this.agent = new Agent({ connections: 8, pipelining: 1, connect, bodyTimeout: 120_000, headersTimeout: 60_000 });
    }
    return this.agent;
  }

  /** Runs a pull operation on each mirror in turn, then on the registry: any mirror failure falls through. */
  private async viaMirrors<T>(op: (c: RegistryClient) => Promise<T>): Promise<T> {
    for (const m of this.mirrors) {
      try {
        return await op(m);
      } catch {
        // A mirror that lacks the content or is down is not an error: the registry has the last word.
      }
    }
    return op(this);
  }

  private userAgent(): string {
    return this.opts.userAgent ?? 'berth/0.1.0';
  }

  /** Authorization header for `scope`, from the last challenge seen. */
  private async authorization(scope: string, signal?: AbortSignal): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') {
      if (!this.auth?.username) return undefined;
      return `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password ?? ''}`).toString('base64')}`;
    }
    if (ch.scheme !== 'bearer') return undefined;
    if (this.auth?.registrytoken) return `Bearer ${this.auth.registrytoken}`;
    const cached = this.tokens.get(scope);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    const realm = ch.params['realm'];
    if (!realm) throw new UnauthorizedError(`registry ${this.domain} asked for a bearer token without a realm`);
    const url = new URL(realm);
    const headers: Record<string, string> = { 'user-agent': this.userAgent() };
    const reqOpts: ReqOpts = { method: 'GET', headers, dispatcher: await this.dispatcher() };
    if (this.auth?.identitytoken) {
      // An identity token is an OAuth2 refresh token (what `docker login` stored from the token
      // server); Docker trades it with a POSTed refresh_token grant, as distribution's client does.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.auth.identitytoken, client_id: 'berth' });
      if (ch.params['service']) form.set('service', ch.params['service']);
      if (scope) form.set('scope', scope);
      reqOpts.method = 'POST';
      headers['content-type'] = 'application/x-www-form-urlencoded';
      reqOpts.body = form.toString();
    } else {
      if (ch.params['service']) url.searchParams.set('service', ch.params['service']);
      if (scope) url.searchParams.set('scope', scope);
      if (this.offlineAccess && this.auth?.username) {
        url.searchParams.set('offline_token', 'true');
        url.searchParams.set('client_id', 'docker');
      }
      if (this.auth?.username) {
        headers['authorization'] = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password ?? ''}`).toString('base64')}`;
      }
    }
    if (signal) reqOpts.signal = signal;
    const res = await request(url, reqOpts);
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw new UnauthorizedError(`authentication to ${this.domain} failed: the token server answered ${res.statusCode}`);
    }
    if (res.statusCode !== 200) {
      const why = await errorText(res);
      throw new UnavailableError(`token server of ${this.domain} answered ${res.statusCode}${why ? `: ${why}` : ''}`);
    }
    const body = JSON.parse((await readLimited(res.body, MAX_TOKEN_BYTES, 'token response')).toString('utf8')) as {
      token?: string;
      access_token?: string;
      expires_in?: number;
      refresh_token?: string;
    };
    if (this.offlineAccess && typeof body.refresh_token === 'string' && body.refresh_token !== '') this.refreshToken = body.refresh_token;
    const token = body.token ?? body.access_token;
    if (!token) throw new UnauthorizedError(`token server of ${this.domain} sent no token`);
    const ttl = Math.max(60, body.expires_in ?? 60) * 1000;
    this.tokens.set(scope, { token, expires: Date.now() + ttl - 10_000 });
    return `Bearer ${token}`;
  }

  /**
   * One API request with the auth dance: on 401 learn the challenge, get
   * credentials for `scope`, retry once. Returns the response for any status.
   */
  async send(
    method: string,
    path: string,
    scope: string,
    extra: { headers?: Record<string, string>; body?: Readable | AsyncIterable<Uint8Array> | Buffer | string; signal?: AbortSignal; absolute?: string } = {},
  ): Promise<Res> {
    if (!this.endpointKnown) {
      this.endpointChoice ??= this.chooseEndpoint();
      try {
        await this.endpointChoice;
      } finally {
        this.endpointChoice = null;
      }
      this.endpointKnown = true;
    }
    const url = extra.absolute ?? `${this.base}${path}`;
    const attempt = async (): Promise<Res> => {
      const headers: Record<string, string> = { 'user-agent': this.userAgent(), ...extra.headers };
      const authz = await this.authorization(scope, extra.signal);
      if (authz) headers['authorization'] = authz;
      const reqOpts: ReqOpts = { method: method as Dispatcher.HttpMethod, headers, dispatcher: await this.dispatcher() };
      // undici takes an (async) iterable body too (its Dispatcher docs); its type list omits it.
      if (extra.body !== undefined) reqOpts.body = extra.body as NonNullable<ReqOpts['body']>;
      if (extra.signal) reqOpts.signal = extra.signal;
      try {
        return await request(url, reqOpts);
      } catch (e) {
        if ((e as Error).name === 'AbortError') throw e;
        throw new UnavailableError(`cannot reach registry ${this.domain} (${new URL(url).origin}): ${(e as Error).message}`, { cause: e });
      }
    };
    let res = await attempt();
    // A streamed body (a Readable or an iterable) is used up by the first attempt: no retry with it.
    const replayable = extra.body === undefined || typeof extra.body === 'string' || Buffer.isBuffer(extra.body);
    if (res.statusCode === 401 && replayable) {
      const header = res.headers['www-authenticate'];
      const text = Array.isArray(header) ? header.join(', ') : header;
      await res.body.dump();
      const chs = text ? parseChallenges(text) : [];
      const ch = chs.find((c) => c.scheme === 'bearer') ?? chs.find((c) => c.scheme === 'basic') ?? null;
      if (!ch) throw new UnauthorizedError(`registry ${this.domain} refused the request (401) without a usable challenge`);
      const had = this.challenge;
      this.challenge = ch;
      this.tokens.delete(scope);
      if (had && had.scheme === ch.scheme && ch.scheme === 'basic') {
        throw new UnauthorizedError(`unauthorized: authentication required for ${this.domain}`);
      }
      res = await attempt();
    }
    return res;
  }

  /** Learns the auth challenge up front (`GET /v2/`), so streamed uploads never need a retry. */
  async ping(signal?: AbortSignal): Promise<void> {
    const res = await this.send('GET', '/v2/', '', signal ? { signal } : {});
    await res.body.dump();
    if (res.statusCode === 401 && this.challenge?.scheme === 'basic') {
      throw new UnauthorizedError(`unauthorized: authentication required for ${this.domain}`);
    }
    if (res.statusCode >= 500) throw new UnavailableError(`registry ${this.domain} answered ${res.statusCode} to /v2/`);
  }

  /**
   * After ping(): makes the registry check the credentials (a Basic retry of
   * /v2/, or a token request), throwing UnauthorizedError when they are wrong.
   */
  async checkCredentials(signal?: AbortSignal): Promise<void> {
    if (!this.challenge) return;
    if (!this.auth?.username && !this.auth?.registrytoken && !this.auth?.identitytoken) {
      throw new UnauthorizedError(`unauthorized: no credentials for ${this.domain}`);
    }
    const res = await this.send('GET', '/v2/', '', signal ? { signal } : {});
    await res.body.dump();
    if (res.statusCode === 401 || res.statusCode === 403) throw new UnauthorizedError(`unauthorized: authentication required for ${this.domain}`);
  }

  /** Every tag of `repo`, following `Link` pagination. */
  async listTags(repo: string, signal?: AbortSignal): Promise<string[]> {
    const tags: string[] = [];
    let path = `/v2/${repo}/tags/list?n=1000`;
    for (let page = 0; page < 1000; page++) {
      const res = await this.send('GET', path, `repository:${repo}:pull`, signal ? { signal } : {});
      if (res.statusCode !== 200) {
        const why = await errorText(res);
        this.fail(res.statusCode, `tags of ${repo}`, why);
      }
      const body = JSON.parse((await readLimited(res.body, MAX_MANIFEST_BYTES, `tag list of ${repo}`)).toString('utf8')) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      const link = res.headers['link'];
      const m = typeof link === 'string' ? /<([^>]+)>;\s*rel="?next"?/.exec(link) : null;
      if (!m?.[1]) break;
      const next = new URL(m[1], this.base);
      path = `${next.pathname}${next.search}`;
    }
    return tags;
  }

  async getManifest(repo: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    if (this.mirrors.length > 0) return this.viaMirrors((c) => c.getManifestDirect(repo, reference, signal));
    return this.getManifestDirect(repo, reference, signal);
  }

  private async getManifestDirect(repo: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const path = `/v2/${repo}/manifests/${reference}`;
    const res = await this.send('GET', path, `repository:${repo}:pull`, { headers: { accept: MANIFEST_ACCEPT }, ...(signal ? { signal } : {}) });
    if (res.statusCode === 200) {
      const len = Number(res.headers['content-length'] ?? '0');
      if (len > MAX_MANIFEST_BYTES) {
        res.body.destroy();
        throw new InvalidArgumentError(`manifest for ${repo}:${reference} is ${len} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`);
      }
      const bytes = await readLimited(res.body, MAX_MANIFEST_BYTES, `manifest for ${repo}:${reference}`);
      const ct = String(res.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
      let mediaType = ct;
      try {
        const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: string };
        if (parsed.mediaType) mediaType = parsed.mediaType;
      } catch {
        throw new InvalidArgumentError(`manifest for ${repo}:${reference} is not valid JSON`);
      }
      const dcd = res.headers['docker-content-digest'];
      const out: FetchedManifest = { mediaType, bytes };
      if (typeof dcd === 'string') out.digest = dcd;
      return out;
    }
    const why = await errorText(res);
    return this.fail(res.statusCode, `manifest for ${repo}:${reference}`, why);
  }

  private fail(status: number, what: string, why: string): never {
    if (status === 404) throw new NotFoundError(`${what} not found${why ? `: ${why}` : ''}`);
    if (status === 401) throw new UnauthorizedError(`${what}: unauthorized${why ? `: ${why}` : ''}`);
    if (status === 403) throw new ForbiddenError(`${what}: denied${why ? `: ${why}` : ''}`);
    if (status >= 500) throw new UnavailableError(`${what}: registry ${this.domain} answered ${status}${why ? `: ${why}` : ''}`);
    throw new SystemError(`${what}: registry ${this.domain} answered ${status}${why ? `: ${why}` : ''}`);
  }

  /** The blob's bytes as a stream (redirects to storage followed), from `offset`. */
  async getBlob(repo: string, digest: string, signal?: AbortSignal): Promise<{ body: Readable; size: number }> {
    if (this.mirrors.length > 0) return this.viaMirrors((c) => c.getBlobDirect(repo, digest, signal));
    return this.getBlobDirect(repo, digest, signal);
  }

  private async getBlobDirect(repo: string, digest: string, signal?: AbortSignal): Promise<{ body: Readable; size: number }> {
    let res = await this.send('GET', `/v2/${repo}/blobs/${digest}`, `repository:${repo}:pull`, signal ? { signal } : {});
    for (let hops = 0; res.statusCode >= 300 && res.statusCode < 400 && hops < 5; hops++) {
      const loc = res.headers['location'];
      await res.body.dump();
      if (typeof loc !== 'string') break;
      const target = new URL(loc, `${this.base}/v2/${repo}/blobs/${digest}`).toString();
      // Storage backends get no registry credentials: the redirect URL carries its own.
      const reqOpts: ReqOpts = { method: 'GET', dispatcher: await this.dispatcher(), headers: { 'user-agent': this.userAgent() } };
      if (signal) reqOpts.signal = signal;
      res = await request(target, reqOpts);
    }
    if (res.statusCode !== 200) {
      const why = await errorText(res);
      this.fail(res.statusCode, `blob ${digest} of ${repo}`, why);
    }
    return { body: res.body as unknown as Readable, size: Number(res.headers['content-length'] ?? -1) };
  }

  async blobExists(repo: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.send('HEAD', `/v2/${repo}/blobs/${digest}`, `repository:${repo}:pull,push`, signal ? { signal } : {});
    await res.body.dump();
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    return this.fail(res.statusCode, `blob ${digest} of ${repo}`, '');
  }

  /** Cross-repository mount; true when the registry mounted it (201), false when it opened an upload instead. */
  async mountBlob(repo: string, digest: string, from: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.send('POST', `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      `repository:${repo}:pull,push repository:${from}:pull`, signal ? { signal } : {});
    await res.body.dump();
    if (res.statusCode === 201) return true;
    if (res.statusCode === 202) {
      // An upload session was opened instead; cancel it so it does not linger.
      const loc = res.headers['location'];
      if (typeof loc === 'string') {
        const del = await this.send('DELETE', '', `repository:${repo}:pull,push`, { absolute: new URL(loc, this.base).toString() }).catch(() => null);
        await del?.body.dump();
      }
      return false;
    }
    return false;
  }

  /**
   * Uploads a blob whose digest is only known at the end: POST, one streamed
   * PATCH, then PUT with the digest `finalDigest()` gives after the stream ends.
   */
  async uploadBlob(repo: string, body: Readable | AsyncIterable<Uint8Array>, finalDigest: () => string, signal?: AbortSignal): Promise<void> {
    const scope = `repository:${repo}:pull,push`;
    const start = await this.send('POST', `/v2/${repo}/blobs/uploads/`, scope, signal ? { signal } : {});
    await start.body.dump();
    if (start.statusCode !== 202) this.fail(start.statusCode, `upload to ${repo}`, '');
    let loc = start.headers['location'];
    if (typeof loc !== 'string') throw new SystemError(`registry ${this.domain} opened an upload without a Location`);
    const patchUrl = new URL(loc, this.base).toString();
    const patch = await this.send('PATCH', '', scope, {
      absolute: patchUrl,
      body,
      headers: { 'content-type': 'application/octet-stream' },
      ...(signal ? { signal } : {}),
    });
    const why = patch.statusCode === 202 ? '' : await errorText(patch);
    if (patch.statusCode === 202) await patch.body.dump();
    else this.fail(patch.statusCode, `upload to ${repo}`, why);
    loc = patch.headers['location'];
    const putUrl = new URL(typeof loc === 'string' ? loc : patchUrl, this.base);
    putUrl.searchParams.set('digest', finalDigest());
    const put = await this.send('PUT', '', scope, { absolute: putUrl.toString(), headers: { 'content-length': '0' }, ...(signal ? { signal } : {}) });
    const putWhy = put.statusCode === 201 ? '' : await errorText(put);
    if (put.statusCode === 201) await put.body.dump();
    else this.fail(put.statusCode, `upload to ${repo}`, putWhy);
  }

  async putManifest(repo: string, reference: string, mediaType: string, bytes: Buffer, signal?: AbortSignal): Promise<string | undefined> {
    const res = await this.send('PUT', `/v2/${repo}/manifests/${reference}`, `repository:${repo}:pull,push`, {
      headers: { 'content-type': mediaType },
      body: bytes,
      ...(signal ? { signal } : {}),
    });
    if (res.statusCode !== 201 && res.statusCode !== 200) {
      const why = await errorText(res);
      this.fail(res.statusCode, `manifest ${repo}:${reference}`, why);
    }
    await res.body.dump();
    const d = res.headers['docker-content-digest'];
    return typeof d === 'string' ? d : undefined;
  }
}
