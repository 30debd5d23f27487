/**
 * containers/containerStore: persistence of container records (one JSON doc a
 * row in SQLite) and lookup by ID, name or unique ID prefix, with Docker's
 * "No such container" wording. Knows nothing of processes.
 */
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errdefs/errors.js';
import type { Db } from '../metadata/db.js';
import type { ContainerRecord } from './types.js';

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validateName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new InvalidArgumentError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.startsWith('/') ? name : `/${name}`;
}

export class ContainerStore {
  constructor(private readonly db: Db) {}

  insert(c: ContainerRecord): void {
    try {
      this.db
        .prepare('INSERT INTO containers (id, name, image_id, created, doc) VALUES (?, ?, ?, ?, ?)')
        .run(c.Id, c.Name, c.Image, c.Created, JSON.stringify(c));
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
    this.db.prepare('UPDATE containers SET name = ?, doc = ? WHERE id = ?').run(c.Name, JSON.stringify(c), c.Id);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM containers WHERE id = ?').run(id);
  }

  get(id: string): ContainerRecord | null {
    const row = this.db.prepare('SELECT doc FROM containers WHERE id = ?').get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as ContainerRecord) : null;
  }

  byName(name: string): ContainerRecord | null {
    const n = name.startsWith('/') ? name : `/${name}`;
    const row = this.db.prepare('SELECT doc FROM containers WHERE name = ?').get(n) as { doc: string } | undefined;
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
      const rows = this.db.prepare('SELECT doc FROM containers WHERE id LIKE ? LIMIT 2').all(`${ref}%`) as { doc: string }[];
      if (rows.length > 1) throw new InvalidArgumentError(`multiple IDs found with provided prefix: ${ref}`);
      if (rows[0]) return JSON.parse(rows[0].doc) as ContainerRecord;
    }
    throw new NotFoundError(`No such container: ${ref}`);
  }

  list(): ContainerRecord[] {
    return (this.db.prepare('SELECT doc FROM containers ORDER BY created DESC').all() as { doc: string }[]).map(
      (r) => JSON.parse(r.doc) as ContainerRecord,
    );
  }

  usingImage(imageId: string): string[] {
    return (this.db.prepare('SELECT id FROM containers WHERE image_id = ?').all(imageId) as { id: string }[]).map((r) => r.id);
  }
}
