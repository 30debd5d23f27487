/**
 * build/scopedPath: moby/sys/symlink's FollowSymlinkInScope, over any tree —
 * the build context's index or a mounted image root. A path is resolved
 * component by component; a symlink restarts at the root when absolute and
 * `..` never climbs above the root, so no symlink can lead a read or a write
 * out of the tree. Pure: the caller supplies `lstat`.
 */
import { InvalidArgumentError } from '../errdefs/errors.js';
import { MAX_SYMLINK_HOPS } from './limits.js';

/** What resolution needs to know of one path (relative, no leading slash; '' is the root). */
export type LstatFn = (rel: string) => { symlink: false } | { symlink: true; target: string } | null;

/** path.posix.normalize for absolute paths, without importing node:path into a pure module. */
export function cleanAbs(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/** True when joining `p` to a root and cleaning it leaves the root (`../x`, `a/../../x`). */
export function escapesRoot(p: string): boolean {
  let depth = 0;
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (--depth < 0) return true;
    } else depth++;
  }
  return false;
}

/**
 * Resolves `path` (relative to the root, or absolute meaning the root) following every
 * symlink in scope, the last component included. Returns the resolved path relative to the
 * root ('' for the root). Components that do not exist are accepted as they are.
 */
export function resolveInScope(path: string, lstat: LstatFn): string {
  let rest = cleanAbs(`/${path}`).slice(1);
  let done: string[] = [];
  let hops = 0;
  while (rest !== '') {
    const i = rest.indexOf('/');
    const p = i === -1 ? rest : rest.slice(0, i);
    rest = i === -1 ? '' : rest.slice(i + 1);
    if (p === '' || p === '.') continue;
    if (p === '..') {
      done.pop();
      continue;
    }
    const candidate = [...done, p].join('/');
    const st = lstat(candidate);
    if (st === null || !st.symlink) {
      done.push(p);
      continue;
    }
    if (++hops > MAX_SYMLINK_HOPS) throw new InvalidArgumentError(`too many links in ${path}`);
    if (st.target.startsWith('/')) done = [];
    rest = rest === '' ? st.target : `${st.target}/${rest}`;
  }
  return done.join('/');
}
