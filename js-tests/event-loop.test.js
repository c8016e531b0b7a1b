'use strict';
// Training never blocks the event loop: while 50,000 vectors train on libuv's thread pool, a
// 10 ms timer keeps ticking and an HTTP request through mlAnomalyCheck is answered. The measured
// event-loop delay during training is printed for docs/benchmarks.md (it is a measurement, not
// an assertion: timings depend on the machine).

const test = require('node:test');
const assert = require('node:assert/strict');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');

const { createAnomalyService } = require('ml-anomaly');
const { listen } = require('./helpers/http');
const { requireNative, expenseflowApp, replay } = require('./helpers/native-app');
const { normalTraffic, contextOf, recentMonday } = require('./helpers/traffic');

const VECTORS = 50000;

test('the event loop keeps turning while 50,000 vectors train', async (t) => {
  requireNative();
  const service = createAnomalyService({ store: ':memory:', autoTrain: false, schedules: false });
  t.after(() => service.close());
  const traffic = normalTraffic({ seed: 3, users: 150, days: 12, start: recentMonday(3) });
  assert.ok(traffic.events.length >= VECTORS, `generated ${traffic.events.length} events`);
  for (const e of traffic.events) service.predictSync(e.sessionId, e.userId, contextOf(e));
  assert.equal(service.metrics().trainingWindowSize, VECTORS, 'the window holds its cap of 50,000 vectors');

  const { app } = expenseflowApp(service);
  const server = await listen(app);
  t.after(server.close);
  const probe = traffic.events[traffic.events.length - 1];

  const delay = monitorEventLoopDelay({ resolution: 1 });
  let ticks = 0;
  const timer = setInterval(() => {
    ticks += 1;
  }, 10);
  const progress = [];
  service.on('training:progress', (p) => progress.push(p.phase));
  delay.enable();
  const start = performance.now();
  const training = service.train({ force: true });
  assert.equal(service.isRetraining, true);

  // A request served while the training runs.
  const answered = await replay(server.url, { ...probe, timestamp: probe.timestamp + 60000 });
  const stillTraining = service.isRetraining;
  const outcome = await training;
  const elapsed = performance.now() - start;
  delay.disable();
  clearInterval(timer);

  assert.equal(outcome.trained, true);
  assert.equal(outcome.trainingSize, VECTORS);
  assert.equal(answered.status, 200);
  assert.equal(stillTraining, true, 'the HTTP request was answered before the training finished');
  assert.ok(ticks > 0, 'a blocked event loop would show no tick at all');
  assert.ok(progress.includes('autoencoder'), `progress events reached JS: ${[...new Set(progress)].join(', ')}`);

  const ms = (ns) => (ns / 1e6).toFixed(2);
  console.log(
    `[event-loop] training ${VECTORS} vectors took ${elapsed.toFixed(0)} ms; ` +
      `10 ms timer ticks: ${ticks} (ideal ${Math.floor(elapsed / 10)}); ` +
      `event-loop delay (monitorEventLoopDelay, 1 ms resolution) p50 ${ms(delay.percentile(50))} ms, ` +
      `p99 ${ms(delay.percentile(99))} ms, max ${ms(delay.max)} ms`,
  );
});
