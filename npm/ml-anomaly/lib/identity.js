'use strict';
/**
 * Who made a request: the one place the middlewares and the router read identity from `req`.
 *
 * Why these fallbacks: the original read `req.userId` and `req.sessionId` only, and ExpenseFlow's
 * own `auth` middleware never sets `req.userId` (it sets `req.user`, the user document, and
 * `req.sessionId`, a MongoDB ObjectId, plus `req.jwtId`). Read the original's way, every request
 * of the app as shipped was skipped and the user routes queried `userId: undefined`: a security
 * middleware that silently did nothing. So the default identity is what hosts really set:
 *
 * | identity  | read from, first present wins                                            |
 * |-----------|---------------------------------------------------------------------------|
 * | userId    | `req.userId`, `req.user._id`, `req.user.id`                               |
 * | sessionId | `req.sessionId`, `req.sessionID` (express-session), `req.session.id`, `req.jwtId` |
 * | admin     | `req.user.isAdmin === true` or `req.user.role === 'admin'`                |
 *
 * Ids are stringified (ObjectIds, numbers; see validate.idText). A host with another layout
 * passes `getIdentity(req)` (middlewares) or `getUserId(req)` / `isAdmin(req)` (router).
 */

const { idText } = require('./validate');

function first(...values) {
  for (const v of values) {
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

/** The caller's user id as a string, or undefined. */
function userIdOf(req) {
  const u = req.user !== null && typeof req.user === 'object' ? req.user : undefined;
  return idText(first(req.userId, u && u._id, u && u.id));
}

/** The caller's session id as a string, or undefined. */
function sessionIdOf(req) {
  const s = req.session !== null && typeof req.session === 'object' ? req.session : undefined;
  return idText(first(req.sessionId, req.sessionID, s && s.id, req.jwtId));
}

/** `{ sessionId, userId }` of a request, each a string or undefined. */
function defaultIdentity(req) {
  return { sessionId: sessionIdOf(req), userId: userIdOf(req) };
}

/** Whether the caller is an admin. */
function defaultIsAdmin(req) {
  const u = req.user;
  return Boolean(u && typeof u === 'object' && (u.isAdmin === true || u.role === 'admin'));
}

module.exports = { defaultIdentity, defaultIsAdmin, userIdOf, sessionIdOf };
