/**
 * network/containerNetworking: one container's networking over its life —
 * at create, which networks it joins (validated with Docker's messages); at
 * start, host ports held, a persistent netns, a CNI ADD per network (eth0,
 * eth1…) and the contents of /etc/hosts, /etc/resolv.conf and /etc/hostname;
 * `network connect/disconnect` while it runs; at exit, CNI DEL, the netns
 * and the ports released (in the background when no port is published, so
 * `run --rm` does not wait for it); after a crash, whatever a dead container
 * left. Also the name lookups of the embedded DNS server. All work on one
 * container is serialised by its key; state is written before each step so a
 * crash leaves something the next start can undo. Never runs a container.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, ForbiddenError, InvalidArgumentError, NotFoundError, SystemError, messageOf } from '../errdefs/errors.js';
import { KeyedLock } from '../util/keyedLock.js';
import { contains, parseCidrAddress, parseIPv4, parsePrefix } from './cidr.js';
import type { CniDriver, CniResult } from './cni.js';
import { confList } from './conflist.js';
import { buildHosts, buildResolvConf, upstreamResolvers } from './etcFiles.js';
import { removeIdlePortmapChains } from './firewall.js';
import type { NetnsManager } from './netns.js';
import type { NetworkStore } from './networkStore.js';
import { portRequests, portSummary, portsView, validatePortBindings, type PortBinding } from './portSpec.js';
import type { PortReserver } from './portReserver.js';
import type { NameLookup } from './dnsServer.js';
import {
  parseNetworkMode,
  type Attachment,
  type ContainerNetDoc,
  type EndpointConfig,
  type NetContainer,
  type NetworkRecord,
  type Sandbox,
} from './types.js';

/** What the network module may ask of the container store. */
export interface ContainerLookup {
  get(id: string): NetContainer | null;
  /** Docker's lookup (ID, name, prefix); NotFoundError "No such container: X". */
  resolve(ref: string): NetContainer;
  /** The directory holding a container's hosts, resolv.conf and hostname files. */
  dir(id: string): string;
}

export interface EtcContent {
  hostname: string;
  hosts: string;
  resolv: string;
}

export interface NetworkSetUp {
  /** The spec's network namespace: the host's, a fresh private one (none), or a path to join. */
  namespace: 'host' | 'private' | { path: string };
  /**
   * `--network container:X`: the user namespace of X's process (`/proc/<pid>/ns/user`), which
   * owns the namespace joined when X runs user-namespaced; the caller decides whether to join it.
   */
  userns?: string;
  /** Written by the caller before the OCI spec is built. */
  files: EtcContent;
  /**
   * Every attachment is up and /etc/hosts lists the container's addresses (call before
   * `runc start`, with the PID `runc create` reported).
   */
  ready(pid: number): Promise<void>;
}

export interface SetUpOptions {
  /**
   * The container runs in a user namespace of its own (--userns-remap): its network namespace
   * must belong to that user namespace, or its root could neither mount sysfs nor use its own
   * network (bind a port below 1024, raw sockets, configure interfaces). So the runtime makes it
   * (the spec asks for a private one) and `ready(pid)` binds it to the sandbox path before the
   * CNI ADDs, as Docker's libnetwork does with the namespace runc made.
   */
  netnsInContainerUserns?: boolean;
}

/** The container side of the network module, as ContainerService uses it. */
export interface ContainerNetworking {
  /** Checks a create request's network settings (400/404) and returns what to record; may set Config.Hostname (host mode). */
  prepareCreate(c: NetContainer, networkingConfig: unknown): ContainerNetDoc;
  /** Records it, once the container row exists. */
  created(doc: ContainerNetDoc): void;
  /** Before the spec is built, under the container's lock. */
  setUp(c: NetContainer, dir: string, opts?: SetUpOptions): Promise<NetworkSetUp>;
  /** The container stopped (or failed to start): undo its sandbox. */
  release(id: string): Promise<void>;
  /** The container is gone: forget it (after undoing anything left). */
  removed(id: string): void;
  /** NetworkSettings for inspect and the summary fields of `ps`. */
  settings(c: NetContainer): ContainerNetworkView;
  /** After the containers' own recovery: undo what dead containers left, re-hold ports of running ones. */
  recover(): Promise<void>;
  /** Waits for background teardowns (daemon shutdown). */
  drain(): Promise<void>;
}

export interface ContainerNetworkView {
  NetworkSettings: Record<string, unknown>;
  Ports: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  Networks: Record<string, unknown>;
}

export interface ContainerNetworksOptions {
  ipamDir: string;
  portmapLock: string;
  /** The host's resolv.conf and hosts (tests never change them; Docker reads the same files). */
  hostResolvConf?: string;
  hostHosts?: string;
}

interface Logger {
  warn(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

const since = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

interface Events {
  publish(type: 'network', action: string, id: string, attributes?: Record<string, string>): void;
}

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

function hex32(): string {
  return randomBytes(32).toString('hex');
}

/** An EndpointSettings with nothing set, as moby renders one (containers/presenters uses it too). */
export function emptyEndpointView(): Record<string, unknown> {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

/** A user-defined network: DNS, aliases and fixed addresses are theirs (not the default bridge's). */
export function isUserDefined(n: NetworkRecord): boolean {
  return n.Driver === 'bridge' && n.Name !== 'bridge';
}

/**
 * How long the teardown of a stopped container's network waits before it starts. Its CNI DEL is two
 * Go processes (bridge, host-local: ~80 ms of CPU); started at the exit they ran beside the work that
 * answers the client (the removal of a `--rm` container, the wait result), on a small machine in its
 * way. Anything that needs the container's network meanwhile starts it at once (hurry()).
 */
const TEARDOWN_DELAY_MS = 50;

export class ContainerNetworks implements ContainerNetworking, NameLookup {
  private readonly docs = new Map<string, ContainerNetDoc>();
  private readonly lock = new KeyedLock();
  private readonly background = new Set<Promise<unknown>>();
  /** id → ends the wait of a teardown release() deferred. */
  private readonly deferred = new Map<string, () => void>();

  constructor(
    private readonly store: NetworkStore,
    private readonly cni: CniDriver,
    private readonly netns: NetnsManager,
    private readonly reserver: PortReserver,
    private readonly containers: ContainerLookup,
    private readonly events: Events,
    private readonly log: Logger,
    private readonly opts: ContainerNetworksOptions,
  ) {
    for (const d of store.listContainers()) this.docs.set(d.ContainerID, d);
  }

  private save(doc: ContainerNetDoc): void {
    this.store.putContainer(doc);
    this.docs.set(doc.ContainerID, doc);
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch((e: unknown) => this.log.warn({ err: messageOf(e) }, 'network teardown failed'));
    this.background.add(t);
    void t.finally(() => this.background.delete(t));
  }

  async drain(): Promise<void> {
    while (this.background.size > 0) {
      for (const go of [...this.deferred.values()]) go();
      await Promise.all([...this.background]);
    }
  }

  /** A teardown release() deferred starts now: whatever is queued on the container's key behind it must not wait out the delay. */
  private hurry(id: string): void {
    this.deferred.get(id)?.();
  }

  private deferral(id: string): Promise<void> {
    return new Promise((resolve) => {
      const go = (): void => {
        clearTimeout(timer);
        if (this.deferred.get(id) === go) this.deferred.delete(id);
        resolve();
      };
      const timer = setTimeout(go, TEARDOWN_DELAY_MS);
      this.deferred.set(id, go);
    });
  }

  doc(id: string): ContainerNetDoc | null {
    return this.docs.get(id) ?? null;
  }

  /** Containers whose sandbox is attached to network `netId` right now. */
  attachedTo(netId: string): Array<{ id: string; att: Attachment }> {
    const out: Array<{ id: string; att: Attachment }> = [];
    for (const d of this.docs.values()) {
      for (const a of d.Sandbox?.Attachments ?? []) if (a.NetworkID === netId && !a.Pending) out.push({ id: d.ContainerID, att: a });
    }
    return out;
  }

  /**
   * Waits for the background teardown of containers attached to `netId` that
   * no longer run, so `rm -f c && network rm n` sees the network free, as in Docker.
   */
  async settle(netId: string): Promise<void> {
    for (const { id } of this.attachedTo(netId)) {
      const c = this.containers.get(id);
      this.hurry(id);
      if (!c || !c.State.Running) await this.lock.run(id, async () => undefined);
    }
  }

  /** Whether any container (running or not) is configured to join `netId`. */
  configuredOn(netId: string): string[] {
    return [...this.docs.values()].filter((d) => d.Endpoints.some((e) => e.NetworkID === netId)).map((d) => d.ContainerID);
  }

  private hostGateway(): string {
    return this.store.byName('bridge')?.IPAM.Config[0]?.Gateway ?? '';
  }

  /** The host's resolv.conf, read at each start (and kept for the DNS path, which must not wait on the disk). */
  private async hostResolv(): Promise<string> {
    const text = await readFile(this.opts.hostResolvConf ?? '/etc/resolv.conf', 'utf8').catch(() => '');
    this.hostResolvCache = text;
    return text;
  }

  // ---- create ----------------------------------------------------------------

  prepareCreate(c: NetContainer, networkingConfig: unknown): ContainerNetDoc {
    const hc = c.HostConfig;
    const mode = parseNetworkMode(hc.NetworkMode);
    validatePortBindings(hc.PortBindings);
    for (const e of hc.ExtraHosts ?? []) parseExtraHost(e);
    validateDnsSettings(hc);
    const eps = endpointsConfig(networkingConfig);
    const legacyMac = typeof c.Config.MacAddress === 'string' ? c.Config.MacAddress : '';
    const doc: ContainerNetDoc = { ContainerID: c.Id, Endpoints: [], Sandbox: null };
    const hasPorts = Object.keys(hc.PortBindings ?? {}).length > 0 || hc.PublishAllPorts === true;
    if (mode.kind === 'container') {
      if (c.Config.Hostname) throw new InvalidArgumentError('conflicting options: hostname and the network mode');
      if (hasPorts) throw new InvalidArgumentError('conflicting options: port publishing and the container type network mode');
      if ((hc.Dns ?? []).length > 0 || (hc.DnsSearch ?? []).length > 0 || (hc.DnsOptions ?? []).length > 0) {
        throw new InvalidArgumentError('conflicting options: dns and the network mode');
      }
      if ((hc.ExtraHosts ?? []).length > 0) throw new InvalidArgumentError('conflicting options: custom host-to-IP mapping and the network mode');
      if (legacyMac || Object.values(eps).some((e) => e.MacAddress)) throw new InvalidArgumentError('conflicting options: mac-address and the network mode');
      const target = this.containers.resolve(mode.ref);
      if (target.Id === c.Id) throw new InvalidArgumentError('cannot join own network');
      return doc;
    }
    if (mode.kind === 'host' || mode.kind === 'none') {
      if (legacyMac || Object.values(eps).some((e) => e.MacAddress)) throw new InvalidArgumentError('conflicting options: mac-address and the network mode');
      // Docker: a host-network container takes the host's name unless given one.
      if (mode.kind === 'host' && !c.Config.Hostname) c.Config.Hostname = osHostname();
      return doc;
    }
    const primaryRef = mode.kind === 'bridge' ? 'bridge' : mode.name;
    const primary = this.store.resolve(primaryRef);
    if (primary.Driver !== 'bridge') throw new InvalidArgumentError(`container cannot be connected to network ${primary.Name} in this mode`);
    const used = new Set<string>();
    const pick = (keys: string[]): RawEndpoint | undefined => {
      for (const k of keys) {
        if (eps[k]) {
          used.add(k);
          return eps[k];
        }
      }
      return undefined;
    };
    const primaryKeys = mode.kind === 'bridge' ? [hc.NetworkMode ?? '', 'default', 'bridge', primary.Id] : [mode.name, primary.Name, primary.Id];
    doc.Endpoints.push(this.endpointFor(primary, pick(primaryKeys), legacyMac));
    for (const [key, raw] of Object.entries(eps)) {
      if (used.has(key)) continue;
      const n = this.store.resolve(key);
      if (n.Driver !== 'bridge') throw new InvalidArgumentError('container cannot be connected to multiple networks with one of the networks in private (none) mode');
      if (doc.Endpoints.some((e) => e.NetworkID === n.Id)) continue;
      doc.Endpoints.push(this.endpointFor(n, raw, ''));
    }
    return doc;
  }

  /** Validates one endpoint's settings against its network (moby's validateEndpointSettings). */
  private endpointFor(n: NetworkRecord, raw: RawEndpoint | undefined, legacyMac: string): EndpointConfig {
    const aliases = (raw?.Aliases ?? []).filter((a) => a !== '');
    const ip = raw?.IPAMConfig?.IPv4Address ?? '';
    const mac = raw?.MacAddress || legacyMac;
    if (aliases.length > 0 && !isUserDefined(n)) throw new InvalidArgumentError('network-scoped alias is supported only for containers in user defined networks');
    if (ip !== '') {
      if (!isUserDefined(n)) throw new InvalidArgumentError('user specified IP address is supported on user defined networks only');
      const addr = parseIPv4(ip);
      if (addr === null) throw new InvalidArgumentError(`invalid IPv4 address: ${ip}`);
      if (!n.UserSubnet) throw new InvalidArgumentError('user specified IP address is supported only when connecting to networks with user configured subnets');
      if (!n.IPAM.Config.some((c) => contains(parsePrefix(c.Subnet), addr))) throw new InvalidArgumentError(`no configured subnet contains IP address ${ip}`);
    }
    if (mac && !MAC_RE.test(mac)) throw new InvalidArgumentError(`invalid MAC address: ${mac}`);
    return {
      NetworkID: n.Id,
      NetworkName: n.Name,
      Aliases: aliases.length > 0 ? aliases : null,
      IPv4Address: ip,
      MacAddress: mac ?? '',
      DriverOpts: raw?.DriverOpts ?? null,
      Links: raw?.Links ?? null,
    };
  }

  created(doc: ContainerNetDoc): void {
    this.save(doc);
  }

  /** A container created before networks existed: the endpoint its mode implies. */
  private docOf(c: NetContainer): ContainerNetDoc {
    const d = this.docs.get(c.Id);
    if (d) return d;
    const mode = parseNetworkMode(c.HostConfig.NetworkMode);
    const doc: ContainerNetDoc = { ContainerID: c.Id, Endpoints: [], Sandbox: null };
    if (mode.kind === 'bridge' || mode.kind === 'network') {
      const n = this.store.byName(mode.kind === 'bridge' ? 'bridge' : mode.name);
      if (n) doc.Endpoints.push({ NetworkID: n.Id, NetworkName: n.Name, Aliases: null, IPv4Address: '', MacAddress: '', DriverOpts: null, Links: null });
    }
    return doc;
  }

  // ---- start -----------------------------------------------------------------

  async setUp(c: NetContainer, dir: string, opts: SetUpOptions = {}): Promise<NetworkSetUp> {
    const mode = parseNetworkMode(c.HostConfig.NetworkMode);
    const hc = c.HostConfig;
    const hostText = await this.hostResolv();
    const name = c.Config.Hostname || c.Id.slice(0, 12);
    const hostnameText = `${name}\n`;
    const extra = (hc.ExtraHosts ?? []).map((e) => {
      const [h, ip] = parseExtraHost(e);
      return [h, ip === 'host-gateway' ? this.hostGateway() : ip] as const;
    });
    const dnsIn = { dns: hc.Dns ?? [], search: hc.DnsSearch ?? [], options: hc.DnsOptions ?? [] };
    const noop = async (): Promise<void> => undefined;
    if (mode.kind === 'host') {
      const hosts = await readFile(this.opts.hostHosts ?? '/etc/hosts', 'utf8').catch(() => undefined);
      return {
        namespace: 'host',
        files: { hostname: hostnameText, hosts: buildHosts({ ...(hosts !== undefined ? { base: hosts } : {}), extra, own: [] }), resolv: buildResolvConf({ hostText, mode: 'host', ...dnsIn }) },
        ready: noop,
      };
    }
    if (mode.kind === 'none') {
      return {
        namespace: 'private',
        files: { hostname: hostnameText, hosts: buildHosts({ extra, own: [] }), resolv: buildResolvConf({ hostText, mode: 'private', ...dnsIn }) },
        ready: noop,
      };
    }
    if (mode.kind === 'container') {
      const target = this.containers.resolve(mode.ref);
      if (!target.State.Running || target.State.Restarting) throw new ConflictError(`cannot join network namespace of a non running container: container ${target.Id} is not running`);
      const tdoc = this.docs.get(target.Id);
      const path = tdoc?.Sandbox?.Netns ? tdoc.Sandbox.Netns : `/proc/${target.State.Pid}/ns/net`;
      const tdir = this.containers.dir(target.Id);
      const read = (f: string): Promise<string> => readFile(join(tdir, f), 'utf8').catch(() => '');
      // Docker: the joiner shares the other's name and files.
      c.Config.Hostname = target.Config.Hostname ?? '';
      return {
        namespace: { path },
        userns: `/proc/${target.State.Pid}/ns/user`,
        files: { hostname: await read('hostname'), hosts: await read('hosts'), resolv: await read('resolv.conf') },
        ready: noop,
      };
    }
    return this.setUpBridged(c, dir, hostText, name, extra, opts.netnsInContainerUserns === true);
  }

  private async setUpBridged(
    c: NetContainer,
    dir: string,
    hostText: string,
    name: string,
    extra: ReadonlyArray<readonly [string, string]>,
    runtimeMakesNetns: boolean,
  ): Promise<NetworkSetUp> {
    const id = c.Id;
    const doc = this.docOf(c);
    const nets = doc.Endpoints.map((e) => this.networkOf(e));
    if (nets.length === 0) throw new NotFoundError(`network ${c.HostConfig.NetworkMode ?? 'bridge'} not found`);
    const primary = nets[0] as NetworkRecord;
    const t0 = process.hrtime.bigint();
    this.hurry(id);
    await this.lock.run(id, async () => {
      const hc = c.HostConfig;
      const reqs = primary.Internal ? [] : portRequests(c.Config.ExposedPorts, hc.PortBindings, hc.PublishAllPorts === true);
      const granted: PortBinding[] = [];
      try {
        for (const r of reqs) {
          const res = await this.reserver.reserve(id, r.proto, r.hostIp, r.hostPortStart, r.hostPortEnd);
          granted.push({ containerPort: r.containerPort, proto: r.proto, hostIp: r.hostIp, hostPort: res.port });
        }
      } catch (e) {
        await this.reserver.release(id);
        throw new SystemError(`driver failed programming external connectivity on endpoint ${c.Name.replace(/^\//, '')} (${hex32()}): ${messageOf(e)}`, { cause: e });
      }
      let ns: string;
      try {
        ns = runtimeMakesNetns ? await this.netns.placeholder() : await this.netns.take();
      } catch (e) {
        await this.reserver.release(id);
        throw new SystemError(`cannot create the network namespace of ${id}: ${messageOf(e)}`, { cause: e });
      }
      // Recorded before any attachment exists: a crash from here on leaves something recover() undoes
      // (and a namespace taken but not recorded is removed there too).
      doc.Sandbox = { Netns: ns, Attachments: [], Ports: granted, EtcDir: dir };
      this.save(doc);
    });
    // Queued at once on the container's key: anything asked later (release, connect) waits for it.
    const t1 = process.hrtime.bigint();
    const addAll = (pid?: number): Promise<void> =>
      this.lock.run(id, async () => {
        const ta = process.hrtime.bigint();
        if (pid !== undefined) await this.netns.bindFrom(pid, (doc.Sandbox as Sandbox).Netns);
        for (let i = 0; i < nets.length; i++) await this.attach(c, doc, nets[i] as NetworkRecord, doc.Endpoints[i] as EndpointConfig, i === 0);
        this.log.debug?.({ container: id, ms: since(ta), networks: nets.length }, 'network: CNI ADD done');
      });
    // A namespace the runtime makes exists only once `runc create` is done: the ADDs wait for it.
    const adding = runtimeMakesNetns ? null : addAll();
    adding?.catch(() => undefined);
    const resolvMode = isUserDefined(primary) ? 'embedded' : 'private';
    const dnsIn = { dns: c.HostConfig.Dns ?? [], search: c.HostConfig.DnsSearch ?? [], options: c.HostConfig.DnsOptions ?? [] };
    const gateway = primary.IPAM.Config[0]?.Gateway ?? '';
    return {
      namespace: runtimeMakesNetns ? 'private' : { path: (doc.Sandbox as Sandbox).Netns },
      files: {
        hostname: `${name}\n`,
        hosts: buildHosts({ extra, own: [] }),
        resolv: buildResolvConf({ hostText, mode: resolvMode, embedded: gateway, ...dnsIn }),
      },
      ready: async (pid: number) => {
        const tr = process.hrtime.bigint();
        await (adding ?? addAll(pid));
        this.log.debug?.({ container: id, setUpMs: Number(t1 - t0) / 1e6, waitedMs: since(tr) }, 'network: ready');
        await this.writeHosts(c, doc);
      },
    };
  }

  private networkOf(e: EndpointConfig): NetworkRecord {
    const n = this.store.get(e.NetworkID) ?? this.store.byName(e.NetworkName);
    if (!n) throw new NotFoundError(`network ${e.NetworkName} not found`);
    return n;
  }

  /** CNI ADD of one network into the container's netns (under its key). */
  private async attach(c: NetContainer, doc: ContainerNetDoc, n: NetworkRecord, ep: EndpointConfig, primary: boolean): Promise<Attachment> {
    const sb = doc.Sandbox as Sandbox;
    const used = new Set(sb.Attachments.map((a) => a.IfName));
    let idx = 0;
    while (used.has(`eth${idx}`)) idx++;
    const att: Attachment = {
      NetworkID: n.Id,
      IfName: `eth${idx}`,
      EndpointID: hex32(),
      IPAddress: '',
      IPPrefixLen: 0,
      Gateway: '',
      MacAddress: '',
      CniResult: null,
      Portmap: primary && sb.Ports.length > 0 && !n.Internal,
      WantMac: ep.MacAddress,
      Pending: true,
    };
    sb.Attachments.push(att);
    this.save(doc);
    const call = {
      containerId: c.Id,
      netns: sb.Netns,
      ifName: att.IfName,
      ...(ep.IPv4Address ? { args: { IP: ep.IPv4Address } } : {}),
      ...(att.Portmap ? { runtimeConfig: { portMappings: portMappings(sb) } } : {}),
    };
    let result: CniResult;
    try {
      result = await this.cni.add(confList(n, { ipamDir: this.opts.ipamDir, ...(att.WantMac ? { mac: att.WantMac } : {}), portmap: att.Portmap }), call);
    } catch (e) {
      // cni.add has undone its part; nothing of this attachment is left to DEL.
      sb.Attachments = sb.Attachments.filter((a) => a !== att);
      this.save(doc);
      const msg = messageOf(e);
      if (/is not available in range set|has been allocated to/.test(msg)) throw new ConflictError(`Address already in use: ${ep.IPv4Address}`, { cause: e });
      throw e;
    }
    const ip = result.ips?.[0];
    const ifc = result.interfaces?.find((i) => i.sandbox && i.name === att.IfName) ?? (ip?.interface !== undefined ? result.interfaces?.[ip.interface] : undefined);
    if (ip) {
      const a = parseCidrAddress(ip.address);
      att.IPAddress = ip.address.slice(0, ip.address.indexOf('/'));
      att.IPPrefixLen = a.bits;
      att.Gateway = ip.gateway ?? '';
    }
    att.MacAddress = ifc?.mac ?? '';
    att.CniResult = result;
    att.Pending = false;
    this.save(doc);
    this.events.publish('network', 'connect', n.Id, { container: c.Id, name: n.Name, type: n.Driver });
    return att;
  }

  /** /etc/hosts of a bridged container: its own addresses under its host name. */
  private async writeHosts(c: NetContainer, doc: ContainerNetDoc): Promise<void> {
    const sb = doc.Sandbox;
    if (!sb) return;
    const name = c.Config.Hostname || c.Id.slice(0, 12);
    const names = c.Config.Domainname ? [`${name}.${c.Config.Domainname}`, name] : [name];
    const extra = (c.HostConfig.ExtraHosts ?? []).map((e) => {
      const [h, ip] = parseExtraHost(e);
      return [h, ip === 'host-gateway' ? this.hostGateway() : ip] as const;
    });
    const own = sb.Attachments.filter((a) => a.IPAddress !== '').map((a) => ({ ip: a.IPAddress, names }));
    // In place: the file is bind-mounted into the container (same inode).
    await writeFile(join(sb.EtcDir, 'hosts'), buildHosts({ extra, own }));
  }

  // ---- stop ------------------------------------------------------------------

  async release(id: string): Promise<void> {
    const d = this.docs.get(id);
    if (!d?.Sandbox) return;
    // With ports, the DNAT rules must be gone before the ports can be taken again: wait.
    const wait = d.Sandbox.Ports.length > 0;
    const job = this.lock.run(id, async () => {
      if (!wait) await this.deferral(id);
      await this.teardown(id);
    });
    this.track(job);
    if (wait) await job;
  }

  /** CNI DEL of every attachment, the netns, the ports (under the container's key). */
  private async teardown(id: string): Promise<void> {
    const doc = this.docs.get(id);
    const sb = doc?.Sandbox;
    if (!doc || !sb) return;
    const t0 = process.hrtime.bigint();
    let portmap = false;
    for (const att of [...sb.Attachments].reverse()) {
      portmap ||= att.Portmap;
      const n = this.store.get(att.NetworkID);
      if (!n) continue;
      const list = confList(n, { ipamDir: this.opts.ipamDir, ...(att.WantMac ? { mac: att.WantMac } : {}), portmap: att.Portmap });
      await this.cni
        .del(list, { containerId: id, netns: sb.Netns, ifName: att.IfName, ...(att.Portmap ? { runtimeConfig: { portMappings: portMappings(sb) } } : {}) }, att.CniResult ?? undefined)
        .catch((e: unknown) => this.log.warn({ container: id, network: n.Name, err: messageOf(e) }, 'CNI DEL failed'));
      if (!att.Pending) this.events.publish('network', 'disconnect', n.Id, { container: id, name: n.Name, type: n.Driver });
    }
    if (sb.Netns) await this.netns.remove(sb.Netns);
    await this.reserver.release(id);
    doc.Sandbox = null;
    if (this.docs.has(id)) this.save(doc);
    if (portmap) await removeIdlePortmapChains(this.opts.portmapLock).catch((e: unknown) => this.log.warn({ err: messageOf(e) }, 'cannot remove idle portmap chains'));
    this.log.debug?.({ container: id, ms: since(t0) }, 'network: torn down');
  }

  removed(id: string): void {
    this.track(
      this.lock.run(id, async () => {
        await this.teardown(id);
        this.store.deleteContainer(id);
        this.docs.delete(id);
      }),
    );
  }

  // ---- connect / disconnect ------------------------------------------------------

  /** `POST /networks/{id}/connect`. */
  async connect(n: NetworkRecord, containerRef: string, rawEp: unknown): Promise<void> {
    const c = this.containers.resolve(containerRef);
    const mode = parseNetworkMode(c.HostConfig.NetworkMode);
    if (n.Driver === 'host' || n.Driver === 'null') throw new InvalidArgumentError('container cannot be disconnected from host network or connected to host network');
    if (mode.kind === 'container' || mode.kind === 'host') throw new InvalidArgumentError('container sharing network namespace with another container or host cannot be connected to any other network');
    if (mode.kind === 'none') throw new InvalidArgumentError('container cannot be connected to multiple networks with one of the networks in private (none) mode');
    if (c.State.Status === 'removing' || c.State.Status === 'dead') throw new SystemError(`Container ${c.Id} is marked for removal and cannot be connected or disconnected to the network`);
    const raw = rawEp === undefined || rawEp === null ? undefined : endpointsConfig({ EndpointsConfig: { x: rawEp } }).x;
    const ep = this.endpointFor(n, raw, '');
    this.hurry(c.Id);
    await this.lock.run(c.Id, async () => {
      const doc = this.docOf(c);
      const running = doc.Sandbox !== null && doc.Sandbox.Netns !== '';
      if (doc.Endpoints.some((e) => e.NetworkID === n.Id)) {
        if (running) throw new ForbiddenError(`endpoint with name ${c.Name.replace(/^\//, '')} already exists in network ${n.Name}`);
        return; // Docker: a stopped container's duplicate config is ignored
      }
      if (running) {
        doc.Endpoints.push(ep);
        try {
          await this.attach(c, doc, n, ep, false);
        } catch (e) {
          doc.Endpoints = doc.Endpoints.filter((x) => x !== ep);
          this.save(doc);
          throw e;
        }
        this.save(doc);
        await this.rewriteEtc(c, doc);
      } else {
        doc.Endpoints.push(ep);
        this.save(doc);
      }
    });
  }

  /** `POST /networks/{id}/disconnect`. */
  async disconnect(n: NetworkRecord, containerRef: string, force: boolean): Promise<void> {
    let c: NetContainer;
    try {
      c = this.containers.resolve(containerRef);
    } catch (e) {
      if (force && e instanceof NotFoundError) return;
      throw e;
    }
    const mode = parseNetworkMode(c.HostConfig.NetworkMode);
    if (mode.kind === 'host' && n.Driver === 'host') throw new InvalidArgumentError('cannot disconnect container from host network - container was created in host network mode');
    this.hurry(c.Id);
    await this.lock.run(c.Id, async () => {
      const doc = this.docOf(c);
      const ep = doc.Endpoints.find((e) => e.NetworkID === n.Id);
      if (!ep) throw new SystemError(`container ${c.Id} is not connected to network ${n.Name}`);
      const att = doc.Sandbox?.Attachments.find((a) => a.NetworkID === n.Id);
      if (att && doc.Sandbox) {
        const list = confList(n, { ipamDir: this.opts.ipamDir, ...(att.WantMac ? { mac: att.WantMac } : {}), portmap: att.Portmap });
        const sb = doc.Sandbox;
        await this.cni.del(list, { containerId: c.Id, netns: sb.Netns, ifName: att.IfName, ...(att.Portmap ? { runtimeConfig: { portMappings: portMappings(sb) } } : {}) }, att.CniResult ?? undefined).catch((e: unknown) => {
          if (!force) throw e;
        });
        doc.Sandbox.Attachments = doc.Sandbox.Attachments.filter((a) => a !== att);
      }
      doc.Endpoints = doc.Endpoints.filter((e) => e !== ep);
      this.save(doc);
      if (doc.Sandbox) await this.rewriteEtc(c, doc);
    });
    this.events.publish('network', 'disconnect', n.Id, { container: c.Id, name: n.Name, type: n.Driver });
  }

  /** After connect/disconnect of a running container: its hosts and resolv.conf follow the networks it is on. */
  private async rewriteEtc(c: NetContainer, doc: ContainerNetDoc): Promise<void> {
    const sb = doc.Sandbox;
    if (!sb) return;
    await this.writeHosts(c, doc);
    const first = doc.Endpoints[0] ? this.store.get(doc.Endpoints[0].NetworkID) : null;
    const user = doc.Endpoints.map((e) => this.store.get(e.NetworkID)).find((n): n is NetworkRecord => n !== null && isUserDefined(n));
    const embedded = first && isUserDefined(first) ? first : user;
    const hc = c.HostConfig;
    const text = buildResolvConf({
      hostText: await this.hostResolv(),
      mode: embedded ? 'embedded' : 'private',
      embedded: embedded?.IPAM.Config[0]?.Gateway ?? '',
      dns: hc.Dns ?? [],
      search: hc.DnsSearch ?? [],
      options: hc.DnsOptions ?? [],
    });
    await writeFile(join(sb.EtcDir, 'resolv.conf'), text);
  }

  // ---- views -------------------------------------------------------------------

  settings(c: NetContainer): ContainerNetworkView {
    const mode = parseNetworkMode(c.HostConfig.NetworkMode);
    const doc = this.docs.get(c.Id) ?? null;
    const sb = c.State.Running ? (doc?.Sandbox ?? null) : null;
    const networks: Record<string, unknown> = {};
    const top: Record<string, unknown> = { EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' };
    if (mode.kind === 'host' || mode.kind === 'none') {
      const n = this.store.byName(mode.kind);
      networks[mode.kind] = { ...emptyEndpointView(), NetworkID: n?.Id ?? '' };
    } else if (mode.kind !== 'container') {
      for (const ep of (doc ?? this.docOf(c)).Endpoints) {
        const att = sb?.Attachments.find((a) => a.NetworkID === ep.NetworkID && !a.Pending);
        const n = this.store.get(ep.NetworkID);
        const user = n ? isUserDefined(n) : true;
        const v: Record<string, unknown> = {
          ...emptyEndpointView(),
          IPAMConfig: ep.IPv4Address ? { IPv4Address: ep.IPv4Address } : null,
          Links: ep.Links,
          Aliases: ep.Aliases,
          MacAddress: att?.MacAddress ?? ep.MacAddress,
          DriverOpts: ep.DriverOpts,
          NetworkID: ep.NetworkID,
          DNSNames: user ? dnsNames(c, ep) : null,
        };
        if (att) Object.assign(v, { EndpointID: att.EndpointID, Gateway: att.Gateway, IPAddress: att.IPAddress, IPPrefixLen: att.IPPrefixLen });
        networks[ep.NetworkName] = v;
        if (att && n?.Name === 'bridge') Object.assign(top, { EndpointID: att.EndpointID, Gateway: att.Gateway, IPAddress: att.IPAddress, IPPrefixLen: att.IPPrefixLen, MacAddress: att.MacAddress });
      }
    }
    const ports = sb ? sb.Ports : [];
    const exposed = c.Config.ExposedPorts;
    return {
      NetworkSettings: {
        SandboxID: sb?.Netns ? sandboxId(c.Id) : '',
        SandboxKey: sb?.Netns ?? '',
        Ports: c.State.Running ? portsView(exposed, c.HostConfig.PortBindings, ports) : {},
        HairpinMode: false,
        LinkLocalIPv6Address: '',
        LinkLocalIPv6PrefixLen: 0,
        SecondaryIPAddresses: null,
        SecondaryIPv6Addresses: null,
        ...top,
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        IPv6Gateway: '',
        Networks: networks,
      },
      Ports: c.State.Running ? portSummary(exposed, ports) : portSummary(exposed, []),
      Networks: networks,
    };
  }

  // ---- recovery ----------------------------------------------------------------

  async recover(): Promise<void> {
    for (const doc of [...this.docs.values()]) {
      const c = this.containers.get(doc.ContainerID);
      if (!c) {
        await this.lock.run(doc.ContainerID, async () => {
          await this.teardown(doc.ContainerID);
          this.store.deleteContainer(doc.ContainerID);
          this.docs.delete(doc.ContainerID);
        });
        continue;
      }
      if (!doc.Sandbox) continue;
      if (!c.State.Running) {
        await this.lock.run(c.Id, () => this.teardown(c.Id));
        continue;
      }
      // Still running under conmon: hold its ports again.
      for (const p of doc.Sandbox.Ports) {
        await this.reserver.reserve(c.Id, p.proto, p.hostIp, p.hostPort, p.hostPort).catch((e: unknown) =>
          this.log.warn({ container: c.Id, port: p.hostPort, err: messageOf(e) }, 'cannot hold a published port again'),
        );
      }
    }
    // Namespaces nobody records (a crash between taking one and saving it, spares of the last run).
    const used = new Set([...this.docs.values()].map((d) => d.Sandbox?.Netns).filter((p): p is string => !!p));
    for (const p of await this.netns.list()) {
      if (used.has(p) || this.netns.isSpare(p)) continue;
      await this.lock.run(p, () => this.netns.remove(p)).catch((e: unknown) => this.log.warn({ path: p, err: messageOf(e) }, 'cannot remove a stale netns'));
    }
    await this.sweepIpam();
    this.netns.refill();
  }

  /** host-local reservations (files named by address, holding the container ID) no live attachment owns. */
  private async sweepIpam(): Promise<void> {
    for (const netId of await readdir(this.opts.ipamDir).catch(() => [] as string[])) {
      const dir = join(this.opts.ipamDir, netId);
      if (!this.store.get(netId)) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      for (const f of await readdir(dir).catch(() => [] as string[])) {
        if (parseIPv4(f) === null) continue;
        const owner = (await readFile(join(dir, f), 'utf8').catch(() => '')).split(/\r?\n/)[0]?.trim() ?? '';
        await this.lock.run(owner || f, async () => {
          const live = this.docs.get(owner)?.Sandbox?.Attachments.some((a) => a.NetworkID === netId && (a.IPAddress === f || a.Pending));
          if (!live) await rm(join(dir, f), { force: true });
        });
      }
    }
  }

  // ---- DNS (NameLookup) ----------------------------------------------------------

  private attachmentByIp(ip: string): { doc: ContainerNetDoc; att: Attachment } | null {
    for (const doc of this.docs.values()) for (const att of doc.Sandbox?.Attachments ?? []) if (att.IPAddress === ip) return { doc, att };
    return null;
  }

  /** The networks whose names the asker sees: all its user networks (or the one it asked through). */
  private scope(clientIp: string, netId: string): Set<string> {
    const me = this.attachmentByIp(clientIp);
    const nets = new Set<string>([netId]);
    for (const a of me?.doc.Sandbox?.Attachments ?? []) nets.add(a.NetworkID);
    return nets;
  }

  lookup(clientIp: string, netId: string, name: string): number[] | null {
    const scope = this.scope(clientIp, netId);
    const out: number[] = [];
    for (const doc of this.docs.values()) {
      const sb = doc.Sandbox;
      if (!sb) continue;
      const c = this.containers.get(doc.ContainerID);
      if (!c || !c.State.Running) continue;
      for (const att of sb.Attachments) {
        if (att.Pending || !scope.has(att.NetworkID) || att.IPAddress === '') continue;
        const n = this.store.get(att.NetworkID);
        if (!n || !isUserDefined(n)) continue;
        const ep = doc.Endpoints.find((e) => e.NetworkID === att.NetworkID);
        if (!ep) continue;
        const names = dnsNames(c, ep).map((x) => x.toLowerCase());
        if (names.includes(name) || names.some((x) => `${x}.${n.Name.toLowerCase()}` === name)) {
          const ip = parseIPv4(att.IPAddress);
          if (ip !== null && !out.includes(ip)) out.push(ip);
        }
      }
    }
    return out.length > 0 ? out : null;
  }

  reverse(clientIp: string, netId: string, ip: number): string | null {
    const scope = this.scope(clientIp, netId);
    for (const doc of this.docs.values()) {
      for (const att of doc.Sandbox?.Attachments ?? []) {
        if (!scope.has(att.NetworkID) || parseIPv4(att.IPAddress) !== ip) continue;
        const c = this.containers.get(doc.ContainerID);
        const n = this.store.get(att.NetworkID);
        if (c && n && isUserDefined(n)) return `${c.Name.replace(/^\//, '')}.${n.Name}`;
      }
    }
    return null;
  }

  isEngineAddress(ip: number): boolean {
    return this.store.list().some((n) => n.IPAM.Config.some((c) => contains(parsePrefix(c.Subnet), ip)));
  }

  upstreams(clientIp: string, netId: string): string[] {
    const n = this.store.get(netId);
    if (n?.Internal) return [];
    const me = this.attachmentByIp(clientIp);
    const c = me ? this.containers.get(me.doc.ContainerID) : null;
    return upstreamResolvers(this.hostResolvCache, c?.HostConfig.Dns ?? []);
  }

  private hostResolvCache = '';

  async refreshHostResolv(): Promise<void> {
    await this.hostResolv();
  }
}

/** portmap's runtimeConfig.portMappings (the same on DEL as on ADD: DEL without them removes nothing). */
function portMappings(sb: Sandbox): Array<Record<string, unknown>> {
  return sb.Ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.proto, ...(p.hostIp ? { hostIP: p.hostIp } : {}) }));
}

/** Docker's DNSNames: name, aliases, short ID, hostname — without repeats. */
function dnsNames(c: NetContainer, ep: EndpointConfig): string[] {
  const out = [c.Name.replace(/^\//, ''), ...(ep.Aliases ?? []), c.Id.slice(0, 12)];
  if (c.Config.Hostname) out.push(c.Config.Hostname);
  return [...new Set(out.filter((x) => x !== ''))];
}

/** A stable 64-hex sandbox ID per container (Docker shows one; berth's sandbox is the container's netns). */
function sandboxId(containerId: string): string {
  return createHash('sha256').update(`sandbox:${containerId}`).digest('hex');
}

/** --dns must be addresses; search domains and options single words (they become lines of resolv.conf). */
function validateDnsSettings(hc: NetContainer['HostConfig']): void {
  const list = (v: unknown, what: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new InvalidArgumentError(`invalid JSON: HostConfig.${what} must be an array of strings`);
    return v as string[];
  };
  for (const ip of list(hc.Dns, 'Dns')) {
    if (parseIPv4(ip) === null && !/^[0-9a-fA-F:]+$/.test(ip)) throw new InvalidArgumentError(`${ip} is not an ip address`);
  }
  for (const d of list(hc.DnsSearch, 'DnsSearch')) if (d === '' || /\s/.test(d)) throw new InvalidArgumentError(`${JSON.stringify(d)} is not a valid domain`);
  for (const o of list(hc.DnsOptions, 'DnsOptions')) if (/[\r\n]/.test(o)) throw new InvalidArgumentError(`invalid DNS option ${JSON.stringify(o)}`);
}

/** `name:ip` (first colon splits, as moby) with host-gateway allowed; 400 otherwise. */
export function parseExtraHost(v: string): [string, string] {
  if (typeof v !== 'string') throw new InvalidArgumentError('invalid JSON: HostConfig.ExtraHosts must be an array of strings');
  const i = v.indexOf(':');
  const name = i > 0 ? v.slice(0, i) : '';
  let ip = i > 0 ? v.slice(i + 1) : '';
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (name === '' || ip === '' || /\s/.test(name)) throw new InvalidArgumentError(`bad format for add-host: ${JSON.stringify(v)}`);
  if (ip !== 'host-gateway' && parseIPv4(ip) === null && !/^[0-9a-fA-F:.]+$/.test(ip)) throw new InvalidArgumentError(`invalid IP address in add-host: ${JSON.stringify(ip)}`);
  return [name, ip];
}

interface RawEndpoint {
  Aliases?: string[] | null;
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
  Links?: string[] | null;
}

/** NetworkingConfig.EndpointsConfig, type-checked (400 on the wrong shapes). */
function endpointsConfig(nc: unknown): Record<string, RawEndpoint> {
  if (nc === undefined || nc === null) return {};
  if (typeof nc !== 'object' || Array.isArray(nc)) throw new InvalidArgumentError('invalid JSON: NetworkingConfig must be an object');
  const eps = (nc as { EndpointsConfig?: unknown }).EndpointsConfig;
  if (eps === undefined || eps === null) return {};
  if (typeof eps !== 'object' || Array.isArray(eps)) throw new InvalidArgumentError('invalid JSON: NetworkingConfig.EndpointsConfig must be an object');
  const out: Record<string, RawEndpoint> = {};
  for (const [k, v] of Object.entries(eps as Record<string, unknown>)) {
    if (v === null || v === undefined) {
      out[k] = {};
      continue;
    }
    if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(`invalid JSON: EndpointsConfig[${JSON.stringify(k)}] must be an object`);
    const e = v as Record<string, unknown>;
    const aliases = e.Aliases;
    if (aliases !== undefined && aliases !== null && !(Array.isArray(aliases) && aliases.every((a) => typeof a === 'string'))) {
      throw new InvalidArgumentError('invalid JSON: Aliases must be an array of strings');
    }
    const ipam = e.IPAMConfig;
    if (ipam !== undefined && ipam !== null && (typeof ipam !== 'object' || Array.isArray(ipam))) throw new InvalidArgumentError('invalid JSON: IPAMConfig must be an object');
    const ip4 = (ipam as { IPv4Address?: unknown } | null | undefined)?.IPv4Address;
    if (ip4 !== undefined && typeof ip4 !== 'string') throw new InvalidArgumentError('invalid JSON: IPv4Address must be a string');
    const mac = e.MacAddress;
    if (mac !== undefined && mac !== null && typeof mac !== 'string') throw new InvalidArgumentError('invalid JSON: MacAddress must be a string');
    out[k] = {
      Aliases: (aliases as string[] | null | undefined) ?? null,
      IPAMConfig: ip4 ? { IPv4Address: ip4 } : null,
      MacAddress: (mac as string | undefined) ?? '',
      DriverOpts: (e.DriverOpts as Record<string, string> | null | undefined) ?? null,
      Links: (e.Links as string[] | null | undefined) ?? null,
    };
  }
  return out;
}
