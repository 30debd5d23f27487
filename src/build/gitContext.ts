/**
 * build/gitContext: a build context from a git URL, as moby's remotecontext/git
 * does it for `remote=` — `URL#ref:subdir` parsed, the repository fetched with
 * the system `git` into the build's own directory (shallow when it can),
 * submodules included, the subdirectory resolved in scope — then the checkout
 * packed as a tar (without `.git`, as BuildKit leaves it out: clones of the same
 * commit then give the same context, so the cache hits) for BuildContext to
 * index. Never runs anything from the repository; submodules may not use the
 * file or ext transports (GIT_PROTOCOL_FROM_USER=0).
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, messageOf } from '../errdefs/errors.js';
import { run } from '../util/process.js';
import { escapesRoot, resolveInScope } from './scopedPath.js';

export interface GitRef {
  /** What git fetches from (`github.com/x/y` becomes `https://github.com/x/y`). */
  remote: string;
  /** Branch, tag or commit; '' for the default branch. */
  ref: string;
  /** Directory inside the repository that is the context; '' for its root. */
  subdir: string;
}

/** moby's parseRemoteURL: `URL#ref:subdir`. */
export function parseGitURL(url: string): GitRef {
  let remote = url;
  if (remote.startsWith('github.com/')) remote = `https://${remote}`;
  let fragment = '';
  const hash = remote.indexOf('#');
  if (hash >= 0) {
    fragment = remote.slice(hash + 1);
    remote = remote.slice(0, hash);
  }
  const colon = fragment.indexOf(':');
  const ref = colon >= 0 ? fragment.slice(0, colon) : fragment;
  const subdir = colon >= 0 ? fragment.slice(colon + 1) : '';
  if (ref.startsWith('-')) throw new InvalidArgumentError(`invalid git reference: ${ref}`);
  return { remote, ref, subdir };
}

const GIT_ENV = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PROTOCOL_FROM_USER: '0', GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' };

async function git(args: string[], cwd: string, signal: AbortSignal): Promise<void> {
  await run('git', args, { cwd, env: GIT_ENV, signal });
}

/**
 * Fetches `url` into `dir` (created by the caller's build) and writes the context tar to
 * `tarPath`. Errors are 400s naming the git command's complaint.
 */
export async function gitContextTar(url: string, dir: string, tarPath: string, signal: AbortSignal): Promise<void> {
  const { remote, ref, subdir } = parseGitURL(url);
  const repo = join(dir, 'git');
  try {
    await run('mkdir', ['-p', repo], { signal });
    await git(['init', '-q', repo], dir, signal);
    await git(['remote', 'add', 'origin', '--', remote], repo, signal);
    const spec = ref === '' ? 'HEAD' : ref;
    // A shallow fetch of the ref; a commit id some servers only give with the full history.
    await git(['fetch', '-q', '--depth', '1', 'origin', '--', spec], repo, signal).catch(async () => git(['fetch', '-q', 'origin', '--', spec], repo, signal));
    await git(['-c', 'advice.detachedHead=false', 'checkout', '-q', 'FETCH_HEAD'], repo, signal);
    await git(['submodule', 'update', '-q', '--init', '--recursive', '--depth', '1'], repo, signal);
  } catch (e) {
    signal.throwIfAborted();
    throw new InvalidArgumentError(`error fetching git context ${url}: ${messageOf(e).trim()}`);
  }
  let root = repo;
  if (subdir !== '') {
    if (escapesRoot(subdir)) throw new InvalidArgumentError(`subdir ${subdir} is outside the repository`);
    const rel = resolveInScope(subdir, (r) => {
      const st = lstatSync(join(repo, r), { throwIfNoEntry: false });
      return !st ? null : st.isSymbolicLink() ? { symlink: true, target: readlinkSync(join(repo, r)) } : { symlink: false };
    });
    const st = lstatSync(join(repo, rel), { throwIfNoEntry: false });
    if (!st) throw new InvalidArgumentError(`error fetching git context ${url}: subdir ${subdir} not found`);
    if (!st.isDirectory()) throw new InvalidArgumentError(`error fetching git context ${url}: subdir ${subdir} is not a directory`);
    root = join(repo, rel);
  }
  // Sorted names and fixed owners: the same commit always gives the same tar.
  await run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--exclude=./.git', '--exclude=.git', '-C', root, '-cf', tarPath, '.'], { signal });
}
