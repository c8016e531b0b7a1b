'use strict';
/**
 * From an HTTP request to the service's `requestContext`.
 *
 * Why a module of its own: the two middlewares and the demo build the same context, and what the
 * original hard-wired (the endpoint sensitivity table, where the location comes from) becomes
 * options here. Everything is best-effort: a malformed header is ignored, never an error, because
 * a prediction with one field missing beats a request the middleware failed on.
 */

const CRITICAL_PATH = /\/(admin|security|api-keys?|roles?|permissions?)(\/|$)/i;
const HIGH_PATH = /\/(export|exports|password|2fa|mfa|settings|account|payments?|bank|transfers?|payouts?|approve|reimburse)(\/|$)/i;

/**
 * The default sensitivity of a request: administrative and security paths are CRITICAL; exports,
 * credentials, money movement and deletions HIGH; other writes MODERATE; reads LOW. Replace it with
 * the `resolveEndpointSensitivity(req)` option to use the host's own classification.
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

/** "lat,lon" → { lat, lon }, or undefined when malformed or out of range. */
function parseLocation(text) {
  if (typeof text !== 'string') return undefined;
  const comma = text.indexOf(',');
  if (comma < 0) return undefined;
  const lat = Number(text.slice(0, comma));
  const lon = Number(text.slice(comma + 1));
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return undefined;
  return { lat, lon };
}

function objectLocation(v) {
  if (!v || typeof v !== 'object') return undefined;
  const lat = Number(v.lat !== undefined ? v.lat : v.latitude);
  const lon = Number(v.lon !== undefined ? v.lon : v.lng !== undefined ? v.lng : v.longitude);
  return Number.isFinite(lat) && Number.isFinite(lon) ? { lat, lon } : undefined;
}

/**
 * Builds the request context. `options`: `resolveEndpointSensitivity(req)`, `locationHeader`
 * (default 'x-geo-location', "lat,lon"), `deviceHeader` (default 'x-device-fingerprint'),
 * `timestampHeader` (off by default: only for replays and demos, never trust it in production),
 * `extendContext(req, ctx)` (returns extra fields, e.g. the host's behavior signals).
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
  if (options.resolveEndpointSensitivity) {
    sensitivity = options.resolveEndpointSensitivity(req);
  }
  ctx.endpointSensitivity = sensitivity || defaultEndpointSensitivity(req, path);
  const location =
    parseLocation(header(req, options.locationHeader || 'x-geo-location')) || objectLocation(req.geo) || objectLocation(req.location);
  if (location) ctx.location = location;
  const device = header(req, options.deviceHeader || 'x-device-fingerprint');
  if (typeof device === 'string' && device.length > 0) ctx.deviceFingerprint = device;
  if (options.timestampHeader) {
    const ts = Number(header(req, options.timestampHeader));
    if (Number.isFinite(ts) && ts > 0) ctx.timestamp = ts;
  }
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
