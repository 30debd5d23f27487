/**
 * distribution/limits: every untrusted body the registry client reads into
 * memory has a named size limit here (DESIGN style 6).
 */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
export const MAX_TOKEN_BYTES = 1024 * 1024;
export const MAX_ERROR_BYTES = 64 * 1024;
/** Layers downloaded at once (Docker's max-concurrent-downloads default). */
export const MAX_CONCURRENT_DOWNLOADS = 3;
