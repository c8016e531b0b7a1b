// Paths shared by the browser and parity tests.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const VIEWER_DIR = path.join(REPO_ROOT, 'npm', 'viewer');
export const WASM_DIR = path.join(VIEWER_DIR, 'wasm');
export const WASM_GLUE = path.join(WASM_DIR, 'anomaly_wasm.js');
export const WASM_BINARY = path.join(WASM_DIR, 'anomaly_wasm_bg.wasm');
/** Git-ignored: screenshots and cached fixtures. */
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'js-tests', 'artifacts');
