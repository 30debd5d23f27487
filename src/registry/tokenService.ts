/**
 * registry/tokenService: the built-in token endpoint of token mode, both
 * flavours Docker clients use (distribution's docs/spec/auth/token.md and
 * oauth.md):
 *  - `GET /token?service=…&scope=…` with basic credentials, or none for an
 *    anonymous token. With `offline_token=true` (what `docker login` sends) a
 *    logged-in user also gets a refresh token, which Docker stores as the
 *    login's "identity token" instead of the password.
 *  - `POST /token`, form-encoded, OAuth2: `grant_type=password` (username,
 *    password; `access_type=offline` adds a refresh token) and
 *    `grant_type=refresh_token` (the refresh token is given back unchanged,
 *    as the spec says).
 * Access tokens grant exactly the asked-for scopes that policy.ts allows the
 * user now. A refresh token stops working when its user leaves the htpasswd
 * file or changes password (the file is reloaded while running), or when it
 * expires. Errors of the POST form carry OAuth2's `error` field next to the
 * registry's `errors` list. Never looks at storage.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { basicCredentials, type Authenticator, type AuthConfig } from './auth.js';
import { RegistryError } from './errors.js';
import { AUTH_HEADER_MAX } from './limits.js';
import {
  parseScope,
  passwordFingerprint,
  signRefreshToken,
  signToken,
  verifyRefreshToken,
  type Grant,
  type TokenClaims,
} from './token.js';

/** An OAuth2 error (RFC 6749 §5.2) that is also a registry error, so both kinds of client read it. */
export class OAuthError extends RegistryError {
  constructor(
    status: number,
    readonly oauthCode: 'invalid_request' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_scope',
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(status === 401 ? 'UNAUTHORIZED' : 'UNSUPPORTED', status, message, undefined, headers);
  }

  override body(): string {
    const base = JSON.parse(super.body()) as Record<string, unknown>;
    return JSON.stringify({ error: this.oauthCode, error_description: this.message, ...base });
  }
}

export type TokenResponse = Record<string, string | number>;

export class TokenService {
  constructor(private readonly auth: Authenticator) {}

  /** The token settings; 404 when this registry is not in token mode (Docker clients then fall back to GET). */
  private get cfg(): NonNullable<AuthConfig['token']> {
    const t = this.auth.cfg?.token;
    if (this.auth.mode !== 'token' || t === undefined) throw new RegistryError('UNSUPPORTED', 404, 'this registry issues no tokens');
    return t;
  }

  /** Throws 404 unless this registry issues tokens (check before reading a request body). */
  ensureEnabled(): void {
    void this.cfg;
  }

  private checkService(service: string | null): void {
    if (service !== null && service !== '' && service !== this.cfg.issuer) {
      throw new OAuthError(400, 'invalid_request', `unknown service "${service}" (this token endpoint serves "${this.cfg.issuer}")`);
    }
  }

  /** The requested scopes the subject may have, as token grants. */
  private async grants(user: string | undefined, scopes: readonly string[]): Promise<Grant[]> {
    const policy = await this.auth.policy();
    const access: Grant[] = [];
    for (const raw of scopes.flatMap((s) => s.split(' '))) {
      const g = parseScope(raw);
      if (g === undefined) continue;
      const allowed = policy.grantable(user, g.type, g.name, g.actions);
      if (allowed.length > 0) access.push({ type: g.type, name: g.name, actions: allowed });
    }
    return access;
  }

  private accessToken(user: string | undefined, access: Grant[]): { token: string; now: number } {
    const t = this.cfg;
    const now = Math.floor(Date.now() / 1000);
    const claims: TokenClaims = {
      iss: t.issuer,
      sub: user ?? '',
      aud: t.issuer,
      exp: now + this.auth.ttl,
      nbf: now - 1,
      iat: now,
      jti: randomBytes(16).toString('hex'),
      access,
    };
    return { token: signToken(claims, t.key), now };
  }

  private async refreshToken(user: string, clientId: string): Promise<string> {
    const t = this.cfg;
    const hash = (await this.auth.users()).hashOf(user);
    if (hash === undefined) throw new OAuthError(401, 'invalid_grant', 'unknown user');
    const now = Math.floor(Date.now() / 1000);
    return signRefreshToken(
      {
        iss: t.issuer,
        aud: t.issuer,
        sub: user,
        iat: now,
        exp: now + this.auth.refreshTtl,
        jti: randomBytes(16).toString('hex'),
        cid: clientId,
        pwd: passwordFingerprint(t.key, user, hash),
      },
      t.key,
    );
  }

  /** The user a refresh token stands for, if it is still good. */
  private async redeem(refresh: string): Promise<string> {
    const t = this.cfg;
    const claims = verifyRefreshToken(refresh, t.key, t.issuer);
    if (typeof claims === 'string') throw new OAuthError(401, 'invalid_grant', claims);
    const hash = (await this.auth.users()).hashOf(claims.sub);
    if (hash === undefined || passwordFingerprint(t.key, claims.sub, hash) !== claims.pwd) {
      throw new OAuthError(401, 'invalid_grant', 'refresh token revoked (the user was removed or changed password)');
    }
    return claims.sub;
  }

  /** `GET /token`: basic credentials or anonymous. */
  async get(req: IncomingMessage, tls: boolean, query: URLSearchParams): Promise<TokenResponse> {
    const challenge = { 'WWW-Authenticate': `Basic realm="${this.auth.realm(req, tls)}"` };
    this.checkService(query.get('service'));
    const header = req.headers.authorization;
    let user: string | undefined;
    if (header !== undefined && /^basic /i.test(header) && header.length <= AUTH_HEADER_MAX) {
      const cred = basicCredentials(header);
      user = cred === undefined ? undefined : await this.auth.login(cred.user, cred.password);
      if (user === undefined) throw new RegistryError('UNAUTHORIZED', 401, 'invalid username or password', undefined, challenge);
    } else if (!(await this.auth.policy()).anonymousAllowed) {
      // Anonymous clients may do nothing at all here: ask for a login rather than hand out an empty token.
      throw new RegistryError('UNAUTHORIZED', 401, 'authentication required', undefined, challenge);
    }
    const { token, now } = this.accessToken(user, await this.grants(user, query.getAll('scope')));
    const out: TokenResponse = { token, access_token: token, expires_in: this.auth.ttl, issued_at: new Date(now * 1000).toISOString() };
    if (user !== undefined && query.get('offline_token') === 'true') {
      out['refresh_token'] = await this.refreshToken(user, query.get('client_id') ?? '');
    }
    return out;
  }

  /** `POST /token`: OAuth2 password and refresh_token grants; `form` is the parsed body. */
  async post(form: URLSearchParams): Promise<TokenResponse> {
    this.checkService(form.get('service'));
    const grantType = form.get('grant_type');
    const clientId = form.get('client_id') ?? '';
    let user: string;
    let refresh: string | undefined;
    if (grantType === 'password') {
      const name = form.get('username');
      const password = form.get('password');
      if (name === null || name === '' || password === null) throw new OAuthError(400, 'invalid_request', 'the password grant needs username and password');
      const ok = await this.auth.login(name, password);
      if (ok === undefined) throw new OAuthError(401, 'invalid_grant', 'invalid username or password');
      user = ok;
      if (form.get('access_type') === 'offline') refresh = await this.refreshToken(user, clientId);
    } else if (grantType === 'refresh_token') {
      const given = form.get('refresh_token');
      if (given === null || given === '') throw new OAuthError(400, 'invalid_request', 'the refresh_token grant needs refresh_token');
      user = await this.redeem(given);
      refresh = given;
    } else if (grantType === null || grantType === '') {
      throw new OAuthError(400, 'invalid_request', 'grant_type missing');
    } else {
      throw new OAuthError(400, 'unsupported_grant_type', `unsupported grant_type "${grantType}" (password or refresh_token)`);
    }
    const access = await this.grants(user, form.getAll('scope'));
    const { token, now } = this.accessToken(user, access);
    const out: TokenResponse = {
      access_token: token,
      token,
      scope: access.map((g) => `${g.type}:${g.name}:${g.actions.join(',')}`).join(' '),
      expires_in: this.auth.ttl,
      issued_at: new Date(now * 1000).toISOString(),
    };
    if (refresh !== undefined) out['refresh_token'] = refresh;
    return out;
  }
}
