'use strict';
/**
 * `service.modelConfig`: the original's configuration object, live.
 *
 * ExpenseFlow's quick start tunes the service while it runs
 * (`modelConfig.prediction.anomalyThreshold = 0.75`, `modelConfig.prediction.ensembleWeight =
 * {...}`, `modelConfig.retraining.modelWindowDays = 14`). Here the four sections are the engine's
 * own (the engine's configuration has the original's shape), so the object is a view of the
 * configuration in force:
 * - reading any field gives the current value (the engine's, once it is open);
 * - assigning a field, or a whole sub-object, applies it at once through the service (the
 *   engine validates; on a bad value a TypeError names the field and nothing changes); it takes
 *   effect on the next request, or the next training for the models' settings;
 * - `delete` and `defineProperty` are refused (a TypeError): a setting cannot be removed.
 *
 * Sections carry the engine's additions beside the original's fields (`prediction.challenge`,
 * `require2fa`, `block`, `retraining.autoTrain`...). Logging it (`console.log`) shows the values
 * at the time `modelConfig` was read.
 */

const { isPlainObject, getPath, setPath } = require('./config');

const SECTIONS = ['isolationForest', 'autoencoder', 'retraining', 'prediction'];

/**
 * NaN and ±Infinity have no JSON form: the engine would see them as a conversion failure that
 * names no field, so they are refused here, named.
 */
function checkFinite(value, path) {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`modelConfig: ${path.join('.')} must be a finite number (got ${value})`);
  }
  if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) checkFinite(v, [...path, k]);
  if (Array.isArray(value)) value.forEach((v, i) => checkFinite(v, [...path, String(i)]));
}

/** A view of `path` in the configuration returned by `read()`; writes go to `write(patch)`. */
function view(read, write, path, snapshot) {
  const current = () => getPath(read(), path);
  return new Proxy(snapshot, {
    get(target, key) {
      if (typeof key === 'symbol') return Reflect.get(target, key);
      const section = current();
      const value = isPlainObject(section) ? section[key] : undefined;
      if (isPlainObject(value)) return view(read, write, [...path, key], { ...value });
      return value;
    },
    set(target, key, value) {
      if (typeof key === 'symbol') throw new TypeError('modelConfig: settings are named by strings');
      checkFinite(value, [...path, key]);
      const patch = {};
      setPath(patch, [...path, key], isPlainObject(value) ? { ...value } : value);
      write(patch);
      target[key] = value;
      return true;
    },
    has(target, key) {
      const section = current();
      return isPlainObject(section) ? key in section : false;
    },
    ownKeys() {
      const section = current();
      return isPlainObject(section) ? Reflect.ownKeys(section) : [];
    },
    getOwnPropertyDescriptor(target, key) {
      const section = current();
      if (!isPlainObject(section) || !(key in section)) return undefined;
      const value = section[key];
      return {
        value: isPlainObject(value) ? view(read, write, [...path, key], { ...value }) : value,
        writable: true,
        enumerable: true,
        configurable: true,
      };
    },
    deleteProperty(target, key) {
      throw new TypeError(`modelConfig: ${[...path, String(key)].join('.')} cannot be removed; assign a value instead`);
    },
    defineProperty(target, key) {
      throw new TypeError(`modelConfig: assign ${[...path, String(key)].join('.')} instead of defining it`);
    },
  });
}

/**
 * The live `modelConfig` over `read()` (the whole engine configuration in force) and
 * `write(patch)` (applies a partial configuration or throws a TypeError).
 */
function modelConfig(read, write) {
  const config = read();
  const snapshot = {};
  for (const name of SECTIONS) snapshot[name] = isPlainObject(config[name]) ? { ...config[name] } : {};
  return new Proxy(snapshot, {
    get(target, key) {
      if (typeof key === 'symbol' || !SECTIONS.includes(key)) return Reflect.get(target, key);
      return view(read, write, [key], target[key]);
    },
    set(target, key, value) {
      if (!SECTIONS.includes(key)) throw new TypeError(`modelConfig has no section '${String(key)}' (${SECTIONS.join(', ')})`);
      if (!isPlainObject(value)) throw new TypeError(`modelConfig.${key} must be an object`);
      checkFinite(value, [key]);
      write({ [key]: { ...value } });
      return true;
    },
    getOwnPropertyDescriptor(target, key) {
      if (!SECTIONS.includes(key)) return undefined;
      return { value: view(read, write, [key], target[key]), writable: true, enumerable: true, configurable: true };
    },
    deleteProperty(target, key) {
      throw new TypeError(`modelConfig: ${String(key)} cannot be removed`);
    },
  });
}

module.exports = { modelConfig, SECTIONS };
