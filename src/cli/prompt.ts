/**
 * cli/prompt: the docker CLI's confirmation prompt (`… [y/N] `) for commands that delete
 * things. Reads the first line of stdin; end of input is a no. Never prompts itself
 * when the caller was given -f: that is the caller's check.
 */
import type { CliContext } from './context.js';

/** Prints `message [y/N] ` and answers whether the first line typed is "y" (any case; also "yes" with `acceptYes`). */
export async function confirm(ctx: CliContext, message: string, opts: { acceptYes?: boolean } = {}): Promise<boolean> {
  ctx.out(`${message} [y/N] `);
  const stdin = ctx.stdin;
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const finish = (s: string): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      resolve(s);
    };
    const onData = (b: Buffer | string): void => {
      buf += typeof b === 'string' ? b : b.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(buf.slice(0, nl));
    };
    const onEnd = (): void => finish(buf);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  });
  const answer = line.trim().toLowerCase();
  return answer === 'y' || (opts.acceptYes === true && answer === 'yes');
}
