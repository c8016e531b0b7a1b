'use strict';
// index.d.ts and the subpath declarations: every runtime export is declared, and the documented
// usage (types/usage.ts) type-checks under `tsc --strict`.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const pkgDir = path.dirname(require.resolve('ml-anomaly/package.json'));

test('every export of the package is declared in index.d.ts', () => {
  const dts = fs.readFileSync(path.join(pkgDir, 'index.d.ts'), 'utf8');
  const declared = new Set([...dts.matchAll(/^export declare (?:const|function|class) (\w+)/gm)].map((m) => m[1]));
  const runtime = Object.keys(require('ml-anomaly'));
  assert.deepEqual(runtime.filter((name) => !declared.has(name)), [], 'exported but not declared');
  assert.deepEqual([...declared].filter((name) => !runtime.includes(name)), [], 'declared but not exported');
});

test('the documented usage type-checks with tsc --strict', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types', 'tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    assert.fail(`tsc reported errors:\n${err.stdout}${err.stderr}`);
  }
});
