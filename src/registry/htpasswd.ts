/**
 * registry/htpasswd: users and bcrypt password hashes from an htpasswd file
 * (`htpasswd -B`), as distribution accepts them. bcrypt is deliberately slow
 * (and bcryptjs is pure JS), so a successful check is remembered for
 * AUTH_CACHE_MS under a keyed hash of user+password: clients using basic auth
 * send it on every request. Never logs or stores a password.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errdefs/errors.js';
import { AUTH_CACHE_MS } from './limits.js';

const BCRYPT_RE = /^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$/;

export class Htpasswd {
  private readonly cacheKey = randomBytes(32);
  private readonly verified = new Map<string, number>();

  private constructor(private readonly users: ReadonlyMap<string, string>) {}

  static parse(text: string, source = 'htpasswd'): Htpasswd {
    const users = new Map<string, string>();
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new InvalidArgumentError(`${source}:${i + 1}: expected "user:hash"`);
      const user = line.slice(0, colon);
      const hash = line.slice(colon + 1);
      if (!BCRYPT_RE.test(hash)) {
        throw new InvalidArgumentError(`${source}:${i + 1}: user "${user}" has no bcrypt hash (create it with "htpasswd -B")`);
      }
      users.set(user, hash);
    });
    return new Htpasswd(users);
  }

  get size(): number {
    return this.users.size;
  }

  /** The stored bcrypt hash of `user` (refresh tokens are bound to it), or undefined for no such user. */
  hashOf(user: string): string | undefined {
    return this.users.get(user);
  }

  async verify(user: string, password: string, now = Date.now()): Promise<boolean> {
    const hash = this.users.get(user);
    if (hash === undefined) return false;
    const key = createHmac('sha256', this.cacheKey).update(user).update('\0').update(password).digest('base64');
    const until = this.verified.get(key);
    if (until !== undefined && until > now) return true;
    // Loaded on the first login only: a registry without users never needs it.
    const { default: bcrypt } = await import('bcryptjs');
    const ok = await bcrypt.compare(password, hash);
    if (ok) {
      if (this.verified.size > 10000) this.verified.clear();
      this.verified.set(key, now + AUTH_CACHE_MS);
    }
    return ok;
  }
}
