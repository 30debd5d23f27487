/**
 * runtime/userns: the OCI side of a user namespace — the `user` namespace
 * entry and linux.uidMappings/gidMappings (runc writes them to uid_map and
 * gid_map). A SpecOpt like those in runtime/spec.ts; never decides who gets one.
 */
import type { IdMap } from '../util/idmap.js';
import type { SpecOpt } from './spec.js';

export function withUserNamespace(map: IdMap): SpecOpt {
  return (spec) => {
    if (!spec.linux.namespaces.some((n) => n.type === 'user')) spec.linux.namespaces.push({ type: 'user' });
    spec.linux.uidMappings = map.uids.map((m) => ({ ...m }));
    spec.linux.gidMappings = map.gids.map((m) => ({ ...m }));
  };
}
