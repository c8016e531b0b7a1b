'use strict';
// middleware.test.js again, over a service that has `predictSync`: every flow (action bands,
// confidence gate, revocation, failing open and closed, downstream errors, the once-per-request
// memo) on the synchronous path the middlewares take over the real service.

process.env.ML_ANOMALY_TEST_SYNC_SERVICE = '1';
require('./middleware.test.js');
