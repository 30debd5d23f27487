/**
 * daemon/apiListeners: opens the Engine API on every configured address — unix
 * sockets (root:group 0660, see unixSocket.ts), TCP with TLS (TLS 1.2+,
 * client certificates required with --tlsverify), plain TCP only when
 * listenConfig allowed it — and records each connection's peer identity for
 * the audit log (server/peer). A plain-HTTP client on a TLS port gets Go's
 * one-line 400 answer instead of a silent reset. Owns the servers and their
 * connections; never routes a request itself.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { setPeer, subjectText } from '../server/peer.js';
import { peerCredAvailable, peerCredOf } from '../util/peerCred.js';
import { formatAddress, type ListenAddress, type ListenConfig, type ServerTls } from './listenConfig.js';
import { listenUnixSocket, removeUnixSocket, type BoundSocket } from './unixSocket.js';

export interface ApiHandlers {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** Time a TCP client has to send its first byte (the TLS ClientHello). */
const FIRST_BYTE_TIMEOUT_MS = 30_000;
/** What Go's net/http answers a plain-HTTP request on a TLS port (and so dockerd). */
const PLAIN_HTTP_ON_TLS = 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

function remoteOf(s: Socket): string {
  const a = s.remoteAddress ?? '?';
  return `${a.includes(':') ? `[${a}]` : a}:${s.remotePort ?? 0}`;
}

function listenTcp(server: NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
  });
}

export class ApiListeners {
  private readonly servers: NetServer[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly unixSockets: BoundSocket[] = [];
  /** The addresses as bound (tcp port 0 resolved), for the ready line and tests. */
  readonly bound: string[] = [];

  private constructor(
    private readonly handlers: ApiHandlers,
    private readonly log: Logger,
  ) {}

  /** Opens every address or none: on a failure the ones already open are closed. */
  static async open(cfg: ListenConfig, handlers: ApiHandlers, log: Logger): Promise<ApiListeners> {
    const l = new ApiListeners(handlers, log);
    try {
      for (const a of cfg.addresses) await l.openOne(a, cfg);
    } catch (e) {
      await l.close();
      throw e;
    }
    if (cfg.addresses.some((a) => a.proto === 'unix') && !peerCredAvailable()) {
      log.warn('SO_PEERCRED is unavailable (native/peercred is not built: run scripts/setup.sh): audit lines for unix-socket requests carry no uid');
    }
    return l;
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  private httpServer(): HttpServer {
    const server = createHttpServer((req, res) => this.handlers.request(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handlers.upgrade(req, socket, head));
    server.keepAliveTimeout = 60_000;
    return server;
  }

  private async openOne(a: ListenAddress, cfg: ListenConfig): Promise<void> {
    if (a.proto === 'unix') {
      const server = this.httpServer();
      server.on('connection', (s: Socket) => {
        this.track(s);
        setPeer(s, { transport: 'unix', cred: peerCredOf(s) });
      });
      this.servers.push(server);
      const uid = process.getuid?.() ?? 0;
      const bound =
        cfg.socketGid === null
          ? await listenUnixSocket(server, a.path, { uid, gid: process.getgid?.() ?? 0 }, 0o600)
          : await listenUnixSocket(server, a.path, { uid, gid: cfg.socketGid }, 0o660);
      this.unixSockets.push(bound);
      this.bound.push(formatAddress(a));
      return;
    }
    if (cfg.tls === null) {
      const server = this.httpServer();
      server.on('connection', (s: Socket) => {
        this.track(s);
        setPeer(s, { transport: 'tcp', remote: remoteOf(s), tls: false });
      });
      this.servers.push(server);
      const port = await listenTcp(server, a.host, a.port);
      this.bound.push(formatAddress({ ...a, port }));
      return;
    }
    const front = this.tlsFront(cfg.tls);
    this.servers.push(front);
    const port = await listenTcp(front, a.host, a.port);
    this.bound.push(formatAddress({ ...a, port }));
  }

  /**
   * A TCP server that looks at each connection's first byte: a TLS handshake
   * (0x16) goes to the HTTPS server, anything else is answered with Go's
   * plain-HTTP error and closed.
   */
  private tlsFront(tls: ServerTls): NetServer {
    // Loaded here, not at start: node:https and node:tls are ~0.8 MB resident, for TLS listeners only (B100).
    const https = process.getBuiltinModule('node:https').createServer(
      {
        cert: tls.cert,
        key: tls.key,
        ...(tls.ca ? { ca: tls.ca } : {}),
        minVersion: 'TLSv1.2',
        requestCert: tls.verify,
        rejectUnauthorized: tls.verify,
      },
      (req, res) => this.handlers.request(req, res),
    );
    https.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handlers.upgrade(req, socket, head));
    https.keepAliveTimeout = 60_000;
    https.on('secureConnection', (s: TLSSocket) => {
      const subject = tls.verify ? subjectText(s.getPeerCertificate().subject as Record<string, string | string[] | undefined> | undefined) : undefined;
      setPeer(s, { transport: 'tcp', remote: remoteOf(s), tls: true, ...(subject !== undefined ? { subject } : {}) });
    });
    https.on('tlsClientError', (err: Error & { code?: string }, s: TLSSocket) => {
      // A refused client (no certificate, wrong CA, expired, old TLS) is worth a line in the audit trail.
      // Node destroys a client whose certificate fails verification without an alert; the reason is
      // left in authorizationError, and the address only on the raw socket underneath (`_parent`).
      const raw = (s as unknown as { _parent?: Socket | null })._parent ?? s;
      this.log.info({ audit: true, remote: remoteOf(raw), err: s.authorizationError ?? err.code ?? err.message }, 'TLS client refused');
    });
    // allowHalfOpen as node:http has it: a hijacked attach/exec client half-closes when its stdin
    // ends and must still get the container's output (the TLS socket inherits this setting).
    const front = createNetServer({ allowHalfOpen: true }, (raw: Socket) => {
      this.track(raw);
      raw.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => raw.destroy());
      raw.on('error', () => raw.destroy());
      const sniff = (): void => {
        const first = raw.read(1) as Buffer | null;
        if (first === null) {
          raw.once('readable', sniff);
          return;
        }
        raw.unshift(first);
        raw.setTimeout(0);
        if (first[0] === 0x16) {
          // The TLS socket takes over the handle and first drains what is buffered here.
          https.emit('connection', raw);
        } else if (first[0] !== undefined && first[0] >= 0x41 && first[0] <= 0x5a) {
          this.log.info({ audit: true, remote: remoteOf(raw) }, 'plain HTTP request on the TLS port refused');
          raw.setTimeout(5_000);
          raw.end(PLAIN_HTTP_ON_TLS);
        } else {
          raw.destroy();
        }
      };
      raw.once('readable', sniff);
    });
    return front;
  }

  /** Stops accepting, drops every connection (hijacked streams too) and removes our socket files. */
  async close(): Promise<void> {
    const servers = this.servers.splice(0);
    const closed = servers.map((s) => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r())));
    for (const s of this.sockets) s.destroy();
    await Promise.all(closed);
    for (const u of this.unixSockets.splice(0)) await removeUnixSocket(u);
  }
}
