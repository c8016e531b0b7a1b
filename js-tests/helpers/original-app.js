'use strict';
/**
 * An app written against the ORIGINAL interface only, as ExpenseFlow's code uses it: the
 * service's method names and response shapes (../shared/notes/expenseflow-interface.md), the
 * middlewares from `middleware/mlAnomalyDetection`, the routes mounted at /api/ml-anomaly, and
 * the usage patterns of the original's integration examples. Nothing here knows about
 * ml-anomaly's extras; the drop-in test hands it ml-anomaly's modules in place of the
 * original's and expects it to work unchanged.
 *
 * `modules`: { service, middleware: { mlAnomalyCheck, strictMLCheck }, routes } — what the
 * host's `require()` calls return.
 */

const express = require('express');

function buildApp(modules, { auth }) {
  const mlAnomalyDetectionService = modules.service;
  const mlAnomalyRoutes = modules.routes;
  const { mlAnomalyCheck, strictMLCheck } = modules.middleware;

  const app = express();
  app.use(express.json());

  // server.js, as in ExpenseFlow
  mlAnomalyDetectionService.initialize();
  app.use('/api/ml-anomaly', mlAnomalyRoutes);
  app.use('/api', auth, mlAnomalyCheck);
  app.use('/api/admin', auth, strictMLCheck);

  // Integration example: custom high-risk handling on a sensitive endpoint.
  app.post('/api/expenses/:id/approve', async (req, res) => {
    const prediction = await mlAnomalyDetectionService.predictStreaming(req.sessionId, req.userId, {
      endpoint: req.path,
      method: req.method,
      ipAddress: req.ip,
      userAgent: req.get('user-agent'),
      endpointSensitivity: 'HIGH',
    });
    if (prediction.isAnomaly && prediction.anomalyScore > 0.85) {
      return res.status(403).json({ success: false, error: 'Approval blocked', explanation: prediction.explanation });
    }
    return res.json({ success: true, approved: true, requires2FA: Boolean(req.requires2FA) });
  });

  // Integration example: a dashboard built from the service's own answers.
  app.get('/api/dashboard/ml', async (req, res) => {
    const performance = await mlAnomalyDetectionService.getModelPerformance(24);
    res.json({
      success: true,
      isRetraining: mlAnomalyDetectionService.isRetraining,
      lastRetrainingTime: mlAnomalyDetectionService.lastRetrainingTime,
      totalPredictions: performance.totalPredictions,
      anomalyCount: performance.anomalyCount,
      averageAnomalyScore: performance.averageAnomalyScore,
      averageConfidence: performance.averageConfidence,
      models: Object.keys(performance.modelPerformance),
      driftMetrics: performance.driftMetrics,
    });
  });

  app.all('/api/*', (req, res) => {
    res.json({
      success: true,
      mlPrediction: req.mlPrediction,
      requires2FA: req.requires2FA,
      requiresChallenge: req.requiresChallenge,
      enhancedMonitoring: req.enhancedMonitoring,
    });
  });
  return app;
}

module.exports = { buildApp };
