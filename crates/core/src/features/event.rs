//! The request event: what the host application knows about one request.
//!
//! The field set mirrors ExpenseFlow's `requestContext` (endpoint, method, ipAddress, userAgent,
//! contentLength, endpointSensitivity, sessionAge, isWeekend, isBusinessHours, location) plus the
//! identity of the request (timestamp, session, user) and what the response or the app's own
//! behavior-signal engine already said about it (status code, external signals). Everything but
//! the three identity fields is optional because real middleware often does not know it; each
//! missing field has a documented default (docs/features.md).
//!
//! The timestamp is always supplied by the caller. This crate never reads a clock, so replaying
//! a recorded stream yields exactly the vectors that were scored live.

use serde::{Deserialize, Serialize};

/// One request, as the feature pipeline sees it. JSON uses camelCase field names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestEvent {
    /// Milliseconds since the Unix epoch (UTC), in `0 ..= MAX_TIMESTAMP_MS`.
    pub timestamp: i64,
    /// The host's session id. Required, non-empty.
    pub session_id: String,
    /// The host's user id. Required, non-empty.
    pub user_id: String,
    /// Request path, e.g. `/api/expenses/64f1c0de`. Query strings and id-like segments are
    /// normalised away before use (see [`crate::features::normalize`]).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// HTTP method, case-insensitive.
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Request body size in bytes.
    #[serde(default)]
    pub content_length: Option<u64>,
    #[serde(default)]
    pub endpoint_sensitivity: Option<Sensitivity>,
    /// When the session began (ms since epoch), if the host knows it.
    #[serde(default)]
    pub session_started_at: Option<i64>,
    /// ExpenseFlow's `requestContext.sessionAge` in ms; used when `session_started_at` is absent.
    #[serde(default)]
    pub session_age_ms: Option<i64>,
    #[serde(default)]
    pub location: Option<GeoPoint>,
    #[serde(default)]
    pub device_fingerprint: Option<String>,
    /// Response status, when the event is recorded after the response (401/403 feed the
    /// failed-authentication signal).
    #[serde(default)]
    pub status_code: Option<u16>,
    /// Signals raised by the host's own behavior-signal engine for this request.
    #[serde(default)]
    pub signals: Vec<Signal>,
    /// Overrides the weekend flag computed from the timestamp.
    #[serde(default)]
    pub is_weekend: Option<bool>,
    /// Overrides the business-hours flag computed from the timestamp.
    #[serde(default)]
    pub is_business_hours: Option<bool>,
}

/// Largest accepted timestamp: 9999-12-31T23:59:59.999Z.
pub const MAX_TIMESTAMP_MS: i64 = 253_402_300_799_999;

impl RequestEvent {
    /// An event with only the required fields set.
    pub fn new(timestamp: i64, session_id: impl Into<String>, user_id: impl Into<String>) -> Self {
        RequestEvent {
            timestamp,
            session_id: session_id.into(),
            user_id: user_id.into(),
            endpoint: None,
            method: None,
            ip_address: None,
            user_agent: None,
            content_length: None,
            endpoint_sensitivity: None,
            session_started_at: None,
            session_age_ms: None,
            location: None,
            device_fingerprint: None,
            status_code: None,
            signals: Vec::new(),
            is_weekend: None,
            is_business_hours: None,
        }
    }
}

/// How sensitive the requested endpoint is, as ExpenseFlow classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Sensitivity {
    Low,
    #[serde(alias = "MEDIUM")]
    Moderate,
    High,
    Critical,
}

impl Sensitivity {
    /// Ordinal 0 (LOW) ..= 3 (CRITICAL): the value of the `endpoint_sensitivity` feature.
    pub fn ordinal(self) -> u8 {
        match self {
            Sensitivity::Low => 0,
            Sensitivity::Moderate => 1,
            Sensitivity::High => 2,
            Sensitivity::Critical => 3,
        }
    }
}

/// A geographic position in decimal degrees (WGS 84).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    /// True when both coordinates are finite and within `[-90, 90]` × `[-180, 180]`.
    /// Invalid positions are treated as missing by the pipeline (never an error: geolocation is
    /// best-effort in every host).
    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
    }
}

/// Severity of a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Low,
    #[serde(alias = "MEDIUM")]
    Moderate,
    High,
    Critical,
}

impl Severity {
    /// 0 (LOW) ..= 3 (CRITICAL).
    pub fn ordinal(self) -> u8 {
        match self {
            Severity::Low => 0,
            Severity::Moderate => 1,
            Severity::High => 2,
            Severity::Critical => 3,
        }
    }
}

/// A behavioral signal: raised by the host's behavior-signal engine (external) or derived here
/// from the event stream (see [`crate::features::DerivedKind`]). Both kinds feed the same
/// statistical and sequence features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Signal {
    /// Signal type, e.g. `IMPOSSIBLE_TRAVEL`. External types are classified into feature
    /// categories by keyword (see [`crate::features::SignalCategory::classify`]).
    #[serde(rename = "type")]
    pub kind: String,
    pub severity: Severity,
    /// Risk points, 0–100. Non-finite values count as 0; values are clamped into 0–100.
    pub risk_impact: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_expenseflow_shaped_json_with_defaults() {
        let json = r#"{"timestamp": 1700000000000, "sessionId": "s1", "userId": "u1",
            "endpoint": "/api/expenses", "method": "GET", "endpointSensitivity": "HIGH",
            "location": {"lat": 48.85, "lon": 2.35}, "sessionAgeMs": 5000,
            "signals": [{"type": "GEO_DRIFT", "severity": "MEDIUM", "riskImpact": 20}]}"#;
        let e: RequestEvent = serde_json::from_str(json).unwrap();
        assert_eq!(e.endpoint_sensitivity, Some(Sensitivity::High));
        assert_eq!(e.session_age_ms, Some(5000));
        assert_eq!(e.signals[0].severity, Severity::Moderate);
        assert_eq!(e.signals[0].risk_impact, 20.0);
        assert_eq!(e.user_agent, None);
        let minimal: RequestEvent =
            serde_json::from_str(r#"{"timestamp": 1, "sessionId": "s", "userId": "u"}"#).unwrap();
        assert_eq!(minimal, RequestEvent::new(1, "s", "u"));
    }

    #[test]
    fn serializes_camel_case_and_round_trips() {
        let mut e = RequestEvent::new(5, "s", "u");
        e.ip_address = Some("10.0.0.1".into());
        e.endpoint_sensitivity = Some(Sensitivity::Critical);
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"ipAddress\":\"10.0.0.1\""), "{json}");
        assert!(
            json.contains("\"endpointSensitivity\":\"CRITICAL\""),
            "{json}"
        );
        let back: RequestEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn geo_validity() {
        assert!(GeoPoint {
            lat: -90.0,
            lon: 180.0
        }
        .is_valid());
        assert!(!GeoPoint {
            lat: f64::NAN,
            lon: 0.0
        }
        .is_valid());
        assert!(!GeoPoint {
            lat: 0.0,
            lon: f64::INFINITY
        }
        .is_valid());
        assert!(!GeoPoint {
            lat: 91.0,
            lon: 0.0
        }
        .is_valid());
        assert!(!GeoPoint {
            lat: 0.0,
            lon: -180.5
        }
        .is_valid());
    }
}
