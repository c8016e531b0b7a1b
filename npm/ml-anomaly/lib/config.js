'use strict';
/**
 * Options of a service: where each setting comes from, and how it reaches the engine.
 *
 * Why this module owns no default and no range: every setting the engine uses is defined,
 * defaulted and validated once, in crates/engine (`EngineConfig`). The package only says *which
 * settings the host set* and sends exactly those; the engine fills in its own defaults and names
 * the first bad field. What stays here is what only JavaScript knows: option and environment
 * variable names, parsing environment strings, the callbacks and the logger.
 *
 * Why environment variables: ExpenseFlow swaps its service in with one `require()` change and
 * configures nothing else, so the singleton must be tunable without code.
 *
 * Precedence, lowest first (one statement, applied by `resolveOptions`):
 *   1. the engine's defaults;
 *   2. environment variables (the singleton only; createAnomalyService reads none);
 *   3. `engine`: a raw engine configuration fragment (crates/engine `EngineConfig`, camelCase);
 *   4. the original's sections `isolationForest`, `autoencoder`, `retraining`, `prediction`
 *      (same names and meaning as in ExpenseFlow: they are the engine's own sections);
 *   5. the flat options below.
 * Code therefore wins over the environment, and the more specific name over the more general.
 *
 * | option                   | environment variable                  | engine setting                              |
 * |--------------------------|---------------------------------------|---------------------------------------------|
 * | store                    | ML_ANOMALY_STORE                      | storePath                                   |
 * | seed                     | ML_ANOMALY_SEED                       | seed                                        |
 * | anomalyThreshold         | ML_ANOMALY_ANOMALY_THRESHOLD          | prediction.anomalyThreshold                 |
 * | challengeThreshold       | ML_ANOMALY_CHALLENGE_THRESHOLD        | prediction.challenge                        |
 * | require2faThreshold      | ML_ANOMALY_REQUIRE_2FA_THRESHOLD      | prediction.require2fa                       |
 * | blockThreshold           | ML_ANOMALY_BLOCK_THRESHOLD            | prediction.block                            |
 * | minSamplesForTraining    | ML_ANOMALY_MIN_SAMPLES                | retraining.minSamplesForTraining            |
 * | modelWindowDays          | ML_ANOMALY_MODEL_WINDOW_DAYS          | retraining.modelWindowDays                  |
 * | driftThreshold           | ML_ANOMALY_DRIFT_THRESHOLD            | retraining.hourlyRetrainThreshold           |
 * | driftCheckIntervalMs     | ML_ANOMALY_DRIFT_CHECK_INTERVAL_MS    | retraining.driftCheckIntervalMs (0: off)    |
 * | forcedRetrainIntervalMs  | ML_ANOMALY_FORCED_RETRAIN_INTERVAL_MS | retraining.forcedRetrainIntervalMs (0: off) |
 * | autoTrain                | ML_ANOMALY_AUTO_TRAIN                 | retraining.autoTrain                        |
 * | explanationSize          | ML_ANOMALY_EXPLANATION_SIZE           | prediction.topFeatures                      |
 * | schedules                | ML_ANOMALY_SCHEDULES                  | (the package's maintenance timer; true)     |
 *
 * The two intervals take 0 for "off" (`retraining.driftCheckEnabled` / `dailyRetrainForced`).
 */

/**
 * [option, environment variable, kind, engine path]. A null path is the package's own setting.
 * The one table of option names: the service, the docs and the types follow it.
 */
const SPEC = Object.freeze([
  ['store', 'ML_ANOMALY_STORE', 'string', ['storePath']],
  ['seed', 'ML_ANOMALY_SEED', 'int', ['seed']],
  ['anomalyThreshold', 'ML_ANOMALY_ANOMALY_THRESHOLD', 'number', ['prediction', 'anomalyThreshold']],
  ['challengeThreshold', 'ML_ANOMALY_CHALLENGE_THRESHOLD', 'number', ['prediction', 'challenge']],
  ['require2faThreshold', 'ML_ANOMALY_REQUIRE_2FA_THRESHOLD', 'number', ['prediction', 'require2fa']],
  ['blockThreshold', 'ML_ANOMALY_BLOCK_THRESHOLD', 'number', ['prediction', 'block']],
  ['minSamplesForTraining', 'ML_ANOMALY_MIN_SAMPLES', 'int', ['retraining', 'minSamplesForTraining']],
  ['modelWindowDays', 'ML_ANOMALY_MODEL_WINDOW_DAYS', 'number', ['retraining', 'modelWindowDays']],
  ['driftThreshold', 'ML_ANOMALY_DRIFT_THRESHOLD', 'number', ['retraining', 'hourlyRetrainThreshold']],
  ['driftCheckIntervalMs', 'ML_ANOMALY_DRIFT_CHECK_INTERVAL_MS', 'interval', ['retraining', 'driftCheckIntervalMs'], 'driftCheckEnabled'],
  ['forcedRetrainIntervalMs', 'ML_ANOMALY_FORCED_RETRAIN_INTERVAL_MS', 'interval', ['retraining', 'forcedRetrainIntervalMs'], 'dailyRetrainForced'],
  ['autoTrain', 'ML_ANOMALY_AUTO_TRAIN', 'bool', ['retraining', 'autoTrain']],
  ['explanationSize', 'ML_ANOMALY_EXPLANATION_SIZE', 'int', ['prediction', 'topFeatures']],
  ['schedules', 'ML_ANOMALY_SCHEDULES', 'bool', null],
]);

/** The package's own defaults: only settings the engine does not have. */
const PACKAGE_DEFAULTS = Object.freeze({ schedules: true });

const CALLBACKS = ['onSecurityEvent', 'revokeSession', 'resolveEndpointSensitivity', 'now'];
const SECTIONS = ['isolationForest', 'autoencoder', 'retraining', 'prediction'];

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep merge of plain objects (arrays and other values replace). */
function merge(base, extra) {
  const out = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? merge(out[k], v) : v;
  }
  return out;
}

/** `base` without the leaves `remove` sets (the opposite of `merge`); empty sections go too. */
function without(base, remove) {
  const out = { ...base };
  for (const [k, v] of Object.entries(remove)) {
    if (!(k in out)) continue;
    if (isPlainObject(v) && isPlainObject(out[k])) {
      out[k] = without(out[k], v);
      if (Object.keys(out[k]).length === 0) delete out[k];
    } else {
      delete out[k];
    }
  }
  return out;
}

function parseEnv(kind, raw, name) {
  const text = String(raw).trim();
  if (kind === 'string') return text;
  if (kind === 'bool') {
    if (/^(1|true|yes|on)$/i.test(text)) return true;
    if (/^(0|false|no|off)$/i.test(text)) return false;
    throw new TypeError(`${name} must be true/false, 1/0, yes/no or on/off (got '${text}')`);
  }
  const n = Number(text);
  if (text === '' || !Number.isFinite(n)) throw new TypeError(`${name} must be a number (got '${text}')`);
  return n;
}

/** The JavaScript type of a value; ranges are the engine's to check. */
function checkKind(kind, value, name) {
  if (kind === 'string') {
    if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${name} must be a non-empty string`);
  } else if (kind === 'bool') {
    if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean (got ${typeof value})`);
  } else {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`${name} must be a finite number`);
    if (kind !== 'number' && !Number.isInteger(value)) throw new TypeError(`${name} must be an integer (got ${value})`);
  }
  return value;
}

function setPath(obj, path, value) {
  let o = obj;
  for (const k of path.slice(0, -1)) {
    if (!isPlainObject(o[k])) o[k] = {};
    o = o[k];
  }
  o[path[path.length - 1]] = value;
}

function getPath(obj, path) {
  let o = obj;
  for (const k of path) {
    if (!isPlainObject(o)) return undefined;
    o = o[k];
  }
  return o;
}

/** The engine fragment one flat option's value stands for. */
function flatPatch(spec, value) {
  const [, , kind, path, enabledKey] = spec;
  const patch = {};
  if (kind === 'interval') {
    setPath(patch, [path[0], enabledKey], value > 0);
    if (value > 0) setPath(patch, path, value);
  } else {
    setPath(patch, path, value);
  }
  return patch;
}

/** A flat option's value read back from a whole engine configuration. */
function flatValue(spec, config) {
  const [, , kind, path, enabledKey] = spec;
  if (kind === 'interval') return getPath(config, [path[0], enabledKey]) === false ? 0 : getPath(config, path);
  return getPath(config, path);
}

/**
 * Resolves options into `{ engine, own, sources }`:
 * - `engine`: the engine configuration fragment of what the host set (precedence above);
 * - `own`: the package's settings (schedules, callbacks, logger);
 * - `sources`: for each top-level engine section (and top-level field), the names the host used
 *   to set it, so that an engine error can say which option or variable to fix.
 * Throws a TypeError for an unknown option name or a value of the wrong type.
 */
function resolveOptions(options = {}, env = null) {
  if (!isPlainObject(options)) throw new TypeError('ml-anomaly options must be an object');
  const known = new Set([...SPEC.map((s) => s[0]), ...CALLBACKS, ...SECTIONS, 'engine', 'logger']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new TypeError(`ml-anomaly: unknown option '${key}'`);
  }
  for (const name of [...SECTIONS, 'engine']) {
    if (options[name] !== undefined && !isPlainObject(options[name])) throw new TypeError(`${name} must be an object`);
  }
  const sources = new Map();
  const note = (path, source) => {
    const key = path[0];
    sources.set(key, [...(sources.get(key) || []), source]);
  };
  const own = { ...PACKAGE_DEFAULTS };
  let fromEnv = {};
  for (const spec of SPEC) {
    const [key, envName, kind, path] = spec;
    if (!env || env[envName] === undefined || env[envName] === '') continue;
    if (options[key] !== undefined) continue; // code wins: the variable is not read at all
    const value = checkKind(kind === 'interval' ? 'int' : kind, parseEnv(kind, env[envName], envName), envName);
    if (path === null) own[key] = value;
    else {
      fromEnv = merge(fromEnv, flatPatch(spec, value));
      note(path, envName);
    }
  }
  let engine = merge(fromEnv, options.engine || {});
  for (const key of Object.keys(options.engine || {})) note([key], `engine.${key}`);
  for (const name of SECTIONS) {
    if (options[name] === undefined) continue;
    engine = merge(engine, { [name]: options[name] });
    note([name], name);
  }
  for (const spec of SPEC) {
    const [key, , kind, path] = spec;
    if (options[key] === undefined) continue;
    const value = checkKind(kind === 'interval' ? 'int' : kind, options[key], key);
    if (path === null) own[key] = value;
    else {
      engine = merge(engine, flatPatch(spec, value));
      note(path, key);
    }
  }
  for (const name of CALLBACKS) {
    if (options[name] !== undefined && options[name] !== null && typeof options[name] !== 'function') {
      throw new TypeError(`${name} must be a function`);
    }
    own[name] = options[name] || undefined;
  }
  own.logger = checkLogger(options.logger);
  return { engine, own, sources };
}

/**
 * An engine configuration error in the host's terms: the engine names its field
 * (`prediction: thresholds must be ordered ...`), and this adds which options or environment
 * variables set that part.
 */
function explainConfigError(err, sources) {
  if (!err || typeof err.message !== 'string') return err;
  const m = /(?:ml-anomaly: )?(?:invalid configuration: )?([A-Za-z0-9]+)[.:]/.exec(err.message.replace(/^ml-anomaly: /, ''));
  const set = m ? sources.get(m[1]) : undefined;
  if (!set || set.length === 0) return err;
  const e = new TypeError(`${err.message} (set by ${[...new Set(set)].join(', ')})`);
  e.code = err.code;
  e.cause = err;
  return e;
}

/**
 * The default logger: warnings and errors to the console, as the original logged (it used
 * console.error throughout), info and debug silent. Pass `logger: false` for none at all.
 */
const CONSOLE = Object.freeze({
  info() {},
  debug() {},
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
});
const SILENT = Object.freeze({ info() {}, warn() {}, error() {}, debug() {} });

function checkLogger(logger) {
  if (logger === undefined || logger === null) return CONSOLE;
  if (logger === false) return SILENT;
  if (typeof logger !== 'object' && typeof logger !== 'function') throw new TypeError('logger must be an object with info/warn/error');
  for (const m of ['info', 'warn', 'error']) {
    if (typeof logger[m] !== 'function') throw new TypeError(`logger.${m} must be a function`);
  }
  return logger;
}

module.exports = {
  SPEC,
  PACKAGE_DEFAULTS,
  SECTIONS,
  resolveOptions,
  explainConfigError,
  checkLogger,
  flatPatch,
  flatValue,
  merge,
  without,
  isPlainObject,
  getPath,
  setPath,
  CONSOLE,
  SILENT,
};
