// Bundles weir for the Debian package and the container image: one ESM program
// (bin/weir.js and everything it imports, from the TypeScript sources), split
// into lazily loaded chunks so `weir start` still loads only what it uses, plus
// pino's worker-thread entry points as CommonJS files. Native addons and the few
// packages resolved by path at run time stay external (runtime-modules.mjs).
//
// Usage: node deploy/package/bundle.mjs OUT_DIR MANIFEST_JSON
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXTERNAL_PACKAGES } from './runtime-modules.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const [outArg, manifestArg] = process.argv.slice(2);
if (!outArg || !manifestArg) throw new Error('usage: node deploy/package/bundle.mjs OUT_DIR MANIFEST_JSON');
const out = resolve(outArg);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// bin/weir.js imports the compiled dist/; the bundle takes the TypeScript source
// instead, so packaging never depends on a stale dist/.
const distToSource = {
  name: 'dist-to-source',
  setup(b) {
    b.onResolve({ filter: /\/dist\// }, (args) => {
      const target = resolve(args.resolveDir, args.path);
      const rel = relative(join(root, 'dist'), target);
      if (rel.startsWith('..')) return undefined;
      return { path: join(root, rel.replace(/\.js$/, '.ts')) };
    });
  },
};

// A CJS dependency inside an ESM bundle still calls require() and reads
// __dirname; these give it the real ones of the file it ended up in. pino finds
// its worker files through __bundlerPathsOverrides instead of its own folder.
const banner = `import { createRequire as __weirCreateRequire } from 'node:module';
import { fileURLToPath as __weirFileURLToPath } from 'node:url';
import { dirname as __weirDirname, join as __weirJoin } from 'node:path';
const require = __weirCreateRequire(import.meta.url);
const __filename = __weirFileURLToPath(import.meta.url);
const __dirname = __weirDirname(__filename);
globalThis.__bundlerPathsOverrides ??= {
  'thread-stream-worker': __weirJoin(__dirname, 'workers', 'thread-stream-worker.cjs'),
  'pino-worker': __weirJoin(__dirname, 'workers', 'pino-worker.cjs'),
  'pino/file': __weirJoin(__dirname, 'workers', 'pino-file.cjs'),
  'pino-pretty': __weirJoin(__dirname, 'workers', 'pino-pretty.cjs'),
};`;

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
  metafile: true,
  // the kafka client reads native.wasm beside its own file; the package also ships the same bytes inlined
  alias: { '@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled' },
  external: EXTERNAL_PACKAGES,
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const app = await build({
  ...common,
  entryPoints: { weir: join(root, 'bin/weir.js') },
  outdir: out,
  format: 'esm',
  splitting: true,
  chunkNames: 'chunk-[hash]',
  banner: { js: banner },
  plugins: [distToSource],
  tsconfig: join(root, 'tsconfig.json'),
});

const worker = (name, entry) => ({ [name]: join(root, 'node_modules', entry) });
const workers = await build({
  ...common,
  entryPoints: {
    ...worker('thread-stream-worker', 'thread-stream/lib/worker.js'),
    ...worker('pino-worker', 'pino/lib/worker.js'),
    ...worker('pino-file', 'pino/file.js'),
    ...worker('pino-pretty', 'pino-pretty/index.js'),
  },
  outdir: join(out, 'workers'),
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
});

// The bundle is run by /usr/bin/weir, never executed itself: bin/weir.js's #! line goes.
const entry = join(out, 'weir.js');
writeFileSync(entry, readFileSync(entry, 'utf8').replace(/^#![^\n]*\n/, ''));
chmodSync(entry, 0o644);

// version.ts looks for a package.json named weir above the code; "type" makes the chunks ESM.
writeFileSync(
  join(out, 'package.json'),
  `${JSON.stringify({ name: 'weir', version: pkg.version, description: pkg.description, license: pkg.license, type: 'module', private: true }, null, 2)}\n`,
);

// The manifest tells the packager which externals the bundle really imports (it
// ships nothing more) and which npm packages went into it (for the copyright file).
const packageOf = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
const externals = new Set();
for (const output of Object.values(app.metafile.outputs)) {
  for (const imp of output.imports) {
    if (imp.external && !imp.path.startsWith('node:') && !builtinModules.includes(imp.path)) externals.add(packageOf(imp.path));
  }
}
const bundled = new Map();
for (const input of [...Object.keys(app.metafile.inputs), ...Object.keys(workers.metafile.inputs)]) {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) continue;
  const dir = input.slice(0, at) + 'node_modules/' + packageOf(input.slice(at + 'node_modules/'.length));
  if (bundled.has(dir)) continue;
  const meta = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  bundled.set(dir, { name: meta.name, version: meta.version, license: meta.license ?? 'see package' });
}
writeFileSync(
  resolve(manifestArg),
  `${JSON.stringify({ externals: [...externals].sort(), bundled: [...bundled.values()].sort((a, b) => a.name.localeCompare(b.name)) }, null, 2)}\n`,
);
