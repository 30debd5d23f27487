/**
 * distribution/credentials: where registry credentials come from — the
 * docker CLI's `X-Registry-Auth` header, and `~/.docker/config.json` (so
 * docker and berth share logins). Reads only; `login` writes through
 * saveCredentials.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';

export interface AuthConfig {
  username?: string;
  password?: string;
  /** OAuth refresh token from an earlier login (Docker's "identitytoken"). */
  identitytoken?: string;
  /** A bearer token to use as is. */
  registrytoken?: string;
  serveraddress?: string;
}

/** Docker Hub's historical key in config.json. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/** Decodes `X-Registry-Auth` (base64url JSON; empty or `{}` means anonymous). */
export function decodeRegistryAuth(header: string | undefined): AuthConfig | undefined {
  if (!header) return undefined;
  try {
    const json = Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    const v = JSON.parse(json) as unknown;
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    const pick = (k: string): string | undefined => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
    const out: AuthConfig = {};
    const u = pick('username');
    const p = pick('password');
    const it = pick('identitytoken');
    const rt = pick('registrytoken');
    const sa = pick('serveraddress');
    if (u) out.username = u;
    if (p) out.password = p;
    if (it) out.identitytoken = it;
    if (rt) out.registrytoken = rt;
    if (sa) out.serveraddress = sa;
    return Object.keys(out).length > 0 ? out : undefined;
  } catch {
    return undefined;
  }
}

export function configKey(domain: string): string {
  return domain === 'docker.io' ? DOCKER_HUB_AUTH_KEY : domain;
}

export function dockerConfigPath(): string {
  const dir = process.env['DOCKER_CONFIG'] ?? join(homedir(), '.docker');
  return join(dir, 'config.json');
}

interface ConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  [k: string]: unknown;
}

async function readConfig(path: string): Promise<ConfigFile> {
  try {
    const text = await readFile(path, 'utf8');
    if (text.length > 1024 * 1024) return {};
    return JSON.parse(text) as ConfigFile;
  } catch {
    return {};
  }
}

/** Credentials stored for `domain` in the docker config file, if any. */
export async function storedCredentials(domain: string, path = dockerConfigPath()): Promise<AuthConfig | undefined> {
  const cfg = await readConfig(path);
  const auths = cfg.auths ?? {};
  const keys = [configKey(domain), domain, `https://${domain}`, `http://${domain}`];
  for (const k of keys) {
    const e = auths[k];
    if (!e) continue;
    if (e.auth) {
      const plain = Buffer.from(e.auth, 'base64').toString('utf8');
      const i = plain.indexOf(':');
      if (i > 0) {
        // docker login to a token server keeps "user:" in auth and the refresh token beside it.
        const out: AuthConfig = { username: plain.slice(0, i), password: plain.slice(i + 1), serveraddress: domain };
        if (e.identitytoken) out.identitytoken = e.identitytoken;
        return out;
      }
    }
    if (e.identitytoken) return { identitytoken: e.identitytoken, serveraddress: domain };
    if (e.username && e.password) return { username: e.username, password: e.password, serveraddress: domain };
  }
  return undefined;
}

export async function saveCredentials(domain: string, auth: AuthConfig, path = dockerConfigPath()): Promise<void> {
  const cfg = await readConfig(path);
  cfg.auths = cfg.auths ?? {};
  const entry: { auth: string; identitytoken?: string } = { auth: Buffer.from(`${auth.username ?? ''}:${auth.password ?? ''}`).toString('base64') };
  if (auth.identitytoken) entry.identitytoken = auth.identitytoken;
  cfg.auths[configKey(domain)] = entry;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, `${JSON.stringify(cfg, null, '\t')}\n`, 0o600);
}

export async function removeCredentials(domain: string, path = dockerConfigPath()): Promise<boolean> {
  const cfg = await readConfig(path);
  const key = configKey(domain);
  if (!cfg.auths?.[key]) return false;
  delete cfg.auths[key];
  await writeFileAtomic(path, `${JSON.stringify(cfg, null, '\t')}\n`, 0o600);
  return true;
}
