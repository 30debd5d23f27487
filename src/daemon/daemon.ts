/**
 * daemon/: the composition root. Builds every store and service from the
 * configuration, recovers state, serves the Engine API on a unix socket, and
 * shuts down on request without touching running containers (conmon keeps
 * them; D3).
 */
import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { openDatabase, type Db } from '../metadata/db.js';
import { ContentStore } from '../content/contentStore.js';
import { OverlaySnapshotter } from '../snapshots/overlaySnapshotter.js';
import { Trash } from '../util/trash.js';
import { ImageStore } from '../images/imageStore.js';
import { ImagePuller } from '../images/puller.js';
import { LayerUnpacker } from '../images/layerUnpacker.js';
import { ImagePusher } from '../images/pusher.js';
import { ImageArchive } from '../images/imageArchive.js';
import { DistributionService } from '../images/distributionService.js';
import { registryServiceConfig } from '../distribution/serviceConfig.js';
import { ContainerStore } from '../containers/containerStore.js';
import { ContainerService } from '../containers/containerService.js';
import { EventBus } from '../events/eventBus.js';
import { ConmonRuntime } from '../runtime/conmonRuntime.js';
import { Router } from '../server/router.js';
import { systemRoutes } from '../server/routes/system.js';
import { containerRoutes } from '../server/routes/containers.js';
import { execRoutes } from '../server/routes/exec.js';
import { eventRoutes } from '../server/routes/events.js';
import { imageRoutes } from '../server/routes/images.js';
import { imagePruneRoutes } from '../server/routes/imagePrune.js';
import { archiveWithEvents, distributionWithEvents, imageStoreWithEvents } from '../server/routes/imageEvents.js';
import { commitRoutes } from '../server/routes/commit.js';
import { buildRoutes } from '../server/routes/build.js';
import { createBuilder } from '../build/index.js';
import { systemDfRoutes } from '../server/routes/systemDf.js';
import { diskUsage } from './diskUsage.js';
import { distributionRoutes } from '../server/routes/distribution.js';
import { swarmRoutes } from '../server/routes/swarm.js';
import { commitImage } from '../images/committer.js';
import { writeUpperAsLayer } from '../archive/upperToLayer.js';
import { familiarString, parseNormalizedNamed } from '../reference/index.js';
import { DataRootLock } from './lock.js';
import { cgroupVersion, preflight } from './preflight.js';
import { SystemInfo } from './systemInfo.js';
import { VolumeService } from '../volumes/volumeService.js';
import { volumeUsers } from '../containers/mountPoints.js';
import { volumeRoutes } from '../server/routes/volumes.js';
import { NetworkService } from '../network/networkService.js';
import { defaultAddressPools, type AddressPool } from '../network/addressPool.js';
import { networkRoutes } from '../server/routes/networks.js';
import { ApiListeners } from './apiListeners.js';
import type { UsernsRemap } from './usernsRemap.js';
import { RemappedLayers } from '../snapshots/remappedLayers.js';
import { ContainerUserns } from '../containers/usernsRemap.js';
import { DEFAULT_UNIX_SOCKET, type ListenConfig } from './listenConfig.js';
import { auditLog } from '../server/middleware/audit.js';

export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  /** unix socket path (used when `listen` is absent: root-only, no TCP) */
  socket: string;
  /** API addresses, socket group and TLS, checked by daemon/listenConfig (issue 8). */
  listen?: ListenConfig;
  /** `--userns-remap`, resolved by daemon/usernsRemap: containers get a user namespace with these maps. */
  userns?: UsernsRemap;
  runtime: string;
  cgroupParent: string;
  insecureRegistries: string[];
  registryMirrors: Record<string, string[]>;
  /** Default container log options (`--log-opt max-size=…`, `max-file=…`); rotation is on by default. */
  containerLogOpts?: Record<string, string>;
  /** `--max-build-context`: largest build context accepted, in bytes (build/limits has the default). */
  maxBuildContextBytes?: number;
  /** `-b/--bridge`, `--bip`, `--default-address-pool`, `--iptables`, `--mtu` (network/networkService). */
  network?: { bridge: string; bridgeExplicit?: boolean; bip?: string; pools?: AddressPool[]; iptables?: boolean; mtu?: number };
}

export class Daemon {
  private listeners: ApiListeners | null = null;
  private db: Db | null = null;
  private lock: DataRootLock | null = null;
  private containers: ContainerService | null = null;
  private networks: NetworkService | null = null;

  constructor(
    private readonly cfg: DaemonConfig,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const tools = await preflight(this.cfg.runtime);
    await mkdir(this.cfg.dataRoot, { recursive: true, mode: 0o711 });
    await mkdir(this.cfg.execRoot, { recursive: true, mode: 0o700 });
    this.lock = await DataRootLock.acquire(join(this.cfg.dataRoot, 'berthd.pid'), this.cfg.dataRoot);
    try {
      await this.startLocked(tools.runc, tools.conmon);
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** The --userns-remap part of the container service's options (nothing without the flag). */
  private async userns(snapshotRoot: string): Promise<{ userns?: ContainerUserns }> {
    const r = this.cfg.userns;
    if (r === undefined) return {};
    const layers = new RemappedLayers(snapshotRoot, r.map);
    await layers.init();
    this.log.info({ user: r.user, group: r.group, uidMap: r.map.uids, gidMap: r.map.gids }, 'user namespace remapping is on');
    return { userns: new ContainerUserns({ map: r.map, rootUid: r.rootUid, rootGid: r.rootGid }, layers) };
  }

  private async engineId(): Promise<string> {
    const p = join(this.cfg.dataRoot, 'engine-id');
    const existing = (await readFile(p, 'utf8').catch(() => '')).trim();
    if (existing) return existing;
    const id = randomUUID();
    await writeFile(p, `${id}\n`);
    return id;
  }

  private async startLocked(runcPath: string, conmonPath: string): Promise<void> {
    const root = this.cfg.dataRoot;
    this.db = openDatabase(join(root, 'berth.db'));
    const content = new ContentStore(join(root, 'content'));
    await content.init();
    // Removed snapshots' and containers' directories are deleted off the request's path (B68).
    const trash = new Trash(join(root, 'trash'));
    const snapshots = new OverlaySnapshotter(join(root, 'snapshots'), this.db, trash);
    await snapshots.init();
    const images = new ImageStore(this.db, content, snapshots);
    const registryOptions = { insecureRegistries: this.cfg.insecureRegistries, mirrors: this.cfg.registryMirrors };
    const distribution = new DistributionService(
      new ImagePuller(images, content, new LayerUnpacker(content, snapshots), registryOptions),
      new ImagePusher(images, content, this.db, registryOptions),
      registryOptions,
    );
    const events = new EventBus();
    const runtime = new ConmonRuntime({
      runc: runcPath,
      conmon: conmonPath,
      stateRoot: join(this.cfg.execRoot, 'runtime'),
      cgroupParent: this.cfg.cgroupParent,
    });
    const volumes = new VolumeService(this.db, root, events);
    await volumes.init();
    const containerStore = new ContainerStore(this.db);
    const netCfg = this.cfg.network ?? { bridge: 'berth0' };
    const networks = new NetworkService(
      {
        dataRoot: root,
        execRoot: this.cfg.execRoot,
        bridge: netCfg.bridge,
        bridgeExplicit: netCfg.bridgeExplicit ?? false,
        ...(netCfg.bip !== undefined ? { bip: netCfg.bip } : {}),
        pools: netCfg.pools && netCfg.pools.length > 0 ? netCfg.pools : defaultAddressPools(),
        iptables: netCfg.iptables ?? true,
        ...(netCfg.mtu !== undefined ? { mtu: netCfg.mtu } : {}),
      },
      this.db,
      { get: (id) => containerStore.get(id), resolve: (ref) => containerStore.resolve(ref), dir: (id) => join(root, 'containers', id) },
      events,
      this.log,
    );
    networks.containerName = (id) => containerStore.get(id)?.Name.replace(/^\//, '') ?? id.slice(0, 12);
    this.networks = networks;
    // Bridges, rules and DNS listeners before any container (re)starts.
    await networks.init();
    const remap = await this.userns(snapshots.root);
    const containers = new ContainerService(
      {
        root,
        runtime,
        trash,
        volumes,
        networking: networks.containers,
        ...remap,
        cgroupParent: this.cfg.cgroupParent,
        logDefaults: {
          'max-size': this.cfg.containerLogOpts?.['max-size'] ?? '10m',
          'max-file': this.cfg.containerLogOpts?.['max-file'] ?? '3',
        },
      },
      containerStore,
      images,
      snapshots,
      events,
    );
    this.containers = containers;
    volumes.setUsers(volumeUsers(() => containers.list()));
    await containers.init();
    const builds = createBuilder({
      dataRoot: root,
      db: this.db,
      images,
      content,
      snapshots,
      containers,
      pull: (ref, opts) => distribution.pull(ref, opts),
      ...(this.cfg.maxBuildContextBytes !== undefined ? { maxContextBytes: this.cfg.maxBuildContextBytes } : {}),
    });
    // Before snapshots are swept: a build a crash interrupted leaves mounts and containers.
    await builds.builder.recover();
    await this.removeStaleSnapshots(snapshots, containers);
    // Before the API opens, nothing is pulling or pushing: blobs no image needs are leftovers.
    const dropped = await images.collectGarbageBlobs();
    if (dropped > 0) this.log.info({ blobs: dropped }, 'removed blobs no image uses');
    const system = new SystemInfo({
      dataRoot: root,
      runtimePath: runcPath,
      runtimeName: this.cfg.runtime,
      conmonPath,
      cgroupVersion: await cgroupVersion(),
      containers,
      images,
      id: await this.engineId(),
      userns: this.cfg.userns !== undefined,
      registryConfig: registryServiceConfig(registryOptions),
    });
    const imageName = (imageId: string, configured: string): string => {
      const img = images.getById(imageId);
      if (!img) return imageId;
      if (configured) {
        try {
          const want = parseNormalizedNamed(configured);
          const full = img.tags.find((t) => t === `${want.domain}/${want.path}:${want.tag ?? 'latest'}`);
          if (full) return configured;
        } catch {
          // not a reference: fall through to the image's own name
        }
      }
      const first = img.tags[0];
      return first ? familiarString(parseNormalizedNamed(first)) : imageId;
    };
    const router = new Router([
      ...systemRoutes(system),
      ...containerRoutes(containers, imageName),
      ...execRoutes(containers.execs),
      ...eventRoutes(events),
      // Image events (pull, push, tag, untag, delete, import, load, save) wrap the image backends.
      ...imageRoutes(
        imageStoreWithEvents(images, events),
        (id) => containers.usingImage(id),
        distributionWithEvents(distribution, (n) => images.resolve(n), events),
        archiveWithEvents(new ImageArchive(images, content, new LayerUnpacker(content, snapshots), snapshots), (n) => images.resolve(n), events),
      ),
      ...commitRoutes({
        container: (ref) => containers.get(ref),
        image: (id) => images.getById(id),
        upperDir: (c) => snapshots.fsPath(c.SnapshotKey),
        pause: (id) => containers.pause(id),
        unpause: (id) => containers.unpause(id),
        writeLayer: async (upper, out) => writeUpperAsLayer(upper, out, await remap.userns?.layerIds(upper)),
        commit: (req) => commitImage(images, content, new LayerUnpacker(content, snapshots), req),
      }),
      ...imagePruneRoutes(imageStoreWithEvents(images, events), (id) => containers.usingImage(id), (chain) => snapshots.stat(chain)?.size ?? 0),
      ...buildRoutes(builds.service),
      ...systemDfRoutes(diskUsage({ images, containers, snapshots, volumes, builds: builds.service, imageName })),
      ...volumeRoutes(volumes),
      ...networkRoutes(networks),
      ...distributionRoutes(distribution),
      ...swarmRoutes(),
    ]);
    router.observe = auditLog(this.log);
    const listen = this.cfg.listen ?? { addresses: [{ proto: 'unix', path: this.cfg.socket || DEFAULT_UNIX_SOCKET }], socketGid: null, tls: null };
    this.listeners = await ApiListeners.open(
      listen,
      {
        request: (req, res) => void router.dispatch(req, res),
        upgrade: (req, socket, head) => {
          // A real response on the raw socket, so non-hijack answers (errors) are ordinary HTTP.
          const res = new ServerResponse(req);
          res.assignSocket(socket as Socket);
          void router.dispatch(req, res, { socket, head });
        },
      },
      this.log,
    );
    this.log.info({ hosts: this.listeners.bound, dataRoot: root }, 'berthd is ready');
  }

  /**
   * A crash can leave layers half-unpacked (a pull or import under way) or a
   * container layer whose container was never recorded: nothing refers to
   * them, so they go.
   */
  private async removeStaleSnapshots(snapshots: OverlaySnapshotter, containers: ContainerService): Promise<void> {
    const known = new Set(containers.list().map((c) => c.SnapshotKey));
    for (const key of snapshots.listActive()) {
      if (key.startsWith('extract-') || (key.startsWith('container-') && !known.has(key))) {
        await snapshots.remove(key).catch((e: unknown) => this.log.warn({ key, err: String(e) }, 'cannot remove stale snapshot'));
      }
    }
  }

  async stop(): Promise<void> {
    const listeners = this.listeners;
    this.listeners = null;
    await listeners?.close();
    await this.containers?.close();
    await this.networks?.close();
    this.networks = null;
    this.db?.close();
    this.db = null;
    await this.lock?.release();
    this.lock = null;
  }
}
