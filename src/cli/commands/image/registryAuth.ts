/**
 * cli/commands/image/registryAuth: the client side of registry credentials,
 * as the docker CLI does it — the config file (`$DOCKER_CONFIG/config.json`,
 * else `~/.docker/config.json`, shared with docker), the key a registry's
 * credentials live under (Docker Hub's historical URL, else host[:port]),
 * and the `X-Registry-Auth` header made from them. Reads and writes only
 * that file; never talks to the daemon.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DOCKER_HUB_AUTH_KEY, storedCredentials } from '../../../distribution/credentials.js';
import type { Reference } from '../../../reference/index.js';
import { encodeAuthConfig, type RegistryAuthConfig } from './imageApi.js';

/** The docker CLI's config file, as this process's environment names it. */
export function dockerConfigFile(env: NodeJS.ProcessEnv): string {
  return join(env['DOCKER_CONFIG'] || join(homedir(), '.docker'), 'config.json');
}

/** getAuthConfigKey: Docker Hub's credentials live under its v1 URL. */
export function authConfigKey(domain: string): string {
  return domain === 'docker.io' || domain === 'index.docker.io' ? DOCKER_HUB_AUTH_KEY : domain;
}

/** credentials.ConvertToHostname: "https://host:5000/v2/" → "host:5000". */
export function convertToHostname(address: string): string {
  let s = address;
  if (s.startsWith('http://')) s = s.slice('http://'.length);
  else if (s.startsWith('https://')) s = s.slice('https://'.length);
  const slash = s.indexOf('/');
  return slash >= 0 ? s.slice(0, slash) : s;
}

/** Stored credentials for `key` (an auth config key), or an empty config naming the server. */
export async function resolveAuthConfig(env: NodeJS.ProcessEnv, key: string): Promise<RegistryAuthConfig> {
  const stored = await storedCredentials(key === DOCKER_HUB_AUTH_KEY ? 'docker.io' : key, dockerConfigFile(env));
  if (!stored) return {};
  const out: RegistryAuthConfig = { serveraddress: key };
  if (stored.username) out.username = stored.username;
  if (stored.password) out.password = stored.password;
  if (stored.identitytoken) out.identitytoken = stored.identitytoken;
  return out;
}

/** RetrieveAuthTokenFromImage: the `X-Registry-Auth` value for pulling or pushing `ref`. */
export async function registryAuthFor(env: NodeJS.ProcessEnv, ref: Reference): Promise<string> {
  return encodeAuthConfig(await resolveAuthConfig(env, authConfigKey(ref.domain)));
}
