'use strict';
/**
 * From an HTTP request to the service's `requestContext`.
 *
 * Why a module of its own: the two middlewares and the demo build the same context, and what the
 * original hard-wired (the endpoint sensitivity table, where the location comes from) becomes
 * options here. Everything is best-effort: a malformed header is ignored (and counted, for a
 * location), never an error, because a prediction with one field missing beats a request the
 * middleware failed on.
 *
 * What the host's other middlewares put on the request is used, as the original did:
 * `req.endpointSensitivity` (the host's classification of the route), `req.geoLocation` (a geo-IP
 * middleware's `{ lat, lon }`, `{ latitude, longitude }` or geoip-lite's `{ ll: [lat, lon] }`),
 * `req.sessionAge` (ms) and the session's start (`req.session.createdAt`).
 */

const CRITICAL_PATH = /\/(admin|security|api-keys?|roles?|permissions?)(\/|$)/i;
const HIGH_PATH = /\/(export|exports|password|2fa|mfa|settings|account|payments?|bank|transfers?|payouts?|approve|reimburse)(\/|$)/i;

/**
 * The default sensitivity of a request: administrative and security paths are CRITICAL; exports,
 * credentials, money movement and deletions HIGH; other writes MODERATE; reads LOW. The host's
 * own classification wins: the `resolveEndpointSensitivity(req)` option, then
 * `req.endpointSensitivity`.
 */
function defaultEndpointSensitivity(req, path) {
  if (CRITICAL_PATH.test(path)) return 'CRITICAL';
  const method = req.method || 'GET';
  if (HIGH_PATH.test(path) || method === 'DELETE') return 'HIGH';
  if (method === 'POST' || method === 'PUT' || method === 'PATCH') return 'MODERATE';
  return 'LOW';
}

/** The request path without its query string (`originalUrl` survives router mounting). */
function requestPath(req) {
  const url = req.originalUrl || req.url || '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function header(req, name) {
  const v = req.headers ? req.headers[name] : undefined;
  return Array.isArray(v) ? v[0] : v;
}

/**
 * A position from numbers, or null when they are not a latitude in [-90, 90] and a longitude in
 * [-180, 180] (the one rule for every source: header, `req.geoLocation`, and the engine's own
 * check of `predictStreaming`'s argument).
 */
function position(lat, lon) {
  const la = typeof lat === 'string' ? Number(lat) : lat;
  const lo = typeof lon === 'string' ? Number(lon) : lon;
  if (typeof la !== 'number' || typeof lo !== 'number') return null;
  if (!(Math.abs(la) <= 90 && Math.abs(lo) <= 180)) return null; // also false for NaN
  return { lat: la, lon: lo };
}

/** "lat,lon" → { lat, lon }; null when malformed or out of range. */
function parseLocation(text) {
  if (typeof text !== 'string') return null;
  const comma = text.indexOf(',');
  if (comma < 0) return null;
  return position(text.slice(0, comma).trim() || NaN, text.slice(comma + 1).trim() || NaN);
}

/** A location object in any of the usual shapes; null when it is not a valid position. */
function objectLocation(v) {
  if (Array.isArray(v.ll)) return position(v.ll[0], v.ll[1]);
  const lat = v.lat !== undefined ? v.lat : v.latitude;
  const lon = v.lon !== undefined ? v.lon : v.lng !== undefined ? v.lng : v.longitude;
  return position(lat, lon);
}

/**
 * The request's location: the `locationHeader` header, else `req.geoLocation`, `req.geo` or
 * `req.location`. `undefined` when there is none; `null` when one is given but invalid.
 */
function locationOf(req, headerName) {
  const text = header(req, headerName);
  if (text !== undefined) return parseLocation(text);
  for (const v of [req.geoLocation, req.geo, req.location]) {
    if (v && typeof v === 'object') return objectLocation(v);
  }
  return undefined;
}

/**
 * Builds the request context. `options`: `resolveEndpointSensitivity(req)`, `locationHeader`
 * (default 'x-geo-location', "lat,lon"), `deviceHeader` (default 'x-device-fingerprint'),
 * `timestampHeader` (off by default: only for replays and demos, never trust it in production),
 * `extendContext(req, ctx)` (returns extra fields, e.g. the host's behavior signals),
 * `onIgnored(field)` (called for a field dropped as invalid: 'location').
 */
function buildRequestContext(req, options = {}, overrides = undefined) {
  const path = requestPath(req);
  const ctx = {
    endpoint: path,
    method: req.method,
    ipAddress: req.ip || (req.socket && req.socket.remoteAddress) || undefined,
    userAgent: header(req, 'user-agent'),
  };
  const len = header(req, 'content-length');
  if (len !== undefined) {
    const n = Number(len);
    if (Number.isInteger(n) && n >= 0) ctx.contentLength = n;
  }
  let sensitivity;
  if (options.resolveEndpointSensitivity) sensitivity = options.resolveEndpointSensitivity(req);
  if (!sensitivity && typeof req.endpointSensitivity === 'string') sensitivity = req.endpointSensitivity;
  ctx.endpointSensitivity = sensitivity || defaultEndpointSensitivity(req, path);
  const location = locationOf(req, options.locationHeader || 'x-geo-location');
  if (location) ctx.location = location;
  else if (location === null && options.onIgnored) options.onIgnored('location');
  const device = header(req, options.deviceHeader || 'x-device-fingerprint');
  if (typeof device === 'string' && device.length > 0) ctx.deviceFingerprint = device;
  if (options.timestampHeader) {
    const ts = Number(header(req, options.timestampHeader));
    if (Number.isFinite(ts) && ts > 0) ctx.timestamp = ts;
  }
  if (typeof req.sessionAge === 'number' && Number.isFinite(req.sessionAge) && req.sessionAge > 0) ctx.sessionAge = req.sessionAge;
  if (req.session && typeof req.session === 'object') {
    const started = req.session.createdAt || req.session.startedAt;
    const t = started instanceof Date ? started.getTime() : typeof started === 'number' ? started : NaN;
    if (Number.isFinite(t) && t > 0) ctx.sessionStartedAt = t;
  }
  if (options.extendContext) {
    const extra = options.extendContext(req, ctx);
    if (extra && typeof extra === 'object') Object.assign(ctx, extra);
  }
  if (overrides) Object.assign(ctx, overrides);
  return ctx;
}

module.exports = { buildRequestContext, defaultEndpointSensitivity, requestPath, parseLocation };
