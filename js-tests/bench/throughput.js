'use strict';
/**
 * Express throughput on loopback, with and without mlAnomalyCheck, in the same run: each app runs
 * in its own child process and autocannon (in this process) drives it, after a warm-up, with the
 * generated users' traffic of the weeks after the ones the model was trained on (their sessions,
 * endpoints, methods, IPs, browsers and locations, and each event's time in a header), so that
 * the middleware sees realistic, mostly normal requests. Reported: requests per second, latency
 * p50/p99, the ratio with/without, the responses by status, and the server's CPU time per request
 * by thread (main JS thread, the store's writer, the rest: GC and libuv helpers) read from
 * /proc, which says what the middleware costs independently of the load generator sharing the
 * machine's cores.
 */

const fs = require('node:fs');
const { spawn } = require('node:child_process');
const path = require('node:path');
const autocannon = require('autocannon');
const { normalTraffic, recentMonday } = require('../helpers/traffic');
const { eventHeaders } = require('../helpers/native-app');

const WEEK = 7 * 24 * 3600000;

/** The load: the training traffic's users, replayed week after week after the training weeks. */
function loadStream() {
  const { events } = normalTraffic({ seed: 17, users: 40, days: 12, start: recentMonday(3) });
  let i = 0;
  return () => {
    const k = i % events.length;
    const round = 1 + Math.floor(i / events.length);
    i += 1;
    const e = events[k];
    const headers = eventHeaders({ ...e, timestamp: e.timestamp + round * 2 * WEEK });
    return { method: e.method, path: e.endpoint, headers };
  };
}

function startServer(withMl, variant) {
  const args = [path.join(__dirname, 'server-child.js'), ...(withMl ? ['--ml', `--variant=${variant}`] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve({ child, port: JSON.parse(buf.slice(0, nl)).port });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

/** CPU milliseconds per thread of `pid`, by role; {} where /proc is not available. */
function threadCpuMs(pid) {
  const out = { main: 0, writer: 0, other: 0 };
  let tasks;
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const tick = 10; // USER_HZ = 100 on Linux
  for (const tid of tasks) {
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * tick;
    if (tid === String(pid)) out.main += ms;
    else if (name.startsWith('ml-anomaly')) out.writer += ms;
    else out.other += ms;
  }
  return out;
}

function run(port, duration, next) {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 10,
    pipelining: 1,
    duration,
    requests: [
      {
        setupRequest: (req) => {
          const r = next();
          return { ...req, method: r.method, path: r.path, headers: { ...req.headers, ...r.headers } };
        },
      },
    ],
  });
}

async function measure(withMl, duration, variant = 'full') {
  const { child, port } = await startServer(withMl, variant);
  try {
    const next = loadStream();
    await run(port, Math.max(1, Math.round(duration / 3)), next); // warm-up
    const before = threadCpuMs(child.pid);
    const r = await run(port, duration, next);
    const after = threadCpuMs(child.pid);
    const requests = r.requests.total;
    const cpuUsPerRequest =
      before && after && requests > 0
        ? Object.fromEntries(Object.keys(after).map((k) => [k, (1000 * (after[k] - before[k])) / requests]))
        : null;
    const statuses = Object.fromEntries(Object.entries(r.statusCodeStats || {}).map(([code, v]) => [code, v.count]));
    return { rps: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors, statuses, cpuUsPerRequest };
  } finally {
    child.kill('SIGTERM');
  }
}

/**
 * Baseline and full middleware; `variants` (see server-child.js: 'js-only', 'untrained') add
 * runs with parts of the request path taken away, each with its ratio to the baseline.
 */
async function benchThroughput({ duration = 10, variants = [] } = {}) {
  const baseline = await measure(false, duration);
  const withMl = await measure(true, duration);
  const parts = {};
  for (const v of variants) {
    const r = await measure(true, duration, v);
    parts[v] = { ...r, ratio: r.rps / baseline.rps };
  }
  return { duration, baseline, withMl, ratio: withMl.rps / baseline.rps, variants: parts };
}

module.exports = { benchThroughput };
