/**
 * util/isal: the optional native/isal addon, gzip decompression (decisions B91) and level-1
 * compression (B97) with Intel's ISA-L, built by scripts/setup.sh when Debian's libisal-dev is
 * installed. `isal()` is null when it is not built (or cannot load: another Node ABI, no
 * libisal2); callers then use zlib.
 */
import { loadNativeAddon } from './nativeAddon.js';

/** Opaque: one gzip stream's decoder state. */
export type IsalInflater = { readonly __isalInflater: unique symbol };
/** Opaque: one gzip stream's encoder state (level 1). */
export type IsalDeflater = { readonly __isalDeflater: unique symbol };

export interface Isal {
  createInflater(): IsalInflater;
  /**
   * Decodes from `input` into `output`; `result` gets [input consumed, output produced, 1 when
   * the gzip member ended]. Returns 0, or ISA-L's negative code for invalid data.
   */
  inflate(handle: IsalInflater, input: Uint8Array, output: Uint8Array, result: Int32Array): number;
  /** Ready for the next gzip member. */
  reset(handle: IsalInflater): void;
  createDeflater(): IsalDeflater;
  /**
   * Encodes from `input` into `output` on libuv's pool and calls back with 0 or ISA-L's negative
   * code; `result` then holds [input consumed, output produced, 1 once the stream has ended
   * (only after a call with `last`)]. One call in flight per handle; the buffers stay untouched until it calls back.
   */
  deflate(handle: IsalDeflater, input: Uint8Array, output: Uint8Array, result: Int32Array, last: boolean, callback: (code: number) => void): void;
}

/** ISA-L's error codes (isa-l/igzip_lib.h), named as its header names them. */
export const ISAL_ERRORS: Readonly<Record<number, string>> = {
  [-1]: 'invalid deflate block (ISAL_INVALID_BLOCK)',
  [-2]: 'invalid deflate symbol (ISAL_INVALID_SYMBOL)',
  [-3]: 'invalid lookback distance (ISAL_INVALID_LOOKBACK)',
  [-4]: 'incorrect header check (ISAL_INVALID_WRAPPER)',
  [-5]: 'unsupported compression method (ISAL_UNSUPPORTED_METHOD)',
  [-6]: 'incorrect data check (ISAL_INCORRECT_CHECKSUM)',
};

let addon: Isal | null | undefined;

/** The addon, or null. Loaded once per thread. BERTH_NO_ISAL=1 pretends it is missing (tests of the zlib path). */
export function isal(): Isal | null {
  if (addon !== undefined) return addon;
  addon = process.env['BERTH_NO_ISAL'] === '1' ? null : loadNativeAddon<Isal>('isal');
  return addon;
}
