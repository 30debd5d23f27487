/**
 * volumes/volumeStore: the `volumes` table (metadata/db.ts, v6) — one row per
 * volume with its driver, creation time, labels, driver options and whether
 * it is anonymous. Knows nothing of directories, mounts or containers.
 */
import type { Db } from '../metadata/db.js';

export interface VolumeRecord {
  name: string;
  driver: string;
  /** ISO 8601 (UTC). */
  created: string;
  /** null when the creator sent none (the API shows `"Labels": null`, as Docker does). */
  labels: Record<string, string> | null;
  /** Driver options (`type`, `device`, `o` for the local driver); null when none were sent. */
  options: Record<string, string> | null;
  anonymous: boolean;
}

interface Row {
  name: string;
  driver: string;
  created: string;
  labels: string;
  options: string;
  anonymous: number;
}

function fromRow(r: Row): VolumeRecord {
  return {
    name: r.name,
    driver: r.driver,
    created: r.created,
    labels: JSON.parse(r.labels) as Record<string, string> | null,
    options: JSON.parse(r.options) as Record<string, string> | null,
    anonymous: r.anonymous === 1,
  };
}

export class VolumeStore {
  constructor(private readonly db: Db) {}

  get(name: string): VolumeRecord | null {
    const row = this.db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  list(): VolumeRecord[] {
    return (this.db.prepare('SELECT * FROM volumes ORDER BY name').all() as Row[]).map(fromRow);
  }

  insert(v: VolumeRecord): void {
    this.db
      .prepare('INSERT INTO volumes (name, driver, created, labels, options, anonymous) VALUES (?, ?, ?, ?, ?, ?)')
      .run(v.name, v.driver, v.created, JSON.stringify(v.labels), JSON.stringify(v.options), v.anonymous ? 1 : 0);
  }

  delete(name: string): void {
    this.db.prepare('DELETE FROM volumes WHERE name = ?').run(name);
  }
}
