'use strict';
/**
 * predictStreaming through the addon: per-call latency (median, p99) with a trained model, on a
 * stream of realistic events (the generated normal traffic replayed week after week), feature
 * extraction, scoring, explanation and record queueing included. Also the same call without the
 * Promise (predictSync) and the engine's own share (its processing time per request).
 */

const { trainedService, percentile } = require('./common');
const { contextOf } = require('../helpers/traffic');

const WEEK = 7 * 24 * 3600000;

async function benchPredict({ calls = 100000 } = {}) {
  const { service, traffic } = await trainedService();
  const events = traffic.events;
  const contexts = events.map((e) => contextOf(e));
  const base = events.map((e) => e.timestamp);
  let i = 0;
  const next = () => {
    const k = i % events.length;
    const round = 1 + Math.floor(i / events.length); // round 0 was the training traffic
    contexts[k].timestamp = base[k] + round * 2 * WEEK;
    i += 1;
    return k;
  };
  for (let w = 0; w < 5000; w++) {
    const k = next();
    service.predictSync(events[k].sessionId, events[k].userId, contexts[k]);
  }
  const asyncTimes = new Float64Array(calls);
  const syncTimes = new Float64Array(calls);
  const engineTimes = new Float64Array(calls);
  let scored = 0;
  for (let c = 0; c < calls; c++) {
    const k = next();
    const t0 = process.hrtime.bigint();
    const p = await service.predictStreaming(events[k].sessionId, events[k].userId, contexts[k]);
    asyncTimes[c] = Number(process.hrtime.bigint() - t0) / 1000;
    engineTimes[c] = p.engineTimeUs;
    if (!p.fallback) scored += 1;
  }
  for (let c = 0; c < calls; c++) {
    const k = next();
    const t0 = process.hrtime.bigint();
    service.predictSync(events[k].sessionId, events[k].userId, contexts[k]);
    syncTimes[c] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  await service.close();
  const a = asyncTimes.sort();
  const s = syncTimes.sort();
  const n = engineTimes.sort();
  return {
    calls,
    scoredFraction: scored / calls,
    predictStreaming: { medianUs: percentile(a, 50), p99Us: percentile(a, 99) },
    predictSync: { medianUs: percentile(s, 50), p99Us: percentile(s, 99) },
    engine: { medianUs: percentile(n, 50), p99Us: percentile(n, 99) },
  };
}

module.exports = { benchPredict };
