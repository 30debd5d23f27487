/**
 * build/dispatchers/workdir: WORKDIR — the new working directory (relative
 * to the current one, variables expanded) is created now, as moby does since
 * 1.13: missing directories become a layer (0755, root), an existing one
 * gives a config-only step. Planned against a read-only view of the image;
 * no container.
 */
import { InvalidArgumentError } from '../../errdefs/errors.js';
import type { WorkdirInstruction } from '../dockerfile/ast.js';
import { TarWriter } from '../../util/tar/writer.js';
import { LayerPlan } from '../layerPlan.js';
import { cleanAbs } from '../scopedPath.js';
import { storedConfig } from '../stepImages.js';
import { cachedStep, Expander, nopCommentString } from './common.js';
import type { DispatchContext, StageState } from './types.js';

/** moby's normalizeWorkdir. */
export function normalizeWorkdir(current: string, requested: string): string {
  if (requested === '') throw new InvalidArgumentError('cannot normalize nothing');
  return requested.startsWith('/') ? cleanAbs(requested) : cleanAbs(`/${current}/${requested}`);
}

export async function dispatchWorkdir(d: DispatchContext, s: StageState, c: WorkdirInstruction): Promise<void> {
  const x = new Expander(s);
  const dir = normalizeWorkdir(s.runConfig.WorkingDir ?? '', x.word(c.path));
  s.runConfig.WorkingDir = dir;
  const createdBy = nopCommentString(s, `WORKDIR ${dir}`);
  const step = JSON.stringify(['WORKDIR', dir, storedConfig(s.runConfig), s.maintainer]);
  await cachedStep(d, s, { step, vars: x.used }, createdBy, async () => {
    const root = await d.openRoot(s.image);
    try {
      const plan = new LayerPlan(root.path);
      const rel = plan.resolve(dir);
      if (plan.isDir(rel)) return d.stepImages.configOnly(s.image, s.platform, s.runConfig, createdBy, s.maintainer);
      if (plan.inImage(rel)) throw new InvalidArgumentError(`mkdir ${dir}: not a directory`);
      plan.ensureDir(rel, { uid: 0, gid: 0 });
      const w = new TarWriter();
      const writing = plan.write(w, d.signal).catch((e: unknown) => {
        w.abort(e as Error);
        throw e;
      });
      const committing = d.stepImages.withLayer(s.image, s.platform, s.runConfig, createdBy, s.maintainer, w.stream).catch((e: unknown) => {
        w.abort(e as Error);
        throw e;
      });
      const [img] = await Promise.all([committing, writing]);
      return img;
    } finally {
      await root.release();
    }
  }, 'layer');
}
