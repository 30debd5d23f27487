/**
 * util/extraCaCerts: NODE_EXTRA_CA_CERTS, loaded by the TLS clients that trust public roots
 * instead of by every process at start (decisions B100).
 *
 * Node reads and parses that file before any of our code runs: ~50 ms and ~1.8 MB resident
 * for Debian's 144-certificate bundle (measured), in every `berth` run — most of which only
 * talk to the daemon over its unix socket — and in berthd, which needs it only when it pulls
 * from or pushes to a registry over verified TLS. So bin/berth and bin/berthd start node
 * without the variable and hand its value on as BERTH_EXTRA_CA_CERTS (`env -S` in their #!
 * line), and put NODE_EXTRA_CA_CERTS back into the environment, so child processes see what
 * they always saw. The clients that verify servers against the default roots — the
 * registry client, build downloads, the registry's pull-through proxy — take their TLS
 * context from here: Node's bundled roots plus the file's certificates, as Node itself
 * would have made the default store. Clients with their own CA (the engine API's
 * --tlscacert) are unaffected.
 */
import { readFileSync } from 'node:fs';
import type { SecureContext } from 'node:tls';

/** Set by the launchers to NODE_EXTRA_CA_CERTS's value (empty when it was unset). */
export const DEFERRED_EXTRA_CA_ENV = 'BERTH_EXTRA_CA_CERTS';

/** One context per certificate file (in practice one: the variable does not change while we run). */
const contexts = new Map<string, SecureContext | null>();

/**
 * The extra certificate file this process did not load at start, or undefined when there is
 * none (no variable, or node loaded NODE_EXTRA_CA_CERTS itself: the default store is right).
 */
export function deferredExtraCaFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env[DEFERRED_EXTRA_CA_ENV];
  return file === undefined || file === '' ? undefined : file;
}

/**
 * A TLS context that trusts Node's bundled roots plus the deferred extra certificates, made
 * once; null when there are none to add (leave the context to Node then). A file that cannot
 * be read is warned about and ignored, as Node does at start.
 */
export function extraCaContext(env: NodeJS.ProcessEnv = process.env): SecureContext | null {
  const file = deferredExtraCaFile(env);
  if (file === undefined) return null;
  const known = contexts.get(file);
  if (known !== undefined) return known;
  let context: SecureContext | null = null;
  try {
    const tls = process.getBuiltinModule('node:tls');
    context = tls.createSecureContext({ ca: [...tls.rootCertificates, readFileSync(file, 'utf8')] });
  } catch (e) {
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(e as Error).message}`);
  }
  contexts.set(file, context);
  return context;
}

/** Connect options for a TLS client that verifies against the default roots (undici's `connect`, tls.connect). */
export function defaultRootsTls(): { secureContext?: SecureContext } {
  const c = extraCaContext();
  return c === null ? {} : { secureContext: c };
}

let fetcher: Promise<typeof fetch> | null = null;

/**
 * fetch() for URLs whose servers are verified against the default roots: the global fetch,
 * or, with deferred extra certificates, undici's fetch over an agent that trusts them.
 */
export async function defaultRootsFetch(): Promise<typeof fetch> {
  const c = extraCaContext();
  if (c === null) return fetch;
  fetcher ??= (async (): Promise<typeof fetch> => {
    const { Agent, fetch: undiciFetch } = await import('undici');
    const dispatcher = new Agent({ connect: { secureContext: c } });
    // undici's fetch is the one Node bundles (same Request/Response/Headers semantics); its
    // types are its own copies of the global ones.
    return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
      undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher })) as unknown as typeof fetch;
  })();
  return fetcher;
}
