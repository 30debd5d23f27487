/**
 * util/tar/types: the shapes the tar codec reads and writes. Pure types, no code.
 * Names are strings (UTF-8); pax values and xattr values are raw bytes because
 * binary xattrs (security.capability) must survive byte for byte.
 */

export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo' | 'other';

/** One entry's metadata, with pax, GNU long names and global headers already applied. */
export interface TarHeader {
  /** Path as stored (pax `path` > GNU `L` > ustar prefix/name), not normalised. */
  name: string;
  /** Symlink target or hardlink target (pax `linkpath` > GNU `K` > ustar linkname). */
  linkname: string;
  type: TarEntryType;
  /** The raw typeflag character ('0', '5', 'x'…; '\0' for old files), useful when type is 'other'. */
  typeflag: string;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Body length in bytes; 0 for header-only types (links, dirs, devices, fifos). */
  size: number;
  /** Modification time in nanoseconds since the epoch (sub-second only when a pax `mtime` gave it). */
  mtimeNs: bigint;
  devmajor: number;
  devminor: number;
  /** From `SCHILY.xattr.*` (raw) and `LIBARCHIVE.xattr.*` (base64-decoded) pax records. */
  xattrs: Map<string, Buffer>;
  /** Every pax record in force for this entry (global then local), values as raw bytes. */
  pax: Map<string, Buffer>;
}

/** What the writer needs; anything left out gets a neutral default (0, '', empty). */
export interface TarHeaderInput {
  name: string;
  type: TarEntryType;
  /** Required for 'other'; ignored otherwise. */
  typeflag?: string;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Must equal the body length for 'file' (and 'other' with a body). */
  size?: number;
  mtimeNs?: bigint;
  devmajor?: number;
  devminor?: number;
  xattrs?: ReadonlyMap<string, Uint8Array>;
  /**
   * Extra pax records to carry. Keys the writer derives itself (path, linkpath, size,
   * uid, gid, uname, gname, mtime, SCHILY.xattr.*, LIBARCHIVE.xattr.*) are ignored here,
   * so a header read from one archive can be passed to the writer as is.
   */
  pax?: ReadonlyMap<string, Uint8Array>;
}

/** The body of one entry: chunks are views into the input (never copied); consume or skip it. */
export interface TarBody extends AsyncIterable<Buffer> {
  /** Bytes of body not yet read. */
  readonly remaining: number;
  /** Discards the rest of the body. The reader also does this by itself when asked for the next entry. */
  skip(): Promise<void>;
  /** Reads the whole body into one Buffer (for small bodies only: no limit is applied here). */
  toBuffer(): Promise<Buffer>;
}

export interface TarEntry {
  header: TarHeader;
  body: TarBody;
}
