export { mlAnomalyCheck, strictMLCheck, batchMLAnalysis, getMLModelStatus, forceMLRetrain, createMiddleware } from './index';
