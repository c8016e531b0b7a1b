// Compiled (not run) by types.test.js with `tsc --noEmit --strict`: the documented usage of
// every export type-checks against index.d.ts and the subpath declarations.
import mla = require('ml-anomaly');
import service = require('ml-anomaly/service');
import { mlAnomalyCheck, strictMLCheck, createMiddleware, batchMLAnalysis, getMLModelStatus, forceMLRetrain } from 'ml-anomaly/middleware';
import { createRouter } from 'ml-anomaly/router';

export async function usage(): Promise<void> {
  const mine = mla.createAnomalyService({
    store: ':memory:',
    anomalyThreshold: 0.65,
    logger: console,
    revokeSession: async (sessionId: string, userId: string) => {
      void sessionId;
      void userId;
    },
    onSecurityEvent: (event) => event.severity === 'CRITICAL',
    resolveEndpointSensitivity: (req) => (req.url && req.url.startsWith('/admin') ? 'CRITICAL' : undefined),
    isolationForest: { nTrees: 100, maxTreeDepth: 'auto' },
  });
  mla.configure({ store: '/var/lib/app/ml.sqlite' });
  const ok: boolean = await service.initialize();
  const p: mla.Prediction = await mine.predictStreaming('s', 'u', {
    endpoint: '/api/expenses',
    method: 'POST',
    endpointSensitivity: 'MEDIUM',
    location: { lat: 48.85, lon: 2.35 },
    timestamp: Date.now(),
  });
  const action: mla.Action = p.action;
  const top: string[] = p.explanation.map((f) => f.feature);
  // ExpenseFlow's example 4 reads the original's stored-explanation shape off the answer.
  const top3 = p.explanation.topFeatures.slice(0, 3);
  const summary: string | undefined = p.explanation.summary;
  const enforced: mla.Action | undefined = p.enforcedAction;
  // Run-time tuning, as ExpenseFlow's quick start does.
  service.modelConfig.prediction.anomalyThreshold = 0.75;
  service.modelConfig.prediction.ensembleWeight = { isolationForest: 0.7, autoencoder: 0.3 };
  const days30: number = service.modelConfig.retraining.modelWindowDays;
  const driftNow: mla.DriftMetrics = service.driftDetector.calculateDrift();
  const driftText: string = driftNow.driftScore.toFixed(3);
  const driftStats: mla.DriftStatistics = service.driftDetector.getStatistics();
  const v: number | null = p.modelVersions.isolationForest;
  const batch = await mine.predictBatch(['s1'], ['u1']);
  const sid: string = batch[0].sessionId;
  const trained: boolean = await mine.trainModels(true);
  const drift = await mine.checkDriftAndRetrain();
  const retrained: boolean = drift.retrained;
  const perf = await mine.getModelPerformance(24);
  const total: number = perf.totalPredictions;
  const record = await mine.getPrediction(1, { userId: 'u', isAdmin: false });
  const width: number = record.features.length;
  const fb = await mine.submitFeedback(record.id, 'u', { isFalsePositive: true, notes: 'travelling' });
  const when: number = fb.submittedAt;
  const days: mla.DailyStatistics[] = await mine.statistics('u', 7);
  const recent: mla.AnomalySummary[] = await mine.recentAnomalies('u', { hours: 24 });
  const history: mla.ModelSummary[] = await mine.modelHistory(10);
  const text: string = mine.prometheus();
  const retraining: boolean = mine.isRetraining;
  const last: Date | null = mine.lastRetrainingTime;
  mine.on('training:progress', (progress) => progress.phase.toUpperCase());
  mine.on('training:done', (outcome) => outcome.version);
  const { mlAnomalyCheck: check } = createMiddleware(mine, { timestampHeader: 'x-event-time' });
  const router = createRouter({ auth: (req, res, next) => next(), requireAdmin: mlAnomalyCheck, service: mine, viewer: { staticDir: '/srv/viewer' } });
  const withViewer = createRouter({ auth: (req, res, next) => next(), viewer: true });
  const fallback: boolean | undefined = mla.fallbackPrediction(new Error('x')).fallback;
  const model: mla.NativeModel = mla.NativeModel.fromJson(await mine.modelBundle(1));
  const scores: mla.ModelScores = model.score(new Float64Array(model.nFeatures));
  const explained: mla.ModelPrediction = model.predict(record.features, true, 10);
  const firstLabel: string | undefined = explained.explanation.topFeatures[0]?.label;
  const attribution: mla.Attribution = model.attribution(model.baselines());
  const block: number = model.thresholds().block;
  const names: string[] = model.featureNames();
  await mine.close();
  void [batchMLAnalysis, getMLModelStatus, forceMLRetrain, top3, summary, enforced, days30, driftText, driftStats];
  void [ok, action, top, v, sid, trained, retrained, total, width, when, days, recent, history, text, retraining, last, check, router, withViewer, fallback, strictMLCheck, scores, firstLabel, attribution, block, names];
}
