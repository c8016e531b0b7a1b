#!/usr/bin/env node
'use strict';
/**
 * The published packages, built from the repository: `ml-anomaly` (JavaScript and types only),
 * one `ml-anomaly-<platform>` per entry of npm/ml-anomaly/platforms.json (the prebuilt addon),
 * and `ml-anomaly-viewer` (the viewer with its WebAssembly).
 *
 *   node scripts/package.js stage OUT        write the packages' directories into OUT
 *   node scripts/package.js pack OUT         stage, then `npm pack` each into OUT/tarballs
 *   node scripts/package.js version X.Y.Z    set one version on every package (the one place
 *                                            versions change; the platform packages and the
 *                                            optional dependencies take it from ml-anomaly)
 *
 * Why generated rather than kept in the tree: as `napi create-npm-dirs` / `napi prepublish` do,
 * the platform packages are a function of the platform table and the root manifest (name,
 * version, os/cpu/libc, the `.node` file), so writing them out by hand would be six copies of
 * one fact. The root package gets its `optionalDependencies` only in the staged manifest: in
 * the repository they would name packages no registry has yet, and `npm ci` would fail.
 *
 * A platform without a built addon (target/napi/ml_anomaly.<platform>.node; for the host, the
 * package's own native/ml_anomaly.node) is staged without one only with --allow-missing; `pack`
 * lists what it packed and what it skipped.
 */

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const PKG_DIR = path.join(ROOT, 'npm', 'ml-anomaly');
const VIEWER_DIR = path.join(ROOT, 'npm', 'viewer');
const TARGET_DIR = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
const { binaryName, platforms } = require(path.join(PKG_DIR, 'platforms.json'));

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
const writeJson = (file, value) => fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);

function die(message) {
  console.error(`[package] ${message}`);
  process.exit(1);
}

/** The `.node` file built for `platform`, or null. */
function builtAddon(platform) {
  const cross = path.join(TARGET_DIR, 'napi', `${binaryName}.${platform}.node`);
  if (fs.existsSync(cross)) return cross;
  const host = require(path.join(PKG_DIR, 'lib', 'native.js')).currentPlatform();
  const local = path.join(PKG_DIR, 'native', `${binaryName}.node`);
  return host.platform === platform && fs.existsSync(local) ? local : null;
}

/** Copies the files a manifest's `files` list names (directories whole, simple `dir/*.ext` globs). */
function copyFiles(from, to, files) {
  for (const entry of files) {
    const glob = entry.match(/^(.*)\/\*(\.[^/]+)$/);
    if (glob) {
      const dir = path.join(from, glob[1]);
      if (!fs.existsSync(dir)) continue;
      for (const name of fs.readdirSync(dir).filter((n) => n.endsWith(glob[2]))) {
        fs.mkdirSync(path.join(to, glob[1]), { recursive: true });
        fs.copyFileSync(path.join(dir, name), path.join(to, glob[1], name));
      }
      continue;
    }
    const src = path.join(from, entry.replace(/\/$/, ''));
    if (!fs.existsSync(src)) continue;
    fs.cpSync(src, path.join(to, entry.replace(/\/$/, '')), { recursive: true });
  }
}

function stage(out, { allowMissing }) {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const root = readJson(path.join(PKG_DIR, 'package.json'));
  const staged = [];
  const skipped = [];

  // Platform packages.
  for (const p of platforms) {
    const addon = builtAddon(p.platform);
    if (!addon && !allowMissing) {
      skipped.push(`${root.name}-${p.platform} (${p.build === 'here' ? 'not built: scripts/build-addon.sh --platform ' + p.platform : 'declared; needs its own toolchain'})`);
      continue;
    }
    const dir = path.join(out, `${root.name}-${p.platform}`);
    fs.mkdirSync(dir);
    const file = `${binaryName}.${p.platform}.node`;
    if (addon) fs.copyFileSync(addon, path.join(dir, file));
    const manifest = {
      name: `${root.name}-${p.platform}`,
      version: root.version,
      description: `The ${p.platform} native addon of ${root.name} (${p.target})`,
      license: root.license,
      main: file,
      files: [file],
      os: [p.os],
      cpu: [p.cpu],
      ...(p.libc ? { libc: [p.libc] } : {}),
      engines: root.engines,
    };
    writeJson(path.join(dir, 'package.json'), manifest);
    fs.writeFileSync(
      path.join(dir, 'README.md'),
      `# ${manifest.name}\n\nThe prebuilt native addon of [${root.name}](https://www.npmjs.com/package/${root.name}) for ${p.platform} ` +
        `(Rust target \`${p.target}\`). Installed automatically as an optional dependency of ${root.name}; ` +
        'do not depend on it directly.\n',
    );
    staged.push(manifest.name);
  }

  // The root package: JavaScript and types; the addon comes from the platform package.
  const dir = path.join(out, root.name);
  fs.mkdirSync(dir);
  const files = root.files.filter((f) => !f.startsWith('native/'));
  copyFiles(PKG_DIR, dir, files);
  for (const extra of ['LICENSE', 'CHANGELOG.md']) {
    if (fs.existsSync(path.join(ROOT, extra))) fs.copyFileSync(path.join(ROOT, extra), path.join(dir, extra));
  }
  const manifest = {
    ...root,
    files: [...files, 'CHANGELOG.md'],
    optionalDependencies: Object.fromEntries(platforms.map((p) => [`${root.name}-${p.platform}`, root.version])),
  };
  writeJson(path.join(dir, 'package.json'), manifest);
  staged.push(root.name);

  // The viewer, with its built WebAssembly.
  const viewer = readJson(path.join(VIEWER_DIR, 'package.json'));
  if (!fs.existsSync(path.join(VIEWER_DIR, 'wasm', 'anomaly_wasm_bg.wasm'))) {
    die('the viewer is not built: run scripts/build-viewer.sh');
  }
  const vdir = path.join(out, viewer.name);
  fs.mkdirSync(vdir);
  copyFiles(VIEWER_DIR, vdir, viewer.files);
  const { devDependencies, scripts, private: _private, ...published } = viewer;
  void devDependencies;
  void scripts;
  void _private;
  writeJson(path.join(vdir, 'package.json'), { ...published, version: root.version });
  staged.push(viewer.name);
  return { staged, skipped };
}

function pack(out, options) {
  const { staged, skipped } = stage(out, options);
  const tarballs = path.join(out, 'tarballs');
  fs.mkdirSync(tarballs, { recursive: true });
  const packed = [];
  for (const name of staged) {
    const json = execFileSync('npm', ['pack', '--json', '--pack-destination', tarballs], {
      cwd: path.join(out, name),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [info] = JSON.parse(json);
    packed.push({ name, file: path.join(tarballs, info.filename), size: info.size, unpackedSize: info.unpackedSize, entries: info.entryCount });
  }
  writeJson(path.join(tarballs, 'packed.json'), { packed, skipped });
  for (const p of packed) console.log(`packed  ${p.name}  ${(p.size / 1024).toFixed(0)} KiB  (${p.entries} files)`);
  for (const s of skipped) console.log(`skipped ${s}`);
  return { packed, skipped };
}

function setVersion(version) {
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) die(`not a semver version: ${version}`);
  for (const file of [path.join(PKG_DIR, 'package.json'), path.join(VIEWER_DIR, 'package.json')]) {
    const m = readJson(file);
    m.version = version;
    writeJson(file, m);
  }
  // The crates share the workspace's version ([workspace.package] in the root Cargo.toml).
  const cargo = path.join(ROOT, 'Cargo.toml');
  const text = fs.readFileSync(cargo, 'utf8');
  fs.writeFileSync(cargo, text.replace(/(\[workspace\.package\][^[]*?^version\s*=\s*)"[^"]*"/ms, `$1"${version}"`));
  // The lockfile records the workspaces' versions: keep `npm ci` working.
  execFileSync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: 'inherit' });
  console.log(`version ${version}: npm/ml-anomaly, npm/viewer, the platform packages (at stage), the crates, package-lock.json; add a CHANGELOG.md entry`);
}

const [command, arg, ...rest] = process.argv.slice(2);
const allowMissing = rest.includes('--allow-missing') || arg === '--allow-missing';
if (command === 'stage' && arg) {
  const r = stage(path.resolve(arg), { allowMissing });
  console.log(JSON.stringify(r, null, 2));
} else if (command === 'pack' && arg) {
  pack(path.resolve(arg), { allowMissing });
} else if (command === 'version' && arg) {
  setVersion(arg);
} else {
  die('usage: node scripts/package.js stage OUT | pack OUT [--allow-missing] | version X.Y.Z');
}

module.exports = { stage, pack };
