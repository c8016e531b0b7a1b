'use strict';
/**
 * Errors of the package.
 *
 * Why codes: the router turns errors into HTTP answers (404, 403, 400, 503) and must not guess from
 * message text. The native addon already throws `TypeError` for invalid input and `Error`s with a
 * `code` (`ML_ANOMALY_NOT_FOUND`, `ML_ANOMALY_FORBIDDEN`, ...) for the other engine errors; the
 * JavaScript layer throws the same kinds, so one mapping (`httpStatusOf`) serves both.
 */

const CODES = Object.freeze({
  INVALID_INPUT: 'ML_ANOMALY_INVALID_INPUT',
  INVALID_CONFIG: 'ML_ANOMALY_INVALID_CONFIG',
  MODEL: 'ML_ANOMALY_MODEL',
  PANIC: 'ML_ANOMALY_PANIC',
  NOT_FOUND: 'ML_ANOMALY_NOT_FOUND',
  FORBIDDEN: 'ML_ANOMALY_FORBIDDEN',
  CONFLICT: 'ML_ANOMALY_CONFLICT',
  STORAGE: 'ML_ANOMALY_STORAGE',
  CLOSED: 'ML_ANOMALY_CLOSED',
  NATIVE_MISSING: 'ML_ANOMALY_NATIVE_MISSING',
  INTERNAL: 'ML_ANOMALY_INTERNAL',
});

/** An Error carrying one of {@link CODES}. */
class AnomalyError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'AnomalyError';
    this.code = code;
  }
}

function notFound(message) {
  return new AnomalyError(CODES.NOT_FOUND, message);
}

function forbidden(message) {
  return new AnomalyError(CODES.FORBIDDEN, message);
}

/** The HTTP status an error should produce when it escapes a route handler. */
function httpStatusOf(err) {
  if (err instanceof TypeError || (err && (err.code === CODES.INVALID_INPUT || err.code === CODES.INVALID_CONFIG))) {
    return 400;
  }
  switch (err && err.code) {
    case CODES.NOT_FOUND:
      return 404;
    case CODES.FORBIDDEN:
      return 403;
    case CODES.CONFLICT:
      return 409;
    case CODES.CLOSED:
    case CODES.NATIVE_MISSING:
      return 503;
    default:
      return 500;
  }
}

module.exports = { CODES, AnomalyError, notFound, forbidden, httpStatusOf };
