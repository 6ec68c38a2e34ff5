// The npm packages that stay outside the bundle, and the pruned node_modules
// that carries them for one target architecture: their runtime JavaScript,
// their licences, and the prebuilt addons for that architecture only (never a
// local build/, which holds this machine's binary).
//
// Usage: node deploy/package/runtime-modules.mjs ARCH DEST_DIR MANIFEST_JSON
//   ARCH is a Debian architecture: amd64, arm64 or armhf.
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Shipped in node_modules, each for a reason the bundle cannot work around. */
export const SHIPPED = {
  // N-API addon with prebuilds for linux x64/arm64/arm (armv6 + armv7) in its npm package
  'classic-level': 'native addon (LevelDB), N-API prebuilds',
  // N-API addon with prebuilds for linux x64/arm64/arm (armv6 + armv7) in its npm package
  '@serialport/bindings-cpp': 'native addon (serial ports), N-API prebuilds',
  // gateway/broker/persistence-keys.ts resolves this package's folder at run time
  // (createRequire) to load msgpack-lite from it; a bundle has no such folder
  'aedes-persistence-level': 'resolved by path at run time (persistence-keys.ts)',
};

/**
 * Left out on purpose. epoll (under onoff) is a NAN addon with no prebuilds: it
 * would have to be compiled per architecture *and* per Node major, so the
 * package has no sysfs GPIO backend; `gpio.backend: auto` falls back to the
 * libgpiod tools (Debian `gpiod`), which need no addon.
 */
export const OMITTED = {
  onoff: 'needs epoll, a NAN addon without prebuilds; GPIO uses the libgpiod backend',
  epoll: 'NAN addon without prebuilds (compiled per arch and per Node ABI)',
};

/** Required inside try/catch by bundled code, which works without them. */
export const OPTIONAL = {
  bufferutil: 'ws speed-up addon; ws falls back to JavaScript',
  'utf-8-validate': 'ws speed-up addon; ws falls back to JavaScript',
  'supports-color': 'debug colour detection; plain output without it',
};

export const EXTERNAL_PACKAGES = [...Object.keys(SHIPPED), ...Object.keys(OMITTED)];

/** Dependencies that hold only C/C++ headers for the addon's build, or only type declarations. */
const BUILD_ONLY = new Set(['nan', 'node-addon-api', 'napi-macros', 'node-gyp', 'prebuild-install', 'undici-types']);
const buildOnly = (name) => BUILD_ONLY.has(name) || name.startsWith('@types/');

const PREBUILD_DIRS = { amd64: 'linux-x64', arm64: 'linux-arm64', armhf: 'linux-arm' };

const SKIP_DIRS = new Set(['node_modules', 'test', 'tests', '__tests__', 'example', 'examples', 'docs', 'doc', 'benchmark', 'benchmarks', 'bench', '.github', 'coverage', '.nyc_output']);
const SKIP_FILE = /(\.(md|markdown|d\.ts|d\.cts|d\.mts|map|ts|cc|cpp|c|h|hpp|gyp|gypi|o|a|py|sh|yml|yaml)$)|^(\.npmignore|\.eslintrc.*|\.travis\.yml|tsconfig.*\.json|eslint\.config\.js|Makefile|CHANGELOG.*|UPGRADING.*|README.*|HISTORY.*|History.*)$/i;
const KEEP_FILE = /^(LICEN[CS]E|COPYING|NOTICE)/i;

/** node_modules/a/node_modules/b style paths of `name` as Node would resolve it from `fromDir`. */
function resolvePackageDir(root, fromDir, name) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dir === dirname(dir)) return undefined;
  }
}

/** Every package directory the shipped packages in `names` need at run time. */
export function runtimeClosure(root, names) {
  const found = new Map();
  const visit = (dir, via) => {
    if (found.has(dir)) return;
    const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    found.set(dir, { name: meta.name, version: meta.version, license: meta.license ?? 'see package', native: existsSync(join(dir, 'binding.gyp')) });
    const deps = [...Object.keys(meta.dependencies ?? {}), ...Object.keys(meta.optionalDependencies ?? {})];
    for (const dep of deps) {
      if (buildOnly(dep)) continue;
      const depDir = resolvePackageDir(root, dir, dep);
      if (!depDir) {
        if (meta.optionalDependencies?.[dep]) continue;
        throw new Error(`${meta.name} needs ${dep} (via ${via}), which is not installed: run npm ci`);
      }
      visit(depDir, `${via} > ${dep}`);
    }
  };
  for (const name of names) {
    const dir = resolvePackageDir(root, root, name);
    if (!dir) throw new Error(`${name} is not installed: run npm ci`);
    visit(dir, name);
  }
  return found;
}

/** A command-line script (a #! line) that is not the package's entry point: never loaded by weir. */
function isCommand(file, main) {
  if (file === main) return false;
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head.toString() === '#!';
  } finally {
    closeSync(fd);
  }
}

function copyPackage(srcDir, destDir, arch, native) {
  const prebuilds = PREBUILD_DIRS[arch];
  const meta = JSON.parse(readFileSync(join(srcDir, 'package.json'), 'utf8'));
  const main = resolve(srcDir, meta.main ?? 'index.js');
  const walk = (rel) => {
    for (const entry of readdirSync(join(srcDir, rel), { withFileTypes: true })) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (SKIP_DIRS.has(entry.name)) continue;
        // the addon's own sources and a build made on this machine for this machine
        if (native && !rel && ['build', 'deps', 'src'].includes(entry.name)) continue;
        if (rel === 'prebuilds' && entry.name !== prebuilds) continue;
        walk(relPath);
      } else if (entry.isFile()) {
        const isAddon = entry.name.endsWith('.node');
        if (isAddon && (!relPath.startsWith(`prebuilds/${prebuilds}/`) || entry.name.includes('.musl.'))) continue;
        if (!KEEP_FILE.test(entry.name) && SKIP_FILE.test(entry.name)) continue;
        if (!isAddon && isCommand(join(srcDir, relPath), main)) continue;
        mkdirSync(join(destDir, rel), { recursive: true });
        cpSync(join(srcDir, relPath), join(destDir, relPath));
      }
    }
  };
  walk('');
}

function removeEmptyDirs(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeEmptyDirs(join(dir, entry.name));
  if (readdirSync(dir).length === 0) rmdirSync(dir);
}

/**
 * Copies what the bundle's `externals` need for `arch` under destDir (which
 * becomes /usr/lib/weir): a package the bundle does not import is not shipped.
 */
export function stageRuntimeModules(root, arch, destDir, externals) {
  if (!PREBUILD_DIRS[arch]) throw new Error(`unknown architecture ${arch} (amd64, arm64 or armhf)`);
  const closure = runtimeClosure(root, externals.filter((e) => e in SHIPPED));
  for (const [dir, info] of closure) {
    const target = join(destDir, relative(root, dir));
    copyPackage(dir, target, arch, info.native);
    if (info.native && !readdirSync(join(target, 'prebuilds', PREBUILD_DIRS[arch]), { withFileTypes: true }).some((e) => e.name.endsWith('.node'))) {
      throw new Error(`${info.name} has no prebuilt addon for ${arch} (${PREBUILD_DIRS[arch]})`);
    }
  }
  if (existsSync(join(destDir, 'node_modules'))) removeEmptyDirs(join(destDir, 'node_modules'));
  return [...closure.values()];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [arch, dest, manifestFile] = process.argv.slice(2);
  if (!arch || !dest || !manifestFile) throw new Error('usage: node runtime-modules.mjs ARCH DEST_DIR MANIFEST_JSON');
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  // every external the bundle imports is either shipped or deliberately omitted
  const unknown = manifest.externals.filter((e) => !(e in SHIPPED) && !(e in OMITTED) && !(e in OPTIONAL));
  if (unknown.length) throw new Error(`the bundle imports packages it does not contain and nobody ships: ${unknown.join(', ')}`);
  const shipped = stageRuntimeModules(root, arch, resolve(dest), manifest.externals);
  manifest.runtime = shipped.map(({ name, version, license }) => ({ name, version, license }));
  writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  const size = (d) => readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? size(join(d, e.name)) : statSync(join(d, e.name)).size), 0);
  process.stderr.write(`weir: ${basename(dest)}/node_modules for ${arch}: ${shipped.length} packages, ${Math.round(size(join(dest, 'node_modules')) / 1024)} KiB\n`);
}
