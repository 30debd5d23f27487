/**
 * berthd entry point: parses flags, starts the daemon, handles signals.
 * SIGTERM/SIGINT stop the API and leave containers running (conmon keeps them).
 */
import { Command } from 'commander';
import pino from 'pino';
import { Daemon } from './daemon.js';
import { messageOf } from '../errdefs/errors.js';
import { DEFAULT_UNIX_SOCKET, prepareListenConfig } from './listenConfig.js';
import { resolveUsernsRemap } from './usernsRemap.js';
import { parseAddressPool } from '../network/addressPool.js';
import { startIdleTrim } from './idleTrim.js';

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

/** A positive whole number of bytes. */
function parseByteCount(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`invalid ${flag} "${v}": a positive number of bytes is expected`);
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function main(): Promise<void> {
  const program = new Command('berthd')
    .description('berth daemon: a container engine speaking the Docker Engine API')
    .option('--data-root <dir>', 'root directory of persistent berth state', '/var/lib/berth')
    .option('--exec-root <dir>', 'root directory for execution state files', '/run/berth')
    .option('-H, --host <url>', 'address to serve the API on: unix:///path or tcp://host:port (repeatable; default unix:///run/berth.sock)', collect, [])
    .option('-G, --group <name>', 'group owning the unix socket (mode 0660; default berth, root-only 0600 if it does not exist)')
    .option('--tls', 'serve tcp:// addresses over TLS (implied by --tlsverify)', false)
    .option('--tlsverify', 'serve TLS and require client certificates signed by --tlscacert', false)
    .option('--tlscacert <file>', 'CA that client certificates must be signed by (default ~/.docker/ca.pem)')
    .option('--tlscert <file>', 'server TLS certificate (default ~/.docker/cert.pem)')
    .option('--tlskey <file>', 'server TLS key (default ~/.docker/key.pem)')
    .option('--insecure-tcp', 'allow tcp:// without TLS: anyone who can reach the port has root on this host', false)
    .option('--userns-remap <default|user[:group]>', "map containers' root to an unprivileged range from /etc/subuid and /etc/subgid")
    .option('--runtime <name>', 'OCI runtime: runc or crun', 'runc')
    .option('--cgroup-parent <path>', 'parent cgroup for containers', '/berth')
    .option('--log-level <level>', 'debug, info, warn, error or fatal', 'info')
    .option('--insecure-registry <host>', 'registry reached without certificate checks, HTTPS then plain HTTP: HOST:PORT or CIDR (repeatable; loopback ones always are)', collect, [])
    .option('--registry-mirror <[registry=]url>', 'pull-through mirror, for Docker Hub or for any named registry (repeatable)', collect, [])
    .option('--log-opt <key=value>', 'default container log option: max-size (default 10m), max-file (default 3) (repeatable)', collect, [])
    .option('-b, --bridge <name>', 'bridge device of the default "bridge" network (also names this daemon\'s iptables chains)', 'berth0')
    .option('--bip <cidr>', 'address and prefix of the default bridge (default 172.17.0.1/16, or a free subnet if that overlaps a route)')
    .option('--default-address-pool <base=CIDR,size=N>', "subnets for user networks (repeatable; default Docker's 172.17-31.0.0/16 and 192.168.0.0/16 by /20)", collect, [])
    .option('--iptables [bool]', 'add NAT, forwarding and isolation rules (--iptables=false: none)', 'true')
    .option('--mtu <bytes>', 'MTU of the default bridge network')
    .option('--max-build-context <bytes>', 'largest build context accepted, in bytes (default 8 GiB)')
    .version('0.1.0', '-v, --version')
    .parse(process.argv);
  const o = program.opts<{
    dataRoot: string;
    execRoot: string;
    host: string[];
    group?: string;
    tls: boolean;
    tlsverify: boolean;
    tlscacert?: string;
    tlscert?: string;
    tlskey?: string;
    insecureTcp: boolean;
    usernsRemap?: string;
    runtime: string;
    cgroupParent: string;
    logLevel: string;
    insecureRegistry: string[];
    registryMirror: string[];
    logOpt: string[];
    bridge: string;
    bip?: string;
    defaultAddressPool: string[];
    iptables: string | boolean;
    mtu?: string;
    maxBuildContext?: string;
  }>();
  const log = pino({ level: o.logLevel, base: { pid: process.pid } }, pino.destination(2));
  let daemon: Daemon;
  try {
    const listen = await prepareListenConfig(
      {
        hosts: o.host,
        group: o.group,
        tls: o.tls,
        tlsverify: o.tlsverify,
        tlscacert: o.tlscacert,
        tlscert: o.tlscert,
        tlskey: o.tlskey,
        insecureTcp: o.insecureTcp,
      },
      log,
    );
    const firstUnix = listen.addresses.find((a) => a.proto === 'unix');
    const userns = o.usernsRemap !== undefined ? await resolveUsernsRemap(o.usernsRemap) : undefined;
    daemon = new Daemon(
      {
        listen,
        ...(userns ? { userns } : {}),
        dataRoot: o.dataRoot,
        execRoot: o.execRoot,
        socket: firstUnix?.proto === 'unix' ? firstUnix.path : DEFAULT_UNIX_SOCKET,
        runtime: o.runtime,
        cgroupParent: o.cgroupParent,
        insecureRegistries: o.insecureRegistry,
        registryMirrors: parseMirrors(o.registryMirror),
        ...(o.maxBuildContext !== undefined ? { maxBuildContextBytes: parseByteCount(o.maxBuildContext, '--max-build-context') } : {}),
        containerLogOpts: Object.fromEntries(o.logOpt.map((kv) => [kv.slice(0, kv.indexOf('=') < 0 ? kv.length : kv.indexOf('=')), kv.includes('=') ? kv.slice(kv.indexOf('=') + 1) : ''])),
        network: {
          bridge: o.bridge,
          bridgeExplicit: program.getOptionValueSource('bridge') === 'cli',
          ...(o.bip !== undefined ? { bip: o.bip } : {}),
          pools: o.defaultAddressPool.map(parseAddressPool),
          iptables: !['false', '0'].includes(String(o.iptables).toLowerCase()),
          ...(o.mtu !== undefined ? { mtu: Number(o.mtu) } : {}),
        },
      },
      log,
    );
    await daemon.start();
    // Start-up's freed malloc pages go back once it is over, and after every busy stretch.
    startIdleTrim();
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
