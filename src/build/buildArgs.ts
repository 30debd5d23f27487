/**
 * build/buildArgs: which build arguments are in scope at each instruction —
 * moby's BuildArgs (builder/dockerfile/buildargs.go): the values the client
 * sent, the ARGs declared before FROM (meta args, for FROM lines and as
 * defaults), the ARGs declared in the current stage (allowed), the proxy
 * variables that are always allowed, and which args were used at all, for
 * "[Warning] One or more build-args [X] were not consumed". BuildKit's
 * automatic platform args (TARGETPLATFORM, BUILDARCH…) are meta args here,
 * usable in a stage once declared with `ARG NAME`. Pure.
 */
import type { Platform } from '../oci/platform.js';
import { formatPlatform } from '../oci/platform.js';

/** Always allowed, and left out of a RUN's history unless the Dockerfile declares them. */
export const BUILTIN_ALLOWED_ARGS: ReadonlySet<string> = new Set([
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
]);

/** BuildKit's automatic platform args, as values for the build (`target`) and this host (`build`). */
export function platformArgs(target: Platform, build: Platform): Map<string, string> {
  const m = new Map<string, string>();
  const put = (prefix: string, p: Platform): void => {
    m.set(`${prefix}PLATFORM`, formatPlatform(p));
    m.set(`${prefix}OS`, p.os);
    m.set(`${prefix}ARCH`, p.architecture);
    m.set(`${prefix}VARIANT`, p.variant ?? '');
  };
  put('TARGET', target);
  put('BUILD', build);
  return m;
}

export class BuildArgs {
  /** Args declared in the current stage: name → default (undefined: declared without one). */
  private readonly allowed = new Map<string, string | undefined>();
  /** Args declared before the first FROM, plus the automatic platform args. */
  private readonly meta = new Map<string, string | undefined>();
  /** Shared by every stage's copy: which args the Dockerfile declared. */
  private readonly referenced: Set<string>;

  constructor(
    /** What the client sent (`--build-arg K=V`; null: `--build-arg K` with K unset on its side). */
    private readonly fromOptions: ReadonlyMap<string, string | null>,
    /** Automatic args (platforms): meta args nobody has to declare before FROM. */
    automatic: ReadonlyMap<string, string> = new Map(),
    referenced?: Set<string>,
  ) {
    this.referenced = referenced ?? new Set();
    for (const [k, v] of automatic) this.meta.set(k, v);
  }

  /** A stage's copy (moby's Clone + ResetAllowed): meta args carried over, nothing declared yet. */
  forStage(): BuildArgs {
    const c = new BuildArgs(this.fromOptions, new Map(), this.referenced);
    for (const [k, v] of this.meta) c.meta.set(k, v);
    return c;
  }

  /** An ARG before the first FROM. */
  addMetaArg(key: string, value: string | undefined): void {
    this.meta.set(key, value);
    this.addArg(key, value);
  }

  addArg(key: string, value: string | undefined): void {
    this.allowed.set(key, value);
    this.referenced.add(key);
  }

  /** moby's getBuildArg: the client's value, else the declared default, else the meta arg's. */
  private value(key: string, source: ReadonlyMap<string, string | undefined>): string | undefined {
    const opt = this.fromOptions.get(key);
    if (opt !== undefined && opt !== null) return opt;
    const def = source.get(key);
    return def !== undefined ? def : this.meta.get(key);
  }

  private all(source: ReadonlyMap<string, string | undefined>): Map<string, string> {
    const out = new Map<string, string>();
    for (const k of new Set<string>([...source.keys(), ...BUILTIN_ALLOWED_ARGS])) {
      const v = this.value(k, source);
      if (v !== undefined) out.set(k, v);
    }
    return out;
  }

  /** Args a stage's instructions may expand and RUN sees: declared in the stage (and the proxy ones). */
  allowedValues(): Map<string, string> {
    return this.all(this.allowed);
  }

  /** Args a FROM line may expand: meta args and the automatic platform args. */
  metaValues(): Map<string, string> {
    return this.all(this.meta);
  }

  /** moby's FilterAllowed: allowed args not shadowed by the stage's ENV, as K=V. */
  filterAllowed(env: readonly string[]): string[] {
    const set = new Set(env.map((e) => e.split('=')[0] as string));
    const out: string[] = [];
    for (const [k, v] of this.allowedValues()) if (!set.has(k)) out.push(`${k}=${v}`);
    return out;
  }

  /** Builtins count only when declared; anything else always does (moby's IsReferencedOrNotBuiltin). */
  isReferencedOrNotBuiltin(key: string): boolean {
    return this.allowed.has(key) || !BUILTIN_ALLOWED_ARGS.has(key);
  }

  /** Build args sent but never declared, sorted; empty when all were used. */
  unconsumed(): string[] {
    const out: string[] = [];
    for (const k of this.fromOptions.keys()) if (!BUILTIN_ALLOWED_ARGS.has(k) && !this.referenced.has(k)) out.push(k);
    return out.sort();
  }
}

/** moby's prependEnvOnCmd: `|N K=V… cmd…`, the RUN command as history and the cache see it. */
export function prependEnvOnCmd(args: BuildArgs, vars: readonly string[], cmd: readonly string[]): string[] {
  const kept = vars.filter((v) => args.isReferencedOrNotBuiltin(v.split('=')[0] as string)).sort();
  return [`|${kept.length}`, ...kept, ...cmd];
}
