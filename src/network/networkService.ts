/**
 * network/networkService: the engine's networks — the built-in `bridge`
 * (like docker0, from `--bridge`/`--bip`), `host` and `none`, and
 * user-defined bridge networks (`POST /networks/create`…): their records,
 * bridge devices, firewall rules and embedded DNS listeners, kept in step at
 * every change and re-made at daemon start (after a reboot nothing of them
 * is left but the records). Containers' side is ContainerNetworks. Knows
 * nothing of HTTP.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, ForbiddenError, InvalidArgumentError, NotFoundError, UnavailableError, messageOf } from '../errdefs/errors.js';
import { BridgeClaim } from './bridgeClaim.js';
import type { Db } from '../metadata/db.js';
import { KeyedLock } from '../util/keyedLock.js';
import { allocateSubnet, type AddressPool } from './addressPool.js';
import { bridgeExists, bridgeIPv4, deleteBridge, ensureBridge, hostRoutes } from './bridgeDevice.js';
import { contains, formatIPv4, formatPrefix, mask, overlaps, parseCidrAddress, parseIPv4, parsePrefix, type Prefix } from './cidr.js';
import { CniDriver } from './cni.js';
import { ContainerNetworks, isUserDefined, type ContainerLookup } from './containerNetworking.js';
import { EmbeddedDns } from './dnsServer.js';
import { Firewall, type FirewallNetwork } from './firewall.js';
import { NetnsManager } from './netns.js';
import { NetworkStore } from './networkStore.js';
import { PortReserver } from './portReserver.js';
import { isPredefined, type IpamConfigEntry, type NetworkRecord } from './types.js';

export interface NetworkServiceOptions {
  dataRoot: string;
  execRoot: string;
  /** The default bridge's device (`-b/--bridge`, default berth0); also names this daemon's iptables chains. */
  bridge: string;
  /**
   * Whether the name was given (`--bridge`). A default name another live berthd holds is replaced
   * by one derived from the data-root; a given one is an error.
   */
  bridgeExplicit?: boolean;
  /** Where bridge claims live (default /run/lock). */
  claimDir?: string;
  /** `--bip`: the default bridge's gateway address and prefix ("172.17.0.1/16"). */
  bip?: string;
  /** `--default-address-pool`: where user networks' subnets come from. */
  pools: AddressPool[];
  /** `--iptables=false`: no NAT, forwarding or isolation rules of berth's own. */
  iptables: boolean;
  pluginDir?: string;
  /** Host-wide lock shared by every berthd's portmap calls. */
  portmapLock?: string;
  /** `--mtu` of the default bridge. */
  mtu?: number;
  /** The embedded DNS server's port (53; tests of the server itself use another). */
  dnsPort?: number;
}

export interface NetworkLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface NetworkEvents {
  publish(type: 'network', action: string, id: string, attributes?: Record<string, string>): void;
}

export type NetworkFilters = Map<string, string[]>;

const BRIDGE_NAME_RE = /^[a-zA-Z0-9_.-]{1,15}$/;

function hex32(): string {
  return randomBytes(32).toString('hex');
}

function now(): string {
  return new Date().toISOString();
}

/** moby's filters.Args.Match: exact, or the value as a regular expression. */
function matchAny(values: string[], s: string): boolean {
  return values.some((v) => {
    if (v === s) return true;
    try {
      return new RegExp(v).test(s);
    } catch {
      return false;
    }
  });
}

function matchLabel(labels: Record<string, string>, f: string): boolean {
  const i = f.indexOf('=');
  return i < 0 ? f in labels : labels[f.slice(0, i)] === f.slice(i + 1);
}

export class NetworkService {
  readonly store: NetworkStore;
  readonly containers: ContainerNetworks;
  private firewall: Firewall;
  private claim: BridgeClaim | null = null;
  /** The default bridge's device, once claimed. */
  bridge: string;
  private readonly dns: EmbeddedDns;
  private readonly netns: NetnsManager;
  private readonly reserver = new PortReserver();
  private readonly lock = new KeyedLock();
  private readonly ipamDir: string;

  constructor(
    private readonly opts: NetworkServiceOptions,
    db: Db,
    lookup: ContainerLookup,
    private readonly events: NetworkEvents,
    private readonly log: NetworkLogger,
  ) {
    if (!BRIDGE_NAME_RE.test(opts.bridge)) throw new InvalidArgumentError(`invalid bridge name "${opts.bridge}": at most 15 of [a-zA-Z0-9_.-]`);
    this.store = new NetworkStore(db);
    this.ipamDir = join(opts.dataRoot, 'network', 'ipam');
    this.netns = new NetnsManager(join(opts.execRoot, 'netns'));
    this.bridge = opts.bridge;
    this.firewall = new Firewall(opts.bridge, opts.iptables);
    const portmapLock = opts.portmapLock ?? '/run/lock/berth-cni-portmap.lock';
    const cni = new CniDriver({ pluginDir: opts.pluginDir ?? '/usr/lib/cni', portmapLock });
    this.containers = new ContainerNetworks(this.store, cni, this.netns, this.reserver, lookup, events, log, { ipamDir: this.ipamDir, portmapLock });
    this.dns = new EmbeddedDns(this.containers, log, opts.dnsPort ?? 53);
  }

  /** Records, bridges, rules and DNS listeners for every network; before containers start. */
  async init(): Promise<void> {
    await this.claimBridge();
    await mkdir(this.ipamDir, { recursive: true, mode: 0o700 });
    await this.netns.init();
    await this.containers.refreshHostResolv();
    await this.ensureBuiltins();
    for (const n of this.store.list()) {
      if (n.Driver !== 'bridge') continue;
      const cfg = n.IPAM.Config[0];
      if (!cfg) continue;
      const { bits } = parseCidrAddress(cfg.Subnet);
      await ensureBridge(n.Bridge, cfg.Gateway, bits, this.mtuOf(n));
    }
    await this.applyFirewall();
    for (const n of this.store.list()) if (isUserDefined(n)) await this.listenDns(n);
  }

  async close(): Promise<void> {
    await this.containers.drain();
    await this.netns.close();
    await this.dns.closeAll();
    await this.reserver.closeAll();
    await this.claim?.release();
    this.claim = null;
  }

  /** Makes the default bridge this daemon's alone (see BridgeClaim). */
  private async claimBridge(): Promise<void> {
    const got = await BridgeClaim.take(this.bridge, this.opts.dataRoot, this.opts.claimDir);
    if (got instanceof BridgeClaim) {
      this.claim = got;
      return;
    }
    if (this.opts.bridgeExplicit) {
      throw new UnavailableError(`bridge ${this.bridge} belongs to another berthd (pid ${got.pid}, data-root ${got.dataRoot}): give this one its own with --bridge and --bip`);
    }
    const alt = `berth-${createHash('sha256').update(this.opts.dataRoot).digest('hex').slice(0, 6)}`;
    const again = await BridgeClaim.take(alt, this.opts.dataRoot, this.opts.claimDir);
    if (!(again instanceof BridgeClaim)) throw new UnavailableError(`bridges ${this.bridge} and ${alt} belong to other berthds (pids ${got.pid}, ${again.pid}): give this one its own with --bridge`);
    this.log.warn({ bridge: alt, owner: got.pid, ownerDataRoot: got.dataRoot }, `bridge ${this.bridge} belongs to another berthd; using ${alt}`);
    this.claim = again;
    this.bridge = alt;
    this.firewall = new Firewall(alt, this.opts.iptables);
  }

  private mtuOf(n: NetworkRecord): number | undefined {
    const m = Number(n.Options['com.docker.network.driver.mtu'] ?? '0');
    return m > 0 ? m : undefined;
  }

  private async listenDns(n: NetworkRecord): Promise<void> {
    const gw = n.IPAM.Config[0]?.Gateway;
    if (!gw) return;
    await this.dns.listen(n.Id, gw).catch((e: unknown) => this.log.warn({ network: n.Name, gateway: gw, err: messageOf(e) }, 'embedded DNS cannot listen'));
  }

  private firewallNets(): FirewallNetwork[] {
    return this.store
      .list()
      .filter((n) => n.Driver === 'bridge' && n.IPAM.Config[0])
      .map((n) => ({
        bridge: n.Bridge,
        subnet: (n.IPAM.Config[0] as IpamConfigEntry).Subnet,
        internal: n.Internal,
        masquerade: n.Options['com.docker.network.bridge.enable_ip_masquerade'] !== 'false',
        icc: n.Options['com.docker.network.bridge.enable_icc'] !== 'false',
      }));
  }

  private applyFirewall(): Promise<void> {
    return this.firewall.apply(this.firewallNets());
  }

  /** Subnets a new network must stay clear of: the engine's networks and the host's routes (not via our own bridges). */
  private async usedSubnets(): Promise<Prefix[]> {
    const ours = new Set(this.store.list().map((n) => n.Bridge));
    const used: Prefix[] = [];
    for (const n of this.store.list()) for (const c of n.IPAM.Config) used.push(parsePrefix(c.Subnet));
    for (const r of await hostRoutes()) if (!ours.has(r.dev)) used.push({ addr: r.addr, bits: r.bits });
    return used;
  }

  // ---- built-in networks ----------------------------------------------------------

  private async ensureBuiltins(): Promise<void> {
    for (const [name, driver] of [
      ['host', 'host'],
      ['none', 'null'],
    ] as const) {
      if (this.store.byName(name)) continue;
      this.store.insert({
        Id: hex32(),
        Name: name,
        Driver: driver,
        Created: now(),
        Scope: 'local',
        EnableIPv6: false,
        IPAM: { Driver: 'default', Options: null, Config: [] },
        Internal: false,
        Attachable: false,
        Options: {},
        Labels: {},
        Bridge: '',
        UserSubnet: false,
      });
    }
    const existing = this.store.byName('bridge');
    let adopted: { ip: number; bits: number } | null;
    let gateway: number;
    let subnet: Prefix;
    if (this.opts.bip) {
      const a = parseCidrAddress(this.opts.bip);
      gateway = a.ip;
      subnet = { addr: (a.ip & mask(a.bits)) >>> 0, bits: a.bits };
      if (gateway === subnet.addr) throw new InvalidArgumentError(`invalid --bip ${this.opts.bip}: give the bridge's address, not the network's`);
    } else if (existing && existing.Bridge === this.bridge && existing.IPAM.Config[0]) {
      const cfg = existing.IPAM.Config[0];
      gateway = parseIPv4(cfg.Gateway) as number;
      subnet = parsePrefix(cfg.Subnet);
    } else if ((adopted = await this.addressOfExistingBridge()) !== null) {
      // dockerd keeps the address a docker0 it finds already has; so does berthd for its bridge.
      gateway = adopted.ip;
      subnet = { addr: (adopted.ip & mask(adopted.bits)) >>> 0, bits: adopted.bits };
    } else {
      const others = (await this.usedSubnets()).filter((p) => !(existing && existing.IPAM.Config.some((c) => formatPrefix(p) === c.Subnet)));
      const preferred = parsePrefix('172.17.0.0/16');
      const pick = others.some((o) => overlaps(o, preferred)) ? allocateSubnet(this.opts.pools, others) : preferred;
      if (!pick) throw new ConflictError('no free subnet for the default bridge: give one with --bip');
      subnet = pick;
      gateway = subnet.addr + 1;
    }
    const cfg: IpamConfigEntry = { Subnet: formatPrefix(subnet), Gateway: formatIPv4(gateway) };
    const options: Record<string, string> = {
      'com.docker.network.bridge.default_bridge': 'true',
      'com.docker.network.bridge.enable_icc': 'true',
      'com.docker.network.bridge.enable_ip_masquerade': 'true',
      'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
      'com.docker.network.bridge.name': this.bridge,
      'com.docker.network.driver.mtu': String(this.opts.mtu ?? 1500),
    };
    if (existing) {
      if (existing.Bridge !== this.bridge && bridgeExists(existing.Bridge) && this.containers.attachedTo(existing.Id).length === 0) {
        await deleteBridge(existing.Bridge).catch(() => undefined);
      }
      existing.Bridge = this.bridge;
      existing.IPAM.Config = [cfg];
      existing.Options = options;
      this.store.update(existing);
    } else {
      this.store.insert({
        Id: hex32(),
        Name: 'bridge',
        Driver: 'bridge',
        Created: now(),
        Scope: 'local',
        EnableIPv6: false,
        IPAM: { Driver: 'default', Options: null, Config: [cfg] },
        Internal: false,
        Attachable: false,
        Options: options,
        Labels: {},
        Bridge: this.bridge,
        UserSubnet: this.opts.bip !== undefined,
      });
    }
  }

  /** The first IPv4 address of the default bridge device if it already exists, unless another engine network overlaps it. */
  private async addressOfExistingBridge(): Promise<{ ip: number; bits: number } | null> {
    const first = (await bridgeIPv4(this.bridge))[0];
    if (first === undefined) return null;
    const a = parseCidrAddress(first);
    const subnet: Prefix = { addr: (a.ip & mask(a.bits)) >>> 0, bits: a.bits };
    if (a.bits > 30 || a.ip === subnet.addr) return null;
    const others = this.store.list().filter((n) => n.Name !== 'bridge').flatMap((n) => n.IPAM.Config.map((c) => parsePrefix(c.Subnet)));
    return others.some((o) => overlaps(o, subnet)) ? null : a;
  }

  // ---- API: create ------------------------------------------------------------------

  async create(body: unknown): Promise<{ Id: string; Warning: string }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgumentError('invalid JSON: request body must be an object');
    const b = body as Record<string, unknown>;
    const name = b.Name;
    if (typeof name !== 'string' || name.trim() === '') throw new InvalidArgumentError('network name must not be empty');
    if (name.includes('/') || /\s/.test(name)) throw new InvalidArgumentError(`invalid network name "${name}"`);
    if (isPredefined(name)) throw new ForbiddenError(`operation is not permitted on predefined ${name} network `);
    const driver = b.Driver === undefined || b.Driver === null || b.Driver === '' ? 'bridge' : b.Driver;
    if (typeof driver !== 'string') throw new InvalidArgumentError('invalid JSON: Driver must be a string');
    if (driver !== 'bridge') throw new NotFoundError(`plugin "${driver}" not found`);
    if (b.EnableIPv6 === true) throw new InvalidArgumentError('berth networks are IPv4 only: EnableIPv6 is not supported');
    if (b.EnableIPv4 === false) throw new InvalidArgumentError('berth networks are IPv4 only: EnableIPv4 cannot be false');
    if (b.Scope !== undefined && b.Scope !== '' && b.Scope !== 'local') throw new InvalidArgumentError(`invalid scope "${String(b.Scope)}": only local networks exist here`);
    for (const k of ['Internal', 'Attachable', 'CheckDuplicate', 'Ingress', 'ConfigOnly']) {
      if (b[k] !== undefined && b[k] !== null && typeof b[k] !== 'boolean') throw new InvalidArgumentError(`invalid JSON: ${k} must be a boolean`);
    }
    if (b.Ingress === true) throw new ForbiddenError('ingress networks need a swarm');
    const labels = stringMap(b.Labels, 'Labels');
    const options = stringMap(b.Options, 'Options');
    const ipam = (b.IPAM ?? {}) as { Driver?: unknown; Config?: unknown; Options?: unknown };
    if (typeof ipam !== 'object' || Array.isArray(ipam)) throw new InvalidArgumentError('invalid JSON: IPAM must be an object');
    if (ipam.Driver !== undefined && ipam.Driver !== null && ipam.Driver !== '' && ipam.Driver !== 'default') throw new NotFoundError(`plugin "${String(ipam.Driver)}" not found`);
    const ipamOptions = ipam.Options === undefined || ipam.Options === null ? null : stringMap(ipam.Options, 'IPAM.Options');
    const configs = ipam.Config === undefined || ipam.Config === null ? [] : ipam.Config;
    if (!Array.isArray(configs)) throw new InvalidArgumentError('invalid JSON: IPAM.Config must be an array');
    const v4 = (configs as unknown[]).filter((c) => {
      if (typeof c !== 'object' || c === null) throw new InvalidArgumentError('invalid JSON: IPAM.Config entries must be objects');
      const s = (c as { Subnet?: unknown }).Subnet;
      // As moby without EnableIPv6: IPv6 entries are skipped.
      return !(typeof s === 'string' && s.includes(':'));
    }) as Array<{ Subnet?: unknown; IPRange?: unknown; Gateway?: unknown }>;
    if (v4.length > 1) throw new InvalidArgumentError('berth networks take one IPv4 subnet');
    const mtu = options['com.docker.network.driver.mtu'];
    if (mtu !== undefined && !(/^\d+$/.test(mtu) && Number(mtu) >= 68 && Number(mtu) <= 65535)) throw new InvalidArgumentError(`invalid MTU "${mtu}"`);
    const customBridge = options['com.docker.network.bridge.name'];
    if (customBridge !== undefined && !BRIDGE_NAME_RE.test(customBridge)) throw new InvalidArgumentError(`invalid bridge name "${customBridge}"`);
    for (const k of ['com.docker.network.bridge.enable_ip_masquerade', 'com.docker.network.bridge.enable_icc']) {
      if (options[k] !== undefined && !['true', 'false'].includes(options[k] as string)) throw new InvalidArgumentError(`driver-opt "${k}" is not a valid bool`);
    }

    return this.lock.run('create', async () => {
      if (this.store.byName(name)) throw new ConflictError(`network with name ${name} already exists`);
      let cfg: IpamConfigEntry;
      let userSubnet = false;
      const entry = v4[0];
      if (entry && entry.Subnet !== undefined && entry.Subnet !== '') {
        cfg = validateIpamEntry(entry);
        userSubnet = true;
        const sub = parsePrefix(cfg.Subnet);
        for (const n of this.store.list()) {
          if (n.IPAM.Config.some((c) => overlaps(parsePrefix(c.Subnet), sub))) throw new ForbiddenError('Pool overlaps with other one on this address space');
        }
      } else {
        if (entry && ((entry.IPRange !== undefined && entry.IPRange !== '') || (entry.Gateway !== undefined && entry.Gateway !== ''))) {
          throw new InvalidArgumentError('invalid network config: a gateway or ip-range needs a subnet');
        }
        const pick = allocateSubnet(this.opts.pools, await this.usedSubnets());
        if (!pick) throw new ForbiddenError('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
        cfg = { Subnet: formatPrefix(pick), Gateway: formatIPv4(pick.addr + 1) };
      }
      const id = hex32();
      const bridge = customBridge ?? `br-${id.slice(0, 12)}`;
      if (this.store.list().some((n) => n.Bridge === bridge) || (customBridge !== undefined && bridgeExists(bridge))) {
        throw new ConflictError(`bridge name ${bridge} is already in use`);
      }
      const rec: NetworkRecord = {
        Id: id,
        Name: name,
        Driver: 'bridge',
        Created: now(),
        Scope: 'local',
        EnableIPv6: false,
        IPAM: { Driver: 'default', Options: ipamOptions, Config: [cfg] },
        Internal: b.Internal === true,
        Attachable: b.Attachable === true,
        Options: options,
        Labels: labels,
        Bridge: bridge,
        UserSubnet: userSubnet,
      };
      this.store.insert(rec);
      try {
        await ensureBridge(bridge, cfg.Gateway, parsePrefix(cfg.Subnet).bits, this.mtuOf(rec));
        await this.applyFirewall();
      } catch (e) {
        this.store.delete(id);
        await deleteBridge(bridge).catch(() => undefined);
        await this.applyFirewall().catch(() => undefined);
        throw e;
      }
      await this.listenDns(rec);
      this.events.publish('network', 'create', id, { name, type: 'bridge' });
      return { Id: id, Warning: '' };
    });
  }

  // ---- API: read ---------------------------------------------------------------------

  resolve(ref: string): NetworkRecord {
    return this.store.resolve(ref);
  }

  list(filters: NetworkFilters): NetworkRecord[] {
    for (const k of filters.keys()) {
      if (!['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'].includes(k)) throw new InvalidArgumentError(`invalid filter '${k}'`);
    }
    const dangling = filters.get('dangling');
    let danglingOnly: boolean | null = null;
    if (dangling && dangling.length > 0) {
      if (dangling.length > 1) throw new InvalidArgumentError('got more than one value for filter key "dangling"');
      const v = dangling[0] as string;
      if (v === '1' || v === 'true') danglingOnly = true;
      else if (v === '0' || v === 'false') danglingOnly = false;
      else throw new InvalidArgumentError('invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")');
    }
    for (const t of filters.get('type') ?? []) if (t !== 'builtin' && t !== 'custom') throw new InvalidArgumentError(`invalid filter: 'type'='${t}'`);
    return this.store.list().filter((n) => {
      const f = (k: string): string[] | undefined => {
        const v = filters.get(k);
        return v && v.length > 0 ? v : undefined;
      };
      const drivers = f('driver');
      if (drivers && !drivers.includes(n.Driver)) return false;
      const names = f('name');
      if (names && !matchAny(names, n.Name)) return false;
      const ids = f('id');
      if (ids && !matchAny(ids, n.Id)) return false;
      const labels = f('label');
      if (labels && !labels.every((l) => matchLabel(n.Labels, l))) return false;
      const scopes = f('scope');
      if (scopes && !scopes.includes('local')) return false;
      const types = f('type');
      if (types && !types.some((t) => (t === 'builtin') === isPredefined(n.Name))) return false;
      if (danglingOnly !== null) {
        const used = isPredefined(n.Name) || this.containers.attachedTo(n.Id).length > 0;
        if (danglingOnly === used) return false;
      }
      return true;
    });
  }

  /** Docker's network resource: the record plus the containers attached now. */
  view(n: NetworkRecord, withContainers = true): Record<string, unknown> {
    const containers: Record<string, unknown> = {};
    if (withContainers) {
      for (const { id, att } of this.containers.attachedTo(n.Id)) {
        containers[id] = {
          Name: this.containerName(id),
          EndpointID: att.EndpointID,
          MacAddress: att.MacAddress,
          IPv4Address: att.IPAddress ? `${att.IPAddress}/${att.IPPrefixLen}` : '',
          IPv6Address: '',
        };
      }
    }
    return {
      Name: n.Name,
      Id: n.Id,
      Created: n.Created,
      Scope: n.Scope,
      Driver: n.Driver,
      EnableIPv4: n.Driver === 'bridge',
      EnableIPv6: n.EnableIPv6,
      IPAM: { Driver: n.IPAM.Driver, Options: n.IPAM.Options, Config: n.IPAM.Config.map((c) => ({ ...c })) },
      Internal: n.Internal,
      Attachable: n.Attachable,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: containers,
      Options: n.Options,
      Labels: n.Labels,
    };
  }

  /** Set by the daemon: a container's name for the Containers map. */
  containerName: (id: string) => string = (id) => id.slice(0, 12);

  // ---- API: remove, prune -------------------------------------------------------------

  async remove(ref: string): Promise<void> {
    const n = this.store.resolve(ref);
    if (isPredefined(n.Name)) throw new ForbiddenError(`${n.Name} is a pre-defined network and cannot be removed`);
    await this.containers.settle(n.Id);
    await this.lock.run('create', async () => {
      const cur = this.store.get(n.Id);
      if (!cur) throw new NotFoundError(`network ${ref} not found`);
      const active = this.containers.attachedTo(cur.Id);
      if (active.length > 0) {
        const eps = active.map(({ id, att }) => `name:${JSON.stringify(this.containerName(id))} id:${JSON.stringify(att.EndpointID.slice(0, 12))}`);
        throw new ForbiddenError(`error while removing network: network ${cur.Name} has active endpoints (${eps.join(', ')})`);
      }
      await this.dns.close(cur.Id);
      this.store.delete(cur.Id);
      await this.applyFirewall().catch((e: unknown) => this.log.warn({ err: messageOf(e) }, 'cannot rewrite firewall rules'));
      await deleteBridge(cur.Bridge);
      await rm(join(this.ipamDir, cur.Id), { recursive: true, force: true });
    });
    this.events.publish('network', 'destroy', n.Id, { name: n.Name, type: n.Driver });
  }

  async prune(filters: NetworkFilters): Promise<{ NetworksDeleted: string[] | null }> {
    for (const k of filters.keys()) if (!['until', 'label', 'label!'].includes(k)) throw new InvalidArgumentError(`invalid filter '${k}'`);
    const untils = (filters.get('until') ?? []).map((u) => pruneTime(u));
    const deleted: string[] = [];
    for (const n of this.store.list()) {
      if (isPredefined(n.Name)) continue;
      if (untils.some((t) => Date.parse(n.Created) > t)) continue;
      if (!(filters.get('label') ?? []).every((l) => matchLabel(n.Labels, l))) continue;
      if ((filters.get('label!') ?? []).some((l) => matchLabel(n.Labels, l))) continue;
      await this.containers.settle(n.Id);
      if (this.containers.attachedTo(n.Id).length > 0) continue;
      try {
        await this.remove(n.Id);
        deleted.push(n.Name);
      } catch (e) {
        this.log.warn({ network: n.Name, err: messageOf(e) }, 'could not remove network');
      }
    }
    this.events.publish('network', 'prune', '', {});
    return { NetworksDeleted: deleted.length > 0 ? deleted : null };
  }

  // ---- API: connect, disconnect ---------------------------------------------------------

  async connect(ref: string, body: unknown): Promise<void> {
    const n = this.store.resolve(ref);
    const b = (body ?? {}) as { Container?: unknown; EndpointConfig?: unknown };
    if (typeof b !== 'object' || typeof b.Container !== 'string' || b.Container === '') throw new InvalidArgumentError('invalid JSON: Container must be a container name or ID');
    await this.containers.connect(n, b.Container, b.EndpointConfig);
  }

  async disconnect(ref: string, body: unknown): Promise<void> {
    const b = (body ?? {}) as { Container?: unknown; Force?: unknown };
    if (typeof b !== 'object' || typeof b.Container !== 'string' || b.Container === '') throw new InvalidArgumentError('invalid JSON: Container must be a container name or ID');
    const n = this.store.resolve(ref);
    await this.containers.disconnect(n, b.Container, b.Force === true);
  }
}

function stringMap(v: unknown, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v as object).every((x) => typeof x === 'string')) {
    throw new InvalidArgumentError(`invalid JSON: ${what} must be an object of strings`);
  }
  return { ...(v as Record<string, string>) };
}

/** moby's validateIpamConfig for one IPv4 entry (400 with its messages). */
function validateIpamEntry(e: { Subnet?: unknown; IPRange?: unknown; Gateway?: unknown }): IpamConfigEntry {
  if (typeof e.Subnet !== 'string') throw new InvalidArgumentError('invalid JSON: Subnet must be a string');
  const sub = parsePrefix(e.Subnet);
  if (sub.bits > 30) throw new InvalidArgumentError(`invalid subnet ${e.Subnet}: too small for any container`);
  const out: IpamConfigEntry = { Subnet: formatPrefix(sub), Gateway: '' };
  if (e.IPRange !== undefined && e.IPRange !== null && e.IPRange !== '') {
    if (typeof e.IPRange !== 'string') throw new InvalidArgumentError('invalid JSON: IPRange must be a string');
    const r = parsePrefix(e.IPRange, 'ip-range');
    if (r.bits < sub.bits) throw new InvalidArgumentError(`invalid network config:\ninvalid ip-range ${e.IPRange}: CIDR block is bigger than its parent subnet ${e.Subnet}`);
    if (!overlaps(r, sub)) throw new InvalidArgumentError(`invalid network config:\ninvalid ip-range ${e.IPRange}: parent subnet ${e.Subnet} doesn't contain ip-range`);
    out.IPRange = formatPrefix(r);
  }
  if (e.Gateway !== undefined && e.Gateway !== null && e.Gateway !== '') {
    if (typeof e.Gateway !== 'string') throw new InvalidArgumentError('invalid JSON: Gateway must be a string');
    const gw = parseIPv4(e.Gateway);
    if (gw === null) throw new InvalidArgumentError(`invalid network config:\ninvalid gateway ${e.Gateway}: not an IPv4 address`);
    if (!contains(sub, gw)) throw new InvalidArgumentError(`invalid network config:\ninvalid gateway ${e.Gateway}: parent subnet ${e.Subnet} doesn't contain this address`);
    if (gw === sub.addr || gw === (sub.addr | ~mask(sub.bits)) >>> 0) throw new InvalidArgumentError(`invalid network config:\ninvalid gateway ${e.Gateway}: it is the subnet's network or broadcast address`);
    out.Gateway = formatIPv4(gw);
  } else {
    out.Gateway = formatIPv4(sub.addr + 1);
  }
  return out;
}

/** prune's `until`: a Go duration before now, unix seconds, or a date. */
function pruneTime(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/.exec(v);
  if (m) {
    const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    return Date.now() - Number(m[1]) * (unit[m[2] as string] as number);
  }
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`failed to parse value as time or duration: "${v}"`);
  return t;
}
