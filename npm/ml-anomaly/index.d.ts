// Types of the ml-anomaly package. See README.md for the integration guide.

import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Action, AttributionMethod, Attribution, ModelPrediction, ModelScores, Thresholds } from './model-types';

// The model's answers are declared once, in model-types.d.ts (shared with the browser package).
export type {
  Action,
  AttributionMethod,
  Attribution,
  ConfidenceFactor,
  ModelExplanation,
  ModelFeatureContribution,
  ModelPrediction,
  ModelScores,
  Thresholds,
  Weights,
} from './model-types';

/** ExpenseFlow's endpoint sensitivity. `'MEDIUM'` is accepted as `'MODERATE'`. */
export type Sensitivity = 'LOW' | 'MODERATE' | 'HIGH' | 'CRITICAL';

/** Decimal degrees (WGS 84); `predictStreaming` rejects a point off the globe with a TypeError. */
export interface GeoPoint {
  /** -90 ..= 90 */
  lat: number;
  /** -180 ..= 180 */
  lon: number;
}

/** A behavioral signal raised by the host's own signal engine. */
export interface ExternalSignal {
  type: string;
  severity?: 'LOW' | 'MODERATE' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
  /** Risk points 0–100. */
  riskImpact?: number;
}

/** The original's `requestContext`, plus `timestamp` and a few optional extras. */
export interface RequestContext {
  /** Milliseconds since the epoch; overrides the clock (replays, tests). */
  timestamp?: number | Date;
  endpoint?: string;
  method?: string;
  ipAddress?: string;
  userAgent?: string;
  contentLength?: number;
  endpointSensitivity?: Sensitivity | 'MEDIUM';
  /** Session age in ms (the original's field). */
  sessionAge?: number;
  /** When the session started, ms since the epoch (preferred over `sessionAge`). */
  sessionStartedAt?: number | Date;
  /** Overrides the flag computed from the timestamp. */
  isWeekend?: boolean;
  /** Overrides the flag computed from the timestamp. */
  isBusinessHours?: boolean;
  location?: GeoPoint;
  deviceFingerprint?: string;
  /** Response status, when the event is recorded after the response (401/403 count as failed auth). */
  statusCode?: number;
  signals?: ExternalSignal[];
}

/** One feature's part in a score. */
export interface FeatureContribution {
  feature: string;
  /** Signed contribution to the composite score. */
  contribution: number;
  /** The feature's raw value. */
  value: number;
  /** The value as the models saw it (scaled). */
  normalizedValue: number;
}

/**
 * `prediction.explanation`: the top contributing features (5 by default), largest first, as an
 * array (the original's shape). It also answers `.topFeatures` (the same array) and, on an
 * anomaly, `.summary`, so that code written against the original's stored explanation
 * (`prediction.explanation.topFeatures.slice(0, 3)`, `explanation.summary`) works on it; both are
 * non-enumerable (the array serializes and compares as the plain list).
 */
export type PredictionExplanation = FeatureContribution[] & {
  readonly topFeatures: FeatureContribution[];
  readonly summary?: string;
  /** How earlier requests' evidence escalated this one, in words (anomalies decided by evidence). */
  readonly evidence?: string;
};

/**
 * How the decision layer reached the action (docs/models.md, "How a score becomes an action"):
 * the evidence accumulated on the request's user, device and source address across requests and
 * session ids, mapped to a score whose thresholds were fitted to the friction budget.
 */
export interface Decision {
  /** Decision score in [0, 1]; 0.70 / 0.80 / 0.90 are CHALLENGE / REQUIRE_2FA / BLOCK. */
  score: number;
  /** The enforceable evidence, in nats of surprise beyond normal traffic. */
  evidence: number;
  /** Whose evidence decided: 'user', 'device' or 'source' (null: none yet). */
  entity: 'user' | 'device' | 'source' | null;
  /** predictionIds of the earlier requests that escalated this one, most recent first (up to 8). */
  contributors: number[];
  /** The model is still learning this traffic: nothing above MONITOR is enforced. */
  learning: boolean;
  /** What strictMLCheck denies (the strict friction budget). */
  strictDenied: boolean;
  /** Factor a reported false positive applied to this request's surprise (1 = none). */
  discount: number;
}

/** The answer of `predictStreaming`: the original's shape plus extras. */
export interface Prediction {
  isAnomaly: boolean;
  /** Calibrated composite score in [0, 1]. */
  anomalyScore: number;
  /** min(1, 1.2·(1 − |IF − AE|)). */
  confidence: number;
  explanation: PredictionExplanation;
  modelVersions: { isolationForest: number | null; autoencoder: number | null };
  /** Recommended action for the composite score. */
  action: Action;
  /** True on the fallback answer (no model yet, or an error); false when a model scored it. */
  fallback?: boolean;
  /** Why the fallback was answered, when it was an error. */
  error?: string;
  /** Id of the stored prediction record (for GET /predictions/:id and feedback). */
  predictionId?: number;
  modelVersion?: number | null;
  /** Calibrated per-model scores and the composite (when a model scored the request). */
  scores?: { isolationForest: number; autoencoder: number; composite: number };
  /** 1 − |IF − AE| (when a model scored the request). */
  modelAgreement?: number;
  /**
   * What the standard middleware enforces, as the engine decided (and stored as `actionTaken`):
   * by the decision layer when the model has one (`decision`); for an older model, the
   * recommended action when the confidence is above `prediction.enforceMinConfidence` (0.8),
   * MONITOR otherwise. A model in learning mode enforces nothing above MONITOR.
   */
  enforcedAction?: Action;
  /** One-line readable explanation, on anomalies. */
  summary?: string;
  /** How earlier requests' evidence escalated this one, in words (when it did). */
  evidence?: string;
  /** The decision layer's side of the answer; null for a fallback or an older model. */
  decision?: Decision | null;
  /** Behavioral signals derived from this request (IMPOSSIBLE_TRAVEL, NEW_DEVICE...). */
  signals?: string[];
  /** The event time used, ms since the epoch. */
  timestamp?: number;
  /** Microseconds spent in the native engine (feature extraction included). */
  engineTimeUs?: number;
  /** Milliseconds spent in the service. */
  processingTime: number;
}

/** predictBatch's entries: each session's latest request rescored, nothing recorded. */
export interface BatchPrediction extends Omit<Prediction, 'processingTime'> {
  sessionId: string;
  userId: string;
}

export interface DriftResult {
  driftDetected: boolean;
  driftScore: number;
  retrained: boolean;
  [detail: string]: unknown;
}

/** The original's `driftDetector.calculateDrift()`: `driftScore` is always a number. */
export interface DriftMetrics {
  isDrifting: boolean;
  driftScore: number;
  confidence: 'LOW' | 'MEDIUM' | 'HIGH';
  /** 'Insufficient data for drift detection' while either window holds fewer than 100 points. */
  details: string | { psi: number; ks: number; distribution: number; score: number };
  timestamp?: number;
  threshold?: number;
  /** The engine's full drift report (per-feature PSI, KS, histograms). */
  report?: Record<string, unknown>;
}

/** The original's `driftDetector.getStatistics()`. */
export interface DriftStatistics {
  referenceWindowSize: number;
  currentWindowSize: number;
  driftHistoryLength: number;
  latestDrift: { driftScore: number; isDrifting: boolean; timestamp: number; report?: Record<string, unknown> } | null;
  trends: { trend: 'STABLE' | 'INCREASING' | 'DECREASING'; recentDrift: number; avgDrift: number; slope?: number };
}

/** `service.driftDetector`: the original's detector interface (synchronous, as the original's). */
export interface DriftDetector {
  /** A fresh assessment of the recent requests (records nothing, never retrains). */
  calculateDrift(): DriftMetrics;
  getStatistics(): DriftStatistics;
}

export interface ModelPerformance {
  totalPredictions: number;
  anomalyCount: number;
  averageAnomalyScore: number;
  averageConfidence: number;
  /** Mean ms spent serving a prediction. */
  averageProcessingTime: number;
  falsePositiveReports: number;
  modelPerformance: { isolationForest: Record<string, unknown>; autoencoder: Record<string, unknown> };
  driftMetrics: DriftMetrics;
  [extra: string]: unknown;
}

/** Training progress, as emitted with 'training:progress' and shown in `status()`. */
export interface TrainingProgress {
  /** e.g. 'collecting', 'forest', 'autoencoder', 'calibrating', 'saving', 'done', 'failed'. */
  phase: string;
  epoch?: number;
  epochs?: number;
  trainLoss?: number;
  validationLoss?: number;
  [extra: string]: unknown;
}

export interface TrainOutcome {
  trained: boolean;
  version?: number;
  reason?: string;
  trainingSize?: number;
  durationMs?: number;
  error?: string;
  [extra: string]: unknown;
}

/** A stored prediction (the original MLPrediction's fields). Times are ms since the epoch. */
export interface PredictionRecord {
  id: number;
  sessionId: string;
  userId: string;
  timestamp: number;
  /** The 59 feature values. */
  features: number[];
  isolationForestScore: number;
  autoencoderScore: number;
  compositeScore: number;
  isAnomaly: boolean;
  confidence: number;
  explanation: {
    topFeatures: Array<FeatureContribution & { label: string; baseline: number; direction: string; isolationForest: number; autoencoder: number }>;
    explanation: string;
    modelAgreement: number;
    confidenceFactors: { factor: string; description: string; impact: number }[];
    summary: string;
    [extra: string]: unknown;
  } | null;
  requestContext: Record<string, unknown> | string | null;
  modelVersion: number | null;
  recommendedAction: Action;
  actionTaken: Action;
  /** The latest feedback report. */
  userFeedback: StoredFeedback | null;
  /** Every feedback report, oldest first (`getPrediction` only; absent when there is none and in lists). */
  feedbackHistory?: FeedbackReport[];
  processingTime: number;
  fallback: boolean;
  error: string | null;
  signals: string[];
}

export interface StoredFeedback {
  isFalsePositive: boolean;
  isFalseNegative: boolean;
  notes: string | null;
  /** ms since the epoch. */
  submittedAt: number;
}

/** One report in a prediction's feedback history: a new report never erases an earlier one. */
export interface FeedbackReport {
  /** The user id the report was submitted as. */
  submittedBy: string;
  /** ms since the epoch. */
  submittedAt: number;
  isFalsePositive: boolean;
  isFalseNegative: boolean;
  notes: string | null;
}

/** One of a user's recent anomalies (`recentAnomalies`; GET /predictions/recent shows them in the original's shape). */
export interface AnomalySummary {
  id: number;
  /** ms since the epoch. */
  timestamp: number;
  anomalyScore: number;
  confidence: number;
  summary: string;
  /** The explanation's three largest contributions. */
  topFeatures: Array<FeatureContribution & { label: string; baseline: number; direction: string }>;
  modelAgreement: number | null;
  recommendedAction: Action;
  actionTaken: Action;
}

/** A session with anomalies over a period (`suspiciousSessions`). */
export interface SuspiciousSession {
  sessionId: string;
  userId: string;
  anomalyCount: number;
  maxScore: number;
  avgScore: number;
  /** ms since the epoch of its latest anomaly. */
  lastSeen: number;
  /** The three largest contributions of its highest-scoring anomaly. */
  topFeatures: Array<FeatureContribution & { label: string }>;
}

export interface Feedback {
  isFalsePositive?: boolean;
  isFalseNegative?: boolean;
  /** At most 2000 characters. */
  notes?: string;
}

export interface DailyStatistics {
  /** YYYY-MM-DD (UTC). */
  date: string;
  dayStart: number;
  totalPredictions: number;
  anomalyCount: number;
  /** null when the day had only fallback predictions. */
  avgAnomalyScore: number | null;
  maxAnomalyScore: number | null;
}

/** A model version (MLAnomalyModel without the parameters). */
export interface ModelSummary {
  version: number;
  /** ms since the epoch. */
  createdAt: number;
  isActive: boolean;
  deactivatedAt: number | null;
  trainingMetrics: { trainingSize: number; [metric: string]: unknown };
  driftDetectorState: Record<string, unknown>;
  sizeBytes: number;
}

export interface Logger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** What the middlewares report on an anomaly (the original recorded a security event). */
export interface SecurityEvent {
  type: 'ML_ANOMALY_DETECTED' | 'ML_ANOMALY_STRICT_DENIED';
  severity: 'LOW' | 'MODERATE' | 'HIGH' | 'CRITICAL';
  sessionId: string;
  userId: string;
  action: Action;
  /** What the standard middleware enforced. */
  enforcedAction: Action;
  anomalyScore: number;
  confidence: number;
  predictionId?: number | string | null;
  explanation: FeatureContribution[];
  requestContext: RequestContext;
  timestamp: Date;
}

type AnyRequest = IncomingMessage & Record<string, any>;
type AnyResponse = ServerResponse & Record<string, any>;
export type Middleware = (req: AnyRequest, res: AnyResponse, next: (err?: unknown) => void) => unknown;

/**
 * Options of a service. Flat names have ML_ANOMALY_* environment variables for the singleton
 * (README: Configuration). Defaults and ranges are the engine's (`DEFAULTS` shows them); the
 * package sends only what is set. Precedence, lowest first: the engine's defaults, environment
 * variables (singleton only), `engine`, the original's sections, the flat options.
 */
export interface AnomalyServiceOptions {
  /** SQLite file of the store, or ':memory:'. Default 'ml-anomaly.sqlite'. ML_ANOMALY_STORE. */
  store?: string;
  /** Seed of every training. ML_ANOMALY_SEED. */
  seed?: number;
  /**
   * isAnomaly when the composite is above this (0.65). It may exceed the action thresholds:
   * actions then start at it, as in the original. ML_ANOMALY_ANOMALY_THRESHOLD.
   */
  anomalyThreshold?: number;
  /** CHALLENGE from here (0.70). ML_ANOMALY_CHALLENGE_THRESHOLD. */
  challengeThreshold?: number;
  /** REQUIRE_2FA from here (0.80). ML_ANOMALY_REQUIRE_2FA_THRESHOLD. */
  require2faThreshold?: number;
  /** BLOCK from here (0.90). ML_ANOMALY_BLOCK_THRESHOLD. */
  blockThreshold?: number;
  /** Fewest vectors a training needs (1000). ML_ANOMALY_MIN_SAMPLES. */
  minSamplesForTraining?: number;
  /** Days of traffic a model learns from (30). ML_ANOMALY_MODEL_WINDOW_DAYS. */
  modelWindowDays?: number;
  /** Retrain when the drift score exceeds this (0.15). ML_ANOMALY_DRIFT_THRESHOLD. */
  driftThreshold?: number;
  /** Drift check period, ms (1 h; 0 disables). ML_ANOMALY_DRIFT_CHECK_INTERVAL_MS. */
  driftCheckIntervalMs?: number;
  /** Forced retrain period, ms (1 day; 0 disables). ML_ANOMALY_FORCED_RETRAIN_INTERVAL_MS. */
  forcedRetrainIntervalMs?: number;
  /** Train the first model automatically once enough samples exist (true). ML_ANOMALY_AUTO_TRAIN. */
  autoTrain?: boolean;
  /** Start the schedules in initialize() (true). ML_ANOMALY_SCHEDULES. */
  schedules?: boolean;
  /** Features in a prediction's explanation (5). ML_ANOMALY_EXPLANATION_SIZE. */
  explanationSize?: number;
  /** The original's configuration sections, same names and meaning. */
  isolationForest?: { nTrees?: number; sampleSize?: number; maxTreeDepth?: number | 'auto'; contamination?: number };
  autoencoder?: { inputDim?: number; encodingDim?: number; learningRate?: number; epochs?: number; batchSize?: number; validationSplit?: number };
  retraining?: { minSamplesForTraining?: number; hourlyRetrainThreshold?: number; dailyRetrainForced?: boolean; modelWindowDays?: number };
  prediction?: {
    ensembleWeight?: { isolationForest?: number; autoencoder?: number };
    anomalyThreshold?: number;
    /**
     * Build and store the readable explanation of every scored request, not only of anomalies
     * (false). Off, a normal request's explanation is recomputed exactly when it is read back.
     */
    storeAllExplanations?: boolean;
  };
  /** A raw engine configuration fragment (crates/engine EngineConfig); below the sections and flat options. */
  engine?: Record<string, unknown>;
  /**
   * Anything with info/warn/error (console, pino...). Default: warnings and errors to the console,
   * info silent, as the original logged. `false`: nothing at all.
   */
  logger?: Logger | false;
  /** Called with each security event the middlewares report. */
  onSecurityEvent?: (event: SecurityEvent) => unknown;
  /** Called by mlAnomalyCheck before answering 403 on a BLOCK. */
  revokeSession?: (sessionId: string, userId: string) => unknown;
  /** The host's endpoint classification; return undefined to use the default. */
  resolveEndpointSensitivity?: (req: AnyRequest) => Sensitivity | 'MEDIUM' | undefined;
  /** Clock, ms since the epoch (tests). Default Date.now. */
  now?: () => number;
}

/** `service.modelConfig`: the engine's sections in the original's shape, plus the engine's additions. */
export interface ModelConfig {
  isolationForest: { nTrees: number; sampleSize: number; maxTreeDepth: number | 'auto'; contamination: number; [extra: string]: unknown };
  autoencoder: { inputDim: number | null; encodingDim: number; learningRate: number; epochs: number; batchSize: number; validationSplit: number; [extra: string]: unknown };
  retraining: { minSamplesForTraining: number; hourlyRetrainThreshold: number; dailyRetrainForced: boolean; modelWindowDays: number; [extra: string]: unknown };
  prediction: {
    ensembleWeight: { isolationForest: number; autoencoder: number };
    anomalyThreshold: number;
    challenge: number;
    require2fa: number;
    block: number;
    [extra: string]: unknown;
  };
}

export interface ServiceStatus {
  initialized: boolean;
  isRetraining: boolean;
  lastRetrainingTime: Date | null;
  trainingProgress: TrainingProgress | null;
  activeModelVersion?: number | null;
  [extra: string]: unknown;
}

/**
 * The service: the original mlAnomalyDetectionService's interface. Events: 'training:start',
 * 'training:progress', 'training:done', 'training:skipped', 'training:error', 'drift', 'security'.
 */
export declare class AnomalyService extends EventEmitter {
  constructor(options?: AnomalyServiceOptions);
  /**
   * The options in force, live: each flat option's current value (the engine's default when not
   * set). Assigning a flat option applies it as `configure({ name: value })` does. Throws a
   * TypeError naming the option when the configuration is invalid.
   */
  options: Required<Pick<AnomalyServiceOptions, 'store' | 'anomalyThreshold' | 'challengeThreshold' | 'require2faThreshold' | 'blockThreshold' | 'minSamplesForTraining' | 'modelWindowDays' | 'driftThreshold' | 'driftCheckIntervalMs' | 'forcedRetrainIntervalMs' | 'autoTrain' | 'schedules' | 'explanationSize'>> & AnomalyServiceOptions;
  readonly logger: Logger;
  /** The host's integration settings (callbacks, logger): cheap, never throws. */
  readonly integration: Pick<AnomalyServiceOptions, 'onSecurityEvent' | 'revokeSession' | 'resolveEndpointSensitivity' | 'now'> & { logger: Logger; schedules: boolean };
  /**
   * The original's configuration object, live: reading shows the settings in force; assigning a
   * field (`modelConfig.prediction.anomalyThreshold = 0.75`, `ensembleWeight`, `challenge`,
   * `require2fa`, `block`, `retraining.*`) applies it on the next request or training, or throws a
   * TypeError naming the field and changes nothing.
   */
  readonly modelConfig: ModelConfig;
  /** The original's drift detector. */
  readonly driftDetector: DriftDetector;
  /** True while a training runs. */
  readonly isRetraining: boolean;
  /** End of the last successful training, or null. */
  readonly lastRetrainingTime: Date | null;
  /** Why the last initialize() resolved to false, or null. */
  initializationError: Error | null;
  /**
   * Changes options. Before the engine opens they are validated and used at open; afterwards the
   * engine's settings among them apply at once (the store and the seed cannot change while it
   * runs) and callbacks, logger and schedules are replaced. Throws a TypeError, and changes
   * nothing, for an invalid value.
   */
  configure(options: AnomalyServiceOptions): this;
  /** Logs `message` as a warning once per `key` (misconfigurations). */
  warnOnce(key: string, message: string): void;
  /** Records what was done to a request when its prediction enforced something else (the strict 403 is a BLOCK). */
  recordActionTaken(predictionId: number, action: Action): void;
  /** Counts what a middleware did without a prediction (shown in metrics and /status). */
  recordMiddleware(event: 'skippedWithoutUser' | 'skippedWithoutSession' | 'ignoredLocation'): void;
  /** Resolves to true; to false (never rejects) when the engine cannot be opened: see initializationError. */
  initialize(): Promise<boolean>;
  predictStreaming(sessionId: string | number | { toString(): string }, userId: string | number | { toString(): string }, requestContext?: RequestContext): Promise<Prediction>;
  /** predictStreaming without the Promise. */
  predictSync(sessionId: string | number | { toString(): string }, userId: string | number | { toString(): string }, requestContext?: RequestContext): Prediction;
  predictBatch(sessionIds: Array<string | number>, userIds: Array<string | number>): Promise<BatchPrediction[]>;
  trainModels(forceRetrain?: boolean): Promise<boolean>;
  forceRetrain(): Promise<boolean>;
  train(options?: { force?: boolean; trigger?: string }): Promise<TrainOutcome>;
  checkDriftAndRetrain(): Promise<DriftResult>;
  getModelPerformance(hours?: number): Promise<ModelPerformance>;
  status(): ServiceStatus;
  metrics(): Record<string, unknown>;
  /** Metrics in Prometheus text format. */
  prometheus(): string;
  /** Periodic jobs that are due (drift check, forced retrain, pruning, snapshot), as the schedules run them. */
  maintenance(): Promise<Record<string, unknown>>;
  driftStatus(): Record<string, unknown>;
  modelHistory(limit?: number): Promise<ModelSummary[]>;
  activeModel(): ModelSummary | null;
  activateModel(version: number): Promise<ModelSummary>;
  /** The model bundle as JSON text. */
  modelBundle(version: number): Promise<string>;
  /** Rejects with code ML_ANOMALY_NOT_FOUND or ML_ANOMALY_FORBIDDEN (requester not owner nor admin). */
  getPrediction(predictionId: number | string, requester?: { userId?: string; isAdmin?: boolean }): Promise<PredictionRecord>;
  /** The explanation recomputed by the model that scored it (exact: TreeSHAP), with every feature's attribution. */
  explainPrediction(predictionId: number | string, options?: { exact?: boolean; userId?: string; isAdmin?: boolean }): Promise<Record<string, unknown>>;
  recentAnomalies(userId: string, options?: { hours?: number; limit?: number }): Promise<AnomalySummary[]>;
  /** The owner's feedback; rejects with ML_ANOMALY_NOT_FOUND / ML_ANOMALY_FORBIDDEN, or a TypeError. */
  submitFeedback(predictionId: number | string, userId: string, feedback: Feedback): Promise<StoredFeedback>;
  statistics(userId: string, days?: number): Promise<DailyStatistics[]>;
  /** Sessions with anomalies scoring at least `minScore` (0.7) in the last `hours` (24), highest first. */
  suspiciousSessions(options?: { hours?: number; minScore?: number; limit?: number }): Promise<SuspiciousSession[]>;
  falsePositives(limit?: number): Promise<PredictionRecord[]>;
  /** Waits until every queued record is committed. */
  flush(): Promise<void>;
  /** Calls `callback` (default: the onSecurityEvent option) and emits 'security'; never throws. */
  reportSecurityEvent(event: SecurityEvent, callback?: (event: SecurityEvent) => unknown): void;
  stopSchedules(): void;
  /** Stops the schedules and flushes and closes the store. */
  close(): Promise<void>;

  on(event: 'training:start', listener: (info: { force: boolean; trigger: string }) => void): this;
  on(event: 'training:progress', listener: (progress: TrainingProgress) => void): this;
  on(event: 'training:done' | 'training:skipped', listener: (outcome: TrainOutcome & { trigger: string }) => void): this;
  on(event: 'training:error', listener: (error: Error) => void): this;
  on(event: 'drift', listener: (result: DriftResult) => void): this;
  on(event: 'security', listener: (event: SecurityEvent) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

export interface MiddlewareOptions {
  onSecurityEvent?: (event: SecurityEvent) => unknown;
  revokeSession?: (sessionId: string, userId: string) => unknown;
  resolveEndpointSensitivity?: (req: AnyRequest) => Sensitivity | 'MEDIUM' | undefined;
  logger?: Logger;
  /**
   * Default: userId from `req.userId`, `req.user._id` or `req.user.id`; sessionId from
   * `req.sessionId`, `req.sessionID`, `req.session.id` or `req.jwtId` (ExpenseFlow's auth sets
   * `req.user` and an ObjectId `req.sessionId`). Ids are stringified.
   */
  getIdentity?: (req: AnyRequest) => { sessionId?: unknown; userId?: unknown } | undefined;
  /** For `forceMLRetrain`. Default: `req.user.isAdmin === true || req.user.role === 'admin'`. */
  isAdmin?: (req: AnyRequest) => boolean;
  /**
   * Header with "lat,lon" (default 'x-geo-location'); else `req.geoLocation` (a geo-IP
   * middleware's), `req.geo` or `req.location`. An invalid position is ignored and counted.
   */
  locationHeader?: string;
  /** Header with a device fingerprint (default 'x-device-fingerprint'). */
  deviceHeader?: string;
  /** Header with the event time in ms. Off by default: for replays and demos only. */
  timestampHeader?: string;
  /** Extra context fields (e.g. the host's behavior signals). */
  extendContext?: (req: AnyRequest, context: RequestContext) => Partial<RequestContext> | undefined;
}

export type Handler = (req: AnyRequest, res: AnyResponse) => unknown;

/** The original middleware module's exports. */
export interface Middlewares {
  mlAnomalyCheck: Middleware;
  strictMLCheck: Middleware;
  /** POST body `{ sessionIds, userIds }` → `{ success, predictions, count }` (400 when invalid). */
  batchMLAnalysis: Handler;
  /** `{ success, performance, isRetraining, lastRetrainingTime }` (+ `status`). */
  getMLModelStatus: Handler;
  /** 403 unless admin; starts forceRetrain() without waiting: `{ success, message: 'Model retraining initiated' }`. */
  forceMLRetrain: Handler;
}

/** A plain Node request handler (the viewer package's `createViewerHandler()` is one). */
export type ViewerHandler = (req: AnyRequest, res: AnyResponse, next?: (err?: unknown) => void) => unknown;

export interface RouterOptions {
  /** The host's authentication middleware. */
  auth: Middleware;
  /** The host's admin check (default: isAdmin(req) or 403). */
  requireAdmin?: Middleware;
  /** Default: the singleton. */
  service?: AnomalyService;
  getUserId?: (req: AnyRequest) => string | undefined;
  isAdmin?: (req: AnyRequest) => boolean;
  /**
   * Serves the explanation viewer at /viewer, behind `auth` and `requireAdmin`, through the
   * viewer package's own handler (its page, sources and wasm package only, with the page's
   * Content-Security-Policy). `true`: the installed `ml-anomaly-viewer` package (resolved from
   * the app, then from ml-anomaly; createRouter throws when it is not installed); `{ root }`: that
   * handler over a viewer built elsewhere (`staticDir` is the older spelling); a function: a
   * handler to mount as is, e.g. `require('ml-anomaly-viewer').createViewerHandler()`.
   */
  viewer?: boolean | ViewerHandler | { root?: string; staticDir?: string };
  logger?: Logger;
  /** The express module to build the router with (default: the host's). */
  express?: unknown;
}

// ----- NativeModel: a model bundle scored offline -------------------------------------------------
// The shapes are anomaly-core's serde JSON (camelCase), the same the browser viewer's wasm `Model`
// returns (npm/viewer/wasm/anomaly_wasm.d.ts), number for number.

/** A feature vector: one finite number per feature, in `featureNames()` order. */
export type FeatureVector = readonly number[] | Float64Array;

/**
 * One model bundle, scored and explained natively without an engine or a store: offline scoring
 * of stored vectors (a prediction record's `features`), audits, "what if" questions, with the
 * exact numbers the browser viewer computes. Synchronous (microseconds; an exact explanation
 * well under a millisecond). Loads the addon at the first `fromJson`.
 *
 * Errors: a bad vector or argument is a `TypeError` with code `ML_ANOMALY_INVALID_INPUT` and the
 * core's message (`expected 59 features, got 3`, `non-finite value NaN in feature vector at index
 * 4`); a bad bundle an `Error` with code `ML_ANOMALY_MODEL` (`invalid model bundle: ...`,
 * `unsupported model schema version ...`); a missing addon an `AnomalyError` with code
 * `ML_ANOMALY_NATIVE_MISSING`.
 */
export declare class NativeModel {
  private constructor();
  /** Loads a bundle's JSON text (`service.modelBundle(version)`, `ml-anomaly train --out`). */
  static fromJson(text: string): NativeModel;
  /** Number of features a vector must have. */
  readonly nFeatures: number;
  /** Composite score at the baselines: what contributions are measured from. */
  readonly baseValue: number;
  score(vector: FeatureVector): ModelScores;
  /** `exact`: exact TreeSHAP (default false, the fast path attribution); `topK` default 5. */
  predict(vector: FeatureVector, exact?: boolean | null, topK?: number | null): ModelPrediction;
  attribution(vector: FeatureVector, exact?: boolean | null): Attribution;
  featureNames(): string[];
  /** Training medians, in feature order. */
  baselines(): number[];
  thresholds(): Thresholds;
}

/** The process-wide service (ML_ANOMALY_* environment variables apply). */
export declare const service: AnomalyService;
/** Standard middleware bound to the singleton (fails open). */
export declare const mlAnomalyCheck: Middleware;
/** Strict middleware bound to the singleton (fails closed). */
export declare const strictMLCheck: Middleware;
/** The original middleware module's handlers bound to the singleton. */
export declare const batchMLAnalysis: Handler;
export declare const getMLModelStatus: Handler;
export declare const forceMLRetrain: Handler;
/** A new, independent service. */
export declare function createAnomalyService(options?: AnomalyServiceOptions): AnomalyService;
/** Configures the singleton (see `AnomalyService.configure`). */
export declare function configure(options: AnomalyServiceOptions): AnomalyService;
/**
 * The two middlewares over `service`. They score through `service.predictSync` when it is a
 * function (the answer is ready in the same tick: no Promise, no microtask hop before `next()`),
 * else through `await service.predictStreaming(...)`. Each request is scored once, even when it
 * passes through both.
 */
export declare function createMiddleware(service: Pick<AnomalyService, 'predictStreaming'> & Partial<AnomalyService>, options?: MiddlewareOptions): Middlewares;
/** The /api/ml-anomaly routes as an Express router. */
export declare function createRouter(options: RouterOptions): any;
export declare function buildRequestContext(req: AnyRequest, options?: MiddlewareOptions, overrides?: Partial<RequestContext>): RequestContext;
export declare function defaultEndpointSensitivity(req: AnyRequest, path: string): Sensitivity;
/** The original's fallback answer (with `error` when given). */
export declare function fallbackPrediction(error?: unknown): Omit<Prediction, 'processingTime'>;

export declare class AnomalyError extends Error {
  constructor(code: string, message: string, options?: { cause?: unknown });
  code: string;
}
export declare const ERROR_CODES: Readonly<{
  INVALID_INPUT: 'ML_ANOMALY_INVALID_INPUT';
  NOT_FOUND: 'ML_ANOMALY_NOT_FOUND';
  FORBIDDEN: 'ML_ANOMALY_FORBIDDEN';
  CONFLICT: 'ML_ANOMALY_CONFLICT';
  STORAGE: 'ML_ANOMALY_STORAGE';
  CLOSED: 'ML_ANOMALY_CLOSED';
  NATIVE_MISSING: 'ML_ANOMALY_NATIVE_MISSING';
  INTERNAL: 'ML_ANOMALY_INTERNAL';
}>;
/** Every flat option's default, read from the engine (loads the addon on first access). */
export declare const DEFAULTS: Readonly<Record<string, unknown>>;
/** The native addon's exports. */
export declare function loadNative(): { NativeEngine: new (config: Record<string, unknown>) => unknown; NativeModel: unknown };
/** Where the native addon is loaded from (ML_ANOMALY_NATIVE_PATH or native/ml_anomaly.node). */
export declare function nativePath(): string;
