'use strict';
/**
 * `service.driftDetector`: the original's drift detector interface over the engine's.
 *
 * ExpenseFlow's routes file and dashboard example call it directly and synchronously:
 * `calculateDrift()` (then `driftMetrics.driftScore.toFixed(3)`, `!driftMetrics.isDrifting`) and
 * `getStatistics()`. So both answer in the original's shapes, and `driftScore` is always a
 * number:
 * - `calculateDrift()`: `{ isDrifting: false, driftScore: 0, confidence: 'LOW', details:
 *   'Insufficient data for drift detection' }` while no assessment is possible (no model, or
 *   fewer than 100 scored requests in the window, the original's minimum), otherwise a fresh
 *   assessment of the recent requests against the model's training reference (a few ms, on the
 *   calling thread, as the original's): `{ isDrifting, driftScore, confidence, details: { psi,
 *   ks, distribution, score }, timestamp, threshold, topDrifted }`. It records nothing and never
 *   retrains (the hourly check does both).
 * - `getStatistics()`: `{ referenceWindowSize, currentWindowSize, driftHistoryLength,
 *   latestDrift, trends: { trend, recentDrift, avgDrift, slope } }`.
 */

/** The original's minimum of points in either window. */
const MIN_POINTS = 100;

const INSUFFICIENT = Object.freeze({
  isDrifting: false,
  driftScore: 0,
  confidence: 'LOW',
  details: 'Insufficient data for drift detection',
});

/** HIGH once the current window is full, MEDIUM from half, LOW below (the original's rule). */
function confidenceOf(rows, windowSize) {
  if (rows >= windowSize) return 'HIGH';
  if (rows >= windowSize / 2) return 'MEDIUM';
  return 'LOW';
}

/** The original's result shape from an engine drift report. */
function driftResult(report, windowSize, timestamp) {
  return {
    isDrifting: Boolean(report.isDrifting),
    driftScore: Number(report.composite) || 0,
    confidence: confidenceOf(report.currentRows, windowSize),
    details: {
      psi: report.psi,
      ks: report.ks ? report.ks.statistic : 0,
      distribution: report.distribution,
      score: report.scoreDrift,
    },
    timestamp,
    threshold: report.threshold,
    topDrifted: (report.topDrifted || []).map((f) => ({ feature: f.name, psi: f.psi, drift: f.drift })),
  };
}

/** Least-squares slope of `values` over their indices (the original's trend). */
function slopeOf(values) {
  const n = values.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  values.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return den === 0 ? 0 : num / den;
}

/**
 * The detector over `host`: `{ engine() (opens it; throws when it cannot), now(), config() }`.
 */
function driftDetector(host) {
  const status = () => host.engine().driftStatus();
  return Object.freeze({
    calculateDrift() {
      let assessed;
      let windowSize;
      try {
        const engine = host.engine();
        windowSize = host.config().retraining.driftWindow;
        const s = engine.driftStatus();
        if (s.windowSize < MIN_POINTS || (s.referenceRows ?? MIN_POINTS) < MIN_POINTS) return { ...INSUFFICIENT };
        assessed = engine.assessDrift();
      } catch {
        return { ...INSUFFICIENT };
      }
      if (!assessed.report) return { ...INSUFFICIENT };
      return driftResult(assessed.report, windowSize, host.now());
    },

    getStatistics() {
      let s;
      try {
        s = status();
      } catch {
        return {
          referenceWindowSize: 0,
          currentWindowSize: 0,
          driftHistoryLength: 0,
          latestDrift: null,
          trends: { trend: 'STABLE', recentDrift: 0, avgDrift: 0 },
        };
      }
      const history = s.history || [];
      const recent = history.slice(-5).map((h) => h.composite);
      const last = history[history.length - 1];
      const trends =
        recent.length < 2
          ? { trend: 'STABLE', recentDrift: recent[0] ?? 0, avgDrift: recent[0] ?? 0 }
          : {
              trend: s.trend || 'STABLE',
              recentDrift: recent[recent.length - 1],
              avgDrift: recent.reduce((a, b) => a + b, 0) / recent.length,
              slope: slopeOf(recent),
            };
      return {
        referenceWindowSize: s.referenceRows ?? 0,
        currentWindowSize: s.windowSize,
        driftHistoryLength: history.length,
        latestDrift: last
          ? {
              driftScore: last.composite,
              isDrifting: last.composite > s.threshold,
              timestamp: last.timestampMs,
              report: s.lastReport && s.lastCheckedAt === last.timestampMs ? s.lastReport : undefined,
            }
          : null,
        trends,
      };
    },
  });
}

module.exports = { driftDetector, driftResult, INSUFFICIENT };
