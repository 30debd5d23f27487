/**
 * archive/capabilityXattrs: the one extended attribute Docker puts into the tars it makes of
 * files (`docker cp` both ways, `export`): `security.capability` (moby/go-archive
 * ReadSecurityXattrToTarHeader), so file capabilities such as ping's cap_net_raw survive a copy.
 * Other xattrs are not archived (Docker does not either); on extraction every SCHILY.xattr record
 * is applied (archive/applyLayer). The bytes come from util/fileCapabilities (one `getfattr` run
 * per tree). Reads only; never writes a file.
 */
import {
  parseCapabilityDump as parseRawDump,
  readFileCapabilities,
  VERSION_OFFSET,
  VFS_CAP_REVISION_2,
  VFS_CAP_REVISION_3,
  XATTR_CAPS_SZ_2,
} from '../util/fileCapabilities.js';

export { unquoteDumpName } from '../util/fileCapabilities.js';

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

function forArchive(raw: Map<string, Buffer>): Map<string, Buffer> {
  for (const [k, v] of raw) raw.set(k, capabilityForArchive(v));
  return raw;
}

/** Parses `getfattr -d -e hex` output into path → value of `security.capability`, in archive form. */
export function parseCapabilityDump(out: string): Map<string, Buffer> {
  return forArchive(parseRawDump(out));
}

/**
 * `security.capability` of `path` and of everything under it that has one (symlinks not
 * followed), keyed by absolute host path, in archive form. Files without it are left out.
 */
export async function readCapabilities(path: string, signal?: AbortSignal): Promise<Map<string, Buffer>> {
  return forArchive(await readFileCapabilities(path, signal));
}
