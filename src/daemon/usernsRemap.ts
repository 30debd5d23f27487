/**
 * daemon/usernsRemap: turns `--userns-remap default|USER[:GROUP]` into the ID
 * maps every container gets (container root = an unprivileged host uid), as
 * dockerd does: `default` creates/uses the system user `berth-remap` and gives
 * it subordinate ranges in /etc/subuid and /etc/subgid when it has none; a
 * named user must already have ranges, or berthd refuses to start saying so.
 * Owns those system changes (useradd, usermod); never touches containers.
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from '../errdefs/errors.js';
import { nextFreeStart, parseSubordinateFile, rangesOf, toMappings, type IdMap, type SubordinateRange } from '../util/idmap.js';
import { run } from '../util/process.js';

export const DEFAULT_REMAP_USER = 'berth-remap';
/** Size of the range `default` allocates (Docker's too). */
const DEFAULT_RANGE = 65_536;

export interface UsernsRemap {
  user: string;
  group: string;
  map: IdMap;
  /** Host uid/gid of the container's root. */
  rootUid: number;
  rootGid: number;
}

export interface RemapFiles {
  subuid: string;
  subgid: string;
}

const SYSTEM_FILES: RemapFiles = { subuid: '/etc/subuid', subgid: '/etc/subgid' };

async function getent(db: 'passwd' | 'group', key: string): Promise<string[] | null> {
  const r = await run('getent', [db, key], { okCodes: [0, 2] });
  return r.code === 0 ? (r.stdout.trim().split('\n')[0] ?? '').split(':') : null;
}

async function readRanges(path: string): Promise<SubordinateRange[]> {
  return parseSubordinateFile(await readFile(path, 'utf8').catch(() => ''));
}

/** Creates `berth-remap` and its ranges when missing (Docker's `dockremap`). */
async function ensureDefaultUser(files: RemapFiles): Promise<void> {
  if ((await getent('passwd', DEFAULT_REMAP_USER)) === null) {
    await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', DEFAULT_REMAP_USER]);
  }
  const uid = Number((await getent('passwd', DEFAULT_REMAP_USER))?.[2]);
  const gid = Number((await getent('group', DEFAULT_REMAP_USER))?.[2]);
  const subuid = await readRanges(files.subuid);
  const subgid = await readRanges(files.subgid);
  const args: string[] = [];
  if (rangesOf(subuid, DEFAULT_REMAP_USER, uid).length === 0) {
    const start = nextFreeStart(subuid);
    args.push('--add-subuids', `${start}-${start + DEFAULT_RANGE - 1}`);
  }
  if (rangesOf(subgid, DEFAULT_REMAP_USER, gid).length === 0) {
    const start = nextFreeStart(subgid);
    args.push('--add-subgids', `${start}-${start + DEFAULT_RANGE - 1}`);
  }
  if (args.length > 0) await run('usermod', [...args, DEFAULT_REMAP_USER]);
}

/**
 * Resolves the flag; throws InvalidArgumentError (berthd then refuses to
 * start) for an unknown user/group or one without subordinate ranges.
 */
export async function resolveUsernsRemap(flag: string, files: RemapFiles = SYSTEM_FILES): Promise<UsernsRemap> {
  const value = flag.trim();
  if (value === '') throw new InvalidArgumentError('--userns-remap: empty value (use "default" or USER[:GROUP])');
  let [user, group] = value === 'default' ? [DEFAULT_REMAP_USER, DEFAULT_REMAP_USER] : value.split(':', 2);
  if (value === 'default') await ensureDefaultUser(files);
  const pw = await getent('passwd', user ?? '');
  if (!user || pw === null) throw new InvalidArgumentError(`--userns-remap: no such user "${user ?? ''}"`);
  user = pw[0] ?? user;
  const uid = Number(pw[2]);
  // Docker: the group defaults to the user's name.
  group = group || user;
  const gr = await getent('group', group);
  if (gr === null) throw new InvalidArgumentError(`--userns-remap: no such group "${group}"`);
  group = gr[0] ?? group;
  const gid = Number(gr[2]);
  const uidRanges = rangesOf(await readRanges(files.subuid), user, uid);
  if (uidRanges.length === 0) {
    throw new InvalidArgumentError(
      `--userns-remap: user "${user}" has no subordinate uid range in ${files.subuid}; add one (e.g. usermod --add-subuids 200000-265535 ${user}) or use --userns-remap default`,
    );
  }
  const gidRanges = rangesOf(await readRanges(files.subgid), group, gid);
  if (gidRanges.length === 0) {
    throw new InvalidArgumentError(
      `--userns-remap: group "${group}" has no subordinate gid range in ${files.subgid}; add one (e.g. usermod --add-subgids 200000-265535 ${user}) or use --userns-remap default`,
    );
  }
  const map: IdMap = { uids: toMappings(uidRanges), gids: toMappings(gidRanges) };
  return { user, group, map, rootUid: uidRanges[0]?.start ?? 0, rootGid: gidRanges[0]?.start ?? 0 };
}
