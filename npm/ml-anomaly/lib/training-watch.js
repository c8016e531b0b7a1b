'use strict';
/**
 * Training progress as events: the service's 'training:start', 'training:progress',
 * 'training:done' and 'training:error', for every training whoever started it.
 *
 * Why polling: the engine keeps the latest progress event of any training (manual, the
 * automatic first training, drift, schedule); reading it (`trainingSnapshot()`) from an unref'd
 * timer, every second when idle and every 100 ms while a training runs, covers every trigger with
 * one mechanism, needs no threadsafe function whose lifetime could outlive the environment, and
 * never keeps the process alive.
 *
 * Trainings the service started itself (`owned()`) report their own start and end; the others
 * are reported from here: their start and progress from the engine's progress events, their end
 * from the 'finished'/'failed' event or, for one too quick to be seen, from the change of the
 * last retraining time.
 */

const WATCH_IDLE_MS = 1000;
const WATCH_TRAINING_MS = 100;

function progressKey(p) {
  return `${p.phase}|${p.version ?? ''}|${p.epoch ?? ''}|${p.startedAt ?? ''}`;
}

class TrainingWatch {
  /**
   * `host`: `{ engine() (or null), emit(event, payload), logger(), owned() }` — `owned()` is
   * true while a training the service started itself runs.
   */
  constructor(host) {
    this._host = host;
    this._timer = null;
    this._progress = null;
    this._progressKey = null;
    this._lastTrainingKey = undefined;
    this._sawTraining = false;
    this._trigger = null;
    this._lastDoneVersion = null;
    /** Latest progress event seen. */
    this.progress = null;
    /** The original's `lastRetrainingTime` (a Date), or null. */
    this.lastRetrainingTime = null;
    /** The latest training's outcome as seen here. */
    this.lastTraining = null;
  }

  /** Starts polling (after the engine opened): records the restored state without emitting. */
  start() {
    this.poll();
    this.schedule(WATCH_IDLE_MS);
  }

  stop() {
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
  }

  /** Polls soon and often (a training is about to run). */
  hurry() {
    this.schedule(WATCH_TRAINING_MS);
  }

  schedule(ms) {
    if (!this._host.engine()) return;
    if (this._timer) clearTimeout(this._timer);
    this._timer = setTimeout(() => {
      this._timer = null;
      const training = this.poll();
      this.schedule(training || this._host.owned() ? WATCH_TRAINING_MS : WATCH_IDLE_MS);
    }, ms);
    this._timer.unref();
  }

  /** Records a finished training once per version, whoever noticed it first. */
  done(info) {
    if (info.version != null && info.version === this._lastDoneVersion) return;
    this._lastDoneVersion = info.version;
    this.lastRetrainingTime = new Date();
    this.lastTraining = { ...info, finishedAt: this.lastRetrainingTime.toISOString() };
    this._host.logger().info(
      `ml-anomaly: model v${info.version} trained` +
        (info.trainingSize ? ` on ${info.trainingSize} samples` : '') +
        (info.durationMs ? ` in ${Math.round(info.durationMs)} ms` : '') +
        ` (${info.trigger})`,
    );
    this._host.emit('training:done', info);
  }

  failed(err, trigger) {
    this.lastTraining = { trained: false, trigger, error: err && err.message, finishedAt: new Date().toISOString() };
    this._host.logger().error(`ml-anomaly: training failed (${trigger}): ${err && err.message}`);
    this._host.emit('training:error', err);
  }

  /** Reads the engine's training state and emits what changed; true while a training runs. */
  poll() {
    const engine = this._host.engine();
    if (!engine) return false;
    let snap;
    try {
      snap = engine.trainingSnapshot();
    } catch {
      return false;
    }
    const owned = this._host.owned();
    const first = this._lastTrainingKey === undefined;
    const p = snap.progress;
    if (p) {
      const key = progressKey(p);
      if (key !== this._progressKey) {
        this._progressKey = key;
        this.progress = p;
        if (!first) {
          if (p.phase === 'started') this._trigger = p.reason;
          this._host.emit('training:progress', p);
          if (!owned && p.phase === 'finished') {
            this.done({ trained: true, version: p.version, durationMs: p.durationMs, trigger: this._trigger || 'engine' });
          } else if (!owned && p.phase === 'failed') {
            this.failed(new Error(p.error || 'training failed'), this._trigger || 'engine');
          }
        }
      }
    }
    if (snap.isTraining && !this._sawTraining) {
      this._sawTraining = true;
      if (!owned && !first) {
        const trigger = p && p.phase === 'started' ? p.reason : this._trigger || 'engine';
        this._host.logger().info(`ml-anomaly: training started (${trigger})`);
        this._host.emit('training:start', {
          trigger,
          force: trigger !== 'manual' && trigger !== 'automatic',
          version: p && p.version,
          samples: p && p.samples,
        });
      }
    } else if (!snap.isTraining) {
      this._sawTraining = false;
    }
    const key = snap.lastRetrainingTime == null ? null : String(snap.lastRetrainingTime);
    if (first) {
      // First look after opening: a training restored from the store is history, not news.
      this._lastTrainingKey = key;
      if (key !== null && this.lastRetrainingTime === null) this.lastRetrainingTime = new Date(snap.lastRetrainingTime);
    } else if (key !== this._lastTrainingKey) {
      this._lastTrainingKey = key;
      if (key !== null && !owned) {
        this.done({ trained: true, version: snap.activeVersion, trigger: this._trigger || 'engine' });
      }
    }
    return snap.isTraining;
  }
}

module.exports = { TrainingWatch };
