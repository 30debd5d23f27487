/**
 * cli/commandTable: every command name berth answers to, mapped to the module
 * that implements it (loaded with import() only when invoked, to keep start-up
 * short) — docker's layout: management commands (`container run`) plus the
 * top-level shortcuts (`run`, `ps`, `images`, `rmi`…). Data only.
 */

export interface CommandEntry {
  /** Module under commands/, without extension: "container/run". */
  module: string;
  /** Name cobra would report (`ls` for `container ps`): used in command paths. */
  name: string;
  short: string;
}

export interface NounEntry {
  short: string;
  /** Verb (and verb alias) → command. */
  verbs: Record<string, CommandEntry>;
}

const c = (module: string, name: string, short: string): CommandEntry => ({ module, name, short });

const CONTAINER = {
  attach: c('container/attach', 'attach', 'Attach local standard input, output, and error streams to a running container'),
  create: c('container/create', 'create', 'Create a new container'),
  inspect: c('container/inspect', 'inspect', 'Display detailed information on one or more containers'),
  kill: c('container/kill', 'kill', 'Kill one or more running containers'),
  logs: c('container/logs', 'logs', 'Fetch the logs of a container'),
  ls: c('container/ls', 'ls', 'List containers'),
  rm: c('container/rm', 'rm', 'Remove one or more containers'),
  run: c('container/run', 'run', 'Create and run a new container from an image'),
  start: c('container/start', 'start', 'Start one or more stopped containers'),
  stop: c('container/stop', 'stop', 'Stop one or more running containers'),
  wait: c('container/wait', 'wait', 'Block until one or more containers stop, then print their exit codes'),
};

const IMAGE = {
  import: c('image/import', 'import', 'Import the contents from a tarball to create a filesystem image'),
  inspect: c('image/inspect', 'inspect', 'Display detailed information on one or more images'),
  ls: c('image/ls', 'ls', 'List images'),
  rm: c('image/rm', 'rm', 'Remove one or more images'),
  tag: c('image/tag', 'tag', 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'),
};

const SYSTEM = {
  info: c('system/info', 'info', 'Display system-wide information'),
};

export const NOUNS: Record<string, NounEntry> = {
  container: {
    short: 'Manage containers',
    verbs: { ...CONTAINER, list: CONTAINER.ls, ps: CONTAINER.ls, remove: CONTAINER.rm },
  },
  image: {
    short: 'Manage images',
    verbs: { ...IMAGE, list: IMAGE.ls, remove: IMAGE.rm, rmi: IMAGE.rm },
  },
  system: {
    short: 'Manage Berth',
    verbs: SYSTEM,
  },
};

/** Top-level commands; the `name` is the alias itself, as docker's CommandPath shows it. */
export const TOP_LEVEL: Record<string, CommandEntry> = {
  attach: CONTAINER.attach,
  create: CONTAINER.create,
  images: c('image/ls', 'images', 'List images'),
  import: IMAGE.import,
  info: SYSTEM.info,
  inspect: c('system/inspect', 'inspect', 'Return low-level information on Berth objects'),
  kill: CONTAINER.kill,
  logs: CONTAINER.logs,
  ps: c('container/ls', 'ps', 'List containers'),
  rm: CONTAINER.rm,
  rmi: c('image/rm', 'rmi', 'Remove one or more images'),
  run: CONTAINER.run,
  start: CONTAINER.start,
  stop: CONTAINER.stop,
  tag: IMAGE.tag,
  version: c('system/version', 'version', 'Show the Berth version information'),
  wait: CONTAINER.wait,
};

/** Shown first in `berth --help`, as docker's "Common Commands". */
export const COMMON_COMMANDS = ['run', 'ps', 'images', 'import', 'info', 'version'];
