'use strict';
/** Shared pieces of the JS benchmarks: a trained service and percentiles. */

const { createAnomalyService } = require('ml-anomaly');
const { normalTraffic, contextOf, recentMonday } = require('../helpers/traffic');
const { requireNative } = require('../helpers/native-app');

/** A service (in-memory store) trained on generated normal traffic; also returns the traffic. */
async function trainedService({ users = 40, days = 12, options = {} } = {}) {
  requireNative();
  const service = createAnomalyService({ store: ':memory:', autoTrain: false, schedules: false, ...options });
  const traffic = normalTraffic({ seed: 17, users, days, start: recentMonday(3) });
  for (const e of traffic.events) service.predictSync(e.sessionId, e.userId, contextOf(e));
  const out = await service.train({ force: true });
  if (!out.trained) throw new Error(`training skipped: ${out.reason}`);
  return { service, traffic };
}

/** Percentile of a sorted numeric array (nearest rank). */
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

function median(values) {
  return percentile([...values].sort((a, b) => a - b), 50);
}

module.exports = { trainedService, percentile, median };
