// Debian's Chromium, headless, driven by playwright-core (never a downloaded browser), with a
// fresh profile per launch.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { VIEWER_DIR } from './paths.mjs';

export const CHROMIUM = process.env.ML_ANOMALY_CHROMIUM ?? '/usr/bin/chromium';

/** Flags that work on these machines (shared/notes/toolchain.md). */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** playwright-core, resolved from the viewer package (a devDependency there). */
function playwright() {
  const require = createRequire(path.join(VIEWER_DIR, 'package.json'));
  try {
    return require('playwright-core');
  } catch {
    throw new Error('playwright-core is not installed: run `npm install` at the repository root (scripts/setup.sh)');
  }
}

/**
 * Launches Chromium with a fresh user-data-dir; returns { context, close }.
 * (launchPersistentContext is how Playwright takes a user-data-dir.)
 */
export async function launchChromium({ viewport = { width: 1366, height: 900 } } = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (scripts/setup.sh)`);
  const { chromium } = playwright();
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ml-anomaly-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport,
    acceptDownloads: false,
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
