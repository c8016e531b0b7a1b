'use strict';
/**
 * A service whose predictions the test decides, to drive the middlewares into each action band
 * deterministically. `next(prediction | Error)` queues what the following `predictStreaming`
 * call returns (or throws); with nothing queued it answers ALLOW. Every call is recorded.
 *
 * Its predictions say what to enforce (`enforcedAction`) as the engine does at its default
 * `prediction.enforceMinConfidence` (0.8): the recommended action above that confidence, MONITOR
 * below. `enforced` overrides it.
 */

function prediction(action, { score, confidence = 0.95, fallback = false, error, enforced } = {}) {
  const defaults = { ALLOW: 0.2, MONITOR: 0.67, CHALLENGE: 0.75, REQUIRE_2FA: 0.85, BLOCK: 0.95 };
  const anomalyScore = score !== undefined ? score : defaults[action];
  const p = {
    isAnomaly: action !== 'ALLOW',
    anomalyScore,
    confidence,
    explanation: [{ feature: 'ip_diversity', contribution: 0.3, value: 4, normalizedValue: 0.8 }],
    modelVersions: { isolationForest: 1, autoencoder: 1 },
    action,
    enforcedAction: enforced || (action === 'ALLOW' ? 'ALLOW' : confidence > 0.8 ? action : 'MONITOR'),
    predictionId: 'p-test',
  };
  if (fallback) p.fallback = true;
  if (error) p.error = error;
  return p;
}

class ControlledService {
  constructor(options = {}) {
    this.options = options;
    this.calls = [];
    this.queue = [];
  }

  next(result) {
    this.queue.push(result);
    return this;
  }

  async predictStreaming(sessionId, userId, requestContext) {
    this.calls.push({ sessionId, userId, requestContext });
    const r = this.queue.length ? this.queue.shift() : prediction('ALLOW');
    if (r instanceof Error) throw r;
    return { ...r };
  }
}

/**
 * The same, with the real service's synchronous `predictSync` beside `predictStreaming`: the
 * middlewares then score in the same tick (no Promise), the path they take over the real service.
 */
class ControlledSyncService extends ControlledService {
  predictSync(sessionId, userId, requestContext) {
    this.calls.push({ sessionId, userId, requestContext });
    const r = this.queue.length ? this.queue.shift() : prediction('ALLOW');
    if (r instanceof Error) throw r;
    return { ...r };
  }
}

module.exports = { ControlledService, ControlledSyncService, prediction };
