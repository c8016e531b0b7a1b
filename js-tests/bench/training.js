'use strict';
/**
 * Training time on 50,000 vectors through the addon (default model configuration: 100 trees of
 * 256 samples, autoencoder 59-16-59 for 50 epochs), wall time from JavaScript and the engine's
 * own duration, median of `runs` trainings on the same window.
 */

const { createAnomalyService } = require('ml-anomaly');
const { normalTraffic, contextOf, recentMonday } = require('../helpers/traffic');
const { requireNative } = require('../helpers/native-app');
const { median } = require('./common');

async function benchTraining({ vectors = 50000, runs = 3 } = {}) {
  requireNative();
  const service = createAnomalyService({ store: ':memory:', autoTrain: false, schedules: false });
  const traffic = normalTraffic({ seed: 3, users: 150, days: 12, start: recentMonday(3) });
  if (traffic.events.length < vectors) throw new Error(`only ${traffic.events.length} events generated`);
  for (const e of traffic.events) service.predictSync(e.sessionId, e.userId, contextOf(e));
  const wall = [];
  const engine = [];
  let size = 0;
  let epochs = 0;
  service.on('training:progress', (p) => {
    if (p.phase === 'autoencoder') epochs = Math.max(epochs, p.epoch);
  });
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    const out = await service.train({ force: true });
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (!out.trained) throw new Error(`training skipped: ${out.reason}`);
    engine.push(out.durationMs);
    size = out.trainingSize;
  }
  await service.close();
  return { vectors: size, runs, wallMs: median(wall), engineMs: median(engine), epochsSeen: epochs };
}

module.exports = { benchTraining };
