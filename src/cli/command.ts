/**
 * cli/command: the declarative shape of a command (flags as docker/pflag
 * defines them, argument-count rules, usage), the parsed result handed to a
 * command, and help rendered in docker's layout. The parser itself lives in
 * cli/parse (it loads commander). Never talks to the daemon.
 */
import type { CliContext } from './context.js';

export type FlagType = 'bool' | 'string' | 'list' | 'int';

export interface FlagSpec {
  /** Long name without dashes, e.g. "detach". */
  name: string;
  /** One-letter shorthand, e.g. "d". */
  short?: string;
  type: FlagType;
  /** Value name in help ("string", "list", "bytes", "int", "decimal", "filter"…). */
  valueName?: string;
  usage: string;
  /** Default as help shows it, and the value when the flag is absent. */
  default?: boolean | string | number;
  hidden?: boolean;
  /**
   * Checks one value and returns what to store (e.g. `-e KEY` → `KEY=value`
   * from the client's environment). Throwing gives pflag's
   * `invalid argument "v" for "-x, --xx" flag: <message>`.
   */
  validate?: (value: string) => string;
}

export type ArgsRule =
  | { kind: 'none' }
  | { kind: 'min'; n: number }
  | { kind: 'max'; n: number }
  | { kind: 'exact'; n: number }
  | { kind: 'range'; min: number; max: number };

export interface CommandSpec {
  /** Usage after the command name, e.g. "[OPTIONS] IMAGE [COMMAND] [ARG...]". */
  usage: string;
  short: string;
  /** Other spellings shown under "Aliases:", e.g. ["container run", "run"]. */
  aliases?: string[];
  flags: FlagSpec[];
  args: ArgsRule;
  /** false: flags stop at the first positional argument (docker run/create/tag). */
  interspersed?: boolean;
}

export interface Invocation {
  /** "berth run" or "berth container run": used in messages and help. */
  commandPath: string;
}

export type FlagValue = boolean | string | string[] | number | undefined;

/** The result of parsing: typed accessors over flag values plus positionals. */
export class ParsedArgs {
  constructor(
    readonly args: string[],
    private readonly values: Map<string, FlagValue>,
    private readonly changedSet: Set<string>,
  ) {}

  bool(name: string): boolean {
    return this.values.get(name) === true;
  }

  string(name: string): string {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : '';
  }

  list(name: string): string[] {
    const v = this.values.get(name);
    return Array.isArray(v) ? v : [];
  }

  int(name: string): number {
    const v = this.values.get(name);
    return typeof v === 'number' ? v : 0;
  }

  /** Whether the flag was given on the command line (pflag's Changed). */
  changed(name: string): boolean {
    return this.changedSet.has(name);
  }
}

export interface CommandModule {
  spec: CommandSpec;
  run(ctx: CliContext, parsed: ParsedArgs, inv: Invocation): Promise<number | void>;
}

// ------------------------------------------------------------------ help

/** pflag's wrap(): indents continuation lines, wraps at `cols`. */
function wrapUsage(indent: number, cols: number, s: string): string {
  if (cols <= 0) return s.replace(/\n/g, `\n${' '.repeat(indent)}`);
  let width = cols - indent;
  let r = '';
  if (width < 24) {
    indent = 16;
    width = cols - indent;
    r += `\n${' '.repeat(indent)}`;
  }
  if (width < 24) return s.replace(/\n/g, r);
  const slop = 5;
  width -= slop;
  const wrapN = (i: number, text: string): [string, string] => {
    if (i + slop > text.length) return [text, ''];
    const head = text.slice(0, i);
    const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
    if (w <= 0) return [text, ''];
    const nl = head.lastIndexOf('\n');
    if (nl > 0 && nl < w) return [text.slice(0, nl), text.slice(nl + 1)];
    return [text.slice(0, w), text.slice(w + 1)];
  };
  const [first, afterFirst] = wrapN(width, s);
  let rest = afterFirst;
  r += first.replace(/\n/g, `\n${' '.repeat(indent)}`);
  while (rest !== '') {
    let t: string;
    [t, rest] = wrapN(width, rest);
    r += `\n${' '.repeat(indent)}${t.replace(/\n/g, `\n${' '.repeat(indent)}`)}`;
  }
  return r;
}

/** pflag's FlagUsagesWrapped: sorted, aligned, with "(default …)" when not zero. */
export function flagUsages(flags: FlagSpec[], cols: number): string {
  const visible = flags.filter((f) => !f.hidden).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lines: Array<[string, string]> = [];
  let maxlen = 0;
  for (const f of visible) {
    let line = f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
    if (f.type !== 'bool') line += ` ${f.valueName ?? (f.type === 'list' ? 'list' : f.type === 'int' ? 'int' : 'string')}`;
    if (line.length + 1 > maxlen) maxlen = line.length + 1;
    let usage = f.usage;
    const d = f.default;
    if (d !== undefined && d !== false && d !== '' && d !== 0) {
      usage += f.type === 'string' ? ` (default ${JSON.stringify(d)})` : ` (default ${String(d)})`;
    }
    lines.push([line, usage]);
  }
  return lines.map(([head, usage]) => `${head} ${' '.repeat(maxlen - head.length)} ${wrapUsage(maxlen + 2, cols, usage)}`).join('\n');
}

/** docker's usage template for a leaf command. */
export function renderHelp(spec: CommandSpec, inv: Invocation, bin: string, cols: number): string {
  let out = `\nUsage:  ${`${inv.commandPath} ${spec.usage}`.trimEnd()}\n\n${spec.short}\n`;
  if (spec.aliases && spec.aliases.length > 0) {
    out += `\nAliases:\n  ${spec.aliases.map((a) => `${bin} ${a}`).join(', ')}\n`;
  }
  if (spec.flags.some((f) => !f.hidden)) out += `\nOptions:\n${flagUsages(spec.flags, cols - 1).trimEnd()}\n`;
  return out;
}
