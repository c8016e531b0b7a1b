'use strict';
/**
 * The service's schedules: one unref'd timer that calls the engine's maintenance.
 *
 * Why one timer and not one per job: the engine decides from explicit times what is due (drift
 * check, forced retrain, pruning, state snapshot), so a delayed or frequent tick never runs a job
 * twice or piles up a backlog; the timer only has to tick at least as often as the shortest
 * period. Unref'd, so it never keeps the host process alive.
 */

/** How often the schedules ask the engine what is due (at most; shorter periods tick faster). */
const MAINTENANCE_TICK_MS = 60000;

class Schedules {
  /** `run()`: one maintenance pass (a Promise); `periods()`: the configured periods in ms. */
  constructor(run, periods) {
    this._run = run;
    this._periods = periods;
    this._timer = null;
  }

  get running() {
    return this._timer !== null;
  }

  start() {
    if (this._timer) return;
    const periods = this._periods().filter((ms) => ms > 0);
    const tick = Math.max(1000, Math.min(MAINTENANCE_TICK_MS, ...periods));
    let busy = false;
    this._timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this._run().finally(() => {
        busy = false;
      });
    }, tick);
    this._timer.unref();
  }

  stop() {
    if (this._timer) clearInterval(this._timer);
    this._timer = null;
  }

  /** Restarts with the current periods (after a configuration change), if running. */
  refresh() {
    if (!this._timer) return;
    this.stop();
    this.start();
  }
}

module.exports = { Schedules, MAINTENANCE_TICK_MS };
