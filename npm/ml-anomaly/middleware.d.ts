export { mlAnomalyCheck, strictMLCheck, createMiddleware } from './index';
