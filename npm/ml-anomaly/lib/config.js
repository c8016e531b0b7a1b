'use strict';
/**
 * Options of a service: defaults, environment variables, validation.
 *
 * Why environment variables: ExpenseFlow swaps its service in with one `require()` change and
 * configures nothing else, so the singleton must be tunable without code (store path, thresholds,
 * schedules). Precedence, lowest first: defaults < environment (singleton only) < `configure()` /
 * `createAnomalyService()` options. Every value is checked once, here, so a typo in an environment
 * variable fails at `initialize()` with the variable's name instead of silently using a default.
 *
 * | option                   | environment variable                  | default              |
 * |--------------------------|---------------------------------------|----------------------|
 * | store                    | ML_ANOMALY_STORE                      | ./ml-anomaly.sqlite  |
 * | seed                     | ML_ANOMALY_SEED                       | the engine's         |
 * | anomalyThreshold         | ML_ANOMALY_ANOMALY_THRESHOLD          | 0.65                 |
 * | challengeThreshold       | ML_ANOMALY_CHALLENGE_THRESHOLD        | 0.70                 |
 * | require2faThreshold      | ML_ANOMALY_REQUIRE_2FA_THRESHOLD      | 0.80                 |
 * | blockThreshold           | ML_ANOMALY_BLOCK_THRESHOLD            | 0.90                 |
 * | minSamplesForTraining    | ML_ANOMALY_MIN_SAMPLES                | 1000                 |
 * | modelWindowDays          | ML_ANOMALY_MODEL_WINDOW_DAYS          | 30                   |
 * | driftThreshold           | ML_ANOMALY_DRIFT_THRESHOLD            | 0.15                 |
 * | driftCheckIntervalMs     | ML_ANOMALY_DRIFT_CHECK_INTERVAL_MS    | 3600000 (1 h; 0 off) |
 * | forcedRetrainIntervalMs  | ML_ANOMALY_FORCED_RETRAIN_INTERVAL_MS | 86400000 (1 d; 0 off)|
 * | autoTrain                | ML_ANOMALY_AUTO_TRAIN                 | true                 |
 * | schedules                | ML_ANOMALY_SCHEDULES                  | true                 |
 * | explanationSize          | ML_ANOMALY_EXPLANATION_SIZE           | 5                    |
 *
 * The original's configuration sections (`isolationForest`, `autoencoder`, `retraining`,
 * `prediction`, same names and meaning as in ExpenseFlow) are accepted too, and `engine` passes a
 * raw engine configuration through (see crates/engine's `EngineConfig`), merged last.
 */

const DEFAULTS = Object.freeze({
  store: './ml-anomaly.sqlite',
  seed: undefined,
  anomalyThreshold: 0.65,
  challengeThreshold: 0.7,
  require2faThreshold: 0.8,
  blockThreshold: 0.9,
  minSamplesForTraining: 1000,
  modelWindowDays: 30,
  driftThreshold: 0.15,
  driftCheckIntervalMs: 3600000,
  forcedRetrainIntervalMs: 86400000,
  autoTrain: true,
  schedules: true,
  explanationSize: 5,
});

/** [option, environment variable, kind, constraint] */
const SPEC = [
  ['store', 'ML_ANOMALY_STORE', 'string'],
  ['seed', 'ML_ANOMALY_SEED', 'int', [0, Number.MAX_SAFE_INTEGER]],
  ['anomalyThreshold', 'ML_ANOMALY_ANOMALY_THRESHOLD', 'number', [0, 2]],
  ['challengeThreshold', 'ML_ANOMALY_CHALLENGE_THRESHOLD', 'number', [0, 2]],
  ['require2faThreshold', 'ML_ANOMALY_REQUIRE_2FA_THRESHOLD', 'number', [0, 2]],
  ['blockThreshold', 'ML_ANOMALY_BLOCK_THRESHOLD', 'number', [0, 2]],
  ['minSamplesForTraining', 'ML_ANOMALY_MIN_SAMPLES', 'int', [20, 100000000]],
  ['modelWindowDays', 'ML_ANOMALY_MODEL_WINDOW_DAYS', 'int', [1, 3650]],
  ['driftThreshold', 'ML_ANOMALY_DRIFT_THRESHOLD', 'number', [0, 1000]],
  ['driftCheckIntervalMs', 'ML_ANOMALY_DRIFT_CHECK_INTERVAL_MS', 'int', [0, 2147483647]],
  ['forcedRetrainIntervalMs', 'ML_ANOMALY_FORCED_RETRAIN_INTERVAL_MS', 'int', [0, 2147483647]],
  ['autoTrain', 'ML_ANOMALY_AUTO_TRAIN', 'bool'],
  ['schedules', 'ML_ANOMALY_SCHEDULES', 'bool'],
  ['explanationSize', 'ML_ANOMALY_EXPLANATION_SIZE', 'int', [1, 59]],
];

const CALLBACKS = ['onSecurityEvent', 'revokeSession', 'resolveEndpointSensitivity', 'now'];
const SECTIONS = ['isolationForest', 'autoencoder', 'retraining', 'prediction', 'engine'];

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

function check(kind, value, name, range) {
  if (kind === 'string') {
    if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${name} must be a non-empty string`);
    return value;
  }
  if (kind === 'bool') {
    if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean (got ${typeof value})`);
    return value;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`${name} must be a finite number`);
  if (kind === 'int' && !Number.isInteger(value)) throw new TypeError(`${name} must be an integer (got ${value})`);
  if (range && (value < range[0] || value > range[1])) {
    throw new TypeError(`${name} must be within [${range[0]}, ${range[1]}] (got ${value})`);
  }
  return value;
}

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

/**
 * Resolves options: defaults, then `env` (an environment object, or null for none), then `options`.
 * Unknown option names are rejected so that typos do not pass silently.
 */
function resolveOptions(options = {}, env = null) {
  if (!isPlainObject(options)) throw new TypeError('ml-anomaly options must be an object');
  const known = new Set([...SPEC.map((s) => s[0]), ...CALLBACKS, ...SECTIONS, 'logger']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new TypeError(`ml-anomaly: unknown option '${key}'`);
  }
  const out = { ...DEFAULTS };
  for (const [key, envName, kind, range] of SPEC) {
    if (env && env[envName] !== undefined && env[envName] !== '') {
      out[key] = check(kind, parseEnv(kind, env[envName], envName), envName, range);
    }
    if (options[key] !== undefined) out[key] = check(kind, options[key], key, range);
  }
  // The original's configuration sections override the flat names they share.
  const prediction = options.prediction;
  if (isPlainObject(prediction) && prediction.anomalyThreshold !== undefined) {
    out.anomalyThreshold = check('number', prediction.anomalyThreshold, 'prediction.anomalyThreshold', [0, 2]);
  }
  const retraining = options.retraining;
  if (isPlainObject(retraining)) {
    if (retraining.minSamplesForTraining !== undefined) {
      out.minSamplesForTraining = check('int', retraining.minSamplesForTraining, 'retraining.minSamplesForTraining', [20, 100000000]);
    }
    if (retraining.modelWindowDays !== undefined) {
      out.modelWindowDays = check('int', retraining.modelWindowDays, 'retraining.modelWindowDays', [1, 3650]);
    }
    if (retraining.hourlyRetrainThreshold !== undefined) {
      out.driftThreshold = check('number', retraining.hourlyRetrainThreshold, 'retraining.hourlyRetrainThreshold', [0, 1000]);
    }
    if (retraining.dailyRetrainForced === false) out.forcedRetrainIntervalMs = 0;
  }
  const ladder = [out.anomalyThreshold, out.challengeThreshold, out.require2faThreshold, out.blockThreshold];
  for (let i = 1; i < ladder.length; i++) {
    if (ladder[i - 1] > ladder[i]) {
      throw new TypeError(
        'thresholds must be ordered anomalyThreshold <= challengeThreshold <= require2faThreshold <= blockThreshold ' +
          `(got ${ladder.join(', ')})`,
      );
    }
  }
  for (const name of SECTIONS) {
    if (options[name] !== undefined && !isPlainObject(options[name])) throw new TypeError(`${name} must be an object`);
    out[name] = options[name] ? { ...options[name] } : undefined;
  }
  for (const name of CALLBACKS) {
    if (options[name] !== undefined && options[name] !== null && typeof options[name] !== 'function') {
      throw new TypeError(`${name} must be a function`);
    }
    out[name] = options[name] || undefined;
  }
  out.logger = checkLogger(options.logger);
  return out;
}

const SILENT = Object.freeze({ info() {}, warn() {}, error() {}, debug() {} });

function checkLogger(logger) {
  if (logger === undefined || logger === null || logger === false) return SILENT;
  if (typeof logger !== 'object' && typeof logger !== 'function') throw new TypeError('logger must be an object with info/warn/error');
  for (const m of ['info', 'warn', 'error']) {
    if (typeof logger[m] !== 'function') throw new TypeError(`logger.${m} must be a function`);
  }
  return logger;
}

module.exports = { DEFAULTS, SPEC, resolveOptions, merge, isPlainObject, SILENT };
