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
  cp: c('container/cp', 'cp', 'Copy files/folders between a container and the local filesystem'),
  create: c('container/create', 'create', 'Create a new container'),
  diff: c('container/diff', 'diff', "Inspect changes to files or directories on a container's filesystem"),
  exec: c('container/exec', 'exec', 'Execute a command in a running container'),
  export: c('container/export', 'export', "Export a container's filesystem as a tar archive"),
  inspect: c('container/inspect', 'inspect', 'Display detailed information on one or more containers'),
  kill: c('container/kill', 'kill', 'Kill one or more running containers'),
  logs: c('container/logs', 'logs', 'Fetch the logs of a container'),
  ls: c('container/ls', 'ls', 'List containers'),
  pause: c('container/pause', 'pause', 'Pause all processes within one or more containers'),
  port: c('container/port', 'port', 'List port mappings or a specific mapping for the container'),
  prune: c('container/prune', 'prune', 'Remove all stopped containers'),
  rename: c('container/rename', 'rename', 'Rename a container'),
  commit: c('container/commit', 'commit', "Create a new image from a container's changes"),
  restart: c('container/restart', 'restart', 'Restart one or more containers'),
  rm: c('container/rm', 'rm', 'Remove one or more containers'),
  run: c('container/run', 'run', 'Create and run a new container from an image'),
  start: c('container/start', 'start', 'Start one or more stopped containers'),
  stats: c('container/stats', 'stats', 'Display a live stream of container(s) resource usage statistics'),
  stop: c('container/stop', 'stop', 'Stop one or more running containers'),
  top: c('container/top', 'top', 'Display the running processes of a container'),
  unpause: c('container/unpause', 'unpause', 'Unpause all processes within one or more containers'),
  update: c('container/update', 'update', 'Update configuration of one or more containers'),
  wait: c('container/wait', 'wait', 'Block until one or more containers stop, then print their exit codes'),
};

const IMAGE = {
  build: c('image/build', 'build', 'Build an image from a Dockerfile'),
  history: c('image/history', 'history', 'Show the history of an image'),
  import: c('image/import', 'import', 'Import the contents from a tarball to create a filesystem image'),
  inspect: c('image/inspect', 'inspect', 'Display detailed information on one or more images'),
  load: c('image/load', 'load', 'Load an image from a tar archive or STDIN'),
  ls: c('image/ls', 'ls', 'List images'),
  prune: c('image/prune', 'prune', 'Remove unused images'),
  pull: c('image/pull', 'pull', 'Download an image from a registry'),
  push: c('image/push', 'push', 'Upload an image to a registry'),
  rm: c('image/rm', 'rm', 'Remove one or more images'),
  save: c('image/save', 'save', 'Save one or more images to a tar archive (streamed to STDOUT by default)'),
  tag: c('image/tag', 'tag', 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'),
};

const BUILDER = {
  build: c('image/build', 'build', 'Build an image from a Dockerfile'),
  prune: c('builder/prune', 'prune', 'Remove build cache'),
};

const REGISTRY = {
  gc: c('registry/gc', 'gc', 'Remove blobs that no manifest references'),
  serve: c('registry/serve', 'serve', 'Run an OCI distribution registry server'),
};

const VOLUME = {
  create: c('volume/create', 'create', 'Create a volume'),
  inspect: c('volume/inspect', 'inspect', 'Display detailed information on one or more volumes'),
  ls: c('volume/ls', 'ls', 'List volumes'),
  prune: c('volume/prune', 'prune', 'Remove unused local volumes'),
  rm: c('volume/rm', 'rm', 'Remove one or more volumes'),
};

const NETWORK = {
  connect: c('network/connect', 'connect', 'Connect a container to a network'),
  create: c('network/create', 'create', 'Create a network'),
  disconnect: c('network/disconnect', 'disconnect', 'Disconnect a container from a network'),
  inspect: c('network/inspect', 'inspect', 'Display detailed information on one or more networks'),
  ls: c('network/ls', 'ls', 'List networks'),
  prune: c('network/prune', 'prune', 'Remove all unused networks'),
  rm: c('network/rm', 'rm', 'Remove one or more networks'),
};

const SYSTEM = {
  df: c('system/df', 'df', 'Show berth disk usage'),
  events: c('system/events', 'events', 'Get real time events from the server'),
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
  network: {
    short: 'Manage networks',
    verbs: { ...NETWORK, list: NETWORK.ls, remove: NETWORK.rm },
  },
  builder: {
    short: 'Manage builds',
    verbs: BUILDER,
  },
  registry: {
    short: 'Run and maintain an OCI registry',
    verbs: REGISTRY,
  },
  system: {
    short: 'Manage Berth',
    verbs: SYSTEM,
  },
  volume: {
    short: 'Manage volumes',
    verbs: { ...VOLUME, list: VOLUME.ls, remove: VOLUME.rm },
  },
};

/** Top-level commands; the `name` is the alias itself, as docker's CommandPath shows it. */
export const TOP_LEVEL: Record<string, CommandEntry> = {
  attach: CONTAINER.attach,
  build: IMAGE.build,
  cp: CONTAINER.cp,
  create: CONTAINER.create,
  diff: CONTAINER.diff,
  events: SYSTEM.events,
  exec: CONTAINER.exec,
  export: CONTAINER.export,
  history: IMAGE.history,
  images: c('image/ls', 'images', 'List images'),
  import: IMAGE.import,
  info: SYSTEM.info,
  inspect: c('system/inspect', 'inspect', 'Return low-level information on Berth objects'),
  kill: CONTAINER.kill,
  load: IMAGE.load,
  login: c('image/login', 'login', 'Authenticate to a registry'),
  logout: c('image/logout', 'logout', 'Log out from a registry'),
  logs: CONTAINER.logs,
  pause: CONTAINER.pause,
  port: CONTAINER.port,
  ps: c('container/ls', 'ps', 'List containers'),
  pull: IMAGE.pull,
  push: IMAGE.push,
  rename: CONTAINER.rename,
  commit: CONTAINER.commit,
  restart: CONTAINER.restart,
  rm: CONTAINER.rm,
  rmi: c('image/rm', 'rmi', 'Remove one or more images'),
  run: CONTAINER.run,
  save: IMAGE.save,
  start: CONTAINER.start,
  stats: CONTAINER.stats,
  stop: CONTAINER.stop,
  tag: IMAGE.tag,
  top: CONTAINER.top,
  unpause: CONTAINER.unpause,
  update: CONTAINER.update,
  version: c('system/version', 'version', 'Show the Berth version information'),
  wait: CONTAINER.wait,
};

/** Shown first in `berth --help`, as docker's "Common Commands". */
export const COMMON_COMMANDS = ['run', 'ps', 'build', 'pull', 'push', 'images', 'login', 'logout', 'import', 'info', 'version'];
