export { createRouter } from './index';
