/**
 * registry/auth: who may do what. Three modes, chosen at start:
 *  - none: everything is allowed;
 *  - basic (--htpasswd): `Authorization: Basic` checked against htpasswd; a
 *    logged-in user may do anything, anonymous clients may pull when
 *    --anonymous-pull is set;
 *  - token (--htpasswd + --token-issuer): clients get a JWT from the built-in
 *    `/token` endpoint (basic credentials there, or none for anonymous pull)
 *    granting exactly the repository scopes asked for and allowed; requests
 *    to /v2/ carry it as `Authorization: Bearer`.
 * Missing or wrong credentials → 401 UNAUTHORIZED with a `WWW-Authenticate`
 * challenge; a valid login or token without the needed grant (another
 * repository, pull-only) → 403 DENIED. Never looks at storage.
 */
import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { RegistryError } from './errors.js';
import type { Htpasswd } from './htpasswd.js';
import { AUTH_HEADER_MAX, TOKEN_TTL_SECONDS } from './limits.js';
import { parseScope, signToken, tokenAllows, verifyToken, type Grant, type TokenClaims } from './token.js';

export type Action = 'pull' | 'push' | 'delete' | '*';

/** One permission a request needs: `repository`/`foo/bar`/`push`, or `registry`/`catalog`/`*`. */
export interface Need {
  type: 'repository' | 'registry';
  name: string;
  action: Action;
}

export interface AuthConfig {
  htpasswd?: Htpasswd;
  anonymousPull: boolean;
  token?: {
    /** `iss` of issued tokens and the `service` of challenges. */
    issuer: string;
    key: Buffer;
    /** Absolute token endpoint URL; by default derived from the request (`<scheme>://<Host>/token`). */
    realm?: string;
    ttlSeconds?: number;
  };
}

/** What a request was found to be allowed: checks further needs (cross-repo mount source). */
export interface Principal {
  user: string | undefined;
  can(need: Need): boolean;
}

const EVERYTHING: Principal = { user: undefined, can: () => true };

function basicCredentials(header: string): { user: string; password: string } | undefined {
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

export class Authenticator {
  readonly mode: 'none' | 'basic' | 'token';
  private readonly ttl: number;

  constructor(private readonly cfg: AuthConfig | undefined) {
    this.mode = cfg?.htpasswd === undefined ? 'none' : cfg.token === undefined ? 'basic' : 'token';
    this.ttl = cfg?.token?.ttlSeconds ?? TOKEN_TTL_SECONDS;
  }

  private realm(req: IncomingMessage, tls: boolean): string {
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

  /**
   * Checks a /v2 request that needs `needs` (empty for the `/v2/` base, which
   * only asks "who are you"). Returns what the caller may do, or throws 401/403.
   */
  async authorize(req: IncomingMessage, tls: boolean, needs: readonly Need[]): Promise<Principal> {
    if (this.mode === 'none') return EVERYTHING;
    const cfg = this.cfg as AuthConfig;
    const header = req.headers.authorization;
    if (header !== undefined && header.length > AUTH_HEADER_MAX) throw this.unauthorized(req, tls, needs, 'authorization header too large');
    const anonymousOk = (n: Need): boolean => cfg.anonymousPull && n.action === 'pull';

    if (this.mode === 'basic') {
      if (header === undefined || !/^basic /i.test(header)) {
        if (needs.length > 0 && needs.every(anonymousOk)) return { user: undefined, can: anonymousOk };
        throw this.unauthorized(req, tls, needs, 'authentication required');
      }
      const cred = basicCredentials(header);
      if (cred === undefined || !(await (cfg.htpasswd as Htpasswd).verify(cred.user, cred.password))) {
        throw this.unauthorized(req, tls, needs, 'invalid username or password');
      }
      return { user: cred.user, can: () => true };
    }

    const t = cfg.token as NonNullable<AuthConfig['token']>;
    if (header === undefined || !/^bearer /i.test(header)) throw this.unauthorized(req, tls, needs, 'authentication required');
    const claims = verifyToken(header.slice(7).trim(), t.key, t.issuer, t.issuer);
    if (typeof claims === 'string') throw this.unauthorized(req, tls, needs, claims, 'invalid_token');
    const p: Principal = { user: claims.sub || undefined, can: (n) => tokenAllows(claims, n.type, n.name, n.action) };
    if (!needs.every((n) => p.can(n))) throw this.denied(req, tls, needs);
    return p;
  }

  /** A check after authorize() (the manifest or upload handler learns of a further need). */
  require(req: IncomingMessage, tls: boolean, p: Principal, needs: readonly Need[]): void {
    if (!needs.every((n) => p.can(n))) throw this.denied(req, tls, needs);
  }

  /**
   * The token endpoint: `GET /token?service=…&scope=repository:foo:pull,push&scope=…`,
   * with basic credentials or none. Grants the scopes the caller may have.
   */
  async issueToken(req: IncomingMessage, tls: boolean, query: URLSearchParams): Promise<Record<string, unknown>> {
    if (this.mode !== 'token') throw new RegistryError('UNSUPPORTED', 404, 'this registry issues no tokens');
    const cfg = this.cfg as AuthConfig;
    const t = cfg.token as NonNullable<AuthConfig['token']>;
    const header = req.headers.authorization;
    let user: string | undefined;
    if (header !== undefined && /^basic /i.test(header) && header.length <= AUTH_HEADER_MAX) {
      const cred = basicCredentials(header);
      if (cred === undefined || !(await (cfg.htpasswd as Htpasswd).verify(cred.user, cred.password))) {
        throw new RegistryError('UNAUTHORIZED', 401, 'invalid username or password', undefined, {
          'WWW-Authenticate': `Basic realm="${this.realm(req, tls)}"`,
        });
      }
      user = cred.user;
    } else if (!cfg.anonymousPull) {
      throw new RegistryError('UNAUTHORIZED', 401, 'authentication required', undefined, {
        'WWW-Authenticate': `Basic realm="${this.realm(req, tls)}"`,
      });
    }
    const access: Grant[] = [];
    for (const raw of query.getAll('scope').flatMap((s) => s.split(' '))) {
      const g = parseScope(raw);
      if (g === undefined) continue;
      let allowed: string[];
      if (g.type === 'repository') {
        allowed = user !== undefined ? g.actions.filter((a) => ['pull', 'push', 'delete', '*'].includes(a)) : g.actions.filter((a) => a === 'pull');
      } else if (g.type === 'registry' && g.name === 'catalog') {
        allowed = user !== undefined || cfg.anonymousPull ? g.actions.filter((a) => a === '*') : [];
      } else {
        allowed = [];
      }
      if (allowed.length > 0) access.push({ type: g.type, name: g.name, actions: allowed });
    }
    const now = Math.floor(Date.now() / 1000);
    const claims: TokenClaims = {
      iss: t.issuer,
      sub: user ?? '',
      aud: t.issuer,
      exp: now + this.ttl,
      nbf: now - 1,
      iat: now,
      jti: randomBytes(16).toString('hex'),
      access,
    };
    const token = signToken(claims, t.key);
    return { token, access_token: token, expires_in: this.ttl, issued_at: new Date(now * 1000).toISOString() };
  }
}
