/**
 * registry/auth: who a request comes from and whether it may do what it
 * asks. Three modes, chosen at start:
 *  - none: everything is allowed;
 *  - basic (--htpasswd): `Authorization: Basic` checked against htpasswd;
 *  - token (--htpasswd + --token-issuer): clients get a JWT from the built-in
 *    `/token` endpoint (tokenService.ts) granting exactly the repository
 *    scopes asked for and allowed; requests to /v2/ carry it as
 *    `Authorization: Bearer`.
 * What a user or an anonymous client may do is policy.ts's (ACL file,
 * --anonymous-pull). The htpasswd and ACL files may be ReloadingFiles: they
 * are asked for their current version on each check.
 * Missing or wrong credentials → 401 UNAUTHORIZED with a `WWW-Authenticate`
 * challenge; a valid login or token without the needed grant (another
 * repository, pull-only) → 403 DENIED. Never looks at storage.
 */
import type { IncomingMessage } from 'node:http';
import type { Acl } from './acl.js';
import { RegistryError } from './errors.js';
import type { Htpasswd } from './htpasswd.js';
import { AUTH_HEADER_MAX, REFRESH_TOKEN_TTL_SECONDS, TOKEN_TTL_SECONDS } from './limits.js';
import { Policy, type Need } from './policy.js';
import { ReloadingFile } from './reloadingFile.js';
import { tokenAllows, verifyToken } from './token.js';

export type { Action, Need } from './policy.js';

export interface AuthConfig {
  htpasswd?: Htpasswd | ReloadingFile<Htpasswd>;
  /** Per-user repository rules (acl.ts); without it a logged-in user may do everything. */
  acl?: Acl | ReloadingFile<Acl>;
  anonymousPull: boolean;
  token?: {
    /** `iss` of issued tokens and the `service` of challenges. */
    issuer: string;
    key: Buffer;
    /** Absolute token endpoint URL; by default derived from the request (`<scheme>://<Host>/token`). */
    realm?: string;
    ttlSeconds?: number;
    refreshTtlSeconds?: number;
  };
}

/** What a request was found to be allowed: checks further needs (cross-repo mount source). */
export interface Principal {
  user: string | undefined;
  can(need: Need): boolean;
  /** Whether a repository shows in this caller's catalog; undefined when all do. */
  visible?: (repo: string) => boolean;
}

const EVERYTHING: Principal = { user: undefined, can: () => true };

export function basicCredentials(header: string): { user: string; password: string } | undefined {
  const raw = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = raw.indexOf(':');
  if (colon < 0) return undefined;
  return { user: raw.slice(0, colon), password: raw.slice(colon + 1) };
}

function scopeString(needs: readonly Need[]): string {
  const byName = new Map<string, Set<string>>();
  for (const n of needs) {
    const key = `${n.type}:${n.name}`;
    const set = byName.get(key) ?? new Set<string>();
    set.add(n.action);
    // Docker clients ask for pull alongside push; grant checks want both anyway.
    if (n.action === 'push') set.add('pull');
    byName.set(key, set);
  }
  return [...byName].map(([k, acts]) => `${k}:${[...acts].sort().join(',')}`).join(' ');
}

/** A config value that may be reloaded: its current version. */
function current<T>(v: T | ReloadingFile<T> | undefined): Promise<T | undefined> {
  return v instanceof ReloadingFile ? v.get() : Promise.resolve(v);
}

export class Authenticator {
  readonly mode: 'none' | 'basic' | 'token';
  readonly ttl: number;
  readonly refreshTtl: number;
  private policyFor: { acl: Acl | undefined; policy: Policy } | undefined;

  constructor(readonly cfg: AuthConfig | undefined) {
    this.mode = cfg?.htpasswd === undefined ? 'none' : cfg.token === undefined ? 'basic' : 'token';
    this.ttl = cfg?.token?.ttlSeconds ?? TOKEN_TTL_SECONDS;
    this.refreshTtl = cfg?.token?.refreshTtlSeconds ?? REFRESH_TOKEN_TTL_SECONDS;
  }

  /** The users as of now (htpasswd reloaded if it changed). */
  async users(): Promise<Htpasswd> {
    const u = await current(this.cfg?.htpasswd);
    if (u === undefined) throw new Error('no htpasswd configured');
    return u;
  }

  /** The policy as of now (ACL reloaded if it changed). */
  async policy(): Promise<Policy> {
    const acl = await current(this.cfg?.acl);
    if (this.policyFor?.acl !== acl || this.policyFor === undefined) {
      this.policyFor = { acl, policy: new Policy(acl, this.cfg?.anonymousPull ?? false) };
    }
    return this.policyFor.policy;
  }

  /** Checks basic credentials; the user name when they are right. */
  async login(user: string, password: string): Promise<string | undefined> {
    return (await (await this.users()).verify(user, password)) ? user : undefined;
  }

  realm(req: IncomingMessage, tls: boolean): string {
    const t = this.cfg?.token;
    if (t?.realm !== undefined) return t.realm;
    return `${tls ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}/token`;
  }

  private challenge(req: IncomingMessage, tls: boolean, needs: readonly Need[], error?: string): Record<string, string> {
    if (this.mode === 'basic') return { 'WWW-Authenticate': 'Basic realm="berth-registry"' };
    const t = this.cfg?.token;
    let v = `Bearer realm="${this.realm(req, tls)}",service="${t?.issuer ?? ''}"`;
    if (needs.length > 0) v += `,scope="${scopeString(needs)}"`;
    if (error !== undefined) v += `,error="${error}"`;
    return { 'WWW-Authenticate': v };
  }

  private unauthorized(req: IncomingMessage, tls: boolean, needs: readonly Need[], message: string, error?: string): RegistryError {
    return new RegistryError('UNAUTHORIZED', 401, message, undefined, this.challenge(req, tls, needs, error));
  }

  private denied(req: IncomingMessage, tls: boolean, needs: readonly Need[]): RegistryError {
    const headers = this.mode === 'token' ? this.challenge(req, tls, needs, 'insufficient_scope') : {};
    return new RegistryError('DENIED', 403, 'requested access to the resource is denied', { needs: needs.map((n) => `${n.type}:${n.name}:${n.action}`) }, headers);
  }

  private principal(policy: Policy, user: string | undefined, can: (n: Need) => boolean): Principal {
    const p: Principal = { user, can };
    if (!policy.seesEverything(user)) p.visible = (repo) => policy.visible(user, repo);
    return p;
  }

  /**
   * Checks a /v2 request that needs `needs` (empty for the `/v2/` base, which
   * only asks "who are you"). Returns what the caller may do, or throws 401/403.
   */
  async authorize(req: IncomingMessage, tls: boolean, needs: readonly Need[]): Promise<Principal> {
    if (this.mode === 'none') return EVERYTHING;
    const header = req.headers.authorization;
    if (header !== undefined && header.length > AUTH_HEADER_MAX) throw this.unauthorized(req, tls, needs, 'authorization header too large');
    const policy = await this.policy();

    if (this.mode === 'basic') {
      if (header === undefined || !/^basic /i.test(header)) {
        const anonymous = (n: Need): boolean => policy.allows(undefined, n);
        if (needs.length > 0 && needs.every(anonymous)) return this.principal(policy, undefined, anonymous);
        throw this.unauthorized(req, tls, needs, 'authentication required');
      }
      const cred = basicCredentials(header);
      const user = cred === undefined ? undefined : await this.login(cred.user, cred.password);
      if (user === undefined) throw this.unauthorized(req, tls, needs, 'invalid username or password');
      const p = this.principal(policy, user, (n) => policy.allows(user, n));
      if (!needs.every((n) => p.can(n))) throw this.denied(req, tls, needs);
      return p;
    }

    const t = this.cfg?.token as NonNullable<AuthConfig['token']>;
    if (header === undefined || !/^bearer /i.test(header)) throw this.unauthorized(req, tls, needs, 'authentication required');
    const claims = verifyToken(header.slice(7).trim(), t.key, t.issuer, t.issuer);
    if (typeof claims === 'string') throw this.unauthorized(req, tls, needs, claims, 'invalid_token');
    const p = this.principal(policy, claims.sub || undefined, (n) => tokenAllows(claims, n.type, n.name, n.action));
    if (!needs.every((n) => p.can(n))) throw this.denied(req, tls, needs);
    return p;
  }

  /** A check after authorize() (the manifest or upload handler learns of a further need). */
  require(req: IncomingMessage, tls: boolean, p: Principal, needs: readonly Need[]): void {
    if (!needs.every((n) => p.can(n))) throw this.denied(req, tls, needs);
  }
}
