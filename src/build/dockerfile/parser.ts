/**
 * build/dockerfile/parser: Dockerfile text → typed AST (ast.ts), as BuildKit's
 * frontend does it: lineParser.ts reads lines into untyped nodes (BuildKit's
 * parser package), and this module types and checks each one (its
 * instructions package: argument counts, flags, stage names, ONBUILD rules),
 * then groups them into stages after the ARGs that precede the first FROM.
 *
 * Every failure is a DockerfileParseError (an InvalidArgumentError) worded as
 * Docker's legacy builder words it: `dockerfile parse error on line 3:
 * unknown instruction: FOO` for an instruction, `failed to parse Dockerfile:
 * file with no instructions` for the text as a whole. Pure: no I/O, and no
 * variable expansion (the builder expands with shellLex at dispatch time).
 */
import type {
  ArgInstruction,
  CommandForm,
  CopyInstruction,
  Dockerfile,
  FromInstruction,
  Heredoc,
  HealthcheckInstruction,
  Instruction,
  KeyValue,
  RunInstruction,
  SourceRange,
  Stage,
} from './ast.js';
import { BuilderFlags } from './builderFlags.js';
import { parseGoDuration } from './duration.js';
import { goParseInt, goQuote, goTrimSpace, withSuggestion } from './goText.js';
import { LineParseError, parseHeredocWord, parseLines, type Node, type RawHeredoc } from './lineParser.js';
import { DockerfileParseError } from './parseError.js';
import { networkModes, parseDevice, parseMount, securityModes } from './runFlags.js';
import type { EscapeToken } from './shellLex.js';

export { DockerfileParseError } from './parseError.js';
export { parseHeredocWord } from './lineParser.js';

export interface ParseOptions {
  /** The Dockerfile's name in whole-file errors (`failed to parse <name>: …`); default `Dockerfile`. */
  name?: string;
}

/** Instruction names, in BuildKit's command list order (for "did you mean"). */
const instructionNames = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL', 'MAINTAINER',
  'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];

const validStageName = /^[a-z][a-z0-9-_.]*$/;
const onbuildPrefix = /^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*/i;

const errAtLeastOneArgument = (cmd: string): Error => new Error(`${cmd} requires at least one argument`);
const errExactlyOneArgument = (cmd: string): Error => new Error(`${cmd} requires exactly one argument`);
const errNoDestinationArgument = (cmd: string): Error =>
  new Error(`${cmd} requires at least two arguments, but only one was provided. Destination could not be determined`);

/** BuildKit's nodeArgs: the argument values, an ONBUILD trigger flattened into its words. */
function nodeArgs(node: Node): string[] {
  const out: string[] = [];
  for (const arg of node.args) {
    if ('value' in arg) out.push(arg.value);
    else out.push(arg.child.value, ...nodeArgs(arg.child));
  }
  return out;
}

/** BuildKit's ChompHeredocContent: strip leading tabs from every line. */
function chompContent(content: string): string {
  return content
    .split('\n')
    .map((line) => line.replace(/^\t+/, ''))
    .join('\n');
}

function toHeredoc(raw: RawHeredoc): Heredoc {
  const doc: Heredoc = {
    name: raw.name,
    content: raw.chomp ? chompContent(raw.content) : raw.content,
    expand: raw.expand,
    chomp: raw.chomp,
  };
  if (raw.fileDescriptor > 0) doc.fileDescriptor = raw.fileDescriptor;
  return doc;
}


function parseKvps(args: string[], cmd: string): KeyValue[] {
  if (args.length === 0) throw errAtLeastOneArgument(cmd);
  if (args.length % 3 !== 0) throw new Error(`Bad input to ${cmd}, too many arguments`);
  const pairs: KeyValue[] = [];
  for (let j = 0; j < args.length; j += 3) {
    const key = args[j] ?? '';
    if (key.length === 0) throw new Error(`${cmd} names can not be blank`);
    pairs.push({ key, value: args[j + 1] ?? '' });
  }
  return pairs;
}

/** CMD/ENTRYPOINT/RUN: exec form keeps the argv, shell form joins the words. */
function commandForm(node: Node, args: string[]): CommandForm {
  return node.json ? { json: true, args } : { json: false, shell: args.join(' ') };
}

/** parseOptInterval: a Go duration, 0 when empty, else at least 1ms. */
function checkInterval(name: string, value: string): string | undefined {
  if (value === '') return undefined;
  const d = parseGoDuration(value);
  if (d !== 0n && d < 1_000_000n) throw new Error(`Interval ${goQuote(name)} cannot be less than 1ms`);
  return value;
}

function parseHealthcheck(node: Node, args: string[], flags: BuilderFlags, base: BaseFields): HealthcheckInstruction {
  if (args.length === 0) throw errAtLeastOneArgument('HEALTHCHECK');
  const typ = (args[0] ?? '').toUpperCase();
  const rest = args.slice(1);
  if (typ === 'NONE') {
    // BuildKit never looks at flags given with NONE.
    if (rest.length !== 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    return { ...base, kind: 'healthcheck', none: true };
  }
  flags.addString('interval');
  flags.addString('timeout');
  flags.addString('start-period');
  flags.addString('start-interval');
  flags.addString('retries');
  flags.parse();
  if (typ !== 'CMD') throw new Error(`Unknown type ${goQuote(typ)} in HEALTHCHECK (try CMD)`);
  const cmd = node.json ? rest : rest.length === 0 ? [] : [rest.join(' ')];
  if (cmd.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  const hc: HealthcheckInstruction = {
    ...base,
    flags: flags.given(),
    kind: 'healthcheck',
    none: false,
    test: [node.json ? 'CMD' : 'CMD-SHELL', ...cmd],
  };
  const interval = checkInterval('interval', flags.value('interval'));
  const timeout = checkInterval('timeout', flags.value('timeout'));
  const startPeriod = checkInterval('start-period', flags.value('start-period'));
  const startInterval = checkInterval('start-interval', flags.value('start-interval'));
  if (interval !== undefined) hc.interval = interval;
  if (timeout !== undefined) hc.timeout = timeout;
  if (startPeriod !== undefined) hc.startPeriod = startPeriod;
  if (startInterval !== undefined) hc.startInterval = startInterval;
  const retries = flags.value('retries');
  if (retries !== '') {
    const n = goParseInt(retries, 32);
    if (n < 0) throw new Error(`--retries cannot be negative (${n})`);
    hc.retries = retries;
  }
  return hc;
}

function parseCopy(node: Node, args: string[], flags: BuilderFlags, base: BaseFields, isAdd: boolean): CopyInstruction {
  const cmd = isAdd ? 'ADD' : 'COPY';
  if (args.length < 2) throw errNoDestinationArgument(cmd);
  flags.addString('chown');
  flags.addString('chmod');
  flags.addBool('link');
  flags.addStrings('exclude');
  if (isAdd) {
    flags.addBool('keep-git-dir');
    flags.addString('checksum');
    flags.addBool('unpack');
  } else {
    flags.addString('from');
    flags.addBool('parents');
  }
  flags.parse();
  const sources = args.slice(0, -1);
  const dest = args[args.length - 1] ?? '';
  if (parseHeredocWord(dest)) throw new Error(`${cmd} cannot accept a heredoc as a destination`);
  const bodies = new Map<string, RawHeredoc>();
  for (const doc of node.heredocs) bodies.set(doc.name, doc);
  const heredocs: Heredoc[] = [];
  for (const src of sources) {
    const h = parseHeredocWord(src);
    if (!h) continue;
    const content = bodies.get(h.name)?.content ?? '';
    heredocs.push({ name: h.name, content: h.chomp ? chompContent(content) : content, expand: h.expand, chomp: h.chomp });
  }
  const out: CopyInstruction = {
    ...base,
    flags: flags.given(),
    kind: isAdd ? 'add' : 'copy',
    sources,
    dest,
    heredocs,
    link: flags.isTrue('link'),
  };
  const chown = flags.value('chown');
  const chmod = flags.value('chmod');
  if (chown !== '') out.chown = chown;
  if (chmod !== '') out.chmod = chmod;
  const exclude = flags.values('exclude');
  if (exclude.length > 0) out.exclude = exclude;
  if (isAdd) {
    const checksum = flags.value('checksum');
    if (checksum !== '') out.checksum = checksum;
    if (flags.isUsed('keep-git-dir')) out.keepGitDir = flags.isTrue('keep-git-dir');
    if (flags.isUsed('unpack')) out.unpack = flags.isTrue('unpack');
  } else {
    const from = flags.value('from');
    if (from !== '') out.from = from;
    if (flags.isUsed('parents')) out.parents = flags.isTrue('parents');
  }
  return out;
}

interface BaseFields {
  original: string;
  range: SourceRange;
  flags: Record<string, string[]>;
}

/** BuildKit's ParseInstruction: one node → a typed instruction; throws Errors with its messages. */
function typeInstruction(node: Node): Instruction {
  const args = nodeArgs(node);
  const flags = new BuilderFlags(node.flags);
  const base: BaseFields = {
    original: goTrimSpace(node.original),
    range: { startLine: node.startLine, endLine: node.endLine },
    flags: {},
  };
  const parsed = (): Record<string, string[]> => {
    flags.parse();
    return flags.given();
  };
  switch (node.value.toLowerCase()) {
    case 'env': {
      const f = parsed();
      return { ...base, flags: f, kind: 'env', pairs: parseKvps(args, 'ENV') };
    }
    case 'label': {
      const f = parsed();
      return { ...base, flags: f, kind: 'label', pairs: parseKvps(args, 'LABEL') };
    }
    case 'maintainer':
      if (args.length !== 1) throw errExactlyOneArgument('MAINTAINER');
      return { ...base, flags: parsed(), kind: 'maintainer', name: args[0] ?? '' };
    case 'add':
      return parseCopy(node, args, flags, base, true);
    case 'copy':
      return parseCopy(node, args, flags, base, false);
    case 'from': {
      let stageName: string | undefined;
      if (args.length === 3 && (args[1] ?? '').toLowerCase() === 'as') {
        stageName = (args[2] ?? '').toLowerCase();
        if (!validStageName.test(stageName)) {
          throw new Error(
            `invalid name for build stage: ${goQuote(args[2] ?? '')}, name can't start with a number or contain symbols`,
          );
        }
      } else if (args.length !== 1) {
        throw new Error('FROM requires either one or three arguments');
      }
      flags.addString('platform');
      const f = parsed();
      const from: FromInstruction = { ...base, flags: f, kind: 'from', image: args[0] ?? '' };
      if (stageName !== undefined) from.stageName = stageName;
      const platform = flags.value('platform');
      if (platform !== '') from.platform = platform;
      return from;
    }
    case 'onbuild': {
      if (args.length === 0) throw errAtLeastOneArgument('ONBUILD');
      const f = parsed();
      const trigger = goTrimSpace(args[0] ?? '').toUpperCase();
      if (trigger === 'ONBUILD') throw new Error('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
      let expression = node.original.replace(onbuildPrefix, '');
      for (const doc of node.heredocs) expression += '\n' + doc.content + doc.name;
      return { ...base, flags: f, kind: 'onbuild', trigger: expression };
    }
    case 'workdir':
      if (args.length !== 1) throw errExactlyOneArgument('WORKDIR');
      return { ...base, flags: parsed(), kind: 'workdir', path: args[0] ?? '' };
    case 'run': {
      flags.addStrings('device');
      flags.addStrings('mount');
      flags.addString('network', 'default');
      flags.addString('security', 'sandbox');
      const f = parsed();
      for (const d of flags.values('device')) parseDevice(d);
      for (const m of flags.values('mount')) parseMount(m);
      const network = flags.value('network');
      if (!(networkModes as readonly string[]).includes(network)) throw new Error(`invalid network mode ${goQuote(network)}`);
      const security = flags.value('security');
      if (!(securityModes as readonly string[]).includes(security)) throw new Error(`security ${goQuote(security)} is not valid`);
      const run: RunInstruction = {
        ...base,
        flags: f,
        kind: 'run',
        command: commandForm(node, args),
        heredocs: node.heredocs.map(toHeredoc),
      };
      if (flags.isUsed('network')) run.network = network as (typeof networkModes)[number];
      if (flags.isUsed('security')) run.security = security as (typeof securityModes)[number];
      return run;
    }
    case 'cmd':
      return { ...base, flags: parsed(), kind: 'cmd', command: commandForm(node, args) };
    case 'entrypoint':
      return { ...base, flags: parsed(), kind: 'entrypoint', command: commandForm(node, args) };
    case 'healthcheck':
      return parseHealthcheck(node, args, flags, base);
    case 'expose': {
      if (args.length === 0) throw errAtLeastOneArgument('EXPOSE');
      const f = parsed();
      return { ...base, flags: f, kind: 'expose', ports: [...args].sort() };
    }
    case 'user':
      if (args.length !== 1) throw errExactlyOneArgument('USER');
      return { ...base, flags: parsed(), kind: 'user', user: args[0] ?? '' };
    case 'volume': {
      if (args.length === 0) throw errAtLeastOneArgument('VOLUME');
      const f = parsed();
      const paths = args.map((v) => goTrimSpace(v));
      if (paths.some((p) => p === '')) throw new Error('VOLUME specified can not be an empty string');
      return { ...base, flags: f, kind: 'volume', paths };
    }
    case 'stopsignal':
      // BuildKit never parses STOPSIGNAL's flags.
      if (args.length !== 1) throw errExactlyOneArgument('STOPSIGNAL');
      return { ...base, kind: 'stopsignal', signal: args[0] ?? '' };
    case 'arg': {
      // BuildKit never parses ARG's flags.
      if (args.length < 1) throw errAtLeastOneArgument('ARG');
      const out: ArgInstruction = { ...base, kind: 'arg', args: [] };
      for (const arg of args) {
        const eq = arg.indexOf('=');
        if (eq < 0) {
          out.args.push({ key: arg });
          continue;
        }
        if (eq === 0) throw new Error('ARG names can not be blank');
        out.args.push({ key: arg.slice(0, eq), value: arg.slice(eq + 1) });
      }
      return out;
    }
    case 'shell': {
      const f = parsed();
      if (args.length === 0) throw errAtLeastOneArgument('SHELL');
      if (!node.json) throw new Error('SHELL requires the arguments to be in JSON form');
      return { ...base, flags: f, kind: 'shell', args };
    }
  }
  throw new Error(withSuggestion(`unknown instruction: ${node.value}`, node.value, instructionNames, false));
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Parse a whole Dockerfile. Throws DockerfileParseError: the first parse
 * error BuildKit would report, with the lines it is about.
 */
export function parseDockerfile(text: string, opts: ParseOptions = {}): Dockerfile {
  const name = opts.name ?? 'Dockerfile';
  if (text.length === 0) {
    const msg = `the Dockerfile (${name}) cannot be empty`;
    throw new DockerfileParseError(msg, msg, 0);
  }
  let lines: ReturnType<typeof parseLines>;
  try {
    lines = parseLines(text);
  } catch (err) {
    if (!(err instanceof LineParseError)) throw err;
    throw new DockerfileParseError(`failed to parse ${name}: ${err.message}`, err.message, err.start, err.end);
  }
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  for (const node of lines.nodes) {
    let inst: Instruction;
    try {
      inst = typeInstruction(node);
    } catch (err) {
      const detail = message(err);
      throw new DockerfileParseError(
        `dockerfile parse error on line ${node.startLine}: ${detail}`,
        detail,
        node.startLine,
        node.endLine,
      );
    }
    const current = stages[stages.length - 1];
    if (current === undefined && inst.kind === 'arg') {
      metaArgs.push(inst);
    } else if (inst.kind === 'from') {
      const stage: Stage = { from: inst, index: stages.length, instructions: [] };
      if (inst.stageName !== undefined) stage.name = inst.stageName;
      stages.push(stage);
    } else if (current === undefined) {
      const detail = 'no build stage in current context';
      throw new DockerfileParseError(detail, detail, node.startLine, node.endLine);
    } else {
      current.instructions.push(inst);
    }
  }
  return { directives: lines.directives, escape: lines.escape, metaArgs, stages, warnings: lines.warnings };
}

/**
 * Parse one instruction, e.g. an ONBUILD trigger when its image is used as a
 * base (it may carry heredoc bodies on the following lines). BuildKit parses
 * triggers as a fresh Dockerfile, so the escape token is `\` unless given.
 * Errors carry BuildKit's bare messages (no "dockerfile parse error" prefix,
 * as for triggers in Docker).
 */
export function parseInstruction(line: string, escape: EscapeToken = '\\'): Instruction {
  let lines: ReturnType<typeof parseLines>;
  try {
    lines = parseLines(line, escape);
  } catch (err) {
    if (!(err instanceof LineParseError)) throw err;
    throw new DockerfileParseError(err.message, err.message, err.start, err.end);
  }
  const node = lines.nodes[0];
  if (lines.nodes.length !== 1 || node === undefined) {
    const detail = 'onbuild trigger should be a single expression';
    throw new DockerfileParseError(detail, detail, lines.nodes[1]?.startLine ?? 0);
  }
  let inst: Instruction;
  try {
    inst = typeInstruction(node);
  } catch (err) {
    const detail = message(err);
    throw new DockerfileParseError(detail, detail, node.startLine, node.endLine);
  }
  if (inst.kind === 'from') {
    const detail = '*instructions.Stage is not a command type';
    throw new DockerfileParseError(detail, detail, node.startLine, node.endLine);
  }
  return inst;
}
