'use strict';
/**
 * ExpenseFlow's `middleware/auth.js`, as it shapes the request: a bearer token names the user and,
 * when it has a `jti`, the session. It sets `req.user` (the user document: `_id` an ObjectId,
 * `role`, `isAdmin`), `req.sessionId` (the session document's `_id`, an ObjectId, not a string)
 * and `req.jwtId` — and never `req.userId`. 401 without a token. It exports no `requireAdmin`
 * (ExpenseFlow's routes file imports one anyway): the one-line check hosts add is below, as
 * docs/integration.md gives it.
 *
 * Token: `Bearer <user>[.<jti>][.admin]`.
 */
const { objectIdOf } = require('./object-id');

const auth = async (req, res, next) => {
  const token = req.header('Authorization')?.replace('Bearer ', '');
  if (!token) return res.status(401).json({ error: 'Access denied. No token provided.' });
  const [name, jti, flag] = token.split('.');
  if (jti) {
    req.sessionId = objectIdOf(`session:${jti}`);
    req.jwtId = jti;
  }
  const isAdmin = flag === 'admin';
  req.user = { _id: objectIdOf(`user:${name}`), name, role: isAdmin ? 'admin' : 'user', isAdmin };
  next();
};

/** The one-line admin check a host passes (ExpenseFlow's auth.js has none). */
const requireAdmin = (req, res, next) =>
  req.user && (req.user.isAdmin || req.user.role === 'admin') ? next() : res.status(403).json({ success: false, error: 'Admin access required' });

module.exports = auth;
module.exports.auth = auth;
module.exports.authenticateToken = auth;
module.exports.requireAdmin = requireAdmin;
