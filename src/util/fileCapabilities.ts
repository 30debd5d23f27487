/**
 * util/fileCapabilities: the `security.capability` extended attribute as bytes — read for a
 * whole tree with one `getfattr` run, written for many files with one `setfattr --restore` run
 * (Node has no getxattr/setxattr), and the revision-3 form a user namespace's copy of a file
 * needs. getfattr's dump-format quoting of names lives here too (archive/applyLayer writes
 * other xattrs in the same format). Reads and writes only `security.capability`; never decides
 * which files get one.
 */
import { SystemError } from '../errdefs/errors.js';
import { run } from './process.js';

export const CAPABILITY_XATTR = 'security.capability';
/** linux/capability.h: revision-2 data is 20 bytes (revision 1: 12); byte 3 holds the revision. */
export const XATTR_CAPS_SZ_2 = 20;
const XATTR_CAPS_SZ_1 = 12;
/** Revision 3 appends the le32 root uid of the user namespace the capability is for. */
const XATTR_CAPS_SZ_3 = 24;
export const VERSION_OFFSET = 3;
const VFS_CAP_REVISION_1 = 1;
export const VFS_CAP_REVISION_2 = 2;
export const VFS_CAP_REVISION_3 = 3;

/**
 * The value for a copy of a file whose owners were shifted into a user namespace's map
 * (`toHostRoot` maps a container uid to the host): man 7 capabilities, "File capability extended
 * attribute versioning" — the kernel honours a revision-3 capability only in a namespace whose
 * root is its root uid (or a descendant), and reads revisions 1 and 2 as root uid 0 of the
 * initial namespace, which holds everywhere. So the copy gets revision 3 naming the host uid of
 * the old root uid as seen through the map: a capability that applied to the image's root
 * applies to the container's, and to no process of the host. Null when that root uid is outside
 * the map, or the value is malformed.
 */
export function capabilityForNamespace(value: Buffer, toHostRoot: (uid: number) => number | null): Buffer | null {
  const revision = value.length > VERSION_OFFSET ? value[VERSION_OFFSET] : undefined;
  let rootid = 0;
  if (revision === VFS_CAP_REVISION_3) {
    if (value.length < XATTR_CAPS_SZ_3) return null;
    rootid = value.readUInt32LE(XATTR_CAPS_SZ_2);
  } else if (revision === VFS_CAP_REVISION_2) {
    if (value.length < XATTR_CAPS_SZ_2) return null;
  } else if (revision !== VFS_CAP_REVISION_1 || value.length < XATTR_CAPS_SZ_1) {
    return null;
  }
  const host = toHostRoot(rootid);
  if (host === null) return null;
  const out = Buffer.alloc(XATTR_CAPS_SZ_3);
  // magic_etc (flags + revision) and data[0]; a revision-1 value has no data[1] (capabilities 32-63).
  value.copy(out, 0, 0, revision === VFS_CAP_REVISION_1 ? XATTR_CAPS_SZ_1 : XATTR_CAPS_SZ_2);
  out[VERSION_OFFSET] = VFS_CAP_REVISION_3;
  out.writeUInt32LE(host, XATTR_CAPS_SZ_2);
  return out;
}

/** Escapes a path or name for getfattr's dump format, which setfattr --restore reads back (\ooo octal). */
export function quoteDumpName(s: string): string {
  let out = '';
  for (const c of Buffer.from(s, 'utf8')) {
    const safe = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2e || c === 0x2f || c === 0x5f || c === 0x2d || c === 0x2b;
    out += safe ? String.fromCharCode(c) : `\\${c.toString(8).padStart(3, '0')}`;
  }
  return out;
}

/** Undoes getfattr's quoting of names in its dump format: `\ooo` octal escapes and `\\`. */
export function unquoteDumpName(s: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i] as number;
    if (b === 0x5c && i + 3 < raw.length && /^[0-7]{3}$/.test(raw.subarray(i + 1, i + 4).toString('latin1'))) {
      bytes.push(parseInt(raw.subarray(i + 1, i + 4).toString('latin1'), 8));
      i += 3;
    } else if (b === 0x5c && raw[i + 1] === 0x5c) {
      bytes.push(0x5c);
      i += 1;
    } else {
      bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Parses `getfattr -d -e hex` output into path → raw value of `security.capability`. */
export function parseCapabilityDump(out: string): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  let file: string | null = null;
  const prefix = `${CAPABILITY_XATTR}=0x`;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) {
      file = unquoteDumpName(line.slice('# file: '.length));
      continue;
    }
    if (file !== null && line.startsWith(prefix)) found.set(file, Buffer.from(line.slice(prefix.length), 'hex'));
  }
  return found;
}

/**
 * `security.capability` of `path` and of everything under it that has one (symlinks not
 * followed), keyed by absolute host path, as stored. Files without it are left out.
 */
export async function readFileCapabilities(path: string, signal?: AbortSignal): Promise<Map<string, Buffer>> {
  const r = await run('getfattr', ['-R', '-P', '--absolute-names', '-d', '-m', '^security\\.capability$', '-e', 'hex', '--', path], {
    // 1: some entry could not be read (gone meanwhile, or a filesystem without xattrs): what was read stands.
    okCodes: [0, 1],
    ...(signal !== undefined ? { signal } : {}),
  });
  return parseCapabilityDump(r.stdout);
}

/** Sets `security.capability` on each path (absolute; a symlink itself, never its target) in one `setfattr --restore` run. */
export async function writeFileCapabilities(values: ReadonlyMap<string, Buffer>): Promise<void> {
  if (values.size === 0) return;
  const lines: string[] = [];
  for (const [path, v] of values) lines.push(`# file: ${quoteDumpName(path)}`, `${CAPABILITY_XATTR}=0x${v.toString('hex')}`, '');
  const r = await run('setfattr', ['-h', '--restore=-'], { input: `${lines.join('\n')}\n`, okCodes: [0, 1] });
  if (r.code !== 0) throw new SystemError(`cannot set file capabilities: ${r.stderr.trim().split('\n').slice(0, 5).join('; ') || 'setfattr failed'}`);
}
