/**
 * server/peer: the identity of whoever is on the other end of an API
 * connection, recorded once per connection by the listener that accepted it
 * (unix: SO_PEERCRED; TCP+TLS: the client certificate's subject; plain TCP:
 * only the remote address). The audit log reads it per request. Never decides
 * anything from it: berth has no authorization layer (access to a listener is
 * the permission, as in Docker).
 */
import type { Duplex } from 'node:stream';
import type { PeerCred } from '../util/peerCred.js';

export type PeerIdentity =
  | { transport: 'unix'; cred: PeerCred | null }
  | { transport: 'tcp'; remote: string; tls: boolean; subject?: string };

const peers = new WeakMap<Duplex, PeerIdentity>();

export function setPeer(socket: Duplex, id: PeerIdentity): void {
  peers.set(socket, id);
}

export function peerOf(socket: Duplex | null | undefined): PeerIdentity | undefined {
  return socket ? peers.get(socket) : undefined;
}

/** The flat fields an audit line carries for a peer. */
export function peerFields(id: PeerIdentity | undefined): Record<string, string | number> {
  if (id === undefined) return { transport: 'unknown' };
  if (id.transport === 'unix') {
    return id.cred ? { transport: 'unix', uid: id.cred.uid, gid: id.cred.gid, pid: id.cred.pid } : { transport: 'unix' };
  }
  const out: Record<string, string | number> = { transport: id.tls ? 'tcp+tls' : 'tcp', remote: id.remote };
  if (id.subject !== undefined) out['subject'] = id.subject;
  return out;
}

/** RFC 4514-ish text of a certificate subject as Node returns it: `CN=client,O=acme`. */
export function subjectText(subject: Record<string, string | string[] | undefined> | undefined): string | undefined {
  if (subject === undefined) return undefined;
  const parts: string[] = [];
  // Most specific first, as docker's authz plugins and `openssl x509 -subject -nameopt RFC2253` print it.
  for (const key of Object.keys(subject).reverse()) {
    const v = subject[key];
    for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) parts.push(`${key}=${one.replace(/([,+"\\<>;])/g, '\\$1')}`);
  }
  return parts.length > 0 ? parts.join(',') : undefined;
}
