'use strict';
/**
 * Seeded, ExpenseFlow-like traffic for the end-to-end tests and the benchmarks, generated in
 * JavaScript so that the suites need nothing but the addon (the demo uses the Rust simulator,
 * `ml-anomaly simulate`, which has more scenarios).
 *
 * Normal users have habits: a home location, one IP, one browser, one device, office hours on
 * weekdays, a few usual endpoints, sessions of tens of requests seconds to a minute apart. The
 * attack is a session hijack: the stolen session is replayed from another continent with a
 * scripting client at night, fast, on administrative, export and delete endpoints.
 */

/** mulberry32: a tiny seeded PRNG (tests need determinism, not quality). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOUR = 3600000;
const DAY = 24 * HOUR;
/** Monday 2024-01-01T00:00:00Z. */
const MONDAY = Date.UTC(2024, 0, 1);

/**
 * Monday 00:00 UTC of the week `weeksAgo` weeks before the current one. The engine trains on the
 * last `modelWindowDays` before now, so traffic must be recent; aligning it on a Monday keeps
 * every weekday and hour-of-day feature identical from one run to the next.
 */
function recentMonday(weeksAgo = 1, now = Date.now()) {
  const today = Math.floor(now / DAY) * DAY;
  const weekday = (new Date(today).getUTCDay() + 6) % 7; // Monday 0
  return today - weekday * DAY - weeksAgo * 7 * DAY;
}

const CITIES = [
  { lat: 48.8566, lon: 2.3522 },
  { lat: 51.5074, lon: -0.1278 },
  { lat: 52.52, lon: 13.405 },
  { lat: 40.4168, lon: -3.7038 },
  { lat: 45.4642, lon: 9.19 },
];
const BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 Version/17.2 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
];
const NORMAL_ROUTES = [
  ['GET', '/api/expenses', 'LOW', 0],
  ['GET', '/api/expenses/:id', 'LOW', 0],
  ['POST', '/api/expenses', 'MODERATE', 600],
  ['PUT', '/api/expenses/:id', 'MODERATE', 400],
  ['GET', '/api/reports/monthly', 'LOW', 0],
  ['GET', '/api/budgets', 'LOW', 0],
  ['GET', '/api/receipts/:id', 'LOW', 0],
];
const ATTACK_ROUTES = [
  ['GET', '/api/admin/users', 'CRITICAL', 0],
  ['GET', '/api/expenses/export', 'HIGH', 0],
  ['DELETE', '/api/expenses/:id', 'HIGH', 0],
  ['POST', '/api/admin/roles', 'CRITICAL', 200],
  ['GET', '/api/settings/bank', 'HIGH', 0],
];

function pick(r, list) {
  return list[Math.floor(r() * list.length)];
}

function makeUsers(r, count) {
  const users = [];
  for (let i = 0; i < count; i++) {
    const city = pick(r, CITIES);
    users.push({
      userId: `user-${i}`,
      ip: `10.${(i >> 8) & 255}.${i & 255}.${10 + Math.floor(r() * 200)}`,
      userAgent: pick(r, BROWSERS),
      device: `device-${i}`,
      location: { lat: city.lat + (r() - 0.5) * 0.05, lon: city.lon + (r() - 0.5) * 0.05 },
      startHour: 8 + Math.floor(r() * 2),
      routes: [NORMAL_ROUTES[0], NORMAL_ROUTES[1], pick(r, NORMAL_ROUTES), pick(r, NORMAL_ROUTES)],
    });
  }
  return users;
}

function event(ts, sessionId, user, route, r, extra = {}) {
  const [method, template, sensitivity, size] = route;
  return {
    timestamp: Math.round(ts),
    sessionId,
    userId: user.userId,
    endpoint: template.replace(':id', String(1000 + Math.floor(r() * 9000))),
    method,
    ipAddress: user.ip,
    userAgent: user.userAgent,
    contentLength: size ? Math.round(size * (0.5 + r())) : 0,
    endpointSensitivity: sensitivity,
    location: user.location,
    deviceFingerprint: user.device,
    ...extra,
  };
}

/**
 * Normal traffic: `users` users over `days` weekdays from Monday 2024-01-01 (or `start`), about
 * `sessionsPerDay` sessions per user and day. Returns events sorted by time.
 */
function normalTraffic({ seed = 7, users = 20, days = 5, sessionsPerDay = 2, start = MONDAY, requestsPerSession = [10, 30] } = {}) {
  const r = rng(seed);
  const people = makeUsers(r, users);
  const events = [];
  let sessionCounter = 0;
  for (let d = 0; d < days; d++) {
    const dayStart = start + d * DAY;
    const weekday = new Date(dayStart).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    for (const user of people) {
      for (let s = 0; s < sessionsPerDay; s++) {
        const sessionId = `s-${seed}-${sessionCounter++}`;
        let t = dayStart + (user.startHour + s * 3 + r() * 2) * HOUR;
        const n = requestsPerSession[0] + Math.floor(r() * (requestsPerSession[1] - requestsPerSession[0]));
        for (let k = 0; k < n; k++) {
          events.push(event(t, sessionId, user, pick(r, user.routes), r));
          t += (5 + r() * 55) * 1000;
        }
      }
    }
  }
  events.sort((a, b) => a.timestamp - b.timestamp);
  return { users: people, events };
}

/**
 * A hijacked session of `user` starting at `at`: another continent, a scripting client, every
 * 200–700 ms, sensitive endpoints only.
 */
function hijackAttack({ seed = 99, user, at, requests = 60, sessionId = `hijack-${seed}` }) {
  const r = rng(seed);
  const attacker = {
    ...user,
    ip: `203.0.113.${1 + Math.floor(r() * 250)}`,
    userAgent: 'python-requests/2.31.0',
    device: `unknown-${seed}`,
    location: { lat: -33.8688, lon: 151.2093 },
  };
  const events = [];
  let t = at;
  for (let k = 0; k < requests; k++) {
    events.push(event(t, sessionId, attacker, pick(r, ATTACK_ROUTES), r));
    t += 200 + r() * 500;
  }
  return events;
}

/** The service's `requestContext` of a generated event (everything but the ids). */
function contextOf(e) {
  const { sessionId, userId, ...ctx } = e;
  return ctx;
}

module.exports = { rng, normalTraffic, hijackAttack, contextOf, recentMonday, MONDAY, DAY, HOUR };
