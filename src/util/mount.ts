/**
 * util/mount: makes and removes the mounts the snapshotter describes, through
 * mount(8)/umount(8) (Node has no mount(2)). A mount with `cwd` is made from
 * that directory because its options hold relative paths.
 */
import { readFile } from 'node:fs/promises';
import { run } from './process.js';
import type { Mount } from '../snapshots/overlaySnapshotter.js';

export async function mountAll(mounts: readonly Mount[], target: string): Promise<void> {
  for (const m of mounts) {
    const args = m.type === 'bind' ? ['--bind', m.source, target] : ['-t', m.type, m.source, target];
    const opts = m.type === 'bind' ? m.options.filter((o) => o !== 'rbind' && o !== 'rw' && o !== 'ro') : m.options;
    if (opts.length > 0) args.push('-o', opts.join(','));
    await run('mount', args, m.cwd !== undefined ? { cwd: m.cwd } : {});
    if (m.type === 'bind' && m.options.includes('ro')) await run('mount', ['-o', 'remount,bind,ro', target]);
  }
}

/** Unmounts `target`; a target that is not mounted is not an error. */
export async function unmount(target: string): Promise<void> {
  if (!(await isMounted(target))) return;
  try {
    await run('umount', [target]);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/not mounted|no mount point|not found|No such file/i.test(msg)) return;
    // Busy (a process still holds it): detach it so the container can go away.
    await run('umount', ['-l', target]);
  }
}


/** Whether `target` is a mount point, from /proc/self/mountinfo (no process spawned). */
export async function isMounted(target: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  // Field 5 is the mount point, with spaces and backslashes octal-escaped.
  const escaped = target.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011').replace(/\n/g, '\\012');
  for (const line of info.split('\n')) {
    if (line.split(' ')[4] === escaped) return true;
  }
  return false;
}
