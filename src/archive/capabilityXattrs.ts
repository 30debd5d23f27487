/**
 * archive/capabilityXattrs: the one extended attribute Docker puts into the tars it makes of
 * files (`docker cp` both ways, `export`): `security.capability` (moby/go-archive
 * ReadSecurityXattrToTarHeader), so file capabilities such as ping's cap_net_raw survive a copy.
 * Other xattrs are not archived (Docker does not either); on extraction every SCHILY.xattr record
 * is applied (archive/applyLayer). Node has no getxattr: one `getfattr` run reads a whole tree.
 * Reads only; never writes a file.
 */
import { run } from '../util/process.js';

const CAPABILITY = 'security.capability';
/** linux/capability.h: VFS_CAP_REVISION_2 data is 20 bytes; byte 3 holds the revision. */
const XATTR_CAPS_SZ_2 = 20;
const VERSION_OFFSET = 3;
const VFS_CAP_REVISION_2 = 2;
const VFS_CAP_REVISION_3 = 3;

/**
 * moby's conversion for an archive: a revision-3 value (which names the root uid of a user
 * namespace) becomes revision 2, as that uid means nothing outside the namespace it was made in.
 */
export function capabilityForArchive(value: Buffer): Buffer {
  if (value.length > VERSION_OFFSET && value[VERSION_OFFSET] === VFS_CAP_REVISION_3) {
    const out = Buffer.from(value.subarray(0, XATTR_CAPS_SZ_2));
    out[VERSION_OFFSET] = VFS_CAP_REVISION_2;
    return out;
  }
  return value;
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

/** Parses `getfattr -d -e hex` output into path → value of `security.capability`. */
export function parseCapabilityDump(out: string): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  let file: string | null = null;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) {
      file = unquoteDumpName(line.slice('# file: '.length));
      continue;
    }
    const prefix = `${CAPABILITY}=0x`;
    if (file !== null && line.startsWith(prefix)) found.set(file, capabilityForArchive(Buffer.from(line.slice(prefix.length), 'hex')));
  }
  return found;
}

/**
 * `security.capability` of `path` and of everything under it that has one (symlinks not
 * followed), keyed by absolute host path, in archive form. Files without it are left out.
 */
export async function readCapabilities(path: string, signal?: AbortSignal): Promise<Map<string, Buffer>> {
  const r = await run('getfattr', ['-R', '-P', '--absolute-names', '-d', '-m', '^security\\.capability$', '-e', 'hex', '--', path], {
    // 1: some entry could not be read (gone meanwhile, or a filesystem without xattrs): what was read stands.
    okCodes: [0, 1],
    ...(signal !== undefined ? { signal } : {}),
  });
  return parseCapabilityDump(r.stdout);
}
