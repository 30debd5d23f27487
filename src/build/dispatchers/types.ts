/**
 * build/dispatchers/types: the state one stage carries from instruction to
 * instruction (moby's dispatchState) and the services a dispatcher may use.
 * Types only.
 */
import type { ImageRecord } from '../../images/imageStore.js';
import type { ContainerConfigPart } from '../../oci/image.js';
import type { Platform } from '../../oci/platform.js';
import type { BuildArgs } from '../buildArgs.js';
import type { BuildCache } from '../buildCache.js';
import type { CacheFromSources } from '../cacheFrom.js';
import type { BuildContext } from '../buildContext.js';
import type { BuildOutput } from '../output.js';
import type { StepImages } from '../stepImages.js';
import type { EscapeToken } from '../dockerfile/shellLex.js';
import type { RunRunner } from './run.js';
import type { ImageRoot } from '../imageRoot.js';
import type { BuildOptions } from '../options.js';

export interface StageState {
  /** Lower-cased `AS` name, or ''. */
  name: string;
  index: number;
  /** The image so far; null while a `FROM scratch` stage has no step yet. */
  image: ImageRecord | null;
  runConfig: ContainerConfigPart;
  platform: Platform;
  args: BuildArgs;
  maintainer: string;
  /** A CMD was given in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean;
  /** A step missed the cache: every later step of the stage runs (moby's cacheBusted). */
  cacheBusted: boolean;
  escape: EscapeToken;
}

export interface DispatchContext {
  out: BuildOutput;
  signal: AbortSignal;
  opts: BuildOptions;
  context: BuildContext;
  cache: BuildCache;
  /** `--cache-from` images (null: none given). */
  cacheFrom: CacheFromSources | null;
  stepImages: StepImages;
  runner: RunRunner;
  /** A read-only view of an image's files, released by the caller. */
  openRoot(img: ImageRecord | null): Promise<ImageRoot>;
  /** `COPY --from=`: an earlier stage's image (by name or index) or any image (pulled if missing). */
  fromImage(nameOrIndex: string, stage: StageState): Promise<ImageRecord | null>;
  /** A scratch directory for this step's temporary files, removed by the build. */
  tempDir(): Promise<string>;
  /** The persistent directory of `RUN --mount=type=cache,id=…` (kept across builds until `builder prune -a`). */
  cacheMount(id: string, owner: { uid: number; gid: number; mode: number }): Promise<string>;
}
