// Bundles berthd with esbuild into dist/bundle/daemon/ (decisions B80): berthd.js (daemon/main
// and all it imports, npm packages included) and unpackWorker.js (images/unpackPool starts it as
// `./unpackWorker.js` next to its own code), each whole. No code splitting: chunks get hashed
// names, and a daemon still running from an older build would import() or start a worker from
// chunk names a rebuild has removed. One module instead of ~270 files: less source text, module
// records and scope data on the heap of a daemon that stays up. better-sqlite3 (native) stays
// external, as do undici and bcryptjs (import()ed on first use).
// Whitespace and syntax are minified (−1.7 MB resident, measured) but names are kept, so a stack
// frame still says which class and function; `node --enable-source-maps` maps its position back
// to src/. bin/berthd uses the bundle only when it is at least as new as tsc's last build
// (dist/.tsbuildinfo); otherwise dist/src, so a stale bundle never runs. Run after `tsc`.
import { build } from 'esbuild';
import { rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const outdir = join(root, 'dist', 'bundle', 'daemon');

rmSync(outdir, { recursive: true, force: true });
const started = Date.now();
const result = await build({
  entryPoints: {
    berthd: join(root, 'src', 'daemon', 'main.ts'),
    unpackWorker: join(root, 'src', 'images', 'unpackWorker.ts'),
  },
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'undici', 'bcryptjs'],
  // pino, commander and find-my-way are CommonJS and require() node's modules; ESM output has no require of its own.
  banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  minifyWhitespace: true,
  keepNames: true,
  minifySyntax: true,
  metafile: true,
  logLevel: 'warning',
});
const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
const bytes = files.reduce((n, f) => n + statSync(join(root, f)).size, 0);
console.log(`build-daemon: ${files.length} files, ${(bytes / 1024).toFixed(0)} KiB in ${relative(root, outdir)} (${Date.now() - started} ms)`);
