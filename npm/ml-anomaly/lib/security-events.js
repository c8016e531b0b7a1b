'use strict';
/**
 * Delivering a security event to the host's `onSecurityEvent` callback: the one place that
 * calls it, for the service (`reportSecurityEvent`) and for middlewares given their own callback.
 *
 * Why it never throws: the event is reported from the request path; a failing or rejecting
 * callback is the host's bug to log, not a reason to fail the request.
 */

/** Calls `callback(event)` (if any), logging a throw or a rejection instead of propagating it. */
function deliverSecurityEvent(callback, event, logger) {
  if (!callback) return;
  const fail = (err) => logger.error(`ml-anomaly: onSecurityEvent failed: ${err && err.message}`);
  try {
    const r = callback(event);
    if (r && typeof r.catch === 'function') r.catch(fail);
  } catch (err) {
    fail(err);
  }
}

module.exports = { deliverSecurityEvent };
