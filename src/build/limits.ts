/**
 * build/limits: every size bound the builder applies to untrusted input, named
 * in one place. The context limit can be lowered per daemon
 * (`berthd --max-build-context`), which tests use to try an oversized context
 * cheaply. Pure constants; never reads anything.
 */

/** Largest build context accepted, in uncompressed tar bytes (a gzip bomb counts at its real size). */
export const DEFAULT_MAX_CONTEXT_BYTES = 8 * 1024 * 1024 * 1024;

/**
 * Context file bodies kept in memory (views of the request's own chunks) before the rest is spooled
 * to disk: a usual context is never written out, a huge one costs no more memory than this.
 */
export const MAX_CONTEXT_IN_MEMORY = 128 * 1024 * 1024;

/** A Dockerfile is text: anything bigger is a mistake or hostile. */
export const MAX_DOCKERFILE_BYTES = 16 * 1024 * 1024;

/** `.dockerignore` is read whole into memory. */
export const MAX_DOCKERIGNORE_BYTES = 4 * 1024 * 1024;

/** One `ADD <url>` download. */
export const MAX_ADD_URL_BYTES = 4 * 1024 * 1024 * 1024;

/** Output lines a failing RUN keeps for its error message. */
export const FAILED_RUN_TAIL_LINES = 10;

/** Symlinks followed while resolving one path in scope (moby/sys/symlink's maxIter). */
export const MAX_SYMLINK_HOPS = 255;
