'use strict';
// One owner for the enforcement rule: the engine decides what the standard middleware enforces
// (`prediction.enforceMinConfidence`) and stores it as `actionTaken`; the middleware acts on that
// decision. With a non-default setting, over real HTTP, what the middleware did to each request
// is what its stored record says was taken.

const test = require('node:test');
const assert = require('node:assert/strict');

const { listen } = require('./helpers/http');
const { trainedService, expenseflowApp, replay } = require('./helpers/native-app');
const { hijackAttack, HOUR } = require('./helpers/traffic');

/** What the middleware did to a request, read off the app's answer. */
function enforcedOf(r) {
  if (r.status === 403) return 'BLOCK';
  if (r.body.requires2FA) return 'REQUIRE_2FA';
  if (r.body.requiresChallenge) return 'CHALLENGE';
  if (r.body.enhancedMonitoring) return 'MONITOR';
  return 'ALLOW';
}

/** The attack replayed through a service trained with `minConfidence`; what each request met. */
async function enforcedUnder(t, minConfidence) {
  const trained = await trainedService({ seed: 33, options: { engine: { prediction: { enforceMinConfidence: minConfidence } } } });
  t.after(() => trained.service.close());
  const { app, calls } = expenseflowApp(trained.service);
  const server = await listen(app);
  t.after(server.close);
  const attack = hijackAttack({ seed: 8, user: trained.users[1], at: trained.lastTimestamp + 6 * HOUR, requests: 30 });
  const answers = [];
  for (const e of attack) {
    const r = await replay(server.url, e);
    const id = r.status === 403 ? calls.securityEvents.at(-1).predictionId : r.body.mlPrediction.predictionId;
    answers.push({ id, enforced: enforcedOf(r) });
  }
  await trained.service.flush();
  let anomalies = 0;
  for (const a of answers) {
    const record = await trained.service.getPrediction(a.id);
    assert.equal(record.actionTaken, a.enforced, `enforceMinConfidence ${minConfidence}, prediction ${a.id}: stored ${record.actionTaken}, enforced ${a.enforced}`);
    if (record.isAnomaly) anomalies += 1;
  }
  assert.ok(anomalies >= 3, `the attack produced anomalies (${anomalies})`);
  return answers.map((a) => a.enforced);
}

for (const minConfidence of [0.5, 0.99]) {
  test(`enforceMinConfidence ${minConfidence}: the stored actionTaken is what the middleware enforced`, async (t) => {
    const enforced = await enforcedUnder(t, minConfidence);
    assert.ok(enforced.includes('BLOCK'), `the hijack was stopped: ${enforced.join(',')}`);
  });
}
