/**
 * registry/limits: every bound the registry puts on untrusted input or on
 * its own resources, named in one place (DESIGN style 6). Data only.
 */

/** Largest manifest accepted on PUT (the spec asks registries to take at least 4 MB). */
export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;
/** Largest manifest fetched from a proxied remote. */
export const REMOTE_MANIFEST_MAX_BYTES = MANIFEST_MAX_BYTES;
/** Largest JSON body read from a remote registry (token responses, errors). */
export const REMOTE_JSON_MAX_BYTES = 1024 * 1024;
/** Repository names: the clients' 255-character limit on host + "/" + name. */
export const REPOSITORY_NAME_MAX = 255;
/** Page size when `_catalog` is called without `n`, and the largest `n` honoured there and on tags. */
export const CATALOG_DEFAULT_PAGE = 1000;
export const LIST_PAGE_MAX = 10000;
/** Repository names read per query while filtering the catalog through an ACL. */
export const CATALOG_SCAN_BATCH = 500;
/** Referrers listed per page when the client does not ask for fewer (a `Link` header leads on). */
export const REFERRERS_PAGE = 500;
/** Largest referrers index page (JSON of its descriptors), well under the 4 MB clients accept for a manifest. */
export const REFERRERS_PAGE_BYTES = 1024 * 1024;
/** An upload session nobody touched for this long is removed (the spec: "eventually timeout"). */
export const UPLOAD_IDLE_MS = 24 * 60 * 60 * 1000;
/** How often idle uploads are looked for. */
export const UPLOAD_SWEEP_MS = 10 * 60 * 1000;
/** Bytes gathered before one write to an upload file (fewer syscalls on big layers). */
export const UPLOAD_WRITE_BATCH = 1024 * 1024;
/** Upload bytes being written at once (several thread-pool writes overlap; bounds the memory they hold). */
export const UPLOAD_INFLIGHT_BYTES = 4 * 1024 * 1024;
/** Manifests kept in memory for fast GET/HEAD (they are immutable by digest). */
export const MANIFEST_CACHE_BYTES = 64 * 1024 * 1024;
/** Bearer tokens issued by the built-in token endpoint live this long. */
export const TOKEN_TTL_SECONDS = 300;
/** Refresh tokens (Docker's identity tokens) live this long; changing the password revokes them sooner. */
export const REFRESH_TOKEN_TTL_SECONDS = 90 * 24 * 60 * 60;
/** Largest form body accepted by `POST /token`. */
export const TOKEN_FORM_MAX_BYTES = 64 * 1024;
/** How often the htpasswd and ACL files are looked at for changes (at most; only when a request needs them). */
export const AUTH_FILE_RECHECK_MS = 1000;
/** Clock skew tolerated when checking a token's nbf/exp. */
export const TOKEN_LEEWAY_SECONDS = 60;
/** Largest Authorization header value considered. */
export const AUTH_HEADER_MAX = 16 * 1024;
/** A successful basic-auth check is remembered this long (bcrypt costs ~10-100 ms). */
export const AUTH_CACHE_MS = 5 * 60 * 1000;
/** Default garbage-collection grace: blobs pushed or touched more recently are kept. */
export const GC_GRACE_MS = 60 * 60 * 1000;
/** Blobs deleted per SQLite write transaction during gc (bounds how long serve waits on the lock). */
export const GC_BATCH = 200;
/** Tag lookups against a proxied remote are trusted this long before asking again. */
export const PROXY_TAG_TTL_MS = 60 * 1000;
/** Read size when streaming a blob to a client (fewer, larger socket writes than the 64 KiB default). */
export const BLOB_READ_CHUNK = 512 * 1024;
/** Buffers per blob being served: the chunk being written plus those read ahead (each BLOB_READ_CHUNK; more measured no faster). */
export const SEND_READ_AHEAD = 2;
/** Free blob-read buffers kept for reuse between responses (each BLOB_READ_CHUNK). */
export const SEND_BUFFERS_KEPT = 8;
/** Request-body bytes read between two young-generation collections (gcNudge.ts). */
export const GC_NUDGE_BYTES = 4 * 1024 * 1024;
/** Manifest lookups (by tag or digest) kept in memory; RegistryDb's header says when they are dropped. */
export const LOOKUP_CACHE_ENTRIES = 4096;
/** How often the lookup cache asks SQLite whether another process wrote (PRAGMA data_version). */
export const LOOKUP_RECHECK_MS = 1000;
