/**
 * images/archive/memberPaths: names inside an image archive (`docker save`
 * tar, OCI layout) as plain keys. A member path is untrusted: it is cleaned
 * like Go's path.Clean relative to the archive root, and one that climbs out
 * of the root is refused. Links inside the archive (old `docker save` tars
 * point duplicate layers at each other with symlinks) are resolved through a
 * table, component by component, never through a filesystem. Pure; this
 * module never touches the disk.
 */
import { InvalidArgumentError } from '../../errdefs/errors.js';

/** Most link hops followed while resolving one path (Linux's MAXSYMLINKS). */
const MAX_LINK_HOPS = 40;

function escapes(name: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid archive: member "${name}" points outside the archive`);
}

/** Cleans `parts` onto `base` (already clean); throws when ".." climbs above the root. */
function cleanOnto(base: string[], path: string, original: string): string[] {
  const out = [...base];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (out.length === 0) throw escapes(original);
      out.pop();
      continue;
    }
    out.push(p);
  }
  return out;
}

/**
 * The clean, root-relative key of a member name: "./blobs//sha256/x" →
 * "blobs/sha256/x". A leading "/" means the archive root (as Docker's loader
 * treats it); ".." above the root and NUL bytes are refused.
 */
export function cleanMemberPath(name: string): string {
  if (name.includes('\0')) throw new InvalidArgumentError('invalid archive: a member name contains a NUL byte');
  return cleanOnto([], name, name).join('/');
}

export type LinkKind = 'symlink' | 'hardlink';

/** The members of an archive that are links, and how to resolve a path through them. */
export class LinkTable {
  private readonly links = new Map<string, { kind: LinkKind; target: string }>();

  /** Records `name` (a clean key) as a link to `target` (as stored in the tar header). */
  add(name: string, kind: LinkKind, target: string): void {
    if (target.includes('\0')) throw new InvalidArgumentError(`invalid archive: link "${name}" has a NUL byte in its target`);
    this.links.set(name, { kind, target });
  }

  /** A regular member replacing an earlier link of the same name. */
  remove(name: string): void {
    this.links.delete(name);
  }

  get size(): number {
    return this.links.size;
  }

  /**
   * The key `path` names once every link on the way is followed. Symlink
   * targets are relative to the link's directory ("/" is the archive root);
   * hardlink targets are relative to the root. Throws when a target climbs
   * out of the root or links loop.
   */
  resolve(path: string): string {
    let parts = cleanOnto([], path, path);
    let hops = 0;
    for (let i = 0; i < parts.length; i++) {
      const key = parts.slice(0, i + 1).join('/');
      const link = this.links.get(key);
      if (link === undefined) continue;
      if (++hops > MAX_LINK_HOPS) throw new InvalidArgumentError(`invalid archive: too many levels of links resolving "${path}"`);
      const dir = link.kind === 'symlink' && !link.target.startsWith('/') ? parts.slice(0, i) : [];
      const target = cleanOnto(dir, link.target, key);
      parts = [...target, ...parts.slice(i + 1)];
      // Start over: the target itself may run through links.
      i = -1;
    }
    return parts.join('/');
  }
}
