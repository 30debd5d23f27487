/**
 * util/peerCred: who is on the other end of an accepted unix socket — pid, uid
 * and gid as the kernel recorded them at connect() (SO_PEERCRED). Node has no
 * API for it, so this loads the tiny N-API addon in native/peercred (built by
 * scripts/setup.sh). Owns loading that addon; never throws for a missing addon
 * (callers learn it from `peerCredAvailable()` and log without a uid).
 */
import type { Socket } from 'node:net';
import { loadNativeAddon } from './nativeAddon.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

interface Addon {
  peerCred(fd: number): PeerCred;
}

let addon: Addon | null | undefined;

function load(): Addon | null {
  if (addon === undefined) addon = loadNativeAddon<Addon>('peercred');
  return addon;
}

/** Whether SO_PEERCRED can be read (the addon is built and loads). */
export function peerCredAvailable(): boolean {
  return load() !== null;
}

/**
 * The peer of an accepted unix socket, or null when it cannot be known (no
 * addon, or the socket has no fd any more). Call it on `connection`: the
 * credentials are those of the connecting process at connect() time.
 */
export function peerCredOf(socket: Socket): PeerCred | null {
  const a = load();
  // libuv exposes the descriptor of a pipe handle as `fd`; there is no public accessor.
  const fd = (socket as unknown as { _handle?: { fd?: number } | null })._handle?.fd;
  if (a === null || typeof fd !== 'number' || fd < 0) return null;
  try {
    return a.peerCred(fd);
  } catch {
    return null;
  }
}
