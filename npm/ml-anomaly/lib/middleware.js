'use strict';
/**
 * The two Express middlewares, with the original's behaviour, status codes and bodies.
 *
 * `mlAnomalyCheck` (standard, fails open): skips requests without `req.sessionId`/`req.userId`;
 * scores the request; sets `req.mlPrediction = { ...prediction, processingTime }`; on an anomaly
 * reports a security event and then, only when confidence > 0.8, acts: BLOCK revokes the session and
 * answers 403, REQUIRE_2FA sets `req.requires2FA`/`req.reason`, CHALLENGE sets
 * `req.requiresChallenge`/`req.challengeReason`, MONITOR sets `req.enhancedMonitoring`; with
 * confidence <= 0.8 it only sets `req.enhancedMonitoring`. Any error: `req.mlPrediction = { error,
 * fallback: true }` and `next()`.
 *
 * `strictMLCheck` (fails closed): 401 without session/user; scores with the endpoint sensitivity
 * forced to CRITICAL; an anomaly with score > 0.7 answers 403; an error (thrown, or a fallback
 * carrying an error, since our service reports engine failures that way instead of throwing)
 * answers 503. A fallback without error (no model trained yet) lets the request through, as in the
 * original.
 *
 * Why a factory over a service: the exported middlewares are bound to the singleton, but an app
 * with its own `createAnomalyService()` instance — or a test that controls every prediction — needs
 * the same behaviour over another object. The service only needs `predictStreaming` (its
 * `predictSync`, when it has one, is used instead: no Promise per request); the integration
 * callbacks are read at request time, so `configure()` after `require()` still applies.
 */

const { performance } = require('node:perf_hooks');
const { buildRequestContext } = require('./context');
const { SILENT } = require('./config');
const { SCORED_SESSION, SCORED_USER } = require('./prediction');

const BLOCK_BODY = Object.freeze({
  success: false,
  error: 'Session terminated due to suspicious activity',
  requiresReauthentication: true,
});
const AUTH_BODY = Object.freeze({ success: false, error: 'Authentication required' });
const STRICT_DENIED_BODY = Object.freeze({
  success: false,
  error: 'Access denied due to anomalous behavior',
  reason: 'ML_ANOMALY_STRICT_MODE',
});
const UNAVAILABLE_BODY = Object.freeze({ success: false, error: 'Security check temporarily unavailable' });

/**
 * The prediction of the request, kept on it so that a request passing through both middlewares
 * (ExpenseFlow mounts mlAnomalyCheck on /api and strictMLCheck on /api/admin) is observed once:
 * observing it twice would count it twice in the session's rates and sequences.
 *
 * The identity it was made for is stamped on `req.mlPrediction` itself (two symbol slots the
 * service's answers are created with) rather than on `req`: a property added to some requests and
 * not others gives Express's request objects several hidden classes, and every `req.x` read in the
 * router then misses V8's inline caches (docs/benchmarks.md, "Express throughput").
 */
function memoOf(req, identity) {
  const memo = req.mlPrediction;
  if (memo && memo[SCORED_SESSION] === identity.sessionId && memo[SCORED_USER] === identity.userId) return memo;
  return undefined;
}

/**
 * Sets `req.mlPrediction`: the prediction with its processing time and the identity it was made
 * for. `owned`: a fresh answer of our service's `predictSync`, completed in place; anything else
 * (another service's `predictStreaming`) is copied, as the original did, and left untouched.
 */
function attach(req, identity, prediction, start, owned) {
  const p = owned ? prediction : { ...prediction };
  p.processingTime = performance.now() - start;
  p[SCORED_SESSION] = identity.sessionId;
  p[SCORED_USER] = identity.userId;
  req.mlPrediction = p;
  return p;
}

const SEVERITY_OF_ACTION = Object.freeze({
  BLOCK: 'CRITICAL',
  REQUIRE_2FA: 'HIGH',
  CHALLENGE: 'MODERATE',
  MONITOR: 'LOW',
  ALLOW: 'LOW',
});

function isThenable(x) {
  return x !== null && typeof x === 'object' && typeof x.then === 'function';
}

function defaultIdentity(req) {
  return { sessionId: req.sessionId, userId: req.userId };
}

/**
 * Builds `{ mlAnomalyCheck, strictMLCheck }` over `service`.
 *
 * options (each defaults to the service's option of the same name, when it has one):
 * - `onSecurityEvent(event)`, `revokeSession(sessionId, userId)`, `resolveEndpointSensitivity(req)`
 * - `logger` ({ info, warn, error })
 * - `getIdentity(req)` → `{ sessionId, userId }` (default: `req.sessionId`, `req.userId`, as the original)
 * - `locationHeader`, `deviceHeader`, `timestampHeader`, `extendContext(req, ctx)`: see lib/context.js
 */
function createMiddleware(service, options = {}) {
  if (!service || typeof service.predictStreaming !== 'function') {
    throw new TypeError('createMiddleware(service): service must have a predictStreaming method');
  }
  if (options === null || typeof options !== 'object') throw new TypeError('createMiddleware: options must be an object');
  for (const name of ['onSecurityEvent', 'revokeSession', 'resolveEndpointSensitivity', 'getIdentity', 'extendContext']) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new TypeError(`createMiddleware: ${name} must be a function`);
    }
  }
  const getIdentity = options.getIdentity || defaultIdentity;

  // The service's own options, read per request (the singleton may be configured after require()).
  const serviceOption = (name) => {
    try {
      const o = service.options;
      return o ? o[name] : undefined;
    } catch {
      return undefined; // invalid configuration: the prediction will report it
    }
  };
  const hook = (name) => options[name] || serviceOption(name);
  const logger = () => options.logger || service.logger || serviceOption('logger') || SILENT;
  const contextOptions = () => ({
    resolveEndpointSensitivity: hook('resolveEndpointSensitivity'),
    locationHeader: options.locationHeader,
    deviceHeader: options.deviceHeader,
    timestampHeader: options.timestampHeader,
    extendContext: options.extendContext,
  });

  function reportSecurityEvent(req, identity, prediction, context, mode) {
    const event = {
      type: mode === 'strict' ? 'ML_ANOMALY_STRICT_DENIED' : 'ML_ANOMALY_DETECTED',
      severity: SEVERITY_OF_ACTION[prediction.action] || 'LOW',
      sessionId: identity.sessionId,
      userId: identity.userId,
      action: prediction.action,
      anomalyScore: prediction.anomalyScore,
      confidence: prediction.confidence,
      predictionId: prediction.predictionId,
      explanation: prediction.explanation,
      requestContext: context,
      timestamp: new Date(),
    };
    const cb = options.onSecurityEvent;
    try {
      if (cb) {
        const r = cb(event);
        if (r && typeof r.catch === 'function') {
          r.catch((err) => logger().error(`ml-anomaly: onSecurityEvent failed: ${err && err.message}`));
        }
      } else if (typeof service.reportSecurityEvent === 'function') {
        service.reportSecurityEvent(event);
      }
    } catch (err) {
      logger().error(`ml-anomaly: onSecurityEvent failed: ${err && err.message}`);
    }
  }

  async function revoke(identity) {
    const cb = hook('revokeSession');
    if (!cb) {
      logger().warn(`ml-anomaly: BLOCK for session ${identity.sessionId} but no revokeSession callback is configured`);
      return;
    }
    try {
      await cb(identity.sessionId, identity.userId);
    } catch (err) {
      logger().error(`ml-anomaly: revokeSession failed for session ${identity.sessionId}: ${err && err.message}`);
    }
  }

  /**
   * Scores the request once (see `memoOf`) and sets `req.mlPrediction`. Synchronous through the
   * service's `predictSync` when it has one: the answer is ready in the same tick, and awaiting it
   * would only add a Promise and a microtask hop per request. A Promise through
   * `predictStreaming` for any other service.
   */
  function scoreRequest(req, identity, context, start) {
    const memo = memoOf(req, identity);
    if (memo) return memo;
    if (typeof service.predictSync === 'function') {
      return attach(req, identity, service.predictSync(identity.sessionId, identity.userId, context), start, true);
    }
    return Promise.resolve(service.predictStreaming(identity.sessionId, identity.userId, context)).then((p) =>
      attach(req, identity, p, start, false),
    );
  }

  function failOpen(req, err) {
    logger().error(`ml-anomaly: mlAnomalyCheck failed, failing open: ${err && err.message}`);
    req.mlPrediction = { error: err && err.message ? err.message : String(err), fallback: true };
  }

  function proceed(res, next) {
    if (res.headersSent) return undefined; // BLOCK answered
    return next();
  }

  function mlAnomalyCheck(req, res, next) {
    let pending;
    try {
      const identity = getIdentity(req);
      if (identity && identity.sessionId && identity.userId) {
        const start = performance.now();
        const context = buildRequestContext(req, contextOptions());
        const scored = scoreRequest(req, identity, context, start);
        pending = isThenable(scored)
          ? scored.then((prediction) => respond(req, res, identity, prediction, context))
          : respond(req, res, identity, scored, context);
      }
    } catch (err) {
      failOpen(req, err);
    }
    // next() stays outside the try: an error thrown downstream must not be caught here and call
    // next() twice.
    if (isThenable(pending)) return pending.catch((err) => failOpen(req, err)).then(() => proceed(res, next));
    return proceed(res, next);
  }

  /**
   * The graduated response to one scored request; a Promise only for BLOCK (the session is revoked
   * before the 403).
   */
  function respond(req, res, identity, prediction, context) {
    if (!prediction.isAnomaly) return undefined;
    reportSecurityEvent(req, identity, prediction, context, 'standard');
    if (!(prediction.confidence > 0.8)) {
      req.enhancedMonitoring = true;
      return undefined;
    }
    switch (prediction.action) {
      case 'BLOCK':
        return revoke(identity).then(() => {
          res.status(403).json(BLOCK_BODY);
        });
      case 'REQUIRE_2FA':
        req.requires2FA = true;
        req.reason = 'ML_ANOMALY_DETECTED';
        break;
      case 'CHALLENGE':
        req.requiresChallenge = true;
        req.challengeReason = 'ML_ANOMALY';
        break;
      case 'MONITOR':
        req.enhancedMonitoring = true;
        break;
      default:
        break;
    }
    return undefined;
  }

  function strictMLCheck(req, res, next) {
    let verdict;
    try {
      verdict = strictVerdict(req);
    } catch (err) {
      verdict = strictFailure(err);
    }
    if (isThenable(verdict)) return verdict.catch(strictFailure).then((v) => enforce(v, res, next));
    return enforce(verdict, res, next);
  }

  /** 'unauthenticated', 'pass', 'denied' or 'unavailable', or a Promise of one. */
  function strictVerdict(req) {
    const identity = getIdentity(req);
    if (!identity || !identity.sessionId || !identity.userId) return 'unauthenticated';
    const start = performance.now();
    // Scored already by mlAnomalyCheck: the context is only needed for a security event.
    const memo = memoOf(req, identity);
    const strictContext = () => buildRequestContext(req, contextOptions(), { endpointSensitivity: 'CRITICAL' });
    const context = memo ? undefined : strictContext();
    const scored = memo || scoreRequest(req, identity, context, start);
    const judge = (prediction) => {
      if (prediction.fallback && prediction.error) {
        logger().error(`ml-anomaly: strictMLCheck failing closed: ${prediction.error}`);
        return 'unavailable';
      }
      if (prediction.isAnomaly && prediction.anomalyScore > 0.7) {
        reportSecurityEvent(req, identity, prediction, context || strictContext(), 'strict');
        return 'denied';
      }
      return 'pass';
    };
    return isThenable(scored) ? scored.then(judge) : judge(scored);
  }

  function strictFailure(err) {
    logger().error(`ml-anomaly: strictMLCheck failing closed: ${err && err.message}`);
    return 'unavailable';
  }

  function enforce(verdict, res, next) {
    if (verdict === 'pass') return next();
    if (res.headersSent) return undefined;
    if (verdict === 'unauthenticated') res.status(401).json(AUTH_BODY);
    else if (verdict === 'denied') res.status(403).json(STRICT_DENIED_BODY);
    else res.status(503).json(UNAVAILABLE_BODY);
    return undefined;
  }

  return { mlAnomalyCheck, strictMLCheck };
}

module.exports = { createMiddleware, BLOCK_BODY, AUTH_BODY, STRICT_DENIED_BODY, UNAVAILABLE_BODY };
