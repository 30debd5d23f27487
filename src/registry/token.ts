/**
 * registry/token: the tokens of the built-in token endpoint, both signed with
 * one secret key (kept in `<root>/token.key`, mode 0600, so tokens survive a
 * restart; the registry both issues and checks them, so HMAC is enough):
 *  - access tokens: JWTs (HS256, node:crypto) carrying Docker's `access`
 *    claim, a list of {type, name, actions} grants; short-lived;
 *  - refresh tokens (OAuth2, Docker's "identity token" after `docker login`):
 *    long-lived, naming only the user, plus a keyed fingerprint of the user's
 *    password hash so that changing the password (or removing the user)
 *    revokes them. Their header differs from an access token's, so one can
 *    never be used in place of the other.
 * Pure apart from reading/creating that key file.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { TOKEN_LEEWAY_SECONDS } from './limits.js';

export interface Grant {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: Grant[];
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
const REFRESH_HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'berth-refresh' }));

export interface RefreshClaims {
  iss: string;
  aud: string;
  sub: string;
  iat: number;
  exp: number;
  jti: string;
  /** The client that asked (OAuth2 client_id), for the record. */
  cid: string;
  /** Keyed fingerprint of the user's password hash when the token was issued. */
  pwd: string;
}

/** A fingerprint of a password hash that cannot be checked against guesses without `key`. */
export function passwordFingerprint(key: Buffer, user: string, passwordHash: string): string {
  return createHmac('sha256', key).update('refresh\0').update(user).update('\0').update(passwordHash).digest('base64url').slice(0, 22);
}

export function signRefreshToken(claims: RefreshClaims, key: Buffer): string {
  const body = `${REFRESH_HEADER}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

/** The claims of a valid refresh token for `service`, or why it is not one (expiry and signature checked; revocation is the caller's). */
export function verifyRefreshToken(token: string, key: Buffer, service: string, nowSeconds = Math.floor(Date.now() / 1000)): RefreshClaims | string {
  const parts = token.split('.');
  if (parts.length !== 3) return 'malformed refresh token';
  const [h, p, s] = parts as [string, string, string];
  if (h !== REFRESH_HEADER) return 'not a refresh token';
  if (!signatureOk(`${h}.${p}`, s, key)) return 'bad refresh token signature';
  let c: RefreshClaims;
  try {
    c = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as RefreshClaims;
  } catch {
    return 'malformed refresh token claims';
  }
  if (c.iss !== service || c.aud !== service) return 'refresh token for another service';
  if (typeof c.exp !== 'number' || c.exp < nowSeconds) return 'refresh token expired';
  if (typeof c.sub !== 'string' || c.sub === '' || typeof c.pwd !== 'string') return 'malformed refresh token claims';
  return c;
}

function signatureOk(body: string, sig: string, key: Buffer): boolean {
  const want = createHmac('sha256', key).update(body).digest();
  const got = Buffer.from(sig, 'base64url');
  return got.length === want.length && timingSafeEqual(got, want);
}

export function signToken(claims: TokenClaims, key: Buffer): string {
  const body = `${HEADER}.${b64url(JSON.stringify(claims))}`;
  const sig = createHmac('sha256', key).update(body).digest('base64url');
  return `${body}.${sig}`;
}

/** The claims of a valid token for `issuer`/`audience`, or a reason it is not valid. */
export function verifyToken(
  token: string,
  key: Buffer,
  issuer: string,
  audience: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): TokenClaims | string {
  const parts = token.split('.');
  if (parts.length !== 3) return 'malformed token';
  const [h, p, s] = parts as [string, string, string];
  if (h !== HEADER) return 'unsupported token header';
  if (!signatureOk(`${h}.${p}`, s, key)) return 'bad token signature';
  let c: TokenClaims;
  try {
    c = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    return 'malformed token claims';
  }
  if (c.iss !== issuer) return 'token from another issuer';
  if (c.aud !== audience) return 'token for another service';
  if (typeof c.exp !== 'number' || c.exp + TOKEN_LEEWAY_SECONDS < nowSeconds) return 'token expired';
  if (typeof c.nbf === 'number' && c.nbf - TOKEN_LEEWAY_SECONDS > nowSeconds) return 'token not yet valid';
  if (!Array.isArray(c.access)) return 'token without access claim';
  return c;
}

/** Whether `claims` allow `action` on resource `type`/`name` (`*` allows all). */
export function tokenAllows(claims: TokenClaims, type: string, name: string, action: string): boolean {
  return claims.access.some(
    (g) => g.type === type && g.name === name && Array.isArray(g.actions) && (g.actions.includes(action) || g.actions.includes('*')),
  );
}

/** Reads the signing key, creating a random one (0600) the first time. */
export async function loadOrCreateKey(path: string): Promise<Buffer> {
  try {
    const k = await readFile(path);
    if (k.length >= 32) return k;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const k = randomBytes(32);
  try {
    await writeFile(path, k, { mode: 0o600, flag: 'wx' });
    return k;
  } catch (e) {
    // Another process created it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readFile(path);
    throw e;
  }
}

/** Parses `repository:foo/bar:pull,push` (name may not contain ':'; the type may carry "(plugin)"). */
export function parseScope(scope: string): Grant | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  const name = scope.slice(first + 1, last);
  const actions = scope
    .slice(last + 1)
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (name === '') return undefined;
  return { type, name, actions };
}
