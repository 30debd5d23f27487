/**
 * network/portReserver: holds each published host port by binding it in
 * berthd (as Docker does even without its proxy), so a port taken by a host
 * process or another container fails clearly before the container starts,
 * and the kernel's ephemeral range supplies random ports. The DNAT rules
 * send traffic past these sockets; a connection that reaches one anyway is
 * closed. SCTP ports are not held (Node cannot bind them).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { SystemError } from '../errdefs/errors.js';
import type { Proto } from './portSpec.js';

export interface Reservation {
  proto: Proto;
  hostIp: string;
  port: number;
  /** The container that holds it (for "already allocated"). */
  owner: string;
  close: () => Promise<void>;
}

export class PortInUseError extends SystemError {}

function bindTcp(host: string, port: number): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const srv: Server = createServer((sock) => sock.destroy());
    srv.once('error', reject);
    srv.listen({ host, port, exclusive: true, backlog: 1 }, () => {
      srv.off('error', reject);
      srv.on('error', () => undefined);
      srv.unref();
      const addr = srv.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : port,
        close: () => new Promise<void>((r) => srv.close(() => r())),
      });
    });
  });
}

function bindUdp(host: string, port: number): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s: UdpSocket = createSocket({ type: 'udp4', reuseAddr: false });
    s.once('error', (e) => {
      s.close();
      reject(e);
    });
    s.bind({ address: host, port, exclusive: true }, () => {
      s.removeAllListeners('error');
      s.on('error', () => undefined);
      s.on('message', () => undefined);
      s.unref();
      resolve({ port: s.address().port, close: () => new Promise<void>((r) => s.close(() => r())) });
    });
  });
}

export class PortReserver {
  private readonly held = new Map<string, Reservation>();

  private static key(proto: string, ip: string, port: number): string {
    return `${proto}/${ip || '0.0.0.0'}/${port}`;
  }

  /** Who in this daemon holds a port that clashes with (proto, ip, port). */
  private clash(proto: string, ip: string, port: number): Reservation | undefined {
    for (const r of this.held.values()) {
      if (r.proto !== proto || r.port !== port) continue;
      const a = r.hostIp || '0.0.0.0';
      const b = ip || '0.0.0.0';
      if (a === b || a === '0.0.0.0' || b === '0.0.0.0') return r;
    }
    return undefined;
  }

  /**
   * Binds one port of [start, end] (0 = any) on hostIp for `owner`. Errors
   * carry Docker's wording after "driver failed programming external
   * connectivity on endpoint …:", which the caller adds.
   */
  async reserve(owner: string, proto: Proto, hostIp: string, start: number, end: number): Promise<Reservation> {
    const host = hostIp || '0.0.0.0';
    const candidates = start === 0 ? [0] : Array.from({ length: end - start + 1 }, (_, i) => start + i);
    let lastErr: Error | null = null;
    for (const port of candidates) {
      if (port !== 0 && this.clash(proto, hostIp, port)) {
        lastErr = new PortInUseError(`Bind for ${host}:${port} failed: port is already allocated`);
        continue;
      }
      if (proto === 'sctp') {
        if (port === 0) throw new PortInUseError('a random host port cannot be chosen for sctp');
        return this.record({ proto, hostIp, port, owner, close: async () => undefined });
      }
      try {
        const b = proto === 'tcp' ? await bindTcp(host, port) : await bindUdp(host, port);
        // A random port another container of ours took on a different address: try again.
        if (port === 0 && this.clash(proto, hostIp, b.port)) {
          await b.close();
          return this.reserve(owner, proto, hostIp, start, end);
        }
        return this.record({ proto, hostIp, port: b.port, owner, close: b.close });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') lastErr = new PortInUseError(`Error starting userland proxy: listen ${proto}4 ${host}:${port}: bind: address already in use`);
        else if (code === 'EADDRNOTAVAIL') lastErr = new PortInUseError(`listen ${proto}4 ${host}:${port}: bind: cannot assign requested address`);
        else lastErr = new PortInUseError(`listen ${proto}4 ${host}:${port}: ${(e as Error).message}`);
      }
    }
    throw lastErr ?? new PortInUseError(`Bind for ${host}:${start} failed: port is already allocated`);
  }

  private record(r: Reservation): Reservation {
    this.held.set(PortReserver.key(r.proto, r.hostIp, r.port), r);
    return r;
  }

  async release(owner: string): Promise<void> {
    for (const [k, r] of [...this.held]) {
      if (r.owner !== owner) continue;
      this.held.delete(k);
      await r.close();
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.held.values()];
    this.held.clear();
    await Promise.all(all.map((r) => r.close()));
  }
}
