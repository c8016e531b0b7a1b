'use strict';
/**
 * The JS benchmarks (scripts/bench-js.sh, `npm run bench`):
 *   1. predictStreaming through the addon: median and p99 per call (target <= 25 µs median)
 *   2. Express throughput on loopback with and without mlAnomalyCheck (target >= 90 % of baseline)
 *   3. training time on 50,000 vectors through the addon
 *   4. process memory (RSS) with 100,000 active sessions
 * Prints a Markdown table at the end. Environment: BENCH_QUICK=1 (short runs),
 * BENCH_DURATION=10 (seconds per autocannon run), BENCH_ONLY=predict,throughput,training,memory,
 * BENCH_VARIANTS=js-only,untrained (the default without BENCH_QUICK; '' for none): throughput runs
 * with parts of the request path taken away (js-tests/bench/server-child.js).
 */

const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const { benchPredict } = require('./predict');
const { benchThroughput } = require('./throughput');
const { benchTraining } = require('./training');

const quick = process.env.BENCH_QUICK === '1';
const only = new Set((process.env.BENCH_ONLY || 'predict,throughput,training,memory').split(','));
const duration = Number(process.env.BENCH_DURATION || (quick ? 3 : 10));

function memory(sessions) {
  const out = execFileSync(process.execPath, ['--expose-gc', path.join(__dirname, 'memory-child.js'), String(sessions)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop());
}

const f1 = (x) => x.toFixed(1);

async function main() {
  const rows = [];
  const machine = `${os.cpus().length} × ${os.cpus()[0].model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`;
  console.log(`machine: ${machine}`);
  if (only.has('predict')) {
    const r = await benchPredict({ calls: quick ? 20000 : 100000 });
    console.log('predict', JSON.stringify(r));
    rows.push(['predictStreaming (await), per call', `median ${f1(r.predictStreaming.medianUs)} µs, p99 ${f1(r.predictStreaming.p99Us)} µs`, `${r.calls} calls, ${(100 * r.scoredFraction).toFixed(0)} % scored by the model; target ≤ 25 µs median`]);
    rows.push(['predictSync (no Promise), per call', `median ${f1(r.predictSync.medianUs)} µs, p99 ${f1(r.predictSync.p99Us)} µs`, 'same stream']);
    rows.push(['  of which in the engine', `median ${f1(r.engine.medianUs)} µs, p99 ${f1(r.engine.p99Us)} µs`, 'features + scoring + explanation + record queueing']);
  }
  if (only.has('throughput')) {
    const variants = (process.env.BENCH_VARIANTS ?? (quick ? '' : 'js-only,untrained')).split(',').filter(Boolean);
    const r = await benchThroughput({ duration, variants });
    console.log('throughput', JSON.stringify(r));
    rows.push(['Express, no middleware', `${Math.round(r.baseline.rps)} req/s (p50 ${r.baseline.p50Ms} ms, p99 ${r.baseline.p99Ms} ms)`, `autocannon 10 connections, ${duration} s, loopback`]);
    const statuses = (x) => Object.entries(x.statuses).map(([code, n]) => `${n} × ${code}`).join(', ');
    rows.push(['Express + mlAnomalyCheck', `${Math.round(r.withMl.rps)} req/s (p50 ${r.withMl.p50Ms} ms, p99 ${r.withMl.p99Ms} ms)`, `${(100 * r.ratio).toFixed(1)} % of baseline; target ≥ 90 %; responses: ${statuses(r.withMl)}`]);
    const cpu = (x) => (x.cpuUsPerRequest ? `main ${f1(x.cpuUsPerRequest.main)}, writer ${f1(x.cpuUsPerRequest.writer)}, other ${f1(x.cpuUsPerRequest.other)}` : 'n/a');
    rows.push(['server CPU per request, µs', `without ${cpu(r.baseline)}; with ${cpu(r.withMl)}`, 'per thread, /proc; the main thread is the bottleneck in both runs']);
    for (const [name, v] of Object.entries(r.variants)) {
      rows.push([`Express + mlAnomalyCheck, ${name} variant`, `${Math.round(v.rps)} req/s, ${(100 * v.ratio).toFixed(1)} % of baseline`, `server CPU per request: ${cpu(v)} µs (js-tests/bench/server-child.js)`]);
    }
  }
  if (only.has('training')) {
    const r = await benchTraining({ vectors: 50000, runs: quick ? 1 : 3 });
    console.log('training', JSON.stringify(r));
    rows.push(['training, 50,000 vectors', `${(r.wallMs / 1000).toFixed(2)} s wall (engine ${(r.engineMs / 1000).toFixed(2)} s)`, `${r.vectors} vectors, default config, median of ${r.runs}; original: 5–15 min`]);
  }
  if (only.has('memory')) {
    const r = memory(quick ? 20000 : 100000);
    console.log('memory', JSON.stringify(r));
    rows.push([`RSS, ${r.sessions.toLocaleString('en')} active sessions`, `${f1(r.rssMb)} MB`, `trained model loaded: ${f1(r.rssWithModelMb)} MB; ≈ ${Math.round(r.perSessionBytes)} B per session; ${r.trackedSessions} sessions / ${r.trackedUsers} users tracked`]);
  }
  console.log(`\n| measure | result | notes |\n|---|---|---|`);
  for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
  console.log(`\n${machine}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
