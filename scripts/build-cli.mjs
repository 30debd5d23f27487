// Bundles the berth CLI with esbuild (decisions B55, B85) into one CommonJS file,
// dist/bundle/cli/berth.cjs: cli/main and every command, each command's module evaluated only
// when it runs (main.ts's loader is replaced by a table of import()s, which esbuild turns into
// lazy in-bundle initialisers). CommonJS because node's ESM loader costs every start more CPU
// than reading and compiling one bigger file; bin/berth compiles it with V8's code cache, so
// most of that file is never parsed again. commander (every command parses its flags with it)
// is bundled too, saving its node_modules resolution; the other npm packages, needed by a few
// commands or native, stay external (require()d on first use). bin/berth uses the bundle only
// when it is newer than tsc's last build (dist/.tsbuildinfo); otherwise dist/src/cli, so a stale
// bundle never runs. Run after `tsc` (scripts/setup.sh does).
import { build } from 'esbuild';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const cliDir = join(root, 'src', 'cli');
const outdir = join(root, 'dist', 'bundle', 'cli');
const outfile = join(outdir, 'berth.cjs');

/** commands/<noun>/<verb>.ts, tests and helpers included (a helper is only loaded by its commands). */
function commandFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...commandFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

// The bundle's entry: main plus the command table's modules by name (`system/version`), the
// names main.ts's own loader turns into `./commands/<name>.js`.
const loaders = commandFiles(join(cliDir, 'commands')).map((f) => {
  const rel = relative(cliDir, f).replace(/\.ts$/, '');
  return `  ${JSON.stringify(rel.slice('commands/'.length))}: () => import(${JSON.stringify(`./${rel}.ts`)}),`;
});
const entry = `import { runMain, setCommandLoader } from './main.ts';
const commands = {
${loaders.join('\n')}
};
setCommandLoader((name) => commands[name]());
export { runMain };
`;

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const external = Object.keys(pkg.dependencies ?? {}).filter((d) => d !== 'commander');

// commander require()s node:child_process when it loads, only to spawn executable subcommands,
// which berth never has: in the bundle it gets a stand-in that loads the module on first use.
// Loading it (with dgram and the child-process internals it pulls in) cost every command ~1 ms.
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'berth-lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'berth-lazy' }, () => ({
      contents: 'let cp;\nmodule.exports = { spawn: (...a) => (cp ??= require("node:child_process")).spawn(...a) };\n',
      loader: 'js',
    }));
  },
};

// Also removes the code cache bin/berth keeps next to an older bundle.
rmSync(outdir, { recursive: true, force: true });
const started = Date.now();
await build({
  stdin: { contents: entry, resolveDir: cliDir, sourcefile: 'bundleEntry.ts', loader: 'ts' },
  outfile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external,
  // The sources are ES modules: import.meta becomes the bundle's own file and folder.
  banner: { js: 'var __berthImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__berthImportMetaUrl', 'import.meta.dirname': '__dirname' },
  // import() of an external (bcryptjs, node:https) becomes require(): the bundle runs as a
  // vm.Script, which has no loader of its own for import().
  supported: { 'dynamic-import': false },
  sourcemap: 'linked',
  // Less to parse at every start (~10 ms of CPU for `berth version`); names are kept, so
  // error messages and stack frames still say which class and function.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  plugins: [lazyChildProcessForCommander],
});
console.log(`build-cli: ${(statSync(outfile).size / 1024).toFixed(0)} KiB in ${relative(root, outfile)} (${Date.now() - started} ms)`);
