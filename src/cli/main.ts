/**
 * cli/main: the `berth` entry. Reads docker's global flags (-H, -D, -l,
 * --config, -v, -h) by hand, finds the command in the table and import()s only
 * that command's module, runs it, prints any error exactly once and exits with
 * docker's code. Holds no engine logic and no per-command code.
 */
import { DaemonUnreachableError } from '../client/errors.js';
import { HostParseError, resolveHost } from '../client/host.js';
import { TlsConfigError, resolveClientTls, tlsEnabled, type ClientTlsFlags } from '../client/tlsConfig.js';
import { COMMON_COMMANDS, NOUNS, TOP_LEVEL, type CommandEntry } from './commandTable.js';
import { flagUsages, renderHelp, type CommandModule, type FlagSpec, type Invocation } from './command.js';
import { BIN_NAME, CLI_VERSION, CliContext } from './context.js';
import { StatusError, errorText } from './errors.js';

const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'config', type: 'string', usage: 'Location of client config files', default: '/root/.berth' },
  { name: 'debug', short: 'D', type: 'bool', usage: 'Enable debug mode' },
  { name: 'host', short: 'H', type: 'list', usage: 'Daemon socket to connect to' },
  {
    name: 'log-level',
    short: 'l',
    type: 'string',
    usage: 'Set the logging level ("debug", "info", "warn", "error", "fatal")',
    default: 'info',
  },
  { name: 'tls', type: 'bool', usage: 'Use TLS; implied by --tlsverify' },
  { name: 'tlscacert', type: 'string', usage: 'Trust certs signed only by this CA', default: '~/.docker/ca.pem' },
  { name: 'tlscert', type: 'string', usage: 'Path to TLS certificate file', default: '~/.docker/cert.pem' },
  { name: 'tlskey', type: 'string', usage: 'Path to TLS key file', default: '~/.docker/key.pem' },
  { name: 'tlsverify', type: 'bool', usage: 'Use TLS and verify the remote' },
  { name: 'version', short: 'v', type: 'bool', usage: 'Print version information and quit' },
];

interface GlobalOptions {
  hosts: string[];
  debug: boolean;
  version: boolean;
  help: boolean;
  tls: ClientTlsFlags;
  rest: string[];
}

/** `--tls`, `--tls=false`: pflag's bool syntax. */
function boolFlag(value: string | undefined, flag: string): boolean {
  if (value === undefined) return true;
  if (/^(1|t|true|TRUE|True)$/.test(value)) return true;
  if (/^(0|f|false|FALSE|False)$/.test(value)) return false;
  throw new UsageError(`invalid argument "${value}" for "${flag}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
}

class UsageError extends Error {}

/** Parses flags before the command name; the command name ends them. */
export function parseGlobalFlags(argv: string[]): GlobalOptions {
  const g: GlobalOptions = { hosts: [], debug: false, version: false, help: false, tls: {}, rest: [] };
  const takesValue = new Map<string, string>([
    ['--config', 'config'],
    ['--host', 'host'],
    ['-H', 'host'],
    ['--log-level', 'log-level'],
    ['-l', 'log-level'],
    ['--context', 'context'],
    ['-c', 'context'],
    ['--tlscacert', 'tlscacert'],
    ['--tlscert', 'tlscert'],
    ['--tlskey', 'tlskey'],
  ]);
  let i = 0;
  for (; i < argv.length; i++) {
    const tok = argv[i] as string;
    if (tok === '--') {
      i++;
      break;
    }
    if (!tok.startsWith('-') || tok === '-') break;
    const eq = tok.startsWith('--') ? tok.indexOf('=') : -1;
    const key = eq >= 0 ? tok.slice(0, eq) : tok;
    let value: string | undefined;
    if (takesValue.has(key)) {
      if (eq >= 0) value = tok.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i] as string;
      else throw new UsageError(`flag needs an argument: ${key.startsWith('--') ? key : `'${key.slice(1)}' in ${key}`}`);
      const name = takesValue.get(key);
      if (name === 'host') g.hosts.push(value);
      else if (name === 'tlscacert' || name === 'tlscert' || name === 'tlskey') g.tls[name] = value;
      continue;
    }
    if (key === '--tls' || key === '--tlsverify') {
      const on = boolFlag(eq >= 0 ? tok.slice(eq + 1) : undefined, key.slice(2));
      if (key === '--tls') g.tls.tls = on;
      else g.tls.tlsverify = on;
      continue;
    }
    if (/^-[HlcD]./.test(tok) && !tok.startsWith('--')) {
      // -Hunix:///x, -Dv …: shorthand with an attached value or cluster.
      const ch = tok[1] as string;
      if (ch === 'H') {
        g.hosts.push(tok.slice(2).replace(/^=/, ''));
        continue;
      }
      if (ch === 'l' || ch === 'c') continue;
    }
    switch (key) {
      case '-D':
      case '--debug':
        g.debug = true;
        break;
      case '-v':
      case '--version':
        g.version = true;
        break;
      case '-h':
      case '--help':
        g.help = true;
        break;
      default:
        throw new UsageError(
          key.startsWith('--') ? `unknown flag: ${key}` : `unknown shorthand flag: '${key.slice(1, 2)}' in ${tok}`,
        );
    }
  }
  g.rest = argv.slice(i);
  return g;
}

function terminalWidth(): number {
  return process.stdin.isTTY ? process.stdout.columns || 80 : 80;
}

function rpad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function topLevelHelp(): string {
  const nouns = Object.keys(NOUNS).sort();
  const others = Object.keys(TOP_LEVEL)
    .filter((n) => !COMMON_COMMANDS.includes(n))
    .sort();
  const pad = Math.max(...[...COMMON_COMMANDS, ...nouns, ...others].map((n) => n.length)) + 1;
  const line = (name: string, short: string): string => `  ${rpad(name, pad)} ${short}`;
  let out = `\nUsage:  ${BIN_NAME} [OPTIONS] COMMAND\n\nA container engine that speaks the Docker Engine API\n\nCommon Commands:\n`;
  out += COMMON_COMMANDS.map((n) => line(n, (TOP_LEVEL[n] as CommandEntry).short)).join('\n');
  out += '\n\nManagement Commands:\n';
  out += nouns.map((n) => line(n, (NOUNS[n] as { short: string }).short)).join('\n');
  out += '\n\nCommands:\n';
  out += others.map((n) => line(n, (TOP_LEVEL[n] as CommandEntry).short)).join('\n');
  out += `\n\nGlobal Options:\n${flagUsages(GLOBAL_FLAGS, terminalWidth() - 1)}\n`;
  out += `\nRun '${BIN_NAME} COMMAND --help' for more information on a command.\n`;
  return out;
}

function nounHelp(noun: string): string {
  const entry = NOUNS[noun] as { short: string; verbs: Record<string, CommandEntry> };
  const seen = new Set<string>();
  const verbs = Object.entries(entry.verbs)
    .filter(([v, e]) => v === e.name && !seen.has(v) && seen.add(v))
    .map(([v, e]) => [v, e.short] as const)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const pad = Math.max(...verbs.map(([v]) => v.length)) + 1;
  let out = `\nUsage:  ${BIN_NAME} ${noun} COMMAND\n\n${entry.short}\n\nCommands:\n`;
  out += verbs.map(([v, s]) => `  ${rpad(v, pad)} ${s}`).join('\n');
  out += `\n\nRun '${BIN_NAME} ${noun} COMMAND --help' for more information on a command.\n`;
  return out;
}

interface Resolved {
  entry: CommandEntry;
  path: string;
  argv: string[];
}

/** Finds the command: `run …`, `container run …`; undefined prints help or an error. */
function resolveCommand(rest: string[]): Resolved | StatusError | string {
  const first = rest[0] as string;
  const noun = NOUNS[first];
  if (noun !== undefined) {
    const verb = rest[1];
    if (verb === undefined || verb === '--help' || verb === '-h') return nounHelp(first);
    const entry = noun.verbs[verb];
    if (entry === undefined) {
      if (verb.startsWith('-')) {
        return new StatusError(
          `unknown flag: ${verb}\n\nUsage:  ${BIN_NAME} ${first} COMMAND\n\nRun '${BIN_NAME} ${first} --help' for more information`,
          125,
        );
      }
      return new StatusError(
        `${BIN_NAME}: unknown command: ${BIN_NAME} ${first} ${verb}\n\nUsage:  ${BIN_NAME} ${first} COMMAND\n\nRun '${BIN_NAME} ${first} --help' for more information`,
        1,
      );
    }
    return { entry, path: `${BIN_NAME} ${first} ${entry.name}`, argv: rest.slice(2) };
  }
  if (first === 'help') {
    const target = rest.slice(1);
    if (target.length === 0) return topLevelHelp();
    return resolveCommand([...target, '--help']);
  }
  const entry = TOP_LEVEL[first];
  if (entry === undefined) {
    return new StatusError(`${BIN_NAME}: '${first}' is not a ${BIN_NAME} command.\nSee '${BIN_NAME} --help'`, 1);
  }
  return { entry, path: `${BIN_NAME} ${entry.name}`, argv: rest.slice(1) };
}

/**
 * Loads a command's module (`system/version`): import() of its own file, so only the invoked
 * command is ever loaded. The path is a variable so that a bundler leaves it a run-time import;
 * the CLI bundle (scripts/build-cli.mjs), which holds every command, replaces the loader.
 */
let loadCommand = (module: string): Promise<CommandModule> => {
  const path = `./commands/${module}.js`;
  return import(path) as Promise<CommandModule>;
};

/** For the CLI bundle: load commands from the bundle itself instead of files next to it. */
export function setCommandLoader(load: (module: string) => Promise<CommandModule>): void {
  loadCommand = load;
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let ctx: CliContext | undefined;
  try {
    let g: GlobalOptions;
    try {
      g = parseGlobalFlags(argv);
    } catch (e) {
      if (e instanceof UsageError) {
        throw new StatusError(
          `${e.message}\n\nUsage:  ${BIN_NAME} [OPTIONS] COMMAND [ARG...]\n\nRun '${BIN_NAME} --help' for more information`,
          125,
        );
      }
      throw e;
    }
    if (g.version) {
      process.stdout.write(`Berth version ${CLI_VERSION}\n`);
      return 0;
    }
    if (g.help || g.rest.length === 0) {
      process.stdout.write(topLevelHelp());
      return 0;
    }
    if (g.hosts.length > 1) throw new StatusError('Specify only one -H', 1);

    const resolved = resolveCommand(g.rest);
    if (typeof resolved === 'string') {
      process.stdout.write(resolved);
      return 0;
    }
    if (resolved instanceof StatusError) throw resolved;

    let host;
    let tls = null;
    try {
      host = resolveHost(g.hosts[0], process.env, tlsEnabled(g.tls));
      if (host.proto === 'tcp') tls = resolveClientTls(g.tls);
    } catch (e) {
      if (e instanceof HostParseError || e instanceof TlsConfigError) throw new StatusError(e.message, 1);
      throw e;
    }
    const envVersion = process.env['BERTH_API_VERSION'];
    ctx = new CliContext(envVersion ? { host, tls, debug: g.debug, apiVersion: envVersion } : { host, tls, debug: g.debug });

    // Only the invoked command (and the parser, with commander) is ever loaded.
    const [mod, parser] = await Promise.all([loadCommand(resolved.entry.module), import('./parse.js')]);
    const inv: Invocation = { commandPath: resolved.path };
    const outcome = parser.parseCommand(mod.spec, resolved.argv, inv, BIN_NAME);
    if (outcome.kind === 'help') {
      if (outcome.warning !== undefined) process.stderr.write(`${outcome.warning}\n`);
      process.stdout.write(renderHelp(mod.spec, inv, BIN_NAME, terminalWidth()));
      return 0;
    }
    const code = await mod.run(ctx, outcome.parsed, inv);
    return code ?? 0;
  } catch (e) {
    if (e instanceof StatusError) {
      if (e.status !== '') process.stderr.write(`${e.status}\n`);
      return e.exitCode;
    }
    if ((e as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') {
      // The reader of our output went away (`berth logs x | head`): end quietly,
      // as docker does when SIGPIPE ends it (128 + 13).
      return 141;
    }
    if (e instanceof DaemonUnreachableError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    if (ctx?.debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    else process.stderr.write(`${errorText(e)}\n`);
    return 1;
  } finally {
    if (ctx?.hasClient) ctx.client.close();
  }
}

/** Entry used by bin/berth. */
export async function runMain(): Promise<void> {
  // A closed pipe on stdout is the reader's choice, not a crash worth a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(141);
  });
  const code = await main(process.argv.slice(2));
  // Writes to files, pipes and TTYs are synchronous, but to a socket (stdio of a process that
  // Node spawned, for one) they are not: wait until both streams have flushed, then exit, which
  // also stops a still-open stdin from keeping us alive.
  const flushed = (s: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => (s.writableLength === 0 ? resolve() : s.write('', () => resolve())));
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}
