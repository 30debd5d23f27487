/**
 * server/routes/distribution: `GET /distribution/{name}/json` — what a reference
 * resolves to in its registry (descriptor and platforms), without pulling. The
 * docker CLI and SDKs use it to pin a tag to a digest.
 */
import { InvalidArgumentError, NotFoundError } from '../../errdefs/errors.js';
import { decodeRegistryAuth } from '../../distribution/credentials.js';
import type { AuthConfig } from '../../distribution/credentials.js';
import type { DistributionInspect } from '../../images/distributionService.js';
import { parseNormalizedNamed, withDefaultTag, type Reference } from '../../reference/index.js';
import { get, type Ctx, type Route } from '../router.js';

export interface DistributionBackend {
  inspect(ref: Reference, auth: AuthConfig | undefined, signal?: AbortSignal): Promise<DistributionInspect>;
}

export function distributionRoutes(b: DistributionBackend): Route[] {
  const inspect = async (ctx: Ctx): Promise<void> => {
    const m = /^(.+)\/json$/.exec(ctx.params['*'] ?? '');
    if (!m) throw new NotFoundError('page not found');
    let ref: Reference;
    try {
      ref = withDefaultTag(parseNormalizedNamed(decodeURIComponent(m[1] as string)));
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
    const raw = ctx.req.headers['x-registry-auth'];
    const auth = decodeRegistryAuth(Array.isArray(raw) ? raw[0] : raw);
    ctx.json(200, await b.inspect(ref, auth, ctx.signal));
  };
  return [get('/distribution/*', inspect)];
}
