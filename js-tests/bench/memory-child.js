'use strict';
/**
 * Child process of the memory benchmark: RSS of a process serving a trained model with N active
 * sessions (default 100,000; the engine's default cap is 10,000 sessions, raised here so that all
 * stay tracked). Prints one JSON line.
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createAnomalyService } = require('ml-anomaly');
const { normalTraffic, contextOf, recentMonday } = require('../helpers/traffic');

async function main() {
  const sessions = Number(process.argv[2] || 100000);
  const perSession = 3;
  const mb = (b) => b / (1024 * 1024);
  global.gc && global.gc();
  const rssStart = process.memoryUsage().rss;
  // A file store, as in production: SQLite's page cache stays bounded, while an in-memory store
  // would count every stored prediction record as process memory.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ml-anomaly-bench-'));
  const service = createAnomalyService({
    store: path.join(dir, 'bench.sqlite'),
    autoTrain: false,
    schedules: false,
    engine: { state: { maxSessions: sessions, maxUsers: sessions } },
  });
  const traffic = normalTraffic({ seed: 5, users: 40, days: 12, start: recentMonday(3) });
  for (const e of traffic.events) service.predictSync(e.sessionId, e.userId, contextOf(e));
  const trained = await service.train({ force: true });
  if (!trained.trained) throw new Error('training skipped');
  await service.flush();
  const rssModel = process.memoryUsage().rss;
  const template = traffic.events.slice(0, 1000);
  const t0 = traffic.events[traffic.events.length - 1].timestamp + 3600000;
  // Interleaved: every session gets a request before any gets its next one, all within an hour
  // (no idle expiry), one user per 5 sessions.
  for (let round = 0; round < perSession; round++) {
    for (let s = 0; s < sessions; s++) {
      const e = template[(s + round) % template.length];
      const ctx = contextOf(e);
      ctx.timestamp = t0 + round * 600000 + Math.floor((s * 600000) / sessions);
      service.predictSync(`bench-s-${s}`, `bench-u-${Math.floor(s / 5)}`, ctx);
    }
  }
  await service.flush();
  global.gc && global.gc();
  const m = service.metrics();
  const rssEnd = process.memoryUsage().rss;
  const heap = process.memoryUsage().heapUsed;
  await service.close();
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({
    sessions,
    trackedSessions: m.trackedSessions,
    trackedUsers: m.trackedUsers,
    rssStartMb: mb(rssStart),
    rssWithModelMb: mb(rssModel),
    rssMb: mb(rssEnd),
    perSessionBytes: (rssEnd - rssModel) / sessions,
    jsHeapMb: mb(heap),
  }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
