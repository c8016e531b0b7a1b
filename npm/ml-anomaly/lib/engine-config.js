'use strict';
/**
 * From resolved options (lib/config.js) to the engine's configuration (crates/engine
 * `EngineConfig`: the original's configuration shape in camelCase JSON, plus additions such as
 * `storePath` and `seed`). Kept apart because it is the one place that knows that layout.
 *
 * Sections given in the original's shape (`isolationForest`, `autoencoder`, `retraining`,
 * `prediction`) pass through; the flat options override the fields they name; `engine` (a raw
 * EngineConfig fragment) is merged last.
 */

const { merge } = require('./config');

function engineConfig(o) {
  const retraining = {
    ...(o.retraining || {}),
    minSamplesForTraining: o.minSamplesForTraining,
    modelWindowDays: o.modelWindowDays,
    hourlyRetrainThreshold: o.driftThreshold,
    autoTrain: o.autoTrain,
    driftCheckEnabled: o.driftCheckIntervalMs > 0,
    dailyRetrainForced: o.forcedRetrainIntervalMs > 0,
  };
  if (o.driftCheckIntervalMs > 0) retraining.driftCheckIntervalMs = o.driftCheckIntervalMs;
  if (o.forcedRetrainIntervalMs > 0) retraining.forcedRetrainIntervalMs = o.forcedRetrainIntervalMs;
  const base = {
    storePath: o.store,
    retraining,
    prediction: {
      ...(o.prediction || {}),
      anomalyThreshold: o.anomalyThreshold,
      challenge: o.challengeThreshold,
      require2fa: o.require2faThreshold,
      block: o.blockThreshold,
      topFeatures: o.explanationSize,
    },
  };
  if (o.seed !== undefined) base.seed = o.seed;
  if (o.isolationForest) base.isolationForest = { ...o.isolationForest };
  if (o.autoencoder) base.autoencoder = { ...o.autoencoder };
  return o.engine ? merge(base, o.engine) : base;
}

module.exports = { engineConfig };
