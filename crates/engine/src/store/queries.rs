//! SQL of the store: one function per statement or query, run on the writer thread.

use anomaly_core::bundle::TrainingMetrics;
use anomaly_core::explain::Explanation;
use anomaly_core::policy::Action;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::codec::{decode_features, decode_sample, encode_sample};
use super::PendingPrediction;
use crate::error::{EngineError, Result};
use crate::metrics::FeedbackTotals;
use crate::records::{
    AnomalySummary, DailyStatistics, DriftState, FeedbackReport, ModelInfo, ModelScoreSummary,
    PerformanceAggregates, PredictionRecord, SuspiciousSession, UserFeedback,
};
use crate::time::{civil_date, MS_PER_DAY};
use crate::window::{RowMeta, SavedRow};

fn corrupt(what: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::Store(format!("corrupt {what} in the store: {e}"))
}

fn action_of(name: &str) -> Result<Action> {
    Action::parse(name).ok_or_else(|| corrupt("action", format!("unknown action {name:?}")))
}

// ---------------------------------------------------------------- writes of the request path

pub(crate) fn insert_prediction(conn: &Connection, p: &PendingPrediction) -> rusqlite::Result<()> {
    let o = &p.outcome;
    let explanation = match (&o.explanation, p.store_explanation || o.is_anomaly) {
        (Some(e), true) => serde_json::to_string(e).ok(),
        _ => None,
    };
    let signals = if o.signals.is_empty() {
        None
    } else {
        serde_json::to_string(&o.signals).ok()
    };
    let (forest, autoencoder, agreement) = match &o.scores {
        Some(s) => (s.isolation_forest, s.autoencoder, Some(s.model_agreement)),
        None => (0.0, 0.0, None),
    };
    let mut stmt = conn.prepare_cached(
        "INSERT INTO predictions (id, session_id, user_id, timestamp, features, isolation_forest_score,
            autoencoder_score, composite_score, is_anomaly, confidence, model_agreement, explanation,
            request_context, model_version, recommended_action, action_taken, processing_time_us,
            fallback, error, signals)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
    )?;
    stmt.execute(params![
        o.id,
        o.session_id,
        o.user_id,
        o.timestamp,
        encode_sample(&o.features, &p.meta),
        forest,
        autoencoder,
        o.anomaly_score,
        o.is_anomaly,
        o.confidence,
        agreement,
        explanation,
        p.request_context,
        o.model_version,
        o.action.as_str(),
        o.enforced_action.as_str(),
        o.processing_time_us,
        o.fallback,
        o.error,
        signals,
    ])?;
    if let Some((slot, _)) = &p.window_slot {
        conn.prepare_cached("INSERT OR REPLACE INTO training_samples (slot, timestamp, features) VALUES (?1, ?2, ?3)")?
            .execute(params![slot, o.timestamp, encode_sample(&o.features, &p.meta)])?;
    }
    Ok(())
}

pub(crate) fn set_action_taken(conn: &Connection, id: i64, action: Action) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE predictions SET action_taken = ?2 WHERE id = ?1")?
        .execute(params![id, action.as_str()])?;
    Ok(())
}

// ---------------------------------------------------------------- meta

pub(crate) fn set_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
        .execute(params![key, value])?;
    Ok(())
}

pub(crate) fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

/// A numeric meta value; unparsable values are corruption.
pub(crate) fn get_meta_i64(conn: &Connection, key: &str) -> Result<Option<i64>> {
    get_meta(conn, key)?
        .map(|v| {
            v.parse::<i64>()
                .map_err(|e| corrupt(&format!("meta value {key}"), e))
        })
        .transpose()
}

// ---------------------------------------------------------------- predictions

const PREDICTION_COLUMNS: &str = "id, session_id, user_id, timestamp, features, isolation_forest_score,
    autoencoder_score, composite_score, is_anomaly, confidence, explanation, request_context, model_version,
    recommended_action, action_taken, feedback_false_positive, feedback_false_negative, feedback_notes,
    feedback_submitted_at, processing_time_us, fallback, error, signals";

/// The raw columns of a prediction row (decoded outside rusqlite's row closure so that
/// corruption becomes a clear error instead of a conversion failure).
struct RawPrediction {
    id: i64,
    session_id: String,
    user_id: String,
    timestamp: i64,
    features: Vec<u8>,
    forest: f64,
    autoencoder: f64,
    composite: f64,
    is_anomaly: bool,
    confidence: f64,
    explanation: Option<String>,
    request_context: Option<String>,
    model_version: Option<u32>,
    recommended_action: String,
    action_taken: String,
    fb_fp: Option<bool>,
    fb_fn: Option<bool>,
    fb_notes: Option<String>,
    fb_at: Option<i64>,
    processing_time_us: f64,
    fallback: bool,
    error: Option<String>,
    signals: Option<String>,
}

fn raw_prediction(r: &Row<'_>) -> rusqlite::Result<RawPrediction> {
    Ok(RawPrediction {
        id: r.get(0)?,
        session_id: r.get(1)?,
        user_id: r.get(2)?,
        timestamp: r.get(3)?,
        features: r.get(4)?,
        forest: r.get(5)?,
        autoencoder: r.get(6)?,
        composite: r.get(7)?,
        is_anomaly: r.get(8)?,
        confidence: r.get(9)?,
        explanation: r.get(10)?,
        request_context: r.get(11)?,
        model_version: r.get(12)?,
        recommended_action: r.get(13)?,
        action_taken: r.get(14)?,
        fb_fp: r.get(15)?,
        fb_fn: r.get(16)?,
        fb_notes: r.get(17)?,
        fb_at: r.get(18)?,
        processing_time_us: r.get(19)?,
        fallback: r.get(20)?,
        error: r.get(21)?,
        signals: r.get(22)?,
    })
}

fn decode_prediction(raw: RawPrediction) -> Result<PredictionRecord> {
    let explanation = raw
        .explanation
        .map(|e| serde_json::from_str::<Explanation>(&e).map_err(|e| corrupt("explanation", e)))
        .transpose()?;
    let request_context = raw
        .request_context
        .map(|c| serde_json::from_str(&c).unwrap_or(serde_json::Value::String(c)));
    let user_feedback = raw.fb_at.map(|submitted_at| UserFeedback {
        is_false_positive: raw.fb_fp.unwrap_or(false),
        is_false_negative: raw.fb_fn.unwrap_or(false),
        notes: raw.fb_notes,
        submitted_at,
    });
    let signals = match raw.signals {
        Some(s) => serde_json::from_str(&s).map_err(|e| corrupt("signals", e))?,
        None => Vec::new(),
    };
    Ok(PredictionRecord {
        id: raw.id,
        session_id: raw.session_id,
        user_id: raw.user_id,
        timestamp: raw.timestamp,
        features: decode_features(&raw.features)?,
        isolation_forest_score: raw.forest,
        autoencoder_score: raw.autoencoder,
        composite_score: raw.composite,
        is_anomaly: raw.is_anomaly,
        confidence: raw.confidence,
        explanation,
        request_context,
        model_version: raw.model_version,
        recommended_action: action_of(&raw.recommended_action)?,
        action_taken: action_of(&raw.action_taken)?,
        user_feedback,
        feedback_history: Vec::new(),
        processing_time: raw.processing_time_us / 1e3,
        fallback: raw.fallback,
        error: raw.error,
        signals,
    })
}

pub(crate) fn prediction_by_id(conn: &Connection, id: i64) -> Result<Option<PredictionRecord>> {
    let raw = conn
        .query_row(
            &format!("SELECT {PREDICTION_COLUMNS} FROM predictions WHERE id = ?1"),
            [id],
            raw_prediction,
        )
        .optional()?;
    raw.map(decode_prediction).transpose()
}

pub(crate) fn max_prediction_id(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn.query_row("SELECT max(id) FROM predictions", [], |r| r.get(0))?)
}

pub(crate) fn recent_anomalies(
    conn: &Connection,
    user_id: &str,
    since: i64,
    limit: usize,
) -> Result<Vec<AnomalySummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, timestamp, composite_score, confidence, explanation, recommended_action, action_taken
         FROM predictions WHERE user_id = ?1 AND timestamp >= ?2 AND is_anomaly = 1
         ORDER BY timestamp DESC, id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![user_id, since, limit as i64], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, f64>(2)?,
            r.get::<_, f64>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, timestamp, anomaly_score, confidence, explanation, recommended, taken) = row?;
        let explanation = explanation
            .map(|e| serde_json::from_str::<Explanation>(&e).map_err(|e| corrupt("explanation", e)))
            .transpose()?;
        let (summary, top_features, model_agreement) = match explanation {
            Some(e) => (
                e.summary,
                e.top_features.into_iter().take(3).collect(),
                Some(e.model_agreement),
            ),
            None => (String::new(), Vec::new(), None),
        };
        out.push(AnomalySummary {
            id,
            timestamp,
            anomaly_score,
            confidence,
            summary,
            top_features,
            model_agreement,
            recommended_action: action_of(&recommended)?,
            action_taken: action_of(&taken)?,
        });
    }
    Ok(out)
}

/// `(has feedback, false positive, false negative)` of a record.
pub(crate) type FeedbackFlags = (bool, bool, bool);

/// The owner and feedback flags of a record.
pub(crate) fn feedback_state(
    conn: &Connection,
    id: i64,
) -> Result<Option<(String, FeedbackFlags)>> {
    Ok(conn
        .query_row(
            "SELECT user_id, feedback_submitted_at IS NOT NULL, coalesce(feedback_false_positive, 0),
                    coalesce(feedback_false_negative, 0)
             FROM predictions WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))),
        )
        .optional()?)
}

/// Makes `f` the record's latest feedback and appends it, as sent by `by`, to its history (one
/// transaction).
pub(crate) fn set_feedback(
    conn: &mut Connection,
    id: i64,
    by: &str,
    f: &UserFeedback,
) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "UPDATE predictions SET feedback_false_positive = ?2, feedback_false_negative = ?3, feedback_notes = ?4,
                feedback_submitted_at = ?5 WHERE id = ?1",
        params![id, f.is_false_positive, f.is_false_negative, f.notes, f.submitted_at],
    )?;
    tx.execute(
        "INSERT INTO feedback_reports
             (prediction_id, submitted_at, submitted_by, false_positive, false_negative, notes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            f.submitted_at,
            by,
            f.is_false_positive,
            f.is_false_negative,
            f.notes
        ],
    )?;
    tx.commit()?;
    Ok(())
}

/// Every feedback report of prediction `id`, oldest first.
pub(crate) fn feedback_history(conn: &Connection, id: i64) -> Result<Vec<FeedbackReport>> {
    let mut stmt = conn.prepare_cached(
        "SELECT submitted_by, submitted_at, false_positive, false_negative, notes
         FROM feedback_reports WHERE prediction_id = ?1 ORDER BY submitted_at, rowid",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(FeedbackReport {
            submitted_by: r.get(0)?,
            submitted_at: r.get(1)?,
            is_false_positive: r.get(2)?,
            is_false_negative: r.get(3)?,
            notes: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Sessions with anomalies scoring at least `min_score` since `since`, highest maximum first.
pub(crate) fn suspicious_sessions(
    conn: &Connection,
    since: i64,
    min_score: f64,
    limit: usize,
) -> Result<Vec<SuspiciousSession>> {
    let mut stmt = conn.prepare_cached(
        "SELECT session_id, user_id, count(*), max(composite_score), avg(composite_score), max(timestamp)
         FROM predictions WHERE timestamp >= ?1 AND is_anomaly = 1 AND composite_score >= ?2
         GROUP BY session_id, user_id ORDER BY max(composite_score) DESC, session_id LIMIT ?3",
    )?;
    let groups = stmt
        .query_map(params![since, min_score, limit as i64], |r| {
            Ok(SuspiciousSession {
                session_id: r.get(0)?,
                user_id: r.get(1)?,
                anomaly_count: r.get::<_, i64>(2)? as u64,
                max_score: r.get(3)?,
                avg_score: r.get(4)?,
                last_seen: r.get(5)?,
                top_features: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut top = conn.prepare_cached(
        "SELECT explanation FROM predictions
         WHERE session_id = ?1 AND user_id = ?2 AND timestamp >= ?3 AND is_anomaly = 1
         ORDER BY composite_score DESC, id DESC LIMIT 1",
    )?;
    groups
        .into_iter()
        .map(|mut g| {
            let text: Option<String> = top
                .query_row(params![g.session_id, g.user_id, since], |r| r.get(0))
                .optional()?
                .flatten();
            if let Some(text) = text {
                let e: Explanation =
                    serde_json::from_str(&text).map_err(|e| corrupt("explanation", e))?;
                g.top_features = e.top_features.into_iter().take(3).collect();
            }
            Ok(g)
        })
        .collect()
}

pub(crate) fn false_positives(conn: &Connection, limit: usize) -> Result<Vec<PredictionRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PREDICTION_COLUMNS} FROM predictions WHERE feedback_false_positive = 1
         ORDER BY feedback_submitted_at DESC, id DESC LIMIT ?1"
    ))?;
    let raws = stmt
        .query_map([limit as i64], raw_prediction)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raws.into_iter().map(decode_prediction).collect()
}

pub(crate) fn statistics(
    conn: &Connection,
    user_id: &str,
    since: i64,
) -> Result<Vec<DailyStatistics>> {
    let mut stmt = conn.prepare_cached(
        "SELECT timestamp / ?3 AS day, count(*), sum(is_anomaly),
                avg(CASE WHEN fallback = 0 THEN composite_score END),
                max(CASE WHEN fallback = 0 THEN composite_score END)
         FROM predictions WHERE user_id = ?1 AND timestamp >= ?2
         GROUP BY day ORDER BY day",
    )?;
    let rows = stmt.query_map(params![user_id, since, MS_PER_DAY], |r| {
        Ok(DailyStatistics {
            date: civil_date(r.get::<_, i64>(0)?),
            day_start: r.get::<_, i64>(0)? * MS_PER_DAY,
            total_predictions: r.get::<_, i64>(1)? as u64,
            anomaly_count: r.get::<_, i64>(2)? as u64,
            avg_anomaly_score: r.get(3)?,
            max_anomaly_score: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn performance(
    conn: &Connection,
    since: i64,
    anomaly_threshold: f64,
) -> Result<PerformanceAggregates> {
    conn.query_row(
        "SELECT count(*), coalesce(sum(fallback), 0), coalesce(sum(CASE WHEN fallback = 0 THEN is_anomaly END), 0),
                coalesce(avg(CASE WHEN fallback = 0 THEN composite_score END), 0),
                coalesce(avg(CASE WHEN fallback = 0 THEN confidence END), 0),
                coalesce(avg(CASE WHEN fallback = 0 THEN model_agreement END), 0),
                coalesce(avg(CASE WHEN fallback = 0 THEN isolation_forest_score END), 0),
                coalesce(avg(CASE WHEN fallback = 0 THEN isolation_forest_score > ?2 END), 0),
                coalesce(avg(CASE WHEN fallback = 0 THEN autoencoder_score END), 0),
                coalesce(avg(CASE WHEN fallback = 0 THEN autoencoder_score > ?2 END), 0),
                coalesce(sum(feedback_false_positive), 0),
                coalesce(avg(processing_time_us), 0) / 1000.0
         FROM predictions WHERE timestamp >= ?1",
        params![since, anomaly_threshold],
        |r| {
            let total = r.get::<_, i64>(0)? as u64;
            let fallback = r.get::<_, i64>(1)? as u64;
            Ok(PerformanceAggregates {
                total_predictions: total,
                scored_predictions: total - fallback,
                fallback_predictions: fallback,
                anomaly_count: r.get::<_, i64>(2)? as u64,
                average_anomaly_score: r.get(3)?,
                average_confidence: r.get(4)?,
                model_agreement: r.get(5)?,
                isolation_forest: ModelScoreSummary { average_score: r.get(6)?, anomaly_rate: r.get(7)? },
                autoencoder: ModelScoreSummary { average_score: r.get(8)?, anomaly_rate: r.get(9)? },
                false_positive_reports: r.get::<_, i64>(10)? as u64,
                average_processing_time: r.get(11)?,
            })
        },
    )
    .map_err(Into::into)
}

/// The latest stored vector of a session: `(user id, timestamp, features)`.
pub(crate) fn latest_for_session(
    conn: &Connection,
    session_id: &str,
) -> Result<Option<(String, i64, Vec<f64>)>> {
    let row = conn
        .prepare_cached("SELECT user_id, timestamp, features FROM predictions WHERE session_id = ?1 ORDER BY id DESC LIMIT 1")?
        .query_row([session_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?)))
        .optional()?;
    row.map(|(u, t, f)| Ok((u, t, decode_features(&f)?)))
        .transpose()
}

/// The latest `limit` vectors scored by `version`, oldest first: `(timestamp, features,
/// composite)`.
pub(crate) fn recent_scored(
    conn: &Connection,
    version: u32,
    limit: usize,
) -> Result<Vec<(i64, Vec<f64>, f64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT timestamp, features, composite_score FROM predictions
         WHERE fallback = 0 AND model_version = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let raws = stmt
        .query_map(params![version, limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = raws
        .into_iter()
        .map(|(t, f, c)| Ok((t, decode_features(&f)?, c)))
        .collect::<Result<Vec<_>>>()?;
    out.reverse();
    Ok(out)
}

pub(crate) fn feedback_totals(conn: &Connection) -> Result<FeedbackTotals> {
    Ok(conn.query_row(
        "SELECT coalesce(sum(is_anomaly), 0), count(feedback_submitted_at), coalesce(sum(feedback_false_positive), 0),
                coalesce(sum(feedback_false_negative), 0)
         FROM predictions",
        [],
        |r| {
            Ok(FeedbackTotals {
                anomalies: r.get::<_, i64>(0)? as u64,
                with_feedback: r.get::<_, i64>(1)? as u64,
                false_positives: r.get::<_, i64>(2)? as u64,
                false_negatives: r.get::<_, i64>(3)? as u64,
            })
        },
    )?)
}

/// Deletes predictions (with their feedback reports) before `prediction_cutoff` and training samples before
/// `window_cutoff`; returns both counts.
pub(crate) fn prune(
    conn: &mut Connection,
    prediction_cutoff: i64,
    window_cutoff: i64,
) -> Result<(usize, usize)> {
    let tx = conn.transaction()?;
    tx.execute(
        "DELETE FROM feedback_reports WHERE prediction_id IN
             (SELECT id FROM predictions WHERE timestamp < ?1)",
        [prediction_cutoff],
    )?;
    let p = tx.execute(
        "DELETE FROM predictions WHERE timestamp < ?1",
        [prediction_cutoff],
    )?;
    let w = tx.execute(
        "DELETE FROM training_samples WHERE timestamp < ?1",
        [window_cutoff],
    )?;
    tx.commit()?;
    Ok((p, w))
}

pub(crate) fn window_rows(conn: &Connection) -> Result<Vec<SavedRow>> {
    let mut stmt =
        conn.prepare("SELECT slot, timestamp, features FROM training_samples ORDER BY slot")?;
    let raws = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raws.into_iter()
        .map(|(slot, ts, f)| {
            let slot = u32::try_from(slot).map_err(|_| corrupt("training sample slot", slot))?;
            let (x, meta) = decode_sample(&f)?;
            Ok((slot, ts, x, meta))
        })
        .collect()
}

pub(crate) fn put_snapshot(conn: &Connection, taken_at: i64, snapshot: &[u8]) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO state_snapshot (id, taken_at, snapshot) VALUES (1, ?1, ?2)",
        params![taken_at, snapshot],
    )?;
    Ok(())
}

pub(crate) fn get_snapshot(conn: &Connection) -> Result<Option<(i64, Vec<u8>)>> {
    Ok(conn
        .query_row(
            "SELECT taken_at, snapshot FROM state_snapshot WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// A reported prediction whose feedback still shapes decisions (see `engine::decisions`).
#[derive(Clone, Debug)]
pub(crate) struct FeedbackRow {
    pub id: i64,
    pub timestamp: i64,
    pub features: Vec<f64>,
    /// The keys of the request's user, session, device and source.
    pub meta: RowMeta,
    pub false_positive: bool,
    pub false_negative: bool,
}

const FEEDBACK_ROW: &str = "SELECT id, timestamp, features, coalesce(feedback_false_positive, 0),
        coalesce(feedback_false_negative, 0) FROM predictions";

fn feedback_rows(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<FeedbackRow>> {
    let mut stmt = conn.prepare(&format!("{FEEDBACK_ROW} {filter}"))?;
    let raws = stmt
        .query_map(params, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raws.into_iter()
        .map(|(id, timestamp, f, fp, fneg)| {
            let (features, meta) = decode_sample(&f)?;
            Ok(FeedbackRow {
                id,
                timestamp,
                features,
                meta,
                false_positive: fp,
                false_negative: fneg,
            })
        })
        .collect()
}

/// The predictions of requests at or after `since` (event time) reported as false positives
/// or false negatives, oldest first.
pub(crate) fn feedback_since(conn: &Connection, since: i64) -> Result<Vec<FeedbackRow>> {
    feedback_rows(
        conn,
        "WHERE timestamp >= ?1 AND (feedback_false_positive = 1 OR feedback_false_negative = 1)
         ORDER BY timestamp, id",
        [since],
    )
}

/// The alarms (CHALLENGE or worse enforced) of requests in `(from, until]` that nobody
/// reported as false positives, oldest first.
pub(crate) fn unreported_alarms(
    conn: &Connection,
    from: i64,
    until: i64,
) -> Result<Vec<FeedbackRow>> {
    feedback_rows(
        conn,
        "WHERE timestamp > ?1 AND timestamp <= ?2
           AND action_taken IN ('CHALLENGE', 'REQUIRE_2FA', 'BLOCK')
           AND coalesce(feedback_false_positive, 0) = 0
         ORDER BY timestamp, id",
        [from, until],
    )
}

/// Prediction `id` as feedback sees it.
pub(crate) fn feedback_row(conn: &Connection, id: i64) -> Result<Option<FeedbackRow>> {
    Ok(feedback_rows(conn, "WHERE id = ?1", [id])?.pop())
}

// ---------------------------------------------------------------- models

/// Inserts a model and makes it the active one, in one transaction.
pub(crate) fn insert_active_model(
    conn: &mut Connection,
    version: u32,
    created_at: i64,
    trained_at: i64,
    bundle: &[u8],
    metrics: &TrainingMetrics,
) -> Result<()> {
    let metrics = serde_json::to_string(metrics)
        .map_err(|e| EngineError::Internal(format!("training metrics: {e}")))?;
    let drift = serde_json::to_string(&DriftState::default())
        .map_err(|e| EngineError::Internal(format!("drift state: {e}")))?;
    let tx = conn.transaction()?;
    tx.execute(
        "UPDATE models SET is_active = 0, deactivated_at = ?1 WHERE is_active = 1",
        [created_at],
    )?;
    tx.execute(
        "INSERT INTO models (version, created_at, bundle, training_metrics, is_active, drift_state)
         VALUES (?1, ?2, ?3, ?4, 1, ?5)",
        params![version, created_at, bundle, metrics, drift],
    )?;
    set_meta(
        &tx,
        "next_model_version",
        &(u64::from(version) + 1).to_string(),
    )?;
    set_meta(&tx, "last_training_time", &trained_at.to_string())?;
    tx.commit()?;
    Ok(())
}

/// Makes `version` the active model; false when it does not exist.
pub(crate) fn activate_model(conn: &mut Connection, version: u32, now: i64) -> Result<bool> {
    let tx = conn.transaction()?;
    let exists: bool = tx.query_row(
        "SELECT count(*) FROM models WHERE version = ?1",
        [version],
        |r| r.get::<_, i64>(0),
    )? > 0;
    if !exists {
        return Ok(false);
    }
    tx.execute("UPDATE models SET is_active = 0, deactivated_at = ?2 WHERE is_active = 1 AND version != ?1", params![version, now])?;
    tx.execute(
        "UPDATE models SET is_active = 1, deactivated_at = NULL WHERE version = ?1",
        [version],
    )?;
    tx.commit()?;
    Ok(true)
}

const MODEL_COLUMNS: &str =
    "version, created_at, is_active, deactivated_at, training_metrics, drift_state, length(bundle)";

/// version, created_at, is_active, deactivated_at, training_metrics, drift_state, bundle size.
type RawModel = (u32, i64, bool, Option<i64>, String, Option<String>, i64);

fn model_info(r: &Row<'_>) -> rusqlite::Result<RawModel> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn decode_model_info(raw: RawModel) -> Result<ModelInfo> {
    let (version, created_at, is_active, deactivated_at, metrics, drift, size) = raw;
    Ok(ModelInfo {
        version,
        created_at,
        is_active,
        deactivated_at,
        training_metrics: serde_json::from_str(&metrics)
            .map_err(|e| corrupt(&format!("training metrics of model {version}"), e))?,
        drift_detector_state: match drift {
            Some(d) => serde_json::from_str(&d)
                .map_err(|e| corrupt(&format!("drift state of model {version}"), e))?,
            None => DriftState::default(),
        },
        size_bytes: size.max(0) as u64,
    })
}

/// Registered models, newest first.
pub(crate) fn model_history(conn: &Connection, limit: usize) -> Result<Vec<ModelInfo>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {MODEL_COLUMNS} FROM models ORDER BY version DESC LIMIT ?1"
    ))?;
    let raws = stmt
        .query_map([limit as i64], model_info)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raws.into_iter().map(decode_model_info).collect()
}

pub(crate) fn model_by_version(conn: &Connection, version: u32) -> Result<Option<ModelInfo>> {
    let raw = conn
        .query_row(
            &format!("SELECT {MODEL_COLUMNS} FROM models WHERE version = ?1"),
            [version],
            model_info,
        )
        .optional()?;
    raw.map(decode_model_info).transpose()
}

pub(crate) fn active_model(conn: &Connection) -> Result<Option<ModelInfo>> {
    let raw = conn
        .query_row(&format!("SELECT {MODEL_COLUMNS} FROM models WHERE is_active = 1 ORDER BY version DESC LIMIT 1"), [], model_info)
        .optional()?;
    raw.map(decode_model_info).transpose()
}

pub(crate) fn model_bundle_bytes(conn: &Connection, version: u32) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row(
            "SELECT bundle FROM models WHERE version = ?1",
            [version],
            |r| r.get(0),
        )
        .optional()?)
}

pub(crate) fn max_model_version(conn: &Connection) -> Result<Option<u32>> {
    Ok(conn.query_row("SELECT max(version) FROM models", [], |r| r.get(0))?)
}

pub(crate) fn set_drift_state(conn: &Connection, version: u32, state: &DriftState) -> Result<()> {
    let json = serde_json::to_string(state)
        .map_err(|e| EngineError::Internal(format!("drift state: {e}")))?;
    conn.execute(
        "UPDATE models SET drift_state = ?2 WHERE version = ?1",
        params![version, json],
    )?;
    Ok(())
}

/// Deletes inactive models beyond the `keep` newest inactive ones; returns how many.
pub(crate) fn prune_models(conn: &Connection, keep: usize) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM models WHERE is_active = 0 AND version NOT IN
            (SELECT version FROM models WHERE is_active = 0 ORDER BY version DESC LIMIT ?1)",
        [keep as i64],
    )?)
}
