/**
 * snapshots/: the overlay snapshotter (D5). A snapshot is a directory
 * `<root>/<dir>/fs` (+ `work` for active ones); committed snapshots are the
 * read-only image layers, active ones are layers being unpacked or container
 * upper dirs. Parents form chains; mounts use short relative links
 * (`l/<link>` → `../<dir>/fs`) with `cwd = root` so that a long chain fits the
 * 4096-byte mount option page (kernel-recipes §1: 500 layers fit).
 * Returns mount specs; never mounts anything itself.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errdefs/errors.js';
import { StatementCache, type Db } from '../metadata/db.js';
import { removeFileSync } from '../util/smallFiles.js';
import type { Trash } from '../util/trash.js';
import { nativeEngine } from '../util/nativeEngine.js';

export interface Mount {
  type: string;
  source: string;
  options: string[];
  /** Directory the mount must be made from: options hold paths relative to it. */
  cwd?: string;
}

export interface SnapshotInfo {
  key: string;
  parent: string | null;
  kind: 'active' | 'committed';
  size: number;
  created: string;
}

interface Row {
  key: string;
  dir: number;
  parent: string | null;
  kind: 'active' | 'committed';
  link: string;
  size: number;
  created: string;
}

/** Kernel limit on overlay lower layers (kernel-recipes §1). */
export const MAX_LOWER_LAYERS = 500;

/**
 * Marks the snapshot root as the top of directory hierarchies (ext4's chattr +T), so each
 * snapshot's directory goes to a block group of its own choosing (the Orlov allocator, as
 * for directories in /) instead of its parent's group: on ext4 without a journal, every
 * file created in a group first steps over each inode deleted there in the last 1-6
 * minutes, so a pull after an rmi paid ~1 s of kernel time per 3,000 files (decisions
 * B87). A file system without the flag, or no addon: nothing changes.
 */
function spreadSnapshots(root: string): void {
  try {
    nativeEngine()?.setTopDir?.(root);
  } catch {
    // Only a placement hint: the snapshots work the same without it.
  }
}

export class OverlaySnapshotter {
  private readonly sql: StatementCache;

  constructor(
    readonly root: string,
    private readonly db: Db,
    /** Where removed snapshots' directories go to be deleted in the background; without it, deleted in place. */
    private readonly trash?: Trash,
  ) {
    this.sql = new StatementCache(db);
  }

  async init(): Promise<void> {
    await mkdir(join(this.root, 'l'), { recursive: true });
    spreadSnapshots(this.root);
  }

  private row(key: string): Row | undefined {
    return this.sql.get('SELECT * FROM snapshots WHERE key = ?').get(key) as Row | undefined;
  }

  stat(key: string): SnapshotInfo | null {
    const r = this.row(key);
    if (!r) return null;
    return { key: r.key, parent: r.parent, kind: r.kind, size: r.size, created: r.created };
  }

  /** Directory holding the snapshot's own files (write layer content here while active). */
  fsPath(key: string): string {
    const r = this.row(key);
    if (!r) throw new NotFoundError(`snapshot ${key} does not exist`);
    return join(this.root, String(r.dir), 'fs');
  }

  /**
   * Creates an active snapshot on top of `parent` (a committed snapshot or null).
   * Throws ConflictError if `key` exists.
   */
  async prepare(key: string, parent: string | null): Promise<Mount[]> {
    const link = randomBytes(5).toString('hex');
    const insert = this.db.transaction((): number => {
      if (this.row(key)) throw new ConflictError(`snapshot ${key} already exists`);
      if (parent !== null) {
        const p = this.row(parent);
        if (!p) throw new NotFoundError(`parent snapshot ${parent} does not exist`);
        if (p.kind !== 'committed') throw new InvalidArgumentError(`parent snapshot ${parent} is not committed`);
      }
      const next = (this.sql.get('SELECT COALESCE(MAX(dir), 0) + 1 AS n FROM snapshots').get() as { n: number }).n;
      this.sql
        .get('INSERT INTO snapshots (key, dir, parent, kind, link, size, created) VALUES (?, ?, ?, ?, ?, 0, ?)')
        .run(key, next, parent, 'active', link, new Date().toISOString());
      return next;
    });
    const dir = insert();
    try {
      // Synchronous: three metadata operations on the path of every container create (B86).
      mkdirSync(join(this.root, String(dir), 'fs'), { recursive: true, mode: 0o755 });
      mkdirSync(join(this.root, String(dir), 'work'), { recursive: true, mode: 0o700 });
      symlinkSync(join('..', String(dir), 'fs'), join(this.root, 'l', link));
    } catch (e) {
      this.sql.get('DELETE FROM snapshots WHERE key = ?').run(key);
      await rm(join(this.root, String(dir)), { recursive: true, force: true });
      throw e;
    }
    return this.mounts(key);
  }

  /**
   * Turns active snapshot `key` into committed snapshot `name`. `parent`
   * re-parents it: a layer can be unpacked on its own (its directory does not
   * depend on the layers below) and put on its chain at commit, which lets a
   * pull unpack layers in parallel.
   */
  commit(name: string, key: string, size: number, parent?: string | null): void {
    this.db.transaction(() => {
      const r = this.row(key);
      if (!r) throw new NotFoundError(`snapshot ${key} does not exist`);
      if (r.kind !== 'active') throw new InvalidArgumentError(`snapshot ${key} is not active`);
      if (this.row(name)) throw new ConflictError(`snapshot ${name} already exists`);
      if (parent !== undefined && parent !== null) {
        const p = this.row(parent);
        if (!p || p.kind !== 'committed') throw new InvalidArgumentError(`parent snapshot ${parent} is not committed`);
      }
      const newParent = parent === undefined ? r.parent : parent;
      this.sql.get("UPDATE snapshots SET key = ?, kind = 'committed', size = ?, parent = ? WHERE key = ?").run(name, size, newParent, key);
    })();
    // The work dir is only for active overlay uppers; committed layers never get one mounted.
  }

  /** The parent chain of `key`, nearest first. */
  private chain(key: string): Row[] {
    const out: Row[] = [];
    let cur = this.row(key);
    if (!cur) throw new NotFoundError(`snapshot ${key} does not exist`);
    while (cur.parent !== null) {
      const p = this.row(cur.parent);
      if (!p) throw new NotFoundError(`snapshot ${cur.parent} does not exist`);
      out.push(p);
      cur = p;
    }
    return out;
  }

  mounts(key: string): Mount[] {
    const r = this.row(key);
    if (!r) throw new NotFoundError(`snapshot ${key} does not exist`);
    const parents = this.chain(key);
    if (parents.length > MAX_LOWER_LAYERS - (r.kind === 'active' ? 0 : 1)) {
      throw new InvalidArgumentError(`image has ${parents.length + 1} layers, more than the kernel's overlay limit of ${MAX_LOWER_LAYERS}`);
    }
    if (r.kind === 'active' && parents.length === 0) {
      return [{ type: 'bind', source: join(this.root, String(r.dir), 'fs'), options: ['rbind', 'rw'] }];
    }
    if (r.kind === 'committed' && parents.length === 0) {
      return [{ type: 'bind', source: join(this.root, String(r.dir), 'fs'), options: ['rbind', 'ro'] }];
    }
    const lowers = (r.kind === 'committed' ? [r, ...parents] : parents).map((p) => `l/${p.link}`);
    const options = [`lowerdir=${lowers.join(':')}`];
    if (r.kind === 'active') options.push(`upperdir=${r.dir}/fs`, `workdir=${r.dir}/work`);
    return [{ type: 'overlay', source: 'overlay', options, cwd: this.root }];
  }

  /** Removes a snapshot; ConflictError if others build on it. */
  async remove(key: string): Promise<void> {
    const r = this.row(key);
    if (!r) throw new NotFoundError(`snapshot ${key} does not exist`);
    const child = this.sql.get('SELECT key FROM snapshots WHERE parent = ? LIMIT 1').get(key) as { key: string } | undefined;
    if (child) throw new ConflictError(`snapshot ${key} has children`);
    this.sql.get('DELETE FROM snapshots WHERE key = ?').run(key);
    // Synchronous: a symlink, on the path of every --rm removal (decisions B86).
    removeFileSync(join(this.root, 'l', r.link));
    // The directory's number is free once its row is gone (prepare() takes MAX(dir) + 1):
    // the trash's rename frees the path at once as well.
    if (this.trash !== undefined) await this.trash.discard(join(this.root, String(r.dir)));
    else await rm(join(this.root, String(r.dir)), { recursive: true, force: true });
  }

  /** Keys of active snapshots (layers being unpacked, container layers). */
  listActive(): string[] {
    return (this.sql.get("SELECT key FROM snapshots WHERE kind = 'active'").all() as { key: string }[]).map((r) => r.key);
  }

  children(key: string): string[] {
    return (this.sql.get('SELECT key FROM snapshots WHERE parent = ?').all(key) as { key: string }[]).map((r) => r.key);
  }
}
