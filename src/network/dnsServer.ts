/**
 * network/dnsServer: the embedded DNS server of user-defined networks (as
 * podman's aardvark-dns): UDP and TCP on each network's gateway address,
 * port 53, in the host's namespace. Containers' names, aliases and short IDs
 * are answered from the engine's state, in the scope of the asking
 * container; other single-label names get NXDOMAIN; dotted names are
 * forwarded to the container's `--dns` servers or the host's resolvers
 * (never on internal networks). Holds no container state itself.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import {
  buildResponse,
  formatErrorResponse,
  parseQuery,
  reverseNameToIPv4,
  RCODE_NOTIMP,
  RCODE_NXDOMAIN,
  RCODE_SERVFAIL,
  TYPE_A,
  TYPE_PTR,
  type Answer,
  type DnsQuery,
} from './dnsCodec.js';

export interface NameLookup {
  /** IPv4 addresses of `name` for the container at `clientIp` (asking through network `netId`); null if unknown. */
  lookup(clientIp: string, netId: string, name: string): number[] | null;
  /** The name of the container at `ip`, if the asker may see it; null if unknown. */
  reverse(clientIp: string, netId: string, ip: number): string | null;
  /** Whether `ip` lies in one of the engine's networks (its PTRs are not forwarded). */
  isEngineAddress(ip: number): boolean;
  /** Where to forward for this client; [] forwards nowhere. */
  upstreams(clientIp: string, netId: string): string[];
}

export interface DnsLogger {
  warn(obj: object, msg: string): void;
}

const TTL = 600;
const FORWARD_TIMEOUT_MS = 2500;
const MAX_FORWARDS = 256;
const MAX_TCP_MESSAGE = 65535;

interface Listener {
  ip: string;
  udp: UdpSocket;
  tcp: Server;
}

export class EmbeddedDns {
  private readonly listeners = new Map<string, Listener>();
  private forwards = 0;

  constructor(
    private readonly names: NameLookup,
    private readonly log: DnsLogger,
    private readonly port = 53,
  ) {}

  /** Starts serving network `netId` on `ip`; a second call for the same address is a no-op. */
  async listen(netId: string, ip: string): Promise<void> {
    const cur = this.listeners.get(netId);
    if (cur && cur.ip === ip) return;
    if (cur) await this.close(netId);
    const udp = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address: ip, port: this.port, exclusive: true }, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', (e) => this.log.warn({ err: e.message, ip }, 'embedded DNS socket error'));
    udp.on('message', (msg, rinfo) => {
      void this.answer(msg, rinfo.address, netId).then((out) => {
        if (out) udp.send(out, rinfo.port, rinfo.address);
      });
    });
    const tcp = createServer((sock) => this.serveTcp(sock, netId));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: ip, port: this.port, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      throw e;
    }
    tcp.on('error', (e) => this.log.warn({ err: e.message, ip }, 'embedded DNS listener error'));
    udp.unref();
    tcp.unref();
    this.listeners.set(netId, { ip, udp, tcp });
  }

  async close(netId: string): Promise<void> {
    const l = this.listeners.get(netId);
    if (!l) return;
    this.listeners.delete(netId);
    await Promise.all([new Promise<void>((r) => l.udp.close(() => r())), new Promise<void>((r) => l.tcp.close(() => r()))]);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((id) => this.close(id)));
  }

  private serveTcp(sock: Socket, netId: string): void {
    let buf = Buffer.alloc(0);
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > MAX_TCP_MESSAGE + 2) {
        sock.destroy();
        return;
      }
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void this.answer(msg, sock.remoteAddress?.replace(/^::ffff:/, '') ?? '', netId).then((out) => {
          if (!out || sock.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(out.length, 0);
          sock.write(Buffer.concat([head, out]));
        });
      }
    });
  }

  /** The answer to one message (null: say nothing). */
  async answer(msg: Buffer, clientIp: string, netId: string): Promise<Buffer | null> {
    let q: DnsQuery;
    try {
      q = parseQuery(msg);
    } catch {
      return formatErrorResponse(msg);
    }
    if (q.response) return null;
    const question = q.questions[0];
    if (q.opcode !== 0 || q.questions.length !== 1 || !question) return buildResponse(q, RCODE_NOTIMP, []);
    const name = question.name;
    if (question.type === TYPE_PTR) {
      const ip = reverseNameToIPv4(name);
      if (ip !== null) {
        const target = this.names.reverse(clientIp, netId, ip);
        if (target !== null) return buildResponse(q, 0, [{ name, type: TYPE_PTR, ttl: TTL, target }], { authoritative: true });
        if (this.names.isEngineAddress(ip)) return buildResponse(q, RCODE_NXDOMAIN, [], { authoritative: true });
      }
    } else {
      const addrs = this.names.lookup(clientIp, netId, name);
      if (addrs !== null) {
        // Known name: A records; no AAAA (IPv4 only) and nothing else to say.
        const answers: Answer[] = question.type === TYPE_A || question.type === 255 ? addrs.map((ipv4) => ({ name, type: TYPE_A, ttl: TTL, ipv4 })) : [];
        return buildResponse(q, 0, answers, { authoritative: true });
      }
    }
    if (!name.includes('.')) return buildResponse(q, RCODE_NXDOMAIN, [], { authoritative: true });
    const ups = this.names.upstreams(clientIp, netId);
    if (ups.length === 0 || this.forwards >= MAX_FORWARDS) return buildResponse(q, RCODE_SERVFAIL, []);
    this.forwards++;
    try {
      for (const up of ups) {
        const r = await forwardUdp(msg, up, FORWARD_TIMEOUT_MS);
        if (r) return r;
      }
    } finally {
      this.forwards--;
    }
    return buildResponse(q, RCODE_SERVFAIL, []);
  }
}

/** Sends `msg` to `server`:53 and returns its answer (matched by ID), or null on timeout or error. */
function forwardUdp(msg: Buffer, server: string, timeoutMs: number): Promise<Buffer | null> {
  const [host, portText] = server.includes(':') && !server.includes('::') ? server.split(':') : [server, '53'];
  return new Promise((resolve) => {
    const s = createSocket(host && host.includes(':') ? 'udp6' : 'udp4');
    let done = false;
    const finish = (r: Buffer | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.close();
      resolve(r);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    s.on('error', () => finish(null));
    s.on('message', (reply) => {
      if (reply.length >= 2 && reply.readUInt16BE(0) === msg.readUInt16BE(0)) finish(reply);
    });
    s.connect(Number(portText ?? '53'), host ?? server, () => s.send(msg));
  });
}
