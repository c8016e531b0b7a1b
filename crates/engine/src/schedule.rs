//! What periodic work is due: the drift check, the forced retrain, pruning and the state snapshot.
//!
//! The host calls [`crate::Engine::maintenance`] from a timer (the Node package from an
//! `unref`'d `setInterval`); this module decides, from explicit times only, which jobs are due.
//! Keeping the decision pure makes the schedules testable without waiting and immune to how
//! often the timer fires: a job runs at most once per interval however often maintenance is
//! called, and a missed period (process asleep, timer delayed) runs once, not once per missed
//! period.
//!
//! Anchors: a job that never ran is anchored at the first maintenance call (the original's
//! `setInterval` first fired one period after start). The forced retrain is anchored at the
//! latest training instead (any training, drift-triggered or manual, restarts its period), so a
//! freshly trained model is not retrained again a minute later.

use serde::{Deserialize, Serialize};

/// One periodic job's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Periodic {
    /// When the job last ran (or its anchor), ms since the epoch.
    pub last: Option<i64>,
}

impl Periodic {
    /// True when `interval_ms` has passed since the last run. A job without a last run is
    /// anchored at `now` and is not due.
    pub fn due(&mut self, now: i64, interval_ms: i64) -> bool {
        match self.last {
            None => {
                self.last = Some(now);
                false
            }
            Some(last) => now.saturating_sub(last) >= interval_ms,
        }
    }

    /// Records a run at `now`.
    pub fn ran(&mut self, now: i64) {
        self.last = Some(now);
    }
}

/// Which schedules are on (both can be switched at run time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleFlags {
    /// The drift check every `driftCheckIntervalMs` (and the retrain it may trigger).
    pub drift_check: bool,
    /// The forced retrain every `forcedRetrainIntervalMs`.
    pub forced_retrain: bool,
}

/// The state of every periodic job.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Schedule {
    pub drift_check: Periodic,
    pub forced_retrain: Periodic,
    pub prune: Periodic,
    pub snapshot: Periodic,
}

/// Intervals of the jobs, in ms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Intervals {
    pub drift_check_ms: i64,
    pub forced_retrain_ms: i64,
    pub prune_ms: i64,
    pub snapshot_ms: i64,
}

/// The jobs due now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Due {
    pub drift_check: bool,
    pub forced_retrain: bool,
    pub prune: bool,
    pub snapshot: bool,
}

impl Schedule {
    /// Which jobs are due at `now`. Disabled schedules are never due, but keep their anchors
    /// moving so that switching them back on does not fire a backlog at once.
    pub fn due(&mut self, now: i64, iv: &Intervals, flags: ScheduleFlags) -> Due {
        let mut drift_check = self.drift_check.due(now, iv.drift_check_ms);
        let mut forced_retrain = self.forced_retrain.due(now, iv.forced_retrain_ms);
        if !flags.drift_check && drift_check {
            self.drift_check.ran(now);
            drift_check = false;
        }
        if !flags.forced_retrain && forced_retrain {
            self.forced_retrain.ran(now);
            forced_retrain = false;
        }
        Due {
            drift_check,
            forced_retrain,
            prune: self.prune.due(now, iv.prune_ms),
            snapshot: self.snapshot.due(now, iv.snapshot_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const IV: Intervals = Intervals {
        drift_check_ms: H,
        forced_retrain_ms: 24 * H,
        prune_ms: H,
        snapshot_ms: 5 * 60_000,
    };
    const ON: ScheduleFlags = ScheduleFlags {
        drift_check: true,
        forced_retrain: true,
    };

    #[test]
    fn first_call_anchors_then_each_job_fires_once_per_interval() {
        let mut s = Schedule::default();
        let t0 = 1_700_000_000_000;
        assert_eq!(
            s.due(t0, &IV, ON),
            Due::default(),
            "nothing is due at the anchor"
        );
        assert!(!s.due(t0 + H - 1, &IV, ON).drift_check);
        let d = s.due(t0 + H, &IV, ON);
        assert!(d.drift_check && d.prune && d.snapshot && !d.forced_retrain);
        s.drift_check.ran(t0 + H);
        assert!(
            !s.due(t0 + H + 60_000, &IV, ON).drift_check,
            "not again within the hour"
        );
        // a long gap (timer delayed for 5 hours) fires once, then waits a full interval
        assert!(s.due(t0 + 6 * H, &IV, ON).drift_check);
        s.drift_check.ran(t0 + 6 * H);
        assert!(!s.due(t0 + 6 * H + 1, &IV, ON).drift_check);
        assert!(s.due(t0 + 24 * H, &IV, ON).forced_retrain);
    }

    #[test]
    fn forced_retrain_is_anchored_at_the_latest_training() {
        let mut s = Schedule::default();
        let t0 = 0;
        s.forced_retrain.ran(t0); // a training happened at t0 (restored from storage)
        assert!(!s.due(t0 + 23 * H, &IV, ON).forced_retrain);
        s.forced_retrain.ran(t0 + 23 * H); // a drift-triggered retrain restarts the period
        assert!(!s.due(t0 + 24 * H, &IV, ON).forced_retrain);
        assert!(s.due(t0 + 47 * H, &IV, ON).forced_retrain);
    }

    #[test]
    fn disabled_schedules_never_fire_and_do_not_backlog() {
        let mut s = Schedule::default();
        let off = ScheduleFlags {
            drift_check: false,
            forced_retrain: false,
        };
        s.due(0, &IV, off);
        for h in 1..100 {
            let d = s.due(h * H, &IV, off);
            assert!(!d.drift_check && !d.forced_retrain, "hour {h}");
            assert!(d.prune, "housekeeping continues");
            s.prune.ran(h * H);
        }
        // switched back on: the next run comes one interval after the switch, not at once
        assert!(!s.due(100 * H - 1, &IV, ON).drift_check);
        assert!(s.due(100 * H, &IV, ON).drift_check);
    }
}
