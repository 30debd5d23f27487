/**
 * images/distributionService: the registry-facing image operations the API
 * offers — pull, push, and checking a login — on one set of registry options.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError, UnauthorizedError } from '../errdefs/errors.js';
import { MAX_CONFIG_BYTES } from '../distribution/limits.js';
import type { Descriptor } from '../oci/image.js';
import { RegistryClient, type RegistryOptions } from '../distribution/registryClient.js';
import type { AuthConfig } from '../distribution/credentials.js';
import { familiarString, type Reference } from '../reference/index.js';
import type { ImagePuller, PullOptions } from './puller.js';
import type { ImagePusher, PushOptions } from './pusher.js';
import type { ImageRecord } from './imageStore.js';

export class DistributionService {
  constructor(
    private readonly puller: ImagePuller,
    private readonly pusher: ImagePusher,
    private readonly registryOptions: RegistryOptions,
  ) {}

  pull(ref: Reference, opts: PullOptions): Promise<ImageRecord> {
    return this.puller.pull(ref, opts);
  }

  pullAllTags(repo: Reference, opts: PullOptions): Promise<void> {
    return this.puller.pullAllTags(repo, opts);
  }

  push(ref: Reference, opts: PushOptions): Promise<void> {
    return this.pusher.push(ref, opts);
  }

  /**
   * `GET /distribution/{name}/json`: the descriptor a tag resolves to in its registry and the
   * platforms it offers (from the index, or from the one manifest's config), without pulling.
   */
  async inspect(ref: Reference, auth: AuthConfig | undefined, signal?: AbortSignal): Promise<DistributionInspect> {
    const client = new RegistryClient(ref.domain, auth, this.registryOptions);
    try {
      const reference = ref.digest ?? ref.tag ?? 'latest';
      const m = await client.getManifest(ref.path, reference, signal);
      const digest = `sha256:${createHash('sha256').update(m.bytes).digest('hex')}`;
      if (ref.digest && ref.digest !== digest) {
        throw new InvalidArgumentError(`manifest of ${familiarString(ref)} does not match its digest: got ${digest}`);
      }
      let doc: { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor };
      try {
        doc = JSON.parse(m.bytes.toString('utf8')) as typeof doc;
      } catch {
        throw new InvalidArgumentError(`manifest of ${familiarString(ref)} is not valid JSON`);
      }
      const mediaType = m.mediaType || doc.mediaType || '';
      const descriptor = { mediaType, digest, size: m.bytes.length };
      if (Array.isArray(doc.manifests)) {
        const platforms = doc.manifests.filter((d) => d.platform).map((d) => ({ ...(d.platform as NonNullable<Descriptor['platform']>) }));
        return { Descriptor: descriptor, Platforms: platforms };
      }
      if (!doc.config || typeof doc.config.digest !== 'string') throw new InvalidArgumentError(`manifest of ${familiarString(ref)} has no config`);
      if (doc.config.size > MAX_CONFIG_BYTES) throw new InvalidArgumentError(`image config of ${familiarString(ref)} is over the ${MAX_CONFIG_BYTES}-byte limit`);
      const blob = await client.getBlob(ref.path, doc.config.digest, signal);
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const c of blob.body as AsyncIterable<Buffer>) {
        n += c.length;
        if (n > MAX_CONFIG_BYTES) {
          blob.body.destroy();
          throw new InvalidArgumentError(`image config of ${familiarString(ref)} is over the ${MAX_CONFIG_BYTES}-byte limit`);
        }
        chunks.push(c);
      }
      const bytes = Buffer.concat(chunks);
      if (`sha256:${createHash('sha256').update(bytes).digest('hex')}` !== doc.config.digest) {
        throw new InvalidArgumentError(`image config of ${familiarString(ref)} does not match its digest ${doc.config.digest}`);
      }
      const config = JSON.parse(bytes.toString('utf8')) as { architecture?: string; os?: string; variant?: string; 'os.version'?: string };
      const platform: Record<string, string> = { architecture: config.architecture ?? '', os: config.os ?? '' };
      if (config.variant) platform['variant'] = config.variant;
      if (config['os.version']) platform['os.version'] = config['os.version'];
      return { Descriptor: descriptor, Platforms: [platform] };
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  /**
   * Checks credentials against the registry, as `docker login` asks the daemon to.
   * Returns the identity token (refresh token) a token server gave, which clients
   * store instead of the password (moby loginV2); undefined when there is none.
   */
  async login(auth: AuthConfig): Promise<string | undefined> {
    const server = (auth.serveraddress ?? 'docker.io').replace(/^https?:\/\//, '').replace(/\/.*$/, '').replace(/^index\.docker\.io$/, 'docker.io');
    const client = new RegistryClient(server, auth, this.registryOptions);
    client.offlineAccess = true;
    try {
      await client.ping();
      // A registry that asks for a token: getting one for no scope proves the credentials.
      await client.checkCredentials();
      return client.refreshToken;
    } catch (e) {
      if (e instanceof UnauthorizedError) {
        throw new UnauthorizedError(`login attempt to ${client.endpoint}/v2/ failed with status: 401 Unauthorized`);
      }
      throw e;
    } finally {
      await client.close().catch(() => undefined);
    }
  }
}

/** Docker's DistributionInspect. */
export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: Array<Record<string, string>>;
}
