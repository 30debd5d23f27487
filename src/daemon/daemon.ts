/**
 * daemon/: the composition root. Builds every store and service from the
 * configuration, recovers state, serves the Engine API on a unix socket, and
 * shuts down on request without touching running containers (conmon keeps
 * them; D3).
 */
import { createServer, ServerResponse, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { openDatabase, type Db } from '../metadata/db.js';
import { ContentStore } from '../content/contentStore.js';
import { OverlaySnapshotter } from '../snapshots/overlaySnapshotter.js';
import { ImageStore } from '../images/imageStore.js';
import { ImagePuller } from '../images/puller.js';
import { LayerUnpacker } from '../images/layerUnpacker.js';
import { ImagePusher } from '../images/pusher.js';
import { ImageArchive } from '../images/imageArchive.js';
import { DistributionService } from '../images/distributionService.js';
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
import { commitRoutes } from '../server/routes/commit.js';
import { distributionRoutes } from '../server/routes/distribution.js';
import { swarmRoutes } from '../server/routes/swarm.js';
import { commitImage } from '../images/committer.js';
import { writeUpperAsLayer } from '../archive/upperToLayer.js';
import { familiarString, parseNormalizedNamed } from '../reference/index.js';
import { DataRootLock } from './lock.js';
import { cgroupVersion, preflight } from './preflight.js';
import { SystemInfo } from './systemInfo.js';

export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  /** unix socket path */
  socket: string;
  runtime: string;
  cgroupParent: string;
  insecureRegistries: string[];
  registryMirrors: Record<string, string[]>;
  /** Default container log options (`--log-opt max-size=…`, `max-file=…`); rotation is on by default. */
  containerLogOpts?: Record<string, string>;
}

export class Daemon {
  private server: Server | null = null;
  private db: Db | null = null;
  private lock: DataRootLock | null = null;
  private containers: ContainerService | null = null;

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
    const snapshots = new OverlaySnapshotter(join(root, 'snapshots'), this.db);
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
    const containers = new ContainerService(
      {
        root,
        runtime,
        cgroupParent: this.cfg.cgroupParent,
        logDefaults: {
          'max-size': this.cfg.containerLogOpts?.['max-size'] ?? '10m',
          'max-file': this.cfg.containerLogOpts?.['max-file'] ?? '3',
        },
      },
      new ContainerStore(this.db),
      images,
      snapshots,
      events,
    );
    this.containers = containers;
    await containers.init();
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
      ...imageRoutes(images, (id) => containers.usingImage(id), distribution, new ImageArchive(images, content, new LayerUnpacker(content, snapshots), snapshots)),
      ...commitRoutes({
        container: (ref) => containers.get(ref),
        image: (id) => images.getById(id),
        upperDir: (c) => snapshots.fsPath(c.SnapshotKey),
        pause: (id) => containers.pause(id),
        unpause: (id) => containers.unpause(id),
        writeLayer: (upper, out) => writeUpperAsLayer(upper, out),
        commit: (req) => commitImage(images, content, new LayerUnpacker(content, snapshots), req),
      }),
      ...imagePruneRoutes(images, (id) => containers.usingImage(id), (chain) => snapshots.stat(chain)?.size ?? 0),
      ...distributionRoutes(distribution),
      ...swarmRoutes(),
    ]);
    const server = createServer((req, res) => {
      void router.dispatch(req, res);
    });
    server.on('upgrade', (req, socket, head) => {
      // A real response on the raw socket, so non-hijack answers (errors) are ordinary HTTP.
      const res = new ServerResponse(req);
      res.assignSocket(socket as Socket);
      void router.dispatch(req, res, { socket, head });
    });
    server.keepAliveTimeout = 60_000;
    await rm(this.cfg.socket, { force: true });
    await mkdir(join(this.cfg.socket, '..'), { recursive: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.cfg.socket, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.cfg.socket, 0o660);
    this.server = server;
    this.log.info({ socket: this.cfg.socket, dataRoot: root }, 'berthd is ready');
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
    const server = this.server;
    this.server = null;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await rm(this.cfg.socket, { force: true });
    }
    await this.containers?.close();
    this.db?.close();
    this.db = null;
    await this.lock?.release();
    this.lock = null;
  }
}
