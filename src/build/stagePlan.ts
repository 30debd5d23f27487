/**
 * build/stagePlan: which stages a build runs and how its steps are numbered.
 * Stages after `--target` are dropped (moby's "target stage … could not be
 * found" otherwise); of the rest, only the target and the stages it needs —
 * through `FROM <stage>`, `COPY --from=<stage|index>` and `RUN
 * --mount=from=` — are built (BuildKit's rule: the legacy builder ran them
 * all), so independent stages may run side by side. A reference whose
 * variables cannot be known before the build counts as needing every earlier
 * stage. Pure.
 */
import { InvalidArgumentError } from '../errdefs/errors.js';
import type { Dockerfile, Stage } from './dockerfile/ast.js';
import { goQuote } from './dockerfile/goText.js';
import { processWord, type EscapeToken } from './dockerfile/shellLex.js';

export interface StagePlan {
  /** The Dockerfile's stages up to the target. */
  stages: Stage[];
  target: number;
  /** Indexes of the stages to build, ascending. */
  needed: number[];
  /** Stage index → the earlier stages it uses. */
  deps: Map<number, Set<number>>;
  /** Stage index → the number of its FROM step. */
  firstStep: Map<number, number>;
  total: number;
}

/** `name` as one of `stages` before `before`: by AS name (case-insensitive), or by index for --from. */
function stageRef(stages: Stage[], before: number, word: string, allowIndex: boolean): number | null {
  const lower = word.toLowerCase();
  for (let j = before - 1; j >= 0; j--) if (stages[j]?.name === lower) return j;
  if (allowIndex && /^\d+$/.test(word)) {
    const n = Number(word);
    if (n < before) return n;
  }
  return null;
}

function mountFroms(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    for (const field of v.split(',')) {
      const eq = field.indexOf('=');
      if (eq > 0 && field.slice(0, eq).trim().toLowerCase() === 'from') out.push(field.slice(eq + 1).trim());
    }
  }
  return out;
}

export function planStages(df: Dockerfile, target: string, globals: ReadonlyMap<string, string>, extraSteps: number): StagePlan {
  let stages = df.stages;
  let t = stages.length - 1;
  if (target !== '') {
    const i = stages.findIndex((s) => s.name === target.toLowerCase());
    if (i < 0) throw new InvalidArgumentError(`target stage ${goQuote(target)} could not be found`);
    t = i;
    stages = stages.slice(0, i + 1);
  }
  const escape: EscapeToken = df.escape;
  const deps = new Map<number, Set<number>>();
  stages.forEach((st, i) => {
    const set = new Set<number>();
    const all = (): void => {
      for (let j = 0; j < i; j++) set.add(j);
    };
    const add = (word: string, allowIndex: boolean): void => {
      let value = word;
      try {
        const r = processWord(word, globals, escape);
        if (r.unmatched.size > 0) return all();
        value = r.result;
      } catch {
        return all();
      }
      const j = stageRef(stages, i, value, allowIndex);
      if (j !== null) set.add(j);
    };
    add(st.from.image, false);
    for (const c of st.instructions) {
      if ((c.kind === 'copy' || c.kind === 'add') && c.from !== undefined) add(c.from, true);
      if (c.kind === 'run') for (const f of mountFroms(c.flags['mount'] ?? [])) add(f, true);
    }
    deps.set(i, set);
  });
  const needed = new Set<number>();
  const visit = (i: number): void => {
    if (needed.has(i)) return;
    needed.add(i);
    for (const j of deps.get(i) ?? []) visit(j);
  };
  visit(t);
  const order = [...needed].sort((a, b) => a - b);
  const firstStep = new Map<number, number>();
  let n = df.metaArgs.length + 1;
  for (const i of order) {
    firstStep.set(i, n);
    n += 1 + (stages[i]?.instructions.length ?? 0) + (i === t ? extraSteps : 0);
  }
  return { stages, target: t, needed: order, deps, firstStep, total: n - 1 };
}
