/**
 * util/nativeAddon: finds and loads one of berth's N-API addons, `native/<name>/build/Release/
 * <name>.node` (built by scripts/setup.sh). Owns only the lookup: each addon's module decides
 * what a missing addon means. The repo root is two levels above src/util (tsx) or three above
 * dist/src/util and dist/bundle/daemon (compiled, bundled).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** The addon's exports, or null when it is not built or cannot load (another Node ABI, a missing library). */
export function loadNativeAddon<T>(name: string): T | null {
  const rel = join('native', name, 'build', 'Release', `${name}.node`);
  const here = import.meta.dirname;
  const require = createRequire(import.meta.url);
  for (const p of [join(here, '..', '..', rel), join(here, '..', '..', '..', rel)]) {
    if (!existsSync(p)) continue;
    try {
      return require(p) as T;
    } catch {
      // a stale build for another Node ABI, or a library it links is gone: try the next
    }
  }
  return null;
}
