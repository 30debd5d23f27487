/**
 * util/tar: our own tar codec (see DESIGN D8). This file only re-exports the public API;
 * header.ts holds the block/pax codec, reader.ts and writer.ts the streaming sides.
 */
export { readTar, TarReader, type ReadTarOptions } from './reader.js';
export { TarWriter, type TarWriterOptions, type TarBodyInput } from './writer.js';
export {
  decompressStream,
  detectCompression,
  type Compression,
  type Decompressed,
  type DecompressOptions,
} from './decompress.js';
export type { TarBody, TarEntry, TarEntryType, TarHeader, TarHeaderInput } from './types.js';
