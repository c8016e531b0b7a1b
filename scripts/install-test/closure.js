'use strict';
// `name@version` of every package `express` needs, read from the repository's lockfile (one per
// line): what scripts/setup.sh puts into npm's cache so that the install test can run offline.
const fs = require('node:fs');
const [lockFile, top = 'express'] = process.argv.slice(2);
const { packages } = JSON.parse(fs.readFileSync(lockFile, 'utf8'));
const seen = new Map();
const queue = [[`node_modules/${top}`, top]];
while (queue.length) {
  const [key, name] = queue.shift();
  const entry = packages[key];
  if (!entry || seen.has(key)) continue;
  seen.set(key, `${name}@${entry.version}`);
  for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
    // npm's lookup: nested under the dependant first, then each parent up to the top.
    let base = key;
    let found = null;
    while (base) {
      const candidate = `${base}/node_modules/${dep}`;
      if (packages[candidate]) {
        found = candidate;
        break;
      }
      const up = base.lastIndexOf('/node_modules/');
      base = up > 0 ? base.slice(0, up) : '';
    }
    if (!found && packages[`node_modules/${dep}`]) found = `node_modules/${dep}`;
    if (found) queue.push([found, dep]);
  }
}
console.log([...new Set(seen.values())].join('\n'));
