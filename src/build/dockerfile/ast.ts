/**
 * build/dockerfile/ast: the typed result of parsing a Dockerfile — the contract
 * between the pure parser (`parseDockerfile`, text → Dockerfile) and the
 * builder (Dockerfile → image). The parser never expands variables: the
 * builder expands words with the shell lexer at dispatch time, when ARG and
 * ENV values are known (BuildKit's frontend does the same).
 */

/** Where an instruction came from, for error messages ("line 7") and build output. */
export interface SourceRange {
  /** 1-based, first line of the instruction (continuations included). */
  startLine: number;
  endLine: number;
}

/** A here-document attached to RUN, COPY or ADD (`<<EOF`, `<<-EOF`, `<<"EOF"`). */
export interface Heredoc {
  /** The delimiter word as written, without quotes or `-`. */
  name: string;
  /**
   * Body lines joined with "\n", ending in "\n" (empty for an empty body; each
   * line keeps its own ending, so CRLF files keep "\r"); leading tabs already
   * stripped for `<<-`.
   */
  content: string;
  /** False when the delimiter was quoted: the body is then taken literally. */
  expand: boolean;
  /** `<<-`: leading tabs stripped. */
  chomp: boolean;
  /** `3<<EOF`: the file descriptor the body feeds (RUN only); undefined means stdin. */
  fileDescriptor?: number;
}

/** JSON (exec) form keeps the argv; shell form keeps the text for the stage's SHELL. */
export type CommandForm = { json: true; args: string[] } | { json: false; shell: string };

export interface KeyValue {
  key: string;
  /** Unexpanded, quotes still in place exactly as BuildKit's parser leaves them for expansion. */
  value: string;
}

interface Base<K extends string> {
  kind: K;
  /** The instruction's text as written (continuations joined), for history and `Step N/M : …`. */
  original: string;
  range: SourceRange;
  /** `--name=value` flags before the arguments, by name (a flag may repeat, e.g. `--mount`). */
  flags: Record<string, string[]>;
}

export interface FromInstruction extends Base<'from'> {
  /** Unexpanded image reference, or `scratch`, or an earlier stage's name. */
  image: string;
  /** `AS name`, lower-cased. */
  stageName?: string;
  /** `--platform=` value, unexpanded. */
  platform?: string;
}
export interface RunInstruction extends Base<'run'> {
  command: CommandForm;
  heredocs: Heredoc[];
  /** `--network=` when given (validated: default, none, host). */
  network?: 'default' | 'none' | 'host';
  /** `--security=` when given (validated: sandbox, insecure). */
  security?: 'sandbox' | 'insecure';
}
export interface CmdInstruction extends Base<'cmd'> {
  command: CommandForm;
}
export interface EntrypointInstruction extends Base<'entrypoint'> {
  command: CommandForm;
}
export interface ShellInstruction extends Base<'shell'> {
  /** SHELL takes the JSON form only. */
  args: string[];
}
export interface EnvInstruction extends Base<'env'> {
  pairs: KeyValue[];
}
export interface ArgInstruction extends Base<'arg'> {
  /** `ARG A B=2`: value undefined when no default is given. */
  args: Array<{ key: string; value?: string }>;
}
export interface LabelInstruction extends Base<'label'> {
  pairs: KeyValue[];
}
export interface MaintainerInstruction extends Base<'maintainer'> {
  name: string;
}
export interface ExposeInstruction extends Base<'expose'> {
  /** Unexpanded port specs (`80`, `53/udp`, `8000-8010`). */
  ports: string[];
}
export interface CopyInstruction extends Base<'copy' | 'add'> {
  /** Unexpanded sources (context paths, globs, or URLs for ADD). Heredoc sources appear as their `<<NAME` word. */
  sources: string[];
  dest: string;
  /**
   * One entry per heredoc source, in the order of `sources` (the i-th source
   * for which `parseHeredocWord(src)` is defined is `heredocs[i]`), as
   * BuildKit's SourceContents.
   */
  heredocs: Heredoc[];
  /** Typed views of the common flags (also present in `flags`). */
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  /** `--exclude=` patterns (repeatable), unexpanded. */
  exclude?: string[];
  /** COPY `--parents`. */
  parents?: boolean;
  /** ADD `--checksum=`, unexpanded. */
  checksum?: string;
  /** ADD `--keep-git-dir` when given. */
  keepGitDir?: boolean;
  /** ADD `--unpack` when given. */
  unpack?: boolean;
}
export interface WorkdirInstruction extends Base<'workdir'> {
  path: string;
}
export interface UserInstruction extends Base<'user'> {
  user: string;
}
export interface VolumeInstruction extends Base<'volume'> {
  paths: string[];
}
export interface StopsignalInstruction extends Base<'stopsignal'> {
  signal: string;
}
export type HealthcheckInstruction = Base<'healthcheck'> &
  (
    | { none: true }
    | {
        none: false;
        /** Docker's Healthcheck.Test: ["CMD", …] or ["CMD-SHELL", "…"]. */
        test: string[];
        /** Durations as written (`30s`); the builder converts and validates them. */
        interval?: string;
        timeout?: string;
        startPeriod?: string;
        startInterval?: string;
        retries?: string;
      }
  );
export interface OnbuildInstruction extends Base<'onbuild'> {
  /** The trigger as written after ONBUILD (`RUN make`), parsed again when the image is used as a base. */
  trigger: string;
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | EnvInstruction
  | ArgInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | CopyInstruction
  | WorkdirInstruction
  | UserInstruction
  | VolumeInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | OnbuildInstruction;

export interface Stage {
  from: FromInstruction;
  /** Lower-cased `AS` name, if any. */
  name?: string;
  /** Index in `Dockerfile.stages`; `COPY --from=0` refers to it. */
  index: number;
  /** The instructions after FROM, in order. */
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Parser directives found at the top (`syntax`, `escape`, `check`), by lower-cased name. */
  directives: Record<string, string>;
  /** The escape character in force (`\` or `` ` ``). */
  escape: '\\' | '`';
  /** ARGs before the first FROM: usable in FROM lines, and (redeclared) inside stages. */
  metaArgs: ArgInstruction[];
  stages: Stage[];
  /**
   * BuildKit's parser warnings (empty continuation lines). Docker prints each
   * as `[WARNING]: <text>` and then `[WARNING]: Empty continuation lines will
   * become errors in a future release.`
   */
  warnings?: string[];
}
