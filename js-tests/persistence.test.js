'use strict';
// Persistence across a restart of the service: the model registry and active model, the
// training window, the prediction records with their feedback, the id sequence and the last
// retraining time come back from the file store, and the restarted service scores with the
// restored model at once (no fallback, no retraining).

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { createAnomalyService } = require('ml-anomaly');
const { trainedService, tempDir } = require('./helpers/native-app');
const { hijackAttack, contextOf, HOUR } = require('./helpers/traffic');

test('a restarted service restores models, window, records and feedback', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const store = path.join(tmp.dir, 'anomaly.sqlite');

  // First life: train, score an attack, give feedback, close.
  const first = await trainedService({ store, seed: 31 });
  const victim = first.users[1];
  const attack = hijackAttack({ seed: 8, user: victim, at: first.lastTimestamp + 9 * HOUR, requests: 10 });
  const predictions = [];
  for (const e of attack) predictions.push(await first.service.predictStreaming(e.sessionId, e.userId, contextOf(e)));
  const anomaly = predictions.find((p) => p.isAnomaly);
  assert.ok(anomaly, 'the attack produced an anomaly');
  await first.service.submitFeedback(anomaly.predictionId, victim.userId, { isFalseNegative: false, notes: 'checked' });
  const windowBefore = first.service.metrics().trainingWindowSize;
  const trainedAt = first.service.lastRetrainingTime;
  assert.ok(trainedAt instanceof Date);
  const lastId = predictions.at(-1).predictionId;
  await first.service.close();
  await first.service.close(); // idempotent

  // Second life: same store.
  const second = createAnomalyService({ store, autoTrain: false, schedules: false });
  t.after(() => second.close());
  assert.equal(await second.initialize(), true);
  const history = await second.modelHistory(10);
  assert.deepEqual(history.map((m) => [m.version, m.isActive]), [[1, true]]);
  assert.equal(second.metrics().activeModelVersion, 1);
  assert.equal(second.metrics().trainingWindowSize, windowBefore, 'the training window is restored');
  assert.ok(second.lastRetrainingTime instanceof Date, 'lastRetrainingTime is restored');
  assert.ok(Math.abs(second.lastRetrainingTime - trainedAt) < 60000);

  const record = await second.getPrediction(anomaly.predictionId);
  assert.equal(record.userId, victim.userId);
  assert.equal(record.isAnomaly, true);
  assert.equal(record.compositeScore, anomaly.anomalyScore);
  assert.deepEqual(record.features.length, 59);
  assert.equal(record.userFeedback.notes, 'checked');

  // Scores at once with the restored model; ids keep increasing.
  const next = attack.at(-1);
  const p = await second.predictStreaming(next.sessionId, next.userId, { ...contextOf(next), timestamp: next.timestamp + 500 });
  assert.equal(p.fallback, false);
  assert.deepEqual(p.modelVersions, { isolationForest: 1, autoencoder: 1 });
  assert.ok(p.predictionId > lastId, `id ${p.predictionId} after ${lastId}`);
  // The restored session state still knows the attacker's session: still anomalous.
  assert.equal(p.isAnomaly, true);

  // And it trains the next version from the restored window.
  const outcome = await second.train({ force: true });
  assert.equal(outcome.trained, true);
  assert.equal(outcome.version, 2);
});

test('a store that is not an ml-anomaly database is a clear error, not a crash', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const fs = require('node:fs');
  const bogus = path.join(tmp.dir, 'not-a-db.sqlite');
  fs.writeFileSync(bogus, 'this is not sqlite at all, just text '.repeat(200));
  const errors = [];
  const service = createAnomalyService({ store: bogus, schedules: false, logger: { info() {}, warn() {}, error: (m) => errors.push(m) } });
  assert.equal(await service.initialize(), false);
  assert.equal(service.initializationError.code, 'ML_ANOMALY_STORAGE');
  assert.match(service.initializationError.message, /store/i);
  assert.ok(errors.some((m) => /cannot open the engine/.test(m)));
  // The middlewares' path: the fallback with the error, never an exception.
  const p = await service.predictStreaming('s', 'u', {});
  assert.equal(p.fallback, true);
  assert.match(p.error, /store/i);
  await service.close();
});

test('a state snapshot the engine cannot use is logged, counted, and the service starts afresh', async (t) => {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const store = path.join(tmp.dir, 'anomaly.sqlite');
  const first = createAnomalyService({ store, autoTrain: false, schedules: false });
  for (let i = 0; i < 20; i++) {
    await first.predictStreaming(`s${i % 4}`, `u${i % 3}`, { timestamp: 1_700_000_000_000 + i * 1000, endpoint: '/api/expenses' });
  }
  assert.ok(first.metrics().trackedSessions > 0);
  await first.close();

  // Another `state` configuration: the snapshot's sessions do not fit it.
  const warnings = [];
  const logger = { info() {}, error() {}, warn: (m) => warnings.push(String(m)) };
  const second = createAnomalyService({ store, autoTrain: false, schedules: false, logger, engine: { state: { maxSessions: 17 } } });
  t.after(() => second.close());
  await second.initialize();
  assert.ok(warnings.some((w) => /behavioral state .* sessions start afresh/.test(w)), warnings.join('\n'));
  assert.equal(second.metrics().startupWarnings, 1);
  assert.equal(second.metrics().trackedSessions, 0);
  assert.match(second.prometheus(), /ml_anomaly_startup_warnings 1\n/);
  const p = await second.predictStreaming('s1', 'u1', { timestamp: 1_700_000_100_000 });
  assert.equal(p.error, undefined, 'and it serves');
});
