/**
 * daemon/unixSocket: binds an API server to a unix socket path so that the
 * socket is never reachable with more than its final mode, not even between
 * bind() and chmod(). bind() creates the socket file with 0777 & ~umask, so
 * the socket is bound inside a fresh 0700 directory next to the target, given
 * its owner and mode there, and only then renamed into place (rename is
 * atomic and replaces a stale socket or symlink itself, never a symlink's
 * target). Owns that sequence; never decides the mode or group.
 */
import { chmod, chown, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import type { Server } from 'node:net';
import { dirname, join } from 'node:path';

/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SUN_PATH = 107;

export interface BoundSocket {
  path: string;
  /** Inode at bind time: close() removes the path only while it is still this socket. */
  ino: number;
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Listens on `path` with owner `uid:gid` and `mode`. `onBound` (tests) sees
 * the path the socket was first bound at.
 */
export async function listenUnixSocket(
  server: Server,
  path: string,
  owner: { uid: number; gid: number },
  mode: number,
  onBound?: (boundAt: string) => void,
): Promise<BoundSocket> {
  if (Buffer.byteLength(path) > MAX_SUN_PATH) throw new Error(`unix socket path "${path}" is longer than ${MAX_SUN_PATH} bytes`);
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const privateDir = await mkdtemp(join(dir, '.berthd-'));
  try {
    let bindPath = join(privateDir, 's');
    if (Buffer.byteLength(bindPath) > MAX_SUN_PATH) {
      // The detour does not fit in sun_path: bind in place under a umask that leaves
      // only the owner (root) any access until chmod. bind() runs synchronously inside
      // listen(), so the umask is restored before any other code of ours runs.
      bindPath = path;
      await rm(path, { force: true });
      const old = process.umask(0o177);
      try {
        server.listen(path);
      } finally {
        process.umask(old);
      }
      await new Promise<void>((resolve, reject) => {
        if (server.listening) return resolve();
        server.once('listening', resolve);
        server.once('error', reject);
      });
    } else {
      await listen(server, bindPath);
    }
    onBound?.(bindPath);
    await chown(bindPath, owner.uid, owner.gid);
    await chmod(bindPath, mode);
    if (bindPath !== path) await rename(bindPath, path);
    return { path, ino: (await stat(path)).ino };
  } catch (e) {
    if (server.listening) await new Promise<void>((r) => server.close(() => r()));
    throw e;
  } finally {
    await rm(privateDir, { recursive: true, force: true });
  }
}

/** Removes the socket file if it is still the one we bound (a newer daemon may own the path). */
export async function removeUnixSocket(s: BoundSocket): Promise<void> {
  const st = await stat(s.path).catch(() => null);
  if (st !== null && st.ino === s.ino && st.isSocket()) await rm(s.path, { force: true });
}
