/**
 * containers/userLookup: turns Docker's `User` ("name", "uid", "name:group",
 * "uid:gid") into numeric ids using the container's own /etc/passwd and
 * /etc/group, as Docker does, plus the supplementary groups and HOME.
 * Reads only inside the given rootfs.
 */
import { closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, readSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { resolveInScope, type LstatFn } from '../build/scopedPath.js';
import { SystemError } from '../errdefs/errors.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** A passwd or group file is small; a huge one is not a passwd file. */
const MAX_DB_FILE = 4 * 1024 * 1024;

/**
 * The lines of `/<rel>` in the container's root, its symlinks followed inside the root (an
 * image's /etc/passwd may be a symlink; an absolute target must not lead to the host's file).
 * Synchronous: two small files read on the path of every start, where each thread-pool round
 * trip of an async read (open, stat, read, close) costs more than the read (decisions B86).
 */
function readLines(rootfs: string, rel: string): string[] {
  const lstat: LstatFn = (r) => {
    try {
      const st = lstatSync(join(rootfs, r));
      return st.isSymbolicLink() ? { symlink: true, target: readlinkSync(join(rootfs, r)) } : { symlink: false };
    } catch {
      return null;
    }
  };
  let fd: number;
  try {
    fd = openSync(join(rootfs, resolveInScope(rel, lstat)), fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch {
    return [];
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_DB_FILE) return [];
    const buf = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8').split('\n');
  } catch {
    return [];
  } finally {
    closeSync(fd);
  }
}

export function parsePasswd(lines: string[]): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const l of lines) {
    if (!l || l.startsWith('#')) continue;
    const f = l.split(':');
    if (f.length < 4) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0] as string, uid, gid, home: f[5] ?? '/' });
  }
  return out;
}

export function parseGroup(lines: string[]): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const l of lines) {
    if (!l || l.startsWith('#')) continue;
    const f = l.split(':');
    if (f.length < 3) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0] as string, gid, members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

const isNumeric = (s: string): boolean => /^\d+$/.test(s);

/**
 * `groupAdd` is HostConfig.GroupAdd: group names (looked up in the container's /etc/group) or
 * numeric GIDs, added to the supplementary groups as moby does for the container and its execs.
 */
export async function resolveUser(rootfs: string, user: string, groupAdd: readonly string[] = []): Promise<ResolvedUser> {
  const [userPart = '', groupPart] = user === '' ? ['0'] : user.split(':', 2);
  const passwd = parsePasswd(readLines(rootfs, 'etc/passwd'));
  const groups = parseGroup(readLines(rootfs, 'etc/group'));
  let entry: PasswdEntry | undefined;
  let uid: number;
  let gid: number;
  if (isNumeric(userPart)) {
    uid = Number(userPart);
    entry = passwd.find((p) => p.uid === uid);
    gid = entry?.gid ?? 0;
  } else {
    entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw new SystemError(`unable to find user ${userPart}: no matching entries in passwd file`);
    uid = entry.uid;
    gid = entry.gid;
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (isNumeric(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new SystemError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const additionalGids =
    entry !== undefined && (groupPart === undefined || groupPart === '')
      ? groups.filter((g) => g.members.includes((entry as PasswdEntry).name) && g.gid !== gid).map((g) => g.gid)
      : [];
  for (const ga of groupAdd) {
    let g: number;
    if (isNumeric(ga)) g = Number(ga);
    else {
      const found = groups.find((x) => x.name === ga);
      if (!found) throw new SystemError(`Unable to find group ${ga}: no matching entries in group file`);
      g = found.gid;
    }
    if (!additionalGids.includes(g)) additionalGids.push(g);
  }
  return { uid, gid, additionalGids, home: entry?.home || '/' };
}

/** HostConfig.GroupAdd as stored (anything but an array of strings counts as none). */
export function groupAddOf(h: object): string[] {
  const g = (h as { GroupAdd?: unknown }).GroupAdd;
  return Array.isArray(g) ? g.filter((x): x is string => typeof x === 'string') : [];
}
