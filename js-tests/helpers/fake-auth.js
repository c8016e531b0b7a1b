'use strict';
/**
 * Header-based fake authentication, as the demo app uses: `x-user-id`, `x-session-id` and
 * `x-admin: true`. `auth` answers 401 without a user, like ExpenseFlow's auth middleware; it sets
 * `req.user`, `req.userId` and `req.sessionId`, which the middlewares and routes read.
 */

function identify(req, res, next) {
  const userId = req.get('x-user-id');
  const sessionId = req.get('x-session-id');
  if (userId) {
    req.userId = userId;
    req.user = { _id: userId, role: req.get('x-admin') === 'true' ? 'admin' : 'user' };
  }
  if (sessionId) req.sessionId = sessionId;
  next();
}

function auth(req, res, next) {
  identify(req, res, () => {
    if (!req.userId) return res.status(401).json({ success: false, error: 'No token, authorization denied' });
    return next();
  });
}

function requireAdmin(req, res, next) {
  if (req.user && req.user.role === 'admin') return next();
  return res.status(403).json({ success: false, error: 'Admin access required' });
}

module.exports = { identify, auth, requireAdmin };
