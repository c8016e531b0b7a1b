'use strict';
/**
 * The fallback prediction: what the original answered with no trained model or on any error.
 * A fresh object each time, since middlewares spread it into `req.mlPrediction` and callers may
 * mutate what they get.
 */

function fallbackPrediction(error) {
  const p = {
    isAnomaly: false,
    anomalyScore: 0,
    confidence: 0,
    explanation: [],
    modelVersions: { isolationForest: null, autoencoder: null },
    action: 'ALLOW',
    fallback: true,
  };
  if (error !== undefined) p.error = error instanceof Error ? error.message : String(error);
  return p;
}

module.exports = { fallbackPrediction };
