'use strict';
/**
 * The two Express middlewares, with the original's behaviour, status codes and bodies, and the
 * original middleware module's three route handlers (lib/handlers.js).
 *
 * `mlAnomalyCheck` (standard, fails open): skips requests without an identity (lib/identity.js;
 * counted, and warned about once); sets `req.userId` when the host's auth did not (the original's
 * code downstream reads it); scores the request; sets `req.mlPrediction`; on an anomaly
 * reports a security event; then acts on the prediction's `enforcedAction` — the engine's
 * decision, which is also what it stores as `actionTaken` — BLOCK revokes the session and answers
 * 403, REQUIRE_2FA sets `req.requires2FA`/`req.reason`, CHALLENGE sets
 * `req.requiresChallenge`/`req.challengeReason`, MONITOR sets `req.enhancedMonitoring`. Any
 * error: `req.mlPrediction = { error, fallback: true }` and `next()`.
 *
 * `strictMLCheck` (fails closed): 401 without an identity; scores with the endpoint sensitivity
 * forced to CRITICAL; answers 403 when the engine's decision layer says the strict check denies
 * (`prediction.decision.strictDenied`: the strict friction budget, fitted on the training
 * sessions), or — for a model without a decision layer, or another service's prediction — the
 * original's rule, an anomaly with score > 0.7; an error (thrown, or a fallback
 * carrying an error, since our service reports engine failures that way instead of throwing)
 * answers 503. A fallback without error (no model trained yet) lets the request through, as in the
 * original.
 *
 * Why the middleware does not decide: the rule from a score to what is enforced (today the
 * original's `confidence > 0.8`, a setting of the engine: `prediction.enforceMinConfidence`) lives
 * in the engine, which stores the action it decided. A prediction from another service that says
 * nothing about enforcement (no `enforcedAction`) is enforced as it recommends (`action`).
 *
 * Why a factory over a service: the exported middlewares are bound to the singleton, but an app
 * with its own `createAnomalyService()` instance — or a test that controls every prediction — needs
 * the same behaviour over another object. The service only needs `predictStreaming` (its
 * `predictSync`, when it has one, is used instead: no Promise per request); the integration
 * callbacks are read at request time, so `configure()` after `require()` still applies.
 */

const { buildRequestContext } = require('./context');
const { CONSOLE } = require('./config');
const { defaultIdentity } = require('./identity');
const { idText } = require('./validate');
const { deliverSecurityEvent } = require('./security-events');
const { createHandlers } = require('./handlers');
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

/** The same failure is logged at most this often (a misconfiguration would log every request). */
const FAILURE_LOG_INTERVAL_MS = 60000;

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
 * Sets `req.mlPrediction`: the prediction with the identity it was made for. `owned`: a fresh
 * answer of our service's `predictSync` (its `processingTime` already set), completed in place;
 * anything else (another service's `predictStreaming`) is copied, as the original did, and given
 * its processing time here.
 */
function attach(req, identity, prediction, start, owned) {
  const p = owned ? prediction : { ...prediction };
  if (!owned || typeof p.processingTime !== 'number') p.processingTime = performance.now() - start;
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

/** Whether the strict check denies a prediction (see the module docs). */
function strictDenies(prediction) {
  const d = prediction.decision;
  if (d && typeof d.strictDenied === 'boolean') return d.strictDenied;
  return prediction.isAnomaly === true && prediction.anomalyScore > 0.7;
}

/**
 * Builds `{ mlAnomalyCheck, strictMLCheck, batchMLAnalysis, getMLModelStatus, forceMLRetrain }`
 * over `service`.
 *
 * options (each defaults to the service's option of the same name, when it has one):
 * - `onSecurityEvent(event)`, `revokeSession(sessionId, userId)`, `resolveEndpointSensitivity(req)`
 * - `logger` ({ info, warn, error })
 * - `getIdentity(req)` → `{ sessionId, userId }` (default: lib/identity.js)
 * - `isAdmin(req)` (for `forceMLRetrain`; default: lib/identity.js)
 * - `locationHeader`, `deviceHeader`, `timestampHeader`, `extendContext(req, ctx)`: see lib/context.js
 */
function createMiddleware(service, options = {}) {
  if (!service || typeof service.predictStreaming !== 'function') {
    throw new TypeError('createMiddleware(service): service must have a predictStreaming method');
  }
  if (options === null || typeof options !== 'object') throw new TypeError('createMiddleware: options must be an object');
  for (const name of ['onSecurityEvent', 'revokeSession', 'resolveEndpointSensitivity', 'getIdentity', 'extendContext', 'isAdmin']) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new TypeError(`createMiddleware: ${name} must be a function`);
    }
  }
  const getIdentity = options.getIdentity || defaultIdentity;

  // The service's integration settings, read per request (the singleton may be configured after
  // require()); cheap, and never throwing, on our service.
  const integration = () => {
    try {
      return service.integration || service.options || {};
    } catch {
      return {}; // a service whose options throw: the prediction will report it
    }
  };
  const hook = (name) => options[name] || integration()[name];
  const logger = () => options.logger || integration().logger || CONSOLE;
  const warnOnce = (key, message) => {
    if (typeof service.warnOnce === 'function') service.warnOnce(key, message);
    else if (!warned.has(key)) {
      warned.add(key);
      logger().warn(message);
    }
  };
  const warned = new Set();
  const count = (event) => {
    if (typeof service.recordMiddleware === 'function') service.recordMiddleware(event);
  };
  const contextOptions = () => ({
    resolveEndpointSensitivity: hook('resolveEndpointSensitivity'),
    locationHeader: options.locationHeader,
    deviceHeader: options.deviceHeader,
    timestampHeader: options.timestampHeader,
    extendContext: options.extendContext,
    onIgnored: () => count('ignoredLocation'),
  });

  /** The request's identity with ids as strings, or null (counted and warned about once). */
  function identify(req) {
    const raw = getIdentity(req) || {};
    const identity = { sessionId: idText(raw.sessionId), userId: idText(raw.userId) };
    if (identity.sessionId && identity.userId) return identity;
    if (identity.userId) {
      count('skippedWithoutSession');
      warnOnce(
        'no-session',
        'ml-anomaly: requests arrive with a user but no session id, so they are not scored. Set req.sessionId ' +
          '(or req.sessionID / req.session.id / req.jwtId) in your auth middleware, or pass getIdentity(req) to createMiddleware.',
      );
    } else {
      count('skippedWithoutUser');
      warnOnce(
        'no-user',
        'ml-anomaly: requests arrive without a user id, so they are not scored. Mount the middleware after your auth ' +
          'middleware, which should set req.user (with _id or id) or req.userId, or pass getIdentity(req) to createMiddleware.',
      );
    }
    return null;
  }

  function reportSecurityEvent(identity, prediction, context, mode) {
    const event = {
      type: mode === 'strict' ? 'ML_ANOMALY_STRICT_DENIED' : 'ML_ANOMALY_DETECTED',
      severity: SEVERITY_OF_ACTION[prediction.action] || 'LOW',
      sessionId: identity.sessionId,
      userId: identity.userId,
      action: prediction.action,
      enforcedAction: prediction.enforcedAction || prediction.action,
      anomalyScore: prediction.anomalyScore,
      confidence: prediction.confidence,
      predictionId: prediction.predictionId,
      explanation: prediction.explanation,
      requestContext: context,
      timestamp: new Date(),
    };
    if (typeof service.reportSecurityEvent === 'function') {
      service.reportSecurityEvent(event, options.onSecurityEvent || integration().onSecurityEvent);
    } else {
      deliverSecurityEvent(options.onSecurityEvent, event, logger());
    }
  }

  async function revoke(identity) {
    const cb = hook('revokeSession');
    if (!cb) {
      warnOnce(
        'no-revoke',
        `ml-anomaly: BLOCK for session ${identity.sessionId} could not end the session: no revokeSession(sessionId, userId) ` +
          'callback is configured, so a blocked session can keep making requests. Pass revokeSession in the options.',
      );
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
  function scoreRequest(req, identity, context) {
    const memo = memoOf(req, identity);
    if (memo) return memo;
    const start = performance.now();
    if (typeof service.predictSync === 'function') {
      return attach(req, identity, service.predictSync(identity.sessionId, identity.userId, context), start, true);
    }
    return Promise.resolve(service.predictStreaming(identity.sessionId, identity.userId, context)).then((p) =>
      attach(req, identity, p, start, false),
    );
  }

  const lastLogged = new Map();
  /** Logs a failure, the same message at most once a minute. */
  function logFailure(message) {
    const now = Date.now();
    const at = lastLogged.get(message);
    if (at !== undefined && now - at < FAILURE_LOG_INTERVAL_MS) return;
    if (lastLogged.size > 100) lastLogged.clear();
    lastLogged.set(message, now);
    logger().error(message);
  }

  function failOpen(req, err) {
    logFailure(`ml-anomaly: mlAnomalyCheck failed, failing open: ${err && err.message}`);
    req.mlPrediction = { error: err && err.message ? err.message : String(err), fallback: true };
  }

  function proceed(res, next) {
    if (res.headersSent) return undefined; // BLOCK answered
    return next();
  }

  function mlAnomalyCheck(req, res, next) {
    let pending;
    try {
      const identity = identify(req);
      if (identity) {
        // The original's code downstream (ExpenseFlow's examples call
        // `predictStreaming(req.sessionId, req.userId, ...)`) reads req.userId, which ExpenseFlow's
        // auth never sets: give it the identity that was scored.
        if (req.userId === undefined) req.userId = identity.userId;
        const context = buildRequestContext(req, contextOptions());
        const scored = scoreRequest(req, identity, context);
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
   * The graduated response to one scored request: what the engine decided to enforce. A
   * Promise only for BLOCK (the session is revoked before the 403).
   */
  function respond(req, res, identity, prediction, context) {
    if (!prediction.isAnomaly) return undefined;
    reportSecurityEvent(identity, prediction, context, 'standard');
    switch (prediction.enforcedAction || prediction.action) {
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
      default:
        // MONITOR, and an anomaly the engine decided not to act on
        req.enhancedMonitoring = true;
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
    const identity = identify(req);
    if (!identity) return 'unauthenticated';
    // Scored already by mlAnomalyCheck: the context is only needed for a security event.
    const memo = memoOf(req, identity);
    const strictContext = () => buildRequestContext(req, contextOptions(), { endpointSensitivity: 'CRITICAL' });
    const context = memo ? undefined : strictContext();
    const scored = memo || scoreRequest(req, identity, context);
    const judge = (prediction) => {
      if (prediction.fallback && prediction.error) {
        logFailure(`ml-anomaly: strictMLCheck failing closed: ${prediction.error}`);
        return 'unavailable';
      }
      if (strictDenies(prediction)) {
        reportSecurityEvent(identity, prediction, context || strictContext(), 'strict');
        // The 403 is what was done to this request: its record says so.
        if (typeof service.recordActionTaken === 'function') service.recordActionTaken(prediction.predictionId, 'BLOCK');
        return 'denied';
      }
      return 'pass';
    };
    return isThenable(scored) ? scored.then(judge) : judge(scored);
  }

  function strictFailure(err) {
    logFailure(`ml-anomaly: strictMLCheck failing closed: ${err && err.message}`);
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

  return { mlAnomalyCheck, strictMLCheck, ...createHandlers(service, { isAdmin: options.isAdmin, logger }) };
}

module.exports = { createMiddleware, BLOCK_BODY, AUTH_BODY, STRICT_DENIED_BODY, UNAVAILABLE_BODY };
