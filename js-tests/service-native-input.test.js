'use strict';
// Bad input whose rule the engine owns (names of the enumerations, the bounds of a timestamp and of a position): a
// TypeError naming the field, from the addon, through predictStreaming.

const test = require('node:test');
const assert = require('node:assert/strict');

const { createAnomalyService } = require('ml-anomaly');
const { requireNative } = require('./helpers/native-app');

requireNative();

test('names and bounds the engine checks are TypeErrors naming the field', async (t) => {
  const service = createAnomalyService({ store: ':memory:', schedules: false, autoTrain: false });
  t.after(() => service.close());
  const cases = [
    [{ endpointSensitivity: 'EXTREME' }, /endpointSensitivity must be one of LOW, MODERATE, HIGH, CRITICAL/],
    [{ signals: [{ type: 'X', severity: 'SEVERE' }] }, /signal severity must be one of LOW, MODERATE, HIGH, CRITICAL/],
    [{ timestamp: 1e16 }, /timestamp/],
    // the header parser and the middleware drop such points; the API says so
    [{ location: { lat: 91, lon: 0 } }, /location must have lat in \[-90, 90\] and lon in \[-180, 180\]/],
    [{ location: { lat: 0, lon: 181 } }, /location must have lat/],
    [{ location: { lat: -1000, lon: 1e308 } }, /location must have lat/],
  ];
  for (const [context, message] of cases) {
    await assert.rejects(service.predictStreaming('s', 'u', context), (err) => {
      assert.ok(err instanceof TypeError, `${JSON.stringify(context)}: ${err}`);
      assert.match(err.message, message);
      return true;
    });
  }
  // Any case, and the original's MEDIUM, are the names themselves.
  for (const name of ['medium', 'High', 'critical']) {
    const p = await service.predictStreaming('s', 'u', {
      endpointSensitivity: name,
      signals: [{ type: 'X', severity: name }],
      location: { lat: -90, lon: 180 },
    });
    assert.equal(p.fallback, true, 'no model yet, but accepted');
    assert.equal(p.error, undefined);
  }
});
