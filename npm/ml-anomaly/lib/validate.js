'use strict';
/**
 * Input checks at the package boundary.
 *
 * Why here and not only in the addon: the addon rejects malformed events too, but a message such
 * as "requestContext.location.lat must be a finite number (got 'north')" is only possible where the
 * caller's own names are known. These checks run on every request, so they are plain `typeof`
 * tests and build the addon's event object in one pass, without copying the caller's object.
 */

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of length ${value.length}` : `'${value}'`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/**
 * A session or user id as the engine's string (`idText`: undefined when `value` is none). Accepts non-empty strings, finite numbers, bigints
 * and objects with their own `toString` (MongoDB ObjectIds: ExpenseFlow's `req.sessionId` and
 * `req.user._id` are ObjectIds) whose text is neither empty nor `[object Object]`.
 */
function idText(value) {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'bigint') return value.toString();
  if (value !== null && typeof value === 'object' && !Array.isArray(value) &&
    typeof value.toString === 'function' && value.toString !== Object.prototype.toString) {
    const s = String(value);
    if (s.length > 0 && s !== '[object Object]') return s;
  }
  return undefined;
}

function toId(value, name) {
  const s = idText(value);
  if (s === undefined) throw new TypeError(`${name} must be a non-empty string (got ${describe(value)})`);
  return s;
}

function optString(ctx, key) {
  const v = ctx[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new TypeError(`requestContext.${key} must be a string (got ${describe(v)})`);
  return v;
}

function optNonNegative(ctx, key) {
  let v = ctx[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string' && /^\d+$/.test(v)) v = Number(v);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new TypeError(`requestContext.${key} must be a non-negative number (got ${describe(v)})`);
  }
  return Math.floor(v);
}

function optBool(ctx, key) {
  const v = ctx[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new TypeError(`requestContext.${key} must be a boolean (got ${describe(v)})`);
  return v;
}

/** Milliseconds since the epoch (a number or a Date); the engine checks the upper bound. */
function toTimestamp(v, name) {
  if (v instanceof Date) v = v.getTime();
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new TypeError(`${name} must be milliseconds since the epoch (got ${describe(v)})`);
  }
  return Math.floor(v);
}

/** An optional name (a sensitivity, a severity): the addon reads the names themselves. */
function optName(v, name) {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new TypeError(`${name} must be a string such as 'HIGH' (got ${describe(v)})`);
  return v;
}

function toLocation(v) {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new TypeError(`requestContext.location must be an object { lat, lon } (got ${describe(v)})`);
  }
  const lat = typeof v.lat === 'string' ? Number(v.lat) : v.lat;
  const lon = typeof v.lon === 'string' ? Number(v.lon) : v.lon !== undefined ? v.lon : v.lng;
  if (typeof lat !== 'number' || !Number.isFinite(lat) || typeof lon !== 'number' || !Number.isFinite(lon)) {
    throw new TypeError('requestContext.location must have finite numbers lat and lon');
  }
  return { lat, lon };
}

function toSignals(v) {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new TypeError(`requestContext.signals must be an array (got ${describe(v)})`);
  return v.map((s, i) => {
    if (!s || typeof s !== 'object' || typeof s.type !== 'string') {
      throw new TypeError(`requestContext.signals[${i}] must be an object with a string 'type'`);
    }
    const risk = s.riskImpact;
    if (risk !== undefined && risk !== null && typeof risk !== 'number') {
      throw new TypeError(`requestContext.signals[${i}].riskImpact must be a number (got ${describe(risk)})`);
    }
    return { type: s.type, severity: optName(s.severity, `requestContext.signals[${i}].severity`), riskImpact: risk ?? undefined };
  });
}

/**
 * Checks `(sessionId, userId, requestContext)` and builds the addon's event. `now` is used when the
 * context has no `timestamp`. Throws TypeError with the offending field's name.
 */
function toEvent(sessionId, userId, requestContext, now) {
  const sid = toId(sessionId, 'sessionId');
  const uid = toId(userId, 'userId');
  const ctx = requestContext === undefined || requestContext === null ? {} : requestContext;
  if (typeof ctx !== 'object' || Array.isArray(ctx)) {
    throw new TypeError(`requestContext must be an object (got ${describe(ctx)})`);
  }
  const event = {
    timestamp: ctx.timestamp === undefined || ctx.timestamp === null ? now : toTimestamp(ctx.timestamp, 'requestContext.timestamp'),
    sessionId: sid,
    userId: uid,
  };
  const endpoint = optString(ctx, 'endpoint');
  if (endpoint !== undefined) event.endpoint = endpoint;
  const method = optString(ctx, 'method');
  if (method !== undefined) event.method = method;
  const ip = optString(ctx, 'ipAddress');
  if (ip !== undefined) event.ipAddress = ip;
  const ua = optString(ctx, 'userAgent');
  if (ua !== undefined) event.userAgent = ua;
  const len = optNonNegative(ctx, 'contentLength');
  if (len !== undefined) event.contentLength = len;
  const sens = optName(ctx.endpointSensitivity, 'requestContext.endpointSensitivity');
  if (sens !== undefined) event.endpointSensitivity = sens;
  const age = optNonNegative(ctx, 'sessionAge');
  if (age !== undefined) event.sessionAgeMs = age;
  if (ctx.sessionStartedAt !== undefined && ctx.sessionStartedAt !== null) {
    event.sessionStartedAt = toTimestamp(ctx.sessionStartedAt, 'requestContext.sessionStartedAt');
  }
  const loc = toLocation(ctx.location);
  if (loc !== undefined) event.location = loc;
  const device = optString(ctx, 'deviceFingerprint');
  if (device !== undefined) event.deviceFingerprint = device;
  const status = optNonNegative(ctx, 'statusCode');
  if (status !== undefined) {
    if (status > 999) throw new TypeError(`requestContext.statusCode must be an HTTP status (got ${status})`);
    event.statusCode = status;
  }
  const signals = toSignals(ctx.signals);
  if (signals !== undefined) event.signals = signals;
  const weekend = optBool(ctx, 'isWeekend');
  if (weekend !== undefined) event.isWeekend = weekend;
  const business = optBool(ctx, 'isBusinessHours');
  if (business !== undefined) event.isBusinessHours = business;
  return event;
}

/**
 * A bounded integer from a query string or argument: `undefined`/'' give the default; anything
 * else must be an integer within [min, max], or a TypeError names the parameter and the bounds.
 */
function boundedInt(value, name, { min, max, def }) {
  if (value === undefined || value === null || value === '') return def;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new TypeError(`${name} must be an integer between ${min} and ${max} (got ${describe(value)})`);
  }
  return n;
}

module.exports = { idText, toId, toEvent, toTimestamp, boundedInt, describe };
