'use strict';
/**
 * ExpenseFlow's `routes/mlAnomaly.js` after the swap: the same routes and bodies, its three
 * handlers imported from the middleware module, `driftDetector` read off the service, and its
 * direct queries of the MLPrediction / MLAnomalyModel collections replaced by the service calls
 * of docs/integration.md ("Migrating direct queries"). Everything else is ExpenseFlow's code.
 */
const express = require('express');
const router = express.Router();
const { auth, requireAdmin } = require('./auth');
const { batchMLAnalysis, getMLModelStatus, forceMLRetrain } = require('ml-anomaly/middleware');
const mlAnomalyDetectionService = require('ml-anomaly/service');

router.use(express.json());

router.get('/status', auth, requireAdmin, getMLModelStatus);
router.post('/retrain', auth, requireAdmin, forceMLRetrain);
router.post('/batch-analyze', auth, requireAdmin, batchMLAnalysis);

router.get('/predictions/recent', auth, async (req, res) => {
  try {
    const hours = parseInt(req.query.hours) || 24;
    // was: MLPrediction.getRecentAnomalies(req.userId, hours)
    const predictions = await mlAnomalyDetectionService.recentAnomalies(req.user._id, { hours });
    res.json({
      success: true,
      predictions: predictions.map((p) => ({
        timestamp: p.timestamp,
        anomalyScore: p.anomalyScore,
        confidence: p.confidence,
        explanation: { summary: p.summary, topFeatures: p.topFeatures, confidence: p.confidence, modelAgreement: p.modelAgreement },
        actionTaken: p.actionTaken,
      })),
    });
  } catch (error) {
    res.status(500).json({ success: false, error: 'Failed to retrieve predictions' });
  }
});

router.get('/predictions/:predictionId', auth, async (req, res) => {
  try {
    // was: MLPrediction.findById + an owner check; the service checks the owner itself
    const prediction = await mlAnomalyDetectionService.getPrediction(req.params.predictionId, {
      userId: req.user._id,
      isAdmin: req.user.isAdmin,
    });
    res.json({ success: true, prediction });
  } catch (error) {
    if (error.code === 'ML_ANOMALY_NOT_FOUND') return res.status(404).json({ success: false, error: 'Prediction not found' });
    if (error.code === 'ML_ANOMALY_FORBIDDEN') return res.status(403).json({ success: false, error: 'Access denied' });
    res.status(500).json({ success: false, error: 'Failed to retrieve prediction' });
  }
});

router.post('/predictions/:predictionId/feedback', auth, async (req, res) => {
  try {
    const { isFalsePositive, isFalseNegative, notes } = req.body;
    // was: MLPrediction.findById + owner check + prediction.addFeedback(...)
    await mlAnomalyDetectionService.submitFeedback(req.params.predictionId, req.user._id, { isFalsePositive, isFalseNegative, notes });
    res.json({ success: true, message: 'Feedback submitted successfully' });
  } catch (error) {
    if (error.code === 'ML_ANOMALY_NOT_FOUND') return res.status(404).json({ success: false, error: 'Prediction not found' });
    if (error.code === 'ML_ANOMALY_FORBIDDEN') return res.status(403).json({ success: false, error: 'Access denied' });
    res.status(500).json({ success: false, error: 'Failed to submit feedback' });
  }
});

router.get('/statistics', auth, async (req, res) => {
  try {
    const days = parseInt(req.query.days) || 7;
    // was: MLPrediction.getAnomalyStatistics(req.userId, days)
    const statistics = (await mlAnomalyDetectionService.statistics(req.user._id, days)).map((d) => ({
      _id: d.date,
      totalPredictions: d.totalPredictions,
      anomalyCount: d.anomalyCount,
      avgAnomalyScore: d.avgAnomalyScore,
      maxAnomalyScore: d.maxAnomalyScore,
    }));
    res.json({ success: true, statistics });
  } catch (error) {
    res.status(500).json({ success: false, error: 'Failed to retrieve statistics' });
  }
});

router.get('/models/history', auth, requireAdmin, async (req, res) => {
  try {
    const limit = parseInt(req.query.limit) || 10;
    // was: MLAnomalyModel.getModelHistory(limit) and getModelInfo()
    const models = await mlAnomalyDetectionService.modelHistory(limit);
    res.json({
      success: true,
      models: models.map((m) => ({
        version: m.version,
        isActive: m.isActive,
        trainingDate: m.trainingMetrics.trainedAt,
        trainingSize: m.trainingMetrics.trainingSize,
        validationMetrics: { autoencoderValidationLoss: m.trainingMetrics.autoencoderBestValidationLoss },
      })),
    });
  } catch (error) {
    res.status(500).json({ success: false, error: 'Failed to retrieve model history' });
  }
});

router.get('/models/active', auth, requireAdmin, async (req, res) => {
  try {
    // was: MLAnomalyModel.getActiveModel()
    const activeModel = mlAnomalyDetectionService.activeModel();
    if (!activeModel) return res.status(404).json({ success: false, error: 'No active model found' });
    res.json({
      success: true,
      model: {
        version: activeModel.version,
        isActive: true,
        trainingDate: activeModel.trainingMetrics.trainedAt,
        trainingSize: activeModel.trainingMetrics.trainingSize,
        validationMetrics: { autoencoderValidationLoss: activeModel.trainingMetrics.autoencoderBestValidationLoss },
      },
    });
  } catch (error) {
    res.status(500).json({ success: false, error: 'Failed to retrieve active model' });
  }
});

router.get('/drift/status', auth, requireAdmin, async (req, res) => {
  try {
    const driftMetrics = mlAnomalyDetectionService.driftDetector.calculateDrift();
    const driftStats = mlAnomalyDetectionService.driftDetector.getStatistics();
    res.json({ success: true, drift: driftMetrics, statistics: driftStats });
  } catch (error) {
    res.status(500).json({ success: false, error: 'Failed to retrieve drift status' });
  }
});

router.get('/performance', auth, requireAdmin, async (req, res) => {
  try {
    const hours = parseInt(req.query.hours) || 24;
    const performance = await mlAnomalyDetectionService.getModelPerformance(hours);
    // was: MLPrediction.getModelPerformanceMetrics(hours)[0]
    const dbMetrics = {
      totalPredictions: performance.totalPredictions,
      anomalyCount: performance.anomalyCount,
      avgCompositeScore: performance.averageAnomalyScore,
      avgConfidence: performance.averageConfidence,
      avgProcessingTime: performance.averageProcessingTime,
      falsePositiveCount: performance.falsePositiveReports,
    };
    res.json({ success: true, performance, databaseMetrics: dbMetrics });
  } catch (error) {
    res.status(500).json({ success: false, error: 'Failed to retrieve performance metrics' });
  }
});

router.get('/false-positives', auth, requireAdmin, async (req, res) => {
  try {
    const limit = parseInt(req.query.limit) || 100;
    // was: MLPrediction.getFalsePositives(limit)
    const falsePositives = await mlAnomalyDetectionService.falsePositives(limit);
    res.json({
      success: true,
      falsePositives: falsePositives.map((fp) => ({
        id: fp.id,
        timestamp: fp.timestamp,
        userId: fp.userId,
        anomalyScore: fp.compositeScore,
        explanation: fp.explanation
          ? { summary: fp.explanation.summary, topFeatures: fp.explanation.topFeatures.slice(0, 3), confidence: fp.confidence, modelAgreement: fp.explanation.modelAgreement }
          : 'No explanation available',
        feedback: fp.userFeedback,
      })),
      count: falsePositives.length,
    });
  } catch (error) {
    res.status(500).json({ success: false, error: 'Failed to retrieve false positives' });
  }
});

router.post('/initialize', auth, requireAdmin, async (req, res) => {
  try {
    await mlAnomalyDetectionService.initialize();
    // was: MLAnomalyModel.getActiveModel()
    const activeModel = mlAnomalyDetectionService.activeModel();
    if (!activeModel) {
      mlAnomalyDetectionService.trainModels().catch(() => {});
      return res.json({ success: true, message: 'ML system initialized. Background training started.', training: true });
    }
    res.json({ success: true, message: 'ML system initialized successfully', training: false, modelVersion: activeModel.version });
  } catch (error) {
    res.status(500).json({ success: false, error: 'Failed to initialize ML system' });
  }
});

module.exports = router;
