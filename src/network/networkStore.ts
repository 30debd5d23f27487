/**
 * network/networkStore: persistence of networks (table `networks`, one JSON
 * doc a row) and of containers' network state (table `container_networks`),
 * with Docker's lookup order for networks (full ID, exact name, unique ID
 * prefix). Knows nothing of devices, rules or processes.
 */
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errdefs/errors.js';
import type { Db } from '../metadata/db.js';
import type { ContainerNetDoc, NetworkRecord } from './types.js';

export class NetworkStore {
  constructor(private readonly db: Db) {}

  insert(n: NetworkRecord): void {
    try {
      this.db.prepare('INSERT INTO networks (id, name, driver, created, doc) VALUES (?, ?, ?, ?, ?)').run(n.Id, n.Name, n.Driver, n.Created, JSON.stringify(n));
    } catch (e) {
      if (e instanceof Error && /UNIQUE constraint failed: networks.name/.test(e.message)) throw new ConflictError(`network with name ${n.Name} already exists`);
      throw e;
    }
  }

  update(n: NetworkRecord): void {
    this.db.prepare('UPDATE networks SET doc = ? WHERE id = ?').run(JSON.stringify(n), n.Id);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM networks WHERE id = ?').run(id);
  }

  get(id: string): NetworkRecord | null {
    const row = this.db.prepare('SELECT doc FROM networks WHERE id = ?').get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as NetworkRecord) : null;
  }

  byName(name: string): NetworkRecord | null {
    const row = this.db.prepare('SELECT doc FROM networks WHERE name = ?').get(name) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as NetworkRecord) : null;
  }

  /** moby's findUniqueNetwork: full ID, then exact name, then a unique ID prefix; 404 "network X not found". */
  resolve(ref: string): NetworkRecord {
    if (ref === '') throw new NotFoundError('network  not found');
    const byId = this.get(ref);
    if (byId) return byId;
    const byName = this.byName(ref);
    if (byName) return byName;
    if (/^[a-f0-9]+$/.test(ref)) {
      const rows = this.db.prepare('SELECT doc FROM networks WHERE id LIKE ? LIMIT 2').all(`${ref}%`) as { doc: string }[];
      if (rows.length > 1) throw new InvalidArgumentError(`network ${ref} is ambiguous (2 matches found based on ID prefix)`);
      if (rows[0]) return JSON.parse(rows[0].doc) as NetworkRecord;
    }
    throw new NotFoundError(`network ${ref} not found`);
  }

  list(): NetworkRecord[] {
    return (this.db.prepare('SELECT doc FROM networks ORDER BY created').all() as { doc: string }[]).map((r) => JSON.parse(r.doc) as NetworkRecord);
  }

  // ---- containers' network state

  getContainer(id: string): ContainerNetDoc | null {
    const row = this.db.prepare('SELECT doc FROM container_networks WHERE container_id = ?').get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as ContainerNetDoc) : null;
  }

  putContainer(doc: ContainerNetDoc): void {
    this.db
      .prepare('INSERT INTO container_networks (container_id, doc) VALUES (?, ?) ON CONFLICT(container_id) DO UPDATE SET doc = excluded.doc')
      .run(doc.ContainerID, JSON.stringify(doc));
  }

  deleteContainer(id: string): void {
    this.db.prepare('DELETE FROM container_networks WHERE container_id = ?').run(id);
  }

  listContainers(): ContainerNetDoc[] {
    return (this.db.prepare('SELECT doc FROM container_networks').all() as { doc: string }[]).map((r) => JSON.parse(r.doc) as ContainerNetDoc);
  }
}
