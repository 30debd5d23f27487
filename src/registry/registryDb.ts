/**
 * registry/registryDb: the registry's metadata in SQLite (`<root>/registry.db`,
 * WAL), separate from berthd's database. Owns the schema and every query;
 * blob bytes live in the content store. Shared by `registry serve` and
 * `registry gc` (two processes): a write transaction is the lock between them
 * (see gc.ts). Never touches files itself.
 *
 * Manifest lookups by tag and by digest (every pull's first request, and the
 * hot path of a registry under load) are answered from a small in-process
 * cache. This process's own writes to manifests and tags clear it at once;
 * writes by another process (a second server on the same root) are noticed
 * through `PRAGMA data_version`, asked at most every LOOKUP_RECHECK_MS.
 * gc, the usual other process, never changes manifests or tags.
 *
 * Schema (version 1):
 *   blobs(digest PK, size, touched)            — blobs present in the content store; touched = ms epoch of the
 *                                                last push, mount or existence check (the gc grace clock)
 *   repositories(name PK, created)
 *   repo_blobs(repo, digest → blobs)           — which repositories may serve a blob (pushed, mounted, manifest)
 *   manifests(repo, digest, media_type, size, artifact_type, subject, annotations JSON, created)
 *   manifest_refs(repo, digest → manifests, child) — every digest a manifest names (config, layers, children)
 *   tags(repo, tag, digest → manifests, updated)
 */
import Database from 'better-sqlite3';
import { LOOKUP_CACHE_ENTRIES, LOOKUP_RECHECK_MS } from './limits.js';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE blobs (
     digest TEXT PRIMARY KEY,
     size INTEGER NOT NULL,
     touched INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE repositories (
     name TEXT PRIMARY KEY,
     created INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE repo_blobs (
     repo TEXT NOT NULL,
     digest TEXT NOT NULL REFERENCES blobs(digest) ON DELETE CASCADE,
     PRIMARY KEY (repo, digest)
   ) WITHOUT ROWID;
   CREATE INDEX repo_blobs_digest ON repo_blobs(digest);
   CREATE TABLE manifests (
     repo TEXT NOT NULL,
     digest TEXT NOT NULL,
     media_type TEXT NOT NULL,
     size INTEGER NOT NULL,
     artifact_type TEXT,
     subject TEXT,
     annotations TEXT,
     created INTEGER NOT NULL,
     PRIMARY KEY (repo, digest)
   ) WITHOUT ROWID;
   CREATE INDEX manifests_digest ON manifests(digest);
   CREATE INDEX manifests_subject ON manifests(repo, subject) WHERE subject IS NOT NULL;
   CREATE TABLE manifest_refs (
     repo TEXT NOT NULL,
     digest TEXT NOT NULL,
     child TEXT NOT NULL,
     PRIMARY KEY (repo, digest, child),
     FOREIGN KEY (repo, digest) REFERENCES manifests(repo, digest) ON DELETE CASCADE
   ) WITHOUT ROWID;
   CREATE INDEX manifest_refs_child ON manifest_refs(child);
   CREATE TABLE tags (
     repo TEXT NOT NULL,
     tag TEXT NOT NULL,
     digest TEXT NOT NULL,
     updated INTEGER NOT NULL,
     PRIMARY KEY (repo, tag),
     FOREIGN KEY (repo, digest) REFERENCES manifests(repo, digest) ON DELETE CASCADE
   ) WITHOUT ROWID;`,
];

export interface ManifestRow {
  digest: string;
  mediaType: string;
  size: number;
}

export interface ManifestRecord extends ManifestRow {
  repo: string;
  artifactType: string | null;
  subject: string | null;
  annotations: string | null;
  created: number;
}

export interface BlobRow {
  digest: string;
  size: number;
}

export class RegistryDb {
  readonly db: Database.Database;
  private readonly s;
  /** Manifest rows by `t\0repo\0tag` or `d\0repo\0digest` (see the header). Rows are shared: never mutate one. */
  private readonly lookups = new Map<string, ManifestRow>();
  private lookupsVersion = -1;
  private lookupsCheckedAt = 0;

  constructor(path: string) {
    const db = new Database(path);
    this.db = db;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // gc (another process) holds the write lock for one short batch at a time.
    db.pragma('busy_timeout = 10000');
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < MIGRATIONS.length; v++) {
      const sql = MIGRATIONS[v];
      if (sql === undefined) break;
      db.transaction(() => {
        db.exec(sql);
        db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
    this.s = {
      repoExists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM repositories WHERE name = ?'),
      addRepo: db.prepare<[string, number]>('INSERT INTO repositories(name, created) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      blobInRepo: db.prepare<[string, string], BlobRow>(
        'SELECT b.digest AS digest, b.size AS size FROM repo_blobs r JOIN blobs b ON b.digest = r.digest WHERE r.repo = ? AND r.digest = ?',
      ),
      blob: db.prepare<[string], BlobRow>('SELECT digest, size FROM blobs WHERE digest = ?'),
      touch: db.prepare<[number, string]>('UPDATE blobs SET touched = ? WHERE digest = ?'),
      registerBlob: db.prepare<[string, number, number]>(
        'INSERT INTO blobs(digest, size, touched) VALUES (?, ?, ?) ON CONFLICT(digest) DO UPDATE SET touched = excluded.touched',
      ),
      link: db.prepare<[string, string]>('INSERT INTO repo_blobs(repo, digest) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      unlink: db.prepare<[string, string]>('DELETE FROM repo_blobs WHERE repo = ? AND digest = ?'),
      manifest: db.prepare<[string, string], ManifestRow>(
        'SELECT digest, media_type AS mediaType, size FROM manifests WHERE repo = ? AND digest = ?',
      ),
      tag: db.prepare<[string, string], ManifestRow>(
        `SELECT m.digest AS digest, m.media_type AS mediaType, m.size AS size
           FROM tags t JOIN manifests m ON m.repo = t.repo AND m.digest = t.digest
          WHERE t.repo = ? AND t.tag = ?`,
      ),
      insertManifest: db.prepare<[string, string, string, number, string | null, string | null, string | null, number]>(
        `INSERT INTO manifests(repo, digest, media_type, size, artifact_type, subject, annotations, created)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      insertRef: db.prepare<[string, string, string]>(
        'INSERT INTO manifest_refs(repo, digest, child) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      setTag: db.prepare<[string, string, string, number]>(
        `INSERT INTO tags(repo, tag, digest, updated) VALUES (?, ?, ?, ?)
         ON CONFLICT(repo, tag) DO UPDATE SET digest = excluded.digest, updated = excluded.updated`,
      ),
      deleteManifest: db.prepare<[string, string]>('DELETE FROM manifests WHERE repo = ? AND digest = ?'),
      deleteTag: db.prepare<[string, string]>('DELETE FROM tags WHERE repo = ? AND tag = ?'),
      tagsAfter: db.prepare<[string, string, number], { tag: string }>(
        'SELECT tag FROM tags WHERE repo = ? AND tag > ? ORDER BY tag LIMIT ?',
      ),
      reposAfter: db.prepare<[string, number], { name: string }>(
        'SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?',
      ),
      referrers: db.prepare<[string, string, string, string | null, string | null, number], ManifestRecord>(
        `SELECT repo, digest, media_type AS mediaType, size, artifact_type AS artifactType, subject, annotations, created
           FROM manifests WHERE repo = ? AND subject = ? AND digest > ? AND (? IS NULL OR artifact_type = ?)
          ORDER BY digest LIMIT ?`,
      ),
      gcCandidates: db.prepare<[number, string, number], BlobRow>(
        `SELECT b.digest AS digest, b.size AS size FROM blobs b
          WHERE b.touched < ? AND b.digest > ?
            AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = b.digest)
            AND NOT EXISTS (SELECT 1 FROM manifest_refs r WHERE r.child = b.digest)
          ORDER BY b.digest LIMIT ?`,
      ),
      deleteBlob: db.prepare<[string]>('DELETE FROM blobs WHERE digest = ?'),
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
      allBlobs: db.prepare<[], { digest: string }>('SELECT digest FROM blobs'),
    };
  }

  close(): void {
    this.db.close();
  }

  /** Runs `fn` in a write transaction taken at once (BEGIN IMMEDIATE): the registry's lock against gc. */
  immediate<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } finally {
      // A row looked up inside a transaction that then rolled back must not outlive it.
      this.lookups.clear();
    }
  }

  repoExists(name: string): boolean {
    return this.s.repoExists.get(name) !== undefined;
  }

  blobInRepo(repo: string, digest: string): BlobRow | undefined {
    return this.s.blobInRepo.get(repo, digest);
  }

  blob(digest: string): BlobRow | undefined {
    return this.s.blob.get(digest);
  }

  /** Restarts a blob's gc grace clock (a client just relied on it existing). */
  touch(digest: string, now = Date.now()): void {
    this.s.touch.run(now, digest);
  }

  /** Records a blob now present in the content store and links it into `repo`. Call inside immediate(). */
  addBlob(repo: string, digest: string, size: number, now = Date.now()): void {
    this.s.registerBlob.run(digest, size, now);
    this.s.addRepo.run(repo, now);
    this.s.link.run(repo, digest);
  }

  /** Links an existing blob into another repository (cross-repository mount). */
  linkBlob(repo: string, digest: string, now = Date.now()): void {
    this.s.touch.run(now, digest);
    this.s.addRepo.run(repo, now);
    this.s.link.run(repo, digest);
  }

  unlinkBlob(repo: string, digest: string): boolean {
    return this.s.unlink.run(repo, digest).changes > 0;
  }

  /** The lookup cache, emptied first if another connection has written since it was last checked. */
  private freshLookups(): Map<string, ManifestRow> {
    const now = Date.now();
    if (now - this.lookupsCheckedAt >= LOOKUP_RECHECK_MS) {
      this.lookupsCheckedAt = now;
      const v = this.s.dataVersion.get() as number;
      if (v !== this.lookupsVersion) {
        this.lookups.clear();
        this.lookupsVersion = v;
      }
    }
    return this.lookups;
  }

  private cachedLookup(key: string, load: () => ManifestRow | undefined): ManifestRow | undefined {
    const m = this.freshLookups();
    const hit = m.get(key);
    if (hit !== undefined) return hit;
    const row = load();
    if (row !== undefined) {
      // Oldest first out: a Map iterates in insertion order.
      if (m.size >= LOOKUP_CACHE_ENTRIES) m.delete(m.keys().next().value as string);
      m.set(key, row);
    }
    return row;
  }

  manifest(repo: string, digest: string): ManifestRow | undefined {
    return this.cachedLookup(`d\0${repo}\0${digest}`, () => this.s.manifest.get(repo, digest));
  }

  tag(repo: string, tag: string): ManifestRow | undefined {
    return this.cachedLookup(`t\0${repo}\0${tag}`, () => this.s.tag.get(repo, tag));
  }

  /** Stores a manifest row, its references and tags. Call inside immediate(). */
  putManifest(rec: ManifestRecord, children: Iterable<string>, tags: readonly string[]): void {
    this.lookups.clear();
    this.s.addRepo.run(rec.repo, rec.created);
    this.s.insertManifest.run(
      rec.repo,
      rec.digest,
      rec.mediaType,
      rec.size,
      rec.artifactType,
      rec.subject,
      rec.annotations,
      rec.created,
    );
    for (const c of children) this.s.insertRef.run(rec.repo, rec.digest, c);
    for (const t of tags) this.s.setTag.run(rec.repo, t, rec.digest, rec.created);
  }

  deleteManifest(repo: string, digest: string): boolean {
    this.lookups.clear();
    return this.s.deleteManifest.run(repo, digest).changes > 0;
  }

  deleteTag(repo: string, tag: string): boolean {
    this.lookups.clear();
    return this.s.deleteTag.run(repo, tag).changes > 0;
  }

  /** Tags after `last` in byte order (Go's sort.Strings), at most `limit`. */
  tags(repo: string, last: string, limit: number): string[] {
    return this.s.tagsAfter.all(repo, last, limit).map((r) => r.tag);
  }

  repositories(last: string, limit: number): string[] {
    return this.s.reposAfter.all(last, limit).map((r) => r.name);
  }

  /** Manifests of `repo` whose subject is `subject`, in digest order after `after`, optionally of one artifact type. */
  referrers(repo: string, subject: string, after = '', artifactType: string | null = null, limit = -1): ManifestRecord[] {
    return this.s.referrers.all(repo, subject, after, artifactType, artifactType, limit);
  }

  /** Blobs no manifest names, last touched before `cutoff` (ms epoch), after `after` in digest order. */
  gcCandidates(cutoff: number, after: string, limit: number): BlobRow[] {
    return this.s.gcCandidates.all(cutoff, after, limit);
  }

  deleteBlob(digest: string): void {
    this.s.deleteBlob.run(digest);
  }

  allBlobDigests(): Set<string> {
    return new Set(this.s.allBlobs.all().map((r) => r.digest));
  }
}
