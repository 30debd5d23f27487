/**
 * cli/parse: the one parser for CommandSpecs. Parsing is done by commander 14
 * (positional options + pass-through, so `run IMAGE CMD --rm` hands `--rm` to
 * the container); this module adds what pflag does and commander does not —
 * `--flag=false`, `-e=VALUE`, int and custom value checks — and turns every
 * parse failure into docker's text and exit code (125 for flags, 1 for
 * argument counts). Never talks to the daemon.
 */
import { Command, CommanderError, Option } from 'commander';
import { ParsedArgs, type CommandSpec, type FlagSpec, type FlagValue, type Invocation } from './command.js';
import { StatusError } from './errors.js';

class FlagValueError extends Error {}

const TRUE_VALUES = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_VALUES = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

function flagLabel(f: FlagSpec): string {
  return f.short ? `-${f.short}, --${f.name}` : `--${f.name}`;
}

function invalidArgument(f: FlagSpec, value: string, message: string): FlagValueError {
  return new FlagValueError(`invalid argument "${value}" for "${flagLabel(f)}" flag: ${message}`);
}

function parseGoInt(f: FlagSpec, value: string): number {
  if (!/^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]*|[1-9][0-9_]*)$/.test(value)) {
    throw invalidArgument(f, value, `strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  }
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isSafeInteger(n)) {
    throw invalidArgument(f, value, `strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`);
  }
  return n;
}

/**
 * Rewrites the pflag spellings commander does not accept: `--bool=false`,
 * `--bool=true`, `-x=value`. Stops where flag parsing stops.
 */
export function preprocessArgv(spec: CommandSpec, argv: string[]): string[] {
  const byLong = new Map(spec.flags.map((f) => [f.name, f]));
  const byShort = new Map(spec.flags.filter((f) => f.short).map((f) => [f.short as string, f]));
  if (!byShort.has('h')) byShort.set('h', { name: 'help', type: 'bool', usage: '' });
  if (!byLong.has('help')) byLong.set('help', { name: 'help', type: 'bool', usage: '' });
  const interspersed = spec.interspersed ?? true;
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i] as string;
    if (tok === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (tok.startsWith('--')) {
      const eq = tok.indexOf('=');
      const name = eq >= 0 ? tok.slice(2, eq) : tok.slice(2);
      const f = byLong.get(name);
      if (f?.type === 'bool' && eq >= 0) {
        const v = tok.slice(eq + 1);
        if (TRUE_VALUES.has(v)) out.push(`--${name}`);
        else if (FALSE_VALUES.has(v)) {
          if (!name.startsWith('no-') && name !== 'help') out.push(`--no-${name}`);
        } else {
          throw invalidArgument(f, v, `strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
        }
        continue;
      }
      out.push(tok);
      if (f !== undefined && f.type !== 'bool' && eq < 0 && i + 1 < argv.length) out.push(argv[++i] as string);
      continue;
    }
    if (tok.startsWith('-') && tok.length > 1) {
      // A shorthand cluster such as -it, -e=A=1, -eA=1, -m512m, -d=false.
      let bools = '';
      let tail: string[] = [];
      let j = 1;
      for (; j < tok.length; j++) {
        const ch = tok[j] as string;
        const f = byShort.get(ch);
        if (f === undefined) {
          // Unknown: leave the rest for commander to report.
          bools += tok.slice(j);
          break;
        }
        if (f.type === 'bool') {
          if (tok[j + 1] === '=') {
            const v = tok.slice(j + 2);
            if (TRUE_VALUES.has(v)) bools += ch;
            else if (FALSE_VALUES.has(v)) {
              if (!f.name.startsWith('no-') && f.name !== 'help') tail = [`--no-${f.name}`];
            } else throw invalidArgument(f, v, `strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
            break;
          }
          bools += ch;
          continue;
        }
        // A value flag takes the rest of the cluster, or else the next argument.
        const rest = tok.slice(j + 1);
        if (rest !== '') tail = [`--${f.name}=${rest.startsWith('=') ? rest.slice(1) : rest}`];
        else if (i + 1 < argv.length) tail = [`--${f.name}`, argv[++i] as string];
        else tail = [`-${ch}`];
        break;
      }
      if (bools !== '') out.push(`-${bools}`);
      out.push(...tail);
      continue;
    }
    // A positional argument.
    if (!interspersed) {
      out.push(...argv.slice(i));
      break;
    }
    out.push(tok);
  }
  return out;
}

function argsError(spec: CommandSpec, inv: Invocation, bin: string, n: number): string | undefined {
  const rule = spec.args;
  const useLine = `${inv.commandPath} ${spec.usage}`.trimEnd();
  const plural = (k: number): string => (k === 1 ? 'argument' : 'arguments');
  switch (rule.kind) {
    case 'none':
      if (n === 0) return undefined;
      return `${bin}: '${inv.commandPath}' accepts no arguments\n\nUsage:  ${useLine}\n\nRun '${inv.commandPath} --help' for more information`;
    case 'min':
      if (n >= rule.n) return undefined;
      return `${bin}: '${inv.commandPath}' requires at least ${rule.n} ${plural(rule.n)}\n\nUsage:  ${useLine}\n\nSee '${inv.commandPath} --help' for more information`;
    case 'max':
      if (n <= rule.n) return undefined;
      return `${bin}: '${inv.commandPath}' requires at most ${rule.n} ${plural(rule.n)}\n\nUsage:  ${useLine}\n\nRun '${inv.commandPath} --help' for more information`;
    case 'exact':
      if (n === rule.n) return undefined;
      return `${bin}: '${inv.commandPath}' requires ${rule.n} ${plural(rule.n)}\n\nUsage:  ${useLine}\n\nRun '${inv.commandPath} --help' for more information`;
    case 'range':
      if (n >= rule.min && n <= rule.max) return undefined;
      return `${bin}: '${inv.commandPath}' requires at least ${rule.min} and at most ${rule.max} ${plural(rule.max)}\n\nUsage:  ${useLine}\n\nRun '${inv.commandPath} --help' for more information`;
  }
}

function flagErrorText(spec: CommandSpec, inv: Invocation, message: string): string {
  const useLine = `${inv.commandPath} ${spec.usage}`.trimEnd();
  return `${message}\n\nUsage:  ${useLine}\n\nRun '${inv.commandPath} --help' for more information`;
}

/** commander's wording → pflag's. */
function translateCommanderError(e: CommanderError, argv: string[]): string {
  if (e.code === 'commander.unknownOption') {
    const m = /unknown option '([^']+)'/.exec(e.message);
    const opt = m?.[1] ?? '';
    if (opt.startsWith('--')) return `unknown flag: ${opt.split('=')[0]}`;
    const ch = opt.slice(1, 2);
    const cluster = argv.find((a) => a.startsWith('-') && !a.startsWith('--') && a.includes(ch)) ?? opt;
    return `unknown shorthand flag: '${ch}' in ${cluster}`;
  }
  if (e.code === 'commander.optionMissingArgument') {
    const m = /option '(?:-(\w), )?--([\w-]+)/.exec(e.message);
    const long = m?.[2] ?? '';
    const short = m?.[1];
    const usedShort = short !== undefined && argv.some((a) => a.startsWith('-') && !a.startsWith('--') && a.endsWith(short));
    return usedShort ? `flag needs an argument: '${short}' in -${short}` : `flag needs an argument: --${long}`;
  }
  return e.message.replace(/^error: /, '');
}

/**
 * The long names and shorthand letters that tokens of (preprocessed) argv could name,
 * values and positional arguments included: an over-count is harmless. parseCommand gives
 * commander only these flags: `run` and `create` have ~100, and registering each (plus the
 * hidden `--no-x` of every bool, each checked against all the others) cost every `berth run`
 * ~3 ms; a flag argv never names parses to its default either way.
 */
function referencedFlags(pre: string[]): { long: Set<string>; short: Set<string> } {
  const long = new Set<string>();
  const short = new Set<string>();
  for (const tok of pre) {
    if (tok.startsWith('--')) {
      const eq = tok.indexOf('=');
      const name = eq >= 0 ? tok.slice(2, eq) : tok.slice(2);
      long.add(name);
      // `--no-x` is the negation of bool x (preprocessArgv writes it for `--x=false`).
      if (name.startsWith('no-')) long.add(name.slice(3));
    } else if (tok.startsWith('-')) {
      for (const ch of tok.slice(1)) short.add(ch);
    }
  }
  return { long, short };
}

/** `warning`: docker's deprecation notice for `-h` (use --help), printed on stderr. */
export type ParseOutcome = { kind: 'ok'; parsed: ParsedArgs } | { kind: 'help'; warning?: string };

/** Parses `argv` (after the command name) per `spec`; throws StatusError as docker would. */
export function parseCommand(spec: CommandSpec, argv: string[], inv: Invocation, bin: string): ParseOutcome {
  let pre: string[];
  try {
    pre = preprocessArgv(spec, argv);
  } catch (e) {
    if (e instanceof FlagValueError) throw new StatusError(flagErrorText(spec, inv, e.message), 125);
    throw e;
  }

  const cmd = new Command('cmd');
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined });
  cmd.helpOption(false);
  cmd.allowExcessArguments(true);
  cmd.argument('[args...]');
  if (spec.interspersed === false) cmd.enablePositionalOptions().passThroughOptions();
  // run/create list --help among their flags (docker adds it there, -h being --hostname).
  if (!spec.flags.some((f) => f.name === 'help')) {
    cmd.addOption(new Option(spec.flags.some((f) => f.short === 'h') ? '--help' : '-h, --help'));
  }

  interface Binding {
    spec: FlagSpec;
    attr: string;
    negate: boolean;
  }
  const bindings: Binding[] = [];
  const values = new Map<string, FlagValue>();
  const seen = referencedFlags(pre);
  for (const f of spec.flags) {
    if (!seen.long.has(f.name) && !(f.short !== undefined && seen.short.has(f.short))) {
      // Not named in argv: it keeps its default (a flag spelled `no-x` defaults to false).
      if (f.type === 'bool') values.set(f.name, !f.name.startsWith('no-') && f.default === true);
      else if (f.default !== undefined && typeof f.default !== 'boolean') values.set(f.name, f.default);
      continue;
    }
    const flags = `${flagLabel(f)}${f.type === 'bool' ? '' : ' <value>'}`;
    const opt = new Option(flags);
    if (f.type === 'list') {
      opt.argParser((v: string, prev: string[] | undefined) => {
        const stored = f.validate ? wrapValidate(f, v) : v;
        return [...(prev ?? []), stored];
      });
    } else if (f.type === 'int') {
      opt.argParser((v: string) => parseGoInt(f, v));
    } else if (f.type === 'string' && f.validate) {
      opt.argParser((v: string) => wrapValidate(f, v));
    }
    cmd.addOption(opt);
    bindings.push({ spec: f, attr: opt.attributeName(), negate: opt.negate });
    if (f.type === 'bool' && !f.name.startsWith('no-') && f.name !== 'help') cmd.addOption(new Option(`--no-${f.name}`).hideHelp());
  }
  cmd.action(() => undefined);

  try {
    cmd.parse(pre, { from: 'user' });
  } catch (e) {
    if (e instanceof FlagValueError) throw new StatusError(flagErrorText(spec, inv, e.message), 125);
    if (e instanceof CommanderError) throw new StatusError(flagErrorText(spec, inv, translateCommanderError(e, argv)), 125);
    throw e;
  }

  const raw = cmd.opts<Record<string, unknown>>();
  if (raw['help'] === true) {
    const usedShort = !spec.flags.some((f) => f.short === 'h') && pre.some((t) => /^-[^-]*h/.test(t));
    return usedShort ? { kind: 'help', warning: 'Flag shorthand -h has been deprecated, use --help' } : { kind: 'help' };
  }

  const changed = new Set<string>();
  for (const b of bindings) {
    const source = cmd.getOptionValueSource(b.attr);
    const v = raw[b.attr];
    if (source === 'cli') changed.add(b.spec.name);
    if (b.spec.type === 'bool') {
      if (b.negate) values.set(b.spec.name, v === false);
      else values.set(b.spec.name, typeof v === 'boolean' ? v : b.spec.default === true);
    } else if (v !== undefined) {
      values.set(b.spec.name, v as FlagValue);
    } else if (b.spec.default !== undefined && typeof b.spec.default !== 'boolean') {
      values.set(b.spec.name, b.spec.default);
    }
  }
  const args = cmd.args;
  const err = argsError(spec, inv, bin, args.length);
  if (err !== undefined) throw new StatusError(err, 1);
  return { kind: 'ok', parsed: new ParsedArgs(args, values, changed) };
}

function wrapValidate(f: FlagSpec, v: string): string {
  try {
    return (f.validate as (value: string) => string)(v);
  } catch (e) {
    if (e instanceof FlagValueError) throw e;
    throw invalidArgument(f, v, e instanceof Error ? e.message : String(e));
  }
}

