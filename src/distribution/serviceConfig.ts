/**
 * distribution/serviceConfig: the `RegistryConfig` object of `GET /info`, in
 * moby's registry.ServiceConfig shape, from the daemon's --insecure-registry
 * and --registry-mirror settings (the docker CLI prints "Insecure Registries"
 * and "Registry Mirrors" from it). Describes settings only; decides nothing.
 */
import { isCidr } from './insecure.js';
import type { RegistryOptions } from './registryClient.js';

interface IndexInfo {
  Name: string;
  Mirrors: string[];
  Secure: boolean;
  Official: boolean;
}

/** moby normalises mirror URLs to end in "/". */
const mirrorUrl = (u: string): string => (u.endsWith('/') ? u : `${u}/`);

export function registryServiceConfig(opts: RegistryOptions): Record<string, unknown> {
  const insecure = opts.insecureRegistries ?? [];
  const mirrors = opts.mirrors ?? {};
  const hub = (mirrors['docker.io'] ?? []).map(mirrorUrl);
  const indexConfigs: Record<string, IndexInfo> = { 'docker.io': { Name: 'docker.io', Mirrors: hub, Secure: true, Official: true } };
  for (const name of insecure.filter((n) => !isCidr(n))) {
    indexConfigs[name] = { Name: name, Mirrors: (mirrors[name] ?? []).map(mirrorUrl), Secure: false, Official: false };
  }
  // berth mirrors any registry (B-row on mirrors): each one's mirrors show under its own index.
  for (const [name, urls] of Object.entries(mirrors)) {
    if (name === 'docker.io' || indexConfigs[name]) continue;
    indexConfigs[name] = { Name: name, Mirrors: urls.map(mirrorUrl), Secure: true, Official: false };
  }
  return {
    // As moby: the listed CIDRs, then the loopback ones it always adds.
    InsecureRegistryCIDRs: [...insecure.filter(isCidr), '::1/128', '127.0.0.0/8'],
    IndexConfigs: indexConfigs,
    Mirrors: hub,
  };
}
