/**
 * containers/containerStore: persistence of container records (one JSON doc a
 * row in SQLite) and lookup by ID, name or unique ID prefix, with Docker's
 * "No such container" wording. Knows nothing of processes.
 *
 * `listView()` serves lists (`ps`, `info`) from a write-through cache of
 * parsed, deep-frozen records: this store is the only writer of the table
 * (one daemon per data root), so a list costs no SQLite read and no
 * JSON.parse of records that did not change. Records from get/resolve/list
 * are the caller's own copies to change and save.
 */
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errdefs/errors.js';
import type { Statement } from 'better-sqlite3';
import { StatementCache, type Db } from '../metadata/db.js';
import type { ContainerRecord } from './types.js';

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validateName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new InvalidArgumentError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.startsWith('/') ? name : `/${name}`;
}

/** Freezes a parsed record and everything in it, so a shared view cannot be changed by accident. */
function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

interface CachedRecord {
  /** The saved JSON until the record is first listed, then null (the view holds it). */
  doc: string | null;
  view: ContainerRecord | null;
}

export class ContainerStore {
  /** Every record by ID once listView() has loaded them; null before (writes then skip it). */
  private cache: Map<string, CachedRecord> | null = null;

  private readonly statements: StatementCache;

  constructor(private readonly db: Db) {
    this.statements = new StatementCache(db);
  }

  private stmt(sql: string): Statement {
    return this.statements.get(sql);
  }

  private cacheDoc(c: ContainerRecord, doc: string): void {
    this.cache?.set(c.Id, { doc, view: null });
  }

  insert(c: ContainerRecord): void {
    const doc = JSON.stringify(c);
    try {
      this.stmt('INSERT INTO containers (id, name, image_id, created, doc) VALUES (?, ?, ?, ?, ?)').run(c.Id, c.Name, c.Image, c.Created, doc);
      this.cacheDoc(c, doc);
    } catch (e) {
      if (e instanceof Error && /UNIQUE constraint failed: containers.name/.test(e.message)) {
        const other = this.byName(c.Name);
        throw new ConflictError(
          `Conflict. The container name "${c.Name}" is already in use by container "${other?.Id ?? ''}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
      throw e;
    }
  }

  /** Saves a record whose Name changed; a name in use by another container is Docker's 409. */
  rename(c: ContainerRecord): void {
    try {
      this.update(c);
    } catch (e) {
      if (e instanceof Error && /UNIQUE constraint failed: containers.name/.test(e.message)) {
        const other = this.byName(c.Name);
        throw new ConflictError(
          `Conflict. The container name "${c.Name}" is already in use by container "${other?.Id ?? ''}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
      throw e;
    }
  }

  update(c: ContainerRecord): void {
    const doc = JSON.stringify(c);
    const r = this.stmt('UPDATE containers SET name = ?, doc = ? WHERE id = ?').run(c.Name, doc, c.Id);
    if (r.changes > 0) this.cacheDoc(c, doc);
  }

  delete(id: string): void {
    this.stmt('DELETE FROM containers WHERE id = ?').run(id);
    this.cache?.delete(id);
  }

  get(id: string): ContainerRecord | null {
    const row = this.stmt('SELECT doc FROM containers WHERE id = ?').get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as ContainerRecord) : null;
  }

  byName(name: string): ContainerRecord | null {
    const n = name.startsWith('/') ? name : `/${name}`;
    const row = this.stmt('SELECT doc FROM containers WHERE name = ?').get(n) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as ContainerRecord) : null;
  }

  /** Docker's order: full ID, then exact name, then unique ID prefix. */
  resolve(ref: string): ContainerRecord {
    if (ref === '') throw new NotFoundError('No such container: ');
    const byId = this.get(ref);
    if (byId) return byId;
    const byName = this.byName(ref);
    if (byName) return byName;
    if (/^[a-f0-9]+$/.test(ref)) {
      const rows = this.stmt('SELECT doc FROM containers WHERE id LIKE ? LIMIT 2').all(`${ref}%`) as { doc: string }[];
      if (rows.length > 1) throw new InvalidArgumentError(`multiple IDs found with provided prefix: ${ref}`);
      if (rows[0]) return JSON.parse(rows[0].doc) as ContainerRecord;
    }
    throw new NotFoundError(`No such container: ${ref}`);
  }

  /**
   * Every record, newest first, as shared deep-frozen views: read them, never change them (a
   * write throws). For lists; a caller that changes a record takes it from get() or resolve().
   */
  listView(): ContainerRecord[] {
    if (this.cache === null) {
      const rows = this.stmt('SELECT id, doc FROM containers').all() as { id: string; doc: string }[];
      this.cache = new Map(rows.map((r) => [r.id, { doc: r.doc, view: null }]));
    }
    const out: ContainerRecord[] = [];
    for (const e of this.cache.values()) {
      if (e.view === null) {
        e.view = deepFreeze(JSON.parse(e.doc as string) as ContainerRecord);
        e.doc = null;
      }
      out.push(e.view);
    }
    // Newest first, as ORDER BY created DESC (ISO timestamps sort as strings).
    return out.sort((a, b) => (a.Created < b.Created ? 1 : a.Created > b.Created ? -1 : 0));
  }

  list(): ContainerRecord[] {
    return (this.stmt('SELECT doc FROM containers ORDER BY created DESC').all() as { doc: string }[]).map(
      (r) => JSON.parse(r.doc) as ContainerRecord,
    );
  }

  usingImage(imageId: string): string[] {
    return (this.stmt('SELECT id FROM containers WHERE image_id = ?').all(imageId) as { id: string }[]).map((r) => r.id);
  }
}
