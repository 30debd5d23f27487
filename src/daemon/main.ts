/**
 * berthd entry point: parses flags, starts the daemon, handles signals.
 * SIGTERM/SIGINT stop the API and leave containers running (conmon keeps them).
 */
import { Command } from 'commander';
import pino from 'pino';
import { Daemon } from './daemon.js';
import { messageOf } from '../errdefs/errors.js';

function socketPath(host: string): string {
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (host.startsWith('/')) return host;
  throw new Error(`unsupported host "${host}": only unix:// sockets are supported`);
}

/** `URL` mirrors Docker Hub (as in Docker); `registry=URL` mirrors any other registry. */
function parseMirrors(list: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    const [domain, url] = eq > 0 && !item.slice(0, eq).includes('/') ? [item.slice(0, eq), item.slice(eq + 1)] : ['docker.io', item];
    if (!/^https?:\/\//.test(url)) throw new Error(`invalid registry mirror "${item}": the URL must start with http:// or https://`);
    (out[domain] ??= []).push(url);
  }
  return out;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function main(): Promise<void> {
  const program = new Command('berthd')
    .description('berth daemon: a container engine speaking the Docker Engine API')
    .option('--data-root <dir>', 'root directory of persistent berth state', '/var/lib/berth')
    .option('--exec-root <dir>', 'root directory for execution state files', '/run/berth')
    .option('-H, --host <url>', 'daemon socket to listen on', 'unix:///run/berth.sock')
    .option('--runtime <name>', 'OCI runtime: runc or crun', 'runc')
    .option('--cgroup-parent <path>', 'parent cgroup for containers', '/berth')
    .option('--log-level <level>', 'debug, info, warn, error or fatal', 'info')
    .option('--insecure-registry <host>', 'registry reached over plain HTTP (repeatable; loopback ones always are)', collect, [])
    .option('--registry-mirror <[registry=]url>', 'pull-through mirror, for Docker Hub or for any named registry (repeatable)', collect, [])
    .option('--log-opt <key=value>', 'default container log option: max-size (default 10m), max-file (default 3) (repeatable)', collect, [])
    .version('0.1.0', '-v, --version')
    .parse(process.argv);
  const o = program.opts<{
    dataRoot: string;
    execRoot: string;
    host: string;
    runtime: string;
    cgroupParent: string;
    logLevel: string;
    insecureRegistry: string[];
    registryMirror: string[];
    logOpt: string[];
  }>();
  const log = pino({ level: o.logLevel, base: { pid: process.pid } }, pino.destination(2));
  let daemon: Daemon;
  try {
    daemon = new Daemon(
      {
        dataRoot: o.dataRoot,
        execRoot: o.execRoot,
        socket: socketPath(o.host),
        runtime: o.runtime,
        cgroupParent: o.cgroupParent,
        insecureRegistries: o.insecureRegistry,
        registryMirrors: parseMirrors(o.registryMirror),
        containerLogOpts: Object.fromEntries(o.logOpt.map((kv) => [kv.slice(0, kv.indexOf('=') < 0 ? kv.length : kv.indexOf('=')), kv.includes('=') ? kv.slice(kv.indexOf('=') + 1) : ''])),
      },
      log,
    );
    await daemon.start();
  } catch (e) {
    process.stderr.write(`${messageOf(e)}\n`);
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'shutting down; containers keep running');
    daemon.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: messageOf(e) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
