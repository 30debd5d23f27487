/**
 * cli/flows/parallel: docker's parallelOperation — run one API call per
 * container concurrently (at most 50 at a time) and report results in
 * argument order, each as soon as it and all before it are known.
 */
import type { CliContext } from '../context.js';
import { errorText } from '../errors.js';

const MAX_PARALLEL = 50;

/** Starts `op` for every item (bounded); returns one promise per item, in order, of its error or undefined. */
export function parallelOperation(items: string[], op: (item: string) => Promise<void>): Array<Promise<unknown>> {
  let running = 0;
  const waiting: Array<() => void> = [];
  const acquire = (): Promise<void> =>
    new Promise((resolve) => {
      const go = (): void => {
        running++;
        resolve();
      };
      if (running < MAX_PARALLEL) go();
      else waiting.push(go);
    });
  const release = (): void => {
    running--;
    waiting.shift()?.();
  };
  return items.map(async (item) => {
    await acquire();
    try {
      await op(item);
      return undefined;
    } catch (e) {
      return e ?? new Error('unknown error');
    } finally {
      release();
    }
  });
}

/**
 * The stop/kill/rm pattern: print each item that succeeded on stdout, return
 * the joined error text of the others (undefined when all succeeded).
 * `tolerate` prints an error on stderr instead of failing (rm -f on 404).
 */
export async function runForEach(
  ctx: CliContext,
  items: string[],
  op: (item: string) => Promise<void>,
  tolerate?: (err: unknown) => boolean,
): Promise<string | undefined> {
  const errors: string[] = [];
  const results = parallelOperation(items, op);
  for (let i = 0; i < items.length; i++) {
    const err = await results[i];
    if (err === undefined) ctx.out(`${items[i]}\n`);
    else if (tolerate?.(err)) ctx.err(`${errorText(err)}\n`);
    else errors.push(errorText(err));
  }
  return errors.length > 0 ? errors.join('\n') : undefined;
}
