import type { AnomalyService } from './index';
/** The singleton service: a drop-in for `require('./services/mlAnomalyDetectionService')`. */
declare const service: AnomalyService;
export = service;
