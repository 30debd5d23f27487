/**
 * images/distributionService: the registry-facing image operations the API
 * offers — pull, push, and checking a login — on one set of registry options.
 */
import { UnauthorizedError } from '../errdefs/errors.js';
import { RegistryClient, registryBase, type RegistryOptions } from '../distribution/registryClient.js';
import type { AuthConfig } from '../distribution/credentials.js';
import type { Reference } from '../reference/index.js';
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

  /** Checks credentials against the registry, as `docker login` asks the daemon to. */
  async login(auth: AuthConfig): Promise<void> {
    const server = (auth.serveraddress ?? 'docker.io').replace(/^https?:\/\//, '').replace(/\/.*$/, '').replace(/^index\.docker\.io$/, 'docker.io');
    const client = new RegistryClient(server, auth, this.registryOptions);
    try {
      await client.ping();
      // A registry that asks for a token: getting one for no scope proves the credentials.
      await client.checkCredentials();
    } catch (e) {
      if (e instanceof UnauthorizedError) {
        throw new UnauthorizedError(`login attempt to ${registryBase(server, this.registryOptions)}/v2/ failed with status: 401 Unauthorized`);
      }
      throw e;
    } finally {
      await client.close().catch(() => undefined);
    }
  }
}
