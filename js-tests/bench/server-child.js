'use strict';
/**
 * Child process of the throughput benchmark: an Express app with JSON routes behind a header
 * auth, with (`--ml`) or without mlAnomalyCheck over a service trained on the first weeks of the
 * generated traffic (the load replays the following weeks, so that most requests are normal, as
 * in production). Prints the port as one JSON line once listening.
 *
 * `--variant=<name>` (with `--ml`) takes parts of the request path away, to say where the
 * middleware's cost goes:
 * - `js-only`: everything in JavaScript (context, checks of the context, the answer object, the
 *   middleware), no native call: `predictSync` validates the event and decodes the previous
 *   answer again.
 * - `untrained`: the real native call on a service without a model: behavioral state, features,
 *   training window and prediction record, no scoring or explanation.
 */

const express = require('express');
const { createAnomalyService, createMiddleware } = require('ml-anomaly');
// The package's own validation, for the js-only variant (not an export of the package).
const { toEvent } = require('../../npm/ml-anomaly/lib/validate');
const { trainedService } = require('./common');

const jsTimes = [];

async function main() {
  const withMl = process.argv.includes('--ml');
  const variantArg = process.argv.find((a) => a.startsWith('--variant='));
  const variant = variantArg ? variantArg.slice('--variant='.length) : 'full';
  const app = express();
  const auth = (req, res, next) => {
    req.userId = req.headers['x-user-id'];
    req.sessionId = req.headers['x-session-id'];
    next();
  };
  let service = null;
  if (withMl) {
    // A realistic deployment: a file-less store is not needed for speed, the writer thread
    // batches records off the request path either way.
    if (variant === 'untrained') {
      service = createAnomalyService({ store: ':memory:', autoTrain: false, schedules: false });
      await service.initialize();
    } else {
      ({ service } = await trainedService({ users: 40, days: 12 }));
    }
    if (variant === 'js-only') {
      const codec = service._codec;
      service.predictSync = (sessionId, userId, context) => {
        toEvent(sessionId, userId, context, Date.now());
        return codec.decode(null);
      };
    } else if (variant !== 'full' && variant !== 'untrained') {
      throw new Error(`unknown variant ${variant}`);
    }
    // The load carries each replayed event's time, as the tests and the demo do.
    const { mlAnomalyCheck } = createMiddleware(service, { timestampHeader: 'x-event-timestamp' });
    if (process.env.BENCH_DEBUG) {
      const inner = service.predictSync.bind(service);
      service.predictSync = (...args) => {
        const t0 = process.hrtime.bigint();
        const r = inner(...args);
        if (jsTimes.length < 1e6) jsTimes.push(Number(process.hrtime.bigint() - t0) / 1000);
        return r;
      };
    }
    app.use('/api', auth, mlAnomalyCheck);
  } else {
    app.use('/api', auth);
  }
  app.set('trust proxy', 'loopback');
  app.all('/api/*', (req, res) => {
    res.json({ success: true, data: [{ id: 1, amount: 42.5, currency: 'EUR', description: 'Lunch' }] });
  });
  const server = app.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
  process.on('SIGTERM', async () => {
    server.close();
    if (service && process.env.BENCH_DEBUG) {
      const m = service.metrics();
      console.error(JSON.stringify({ engineLatencyUs: m.latencyUs, dropped: m.droppedRecords, queue: m.writerQueueDepth, jsPredictUs: jsTimes.sort((a, b) => a - b)[Math.floor(jsTimes.length / 2)] }));
    }
    if (service) await service.close();
    process.exit(0);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
