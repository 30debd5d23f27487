/**
 * metadata/db: the daemon's SQLite database (`<root>/berth.db`, WAL mode).
 * Owns the schema and its migrations; every other module goes through the
 * typed stores built on it. Never stores blobs: those live in the content store.
 *
 * Schema (version 9):
 *   images(id PK = config digest, manifest_digest, created, size, config JSON, last_tag_time,
 *          repo_digests JSON array of "name@digest", parent)
 *   image_blobs(image_id → images, digest): the blobs each image needs
 *   layer_compressions(diff_id, media_type → digest, size): how a local layer was pushed
 *   blob_sources(digest, registry, repository): where a blob is known to exist remotely
 *   image_tags(ref PK = normalised reference "docker.io/library/busybox:latest", image_id → images)
 *   snapshots(key PK, dir UNIQUE, parent → snapshots.key, kind 'active'|'committed', link, size, created)
 *   containers(id PK, name UNIQUE, image_id, created, doc JSON)  — doc is the whole container record
 *   volumes(name PK, driver, created, labels JSON, options JSON, anonymous 0|1)
 *   networks(id PK, name UNIQUE, driver, created, doc JSON)  — doc is the whole network record
 *   container_networks(container_id PK, doc JSON) (v9): a container's networks and live sandbox
 *   build_cache(key PK, image_id, parent_id, description, created, last_used, usage_count): a build
 *          step's cache key → its result image
 *   images.parent (v8): the image a build step started from ('' for pulled, imported, loaded images)
 */
import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * Statements prepared once per SQL text and kept: preparing costs more than running the small
 * queries the stores make (better-sqlite3), and a dozen of them run on every container start
 * (image lookup, snapshot rows). Only for constant SQL: every distinct text stays cached.
 */
export class StatementCache {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Db) {}

  get(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (st === undefined) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE images (
     id TEXT PRIMARY KEY,
     manifest_digest TEXT NOT NULL,
     created TEXT NOT NULL,
     size INTEGER NOT NULL,
     config TEXT NOT NULL,
     last_tag_time TEXT
   );
   CREATE TABLE image_tags (
     ref TEXT PRIMARY KEY,
     image_id TEXT NOT NULL REFERENCES images(id)
   );
   CREATE INDEX image_tags_image ON image_tags(image_id);
   CREATE TABLE snapshots (
     key TEXT PRIMARY KEY,
     dir INTEGER NOT NULL UNIQUE,
     parent TEXT REFERENCES snapshots(key),
     kind TEXT NOT NULL CHECK (kind IN ('active','committed')),
     link TEXT NOT NULL UNIQUE,
     size INTEGER NOT NULL DEFAULT 0,
     created TEXT NOT NULL
   );
   CREATE INDEX snapshots_parent ON snapshots(parent);
   CREATE TABLE containers (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     image_id TEXT NOT NULL,
     created TEXT NOT NULL,
     doc TEXT NOT NULL
   );
   CREATE INDEX containers_image ON containers(image_id);`,
  // v2: where an image came from ("docker.io/library/busybox@sha256:…"), as Docker's RepoDigests.
  `ALTER TABLE images ADD COLUMN repo_digests TEXT NOT NULL DEFAULT '[]';`,
  // v3: every blob an image needs (index, manifest, config, layers as stored), so deletion
  // and failed pulls know exactly which blobs are no longer anyone's.
  `CREATE TABLE image_blobs (
     image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
     digest TEXT NOT NULL,
     PRIMARY KEY (image_id, digest)
   );
   CREATE INDEX image_blobs_digest ON image_blobs(digest);
   INSERT OR IGNORE INTO image_blobs (image_id, digest) SELECT id, id FROM images;
   INSERT OR IGNORE INTO image_blobs (image_id, digest) SELECT id, manifest_digest FROM images;
   INSERT OR IGNORE INTO image_blobs (image_id, digest)
     SELECT images.id, j.value FROM images, json_each(json_extract(images.config, '$.rootfs.diff_ids')) AS j;`,
  // v4: the compressed form a local layer was pushed as, so a later push can ask the
  // registry for that digest instead of compressing again.
  `CREATE TABLE layer_compressions (
     diff_id TEXT NOT NULL,
     media_type TEXT NOT NULL,
     digest TEXT NOT NULL,
     size INTEGER NOT NULL,
     PRIMARY KEY (diff_id, media_type)
   );`,
  // v5: which repositories of which registries hold a blob (learned on pull and push),
  // so a push can ask for a cross-repository mount instead of uploading.
  `CREATE TABLE blob_sources (
     digest TEXT NOT NULL,
     registry TEXT NOT NULL,
     repository TEXT NOT NULL,
     PRIMARY KEY (digest, registry, repository)
   );`,
  // v6: named and anonymous volumes (local driver); the mount point is <root>/volumes/<name>/_data.
  `CREATE TABLE volumes (
     name TEXT PRIMARY KEY,
     driver TEXT NOT NULL DEFAULT 'local',
     created TEXT NOT NULL,
     labels TEXT NOT NULL DEFAULT '{}',
     options TEXT NOT NULL DEFAULT '{}',
     anonymous INTEGER NOT NULL DEFAULT 0
   );`,
  // v7: networks; doc is the whole network record (IPAM config, options, labels, flags).
  `CREATE TABLE networks (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     driver TEXT NOT NULL,
     created TEXT NOT NULL,
     doc TEXT NOT NULL
   );`,
  // v8: the build cache: a step's key (parent, instruction, content) → the image it produced;
  // and each built image's parent (the image of the step before), as Docker's legacy builder keeps it.
  `CREATE TABLE build_cache (
     key TEXT PRIMARY KEY,
     image_id TEXT NOT NULL,
     parent_id TEXT NOT NULL DEFAULT '',
     description TEXT NOT NULL DEFAULT '',
     created TEXT NOT NULL,
     last_used TEXT NOT NULL,
     usage_count INTEGER NOT NULL DEFAULT 1
   );
   CREATE INDEX build_cache_image ON build_cache(image_id);
   ALTER TABLE images ADD COLUMN parent TEXT NOT NULL DEFAULT '';
   CREATE INDEX images_parent ON images(parent);`,
  // v9: each container's network state: the networks it joins (aliases, wanted IP/MAC) and,
  // while it runs, its sandbox (netns, CNI results, host ports) — so a daemon restart finds them.
  `CREATE TABLE container_networks (
     container_id TEXT PRIMARY KEY,
     doc TEXT NOT NULL
   );`,
];

/** Opens (creating if needed) the database and brings its schema up to date. */
export function openDatabase(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL is durable in WAL mode except for the last commits before a power cut,
  // which is the same promise the content store's fsync gives.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    const sql = MIGRATIONS[v];
    if (sql === undefined) break;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}
