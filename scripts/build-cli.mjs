// Bundles the berth CLI with esbuild (decisions B55) into dist/bundle/cli/: berth.js (cli/main and
// what every command needs), one file per command under commands/<noun>/<verb>.js — the paths
// main.ts import()s at run time, so a command is still loaded only when it runs — and the code
// shared between commands as chunk-*.js. commander (every command parses its flags with it) is
// bundled too, saving its node_modules resolution; the other npm packages, needed by a few
// commands or native, stay external. bin/berth
// uses the bundle only when it is newer than tsc's last build (dist/.tsbuildinfo); otherwise
// dist/src/cli, so a stale bundle never runs. Run after `tsc` (scripts/setup.sh does).
import { build } from 'esbuild';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const outdir = join(root, 'dist', 'bundle', 'cli');
const commandsDir = join(root, 'src', 'cli', 'commands');

/** commands/<noun>/<verb>.ts, tests and helpers included (a helper shared by commands is split out). */
function commandFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...commandFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const entryPoints = { berth: join(root, 'src', 'cli', 'main.ts') };
for (const f of commandFiles(commandsDir)) {
  entryPoints[relative(join(root, 'src', 'cli'), f).replace(/\.ts$/, '')] = f;
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const external = Object.keys(pkg.dependencies ?? {}).filter((d) => d !== 'commander');

rmSync(outdir, { recursive: true, force: true });
const started = Date.now();
const result = await build({
  entryPoints,
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  // commander is CommonJS and require()s node's modules; ESM output has no require of its own.
  banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  // Less to parse at every start (~10 ms of CPU for `berth version`); names are kept, so
  // error messages and stack frames still say which class and function.
  minifyWhitespace: true,
  minifySyntax: true,
  // main.ts's import(`./commands/${module}.js`) is resolved at run time against the files
  // written above; esbuild cannot match it to the .ts sources and would warn.
  logOverride: { 'empty-glob': 'silent' },
  metafile: true,
  logLevel: 'warning',
});
const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
const bytes = files.reduce((n, f) => n + statSync(join(root, f)).size, 0);
console.log(`build-cli: ${files.length} files, ${(bytes / 1024).toFixed(0)} KiB in ${relative(root, outdir)} (${Date.now() - started} ms)`);
