//! The per-request event, from JavaScript to the engine.
//!
//! The package (npm/ml-anomaly/lib/validate.js) has already checked types and named the
//! offending field in the caller's terms; what reaches here are positional arguments of
//! `predictInto` (see [`crate::engine`]), gathered into a [`JsEvent`]. Positional arguments
//! because this is the hot path: reading an object's properties through napi costs a property
//! key per field, per request. The checks left here are the ones JavaScript types cannot express
//! (a content length that is not a whole byte count, a position off the globe) and the names of the enumerations: an
//! endpoint sensitivity and a signal severity are read here, and only here, case-insensitively
//! with `MEDIUM` as an alias of `MODERATE` (ExpenseFlow's own code uses both spellings). They
//! fail as `TypeError`s too.

use anomaly_core::features::{GeoPoint, RequestEvent, Sensitivity, Severity, Signal};
use napi_derive::napi;
use serde::Serialize;

use crate::errors::Failure;

/// A geographic position in decimal degrees.
#[napi(object)]
pub struct JsGeoPoint {
    pub lat: f64,
    pub lon: f64,
}

/// A behavioral signal raised by the host.
#[napi(object)]
pub struct JsSignal {
    #[napi(js_name = "type")]
    pub kind: String,
    pub severity: Option<String>,
    pub risk_impact: Option<f64>,
}

/// One request (see `RequestEvent` in anomaly-core for the meaning of each field).
pub struct JsEvent {
    pub timestamp: i64,
    pub session_id: String,
    pub user_id: String,
    pub endpoint: Option<String>,
    pub method: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub content_length: Option<f64>,
    /// `LOW`, `MODERATE` (or `MEDIUM`), `HIGH` or `CRITICAL`, in any case.
    pub endpoint_sensitivity: Option<String>,
    pub session_started_at: Option<i64>,
    pub session_age_ms: Option<i64>,
    pub location: Option<JsGeoPoint>,
    pub device_fingerprint: Option<String>,
    pub status_code: Option<u32>,
    pub signals: Option<Vec<JsSignal>>,
    pub is_weekend: Option<bool>,
    pub is_business_hours: Option<bool>,
}

/// The level named `name`, in any case: the names (and the `MEDIUM` alias of `MODERATE`) are
/// anomaly-core's own, read through its serde definition of [`Sensitivity`] and [`Severity`].
fn level<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    use serde::de::value::{Error, StrDeserializer};
    let upper = name.to_ascii_uppercase();
    T::deserialize(StrDeserializer::<Error>::new(&upper)).ok()
}

fn sensitivity(name: &str) -> Result<Sensitivity, Failure> {
    level(name).ok_or_else(|| {
        Failure::input(format!(
            "requestContext.endpointSensitivity must be one of LOW, MODERATE, HIGH, CRITICAL (got '{}')",
            name.chars().take(40).collect::<String>()
        ))
    })
}

fn severity(name: Option<&str>) -> Result<Severity, Failure> {
    match name {
        None => Ok(Severity::Low),
        Some(name) => level(name).ok_or_else(|| {
            Failure::input(format!(
                "signal severity must be one of LOW, MODERATE, HIGH, CRITICAL (got '{}')",
                name.chars().take(40).collect::<String>()
            ))
        }),
    }
}

fn risk_impact(v: Option<f64>) -> Result<f64, Failure> {
    match v {
        None => Ok(0.0),
        Some(r) if r.is_finite() => Ok(r),
        Some(r) => Err(Failure::input(format!(
            "signal riskImpact must be a finite number (got {r})"
        ))),
    }
}

fn content_length(v: Option<f64>) -> Result<Option<u64>, Failure> {
    match v {
        None => Ok(None),
        // 2^53: the largest integer a JS number holds exactly.
        Some(n)
            if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_992.0 =>
        {
            Ok(Some(n as u64))
        }
        Some(n) => Err(Failure::input(format!(
            "contentLength must be a whole number of bytes (got {n})"
        ))),
    }
}

/// The request context stored with the record (the original's `requestContext` field): the
/// event without its identity, as JSON text.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StoredContext<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint_sensitivity: Option<Sensitivity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_age: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<GeoPoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_fingerprint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_weekend: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_business_hours: Option<bool>,
}

/// Longest string kept in the stored request context; the feature pipeline caps its own copies.
const CONTEXT_STRING_CAP: usize = 512;

fn capped(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(|s| {
        if s.len() <= CONTEXT_STRING_CAP {
            s
        } else {
            let mut end = CONTEXT_STRING_CAP;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            &s[..end]
        }
    })
}

impl JsEvent {
    /// The engine's event and the request context to store with its record.
    pub fn into_engine(self) -> Result<(RequestEvent, String), Failure> {
        let endpoint_sensitivity = self
            .endpoint_sensitivity
            .as_deref()
            .map(sensitivity)
            .transpose()?;
        let content_length = content_length(self.content_length)?;
        let status_code = match self.status_code {
            None => None,
            Some(c) if c <= 999 => Some(c as u16),
            Some(c) => {
                return Err(Failure::input(format!(
                    "statusCode must be an HTTP status (got {c})"
                )))
            }
        };
        let signals = match self.signals {
            None => Vec::new(),
            Some(list) => list
                .into_iter()
                .map(|s| {
                    Ok(Signal {
                        severity: severity(s.severity.as_deref())?,
                        risk_impact: risk_impact(s.risk_impact)?,
                        kind: s.kind,
                    })
                })
                .collect::<Result<Vec<_>, Failure>>()?,
        };
        let location = self
            .location
            .map(|g| {
                let point = GeoPoint {
                    lat: g.lat,
                    lon: g.lon,
                };
                // The range is anomaly-core's rule; the feature pipeline would only drop such a
                // point, and a caller who sends one should hear about it.
                if point.is_valid() {
                    Ok(point)
                } else {
                    Err(Failure::input(format!(
                        "requestContext.location must have lat in [-90, 90] and lon in [-180, 180] (got lat {}, lon {})",
                        g.lat, g.lon
                    )))
                }
            })
            .transpose()?;
        let context = StoredContext {
            endpoint: capped(&self.endpoint),
            method: capped(&self.method),
            ip_address: capped(&self.ip_address),
            user_agent: capped(&self.user_agent),
            content_length,
            endpoint_sensitivity,
            session_age: self.session_age_ms,
            location,
            device_fingerprint: capped(&self.device_fingerprint),
            status_code,
            is_weekend: self.is_weekend,
            is_business_hours: self.is_business_hours,
        };
        // Serializing plain strings, numbers and booleans cannot fail; an empty context is
        // still a valid record if it somehow did.
        let context = serde_json::to_string(&context).unwrap_or_else(|_| "{}".to_string());
        let event = RequestEvent {
            timestamp: self.timestamp,
            session_id: self.session_id,
            user_id: self.user_id,
            endpoint: self.endpoint,
            method: self.method,
            ip_address: self.ip_address,
            user_agent: self.user_agent,
            content_length,
            endpoint_sensitivity,
            session_started_at: self.session_started_at,
            session_age_ms: self.session_age_ms,
            location,
            device_fingerprint: self.device_fingerprint,
            status_code,
            signals,
            is_weekend: self.is_weekend,
            is_business_hours: self.is_business_hours,
        };
        Ok((event, context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> JsEvent {
        JsEvent {
            timestamp: 1_700_000_000_000,
            session_id: "s".into(),
            user_id: "u".into(),
            endpoint: Some("/api/expenses".into()),
            method: Some("POST".into()),
            ip_address: None,
            user_agent: Some("x".repeat(2000)),
            content_length: Some(512.0),
            endpoint_sensitivity: Some("medium".into()),
            session_started_at: None,
            session_age_ms: Some(5000),
            location: Some(JsGeoPoint {
                lat: 48.85,
                lon: 2.35,
            }),
            device_fingerprint: None,
            status_code: Some(401),
            signals: Some(vec![JsSignal {
                kind: "GEO_DRIFT".into(),
                severity: Some("high".into()),
                risk_impact: None,
            }]),
            is_weekend: None,
            is_business_hours: Some(true),
        }
    }

    #[test]
    fn translates_every_field() {
        let (e, ctx) = event().into_engine().unwrap();
        assert_eq!(e.endpoint_sensitivity, Some(Sensitivity::Moderate));
        assert_eq!(e.content_length, Some(512));
        assert_eq!(e.status_code, Some(401));
        assert_eq!(e.signals[0].severity, Severity::High);
        assert_eq!(e.signals[0].risk_impact, 0.0);
        assert_eq!(
            e.location,
            Some(GeoPoint {
                lat: 48.85,
                lon: 2.35
            })
        );
        assert_eq!(
            e.user_agent.as_ref().map(String::len),
            Some(2000),
            "the pipeline caps its own copy"
        );
        let ctx: serde_json::Value = serde_json::from_str(&ctx).unwrap();
        assert_eq!(ctx["endpointSensitivity"], "MODERATE");
        assert_eq!(ctx["sessionAge"], 5000);
        assert_eq!(
            ctx["userAgent"].as_str().map(str::len),
            Some(CONTEXT_STRING_CAP)
        );
        assert!(ctx.get("ipAddress").is_none());
    }

    #[test]
    fn rejects_what_js_types_cannot_express() {
        let mut e = event();
        e.content_length = Some(1.5);
        assert_eq!(
            e.into_engine().unwrap_err().code,
            "ML_ANOMALY_INVALID_INPUT"
        );
        for (lat, lon) in [(91.0, 0.0), (0.0, 181.0), (-1000.0, 1e308), (-90.5, -180.0)] {
            let mut e = event();
            e.location = Some(JsGeoPoint { lat, lon });
            let err = e.into_engine().unwrap_err();
            assert_eq!(err.code, "ML_ANOMALY_INVALID_INPUT", "{lat},{lon}");
            assert!(
                err.message.contains("requestContext.location"),
                "{}",
                err.message
            );
        }
        let mut e = event();
        e.location = Some(JsGeoPoint {
            lat: -90.0,
            lon: 180.0,
        });
        assert!(
            e.into_engine().is_ok(),
            "the poles and the antimeridian are on the globe"
        );
        let mut e = event();
        e.endpoint_sensitivity = Some("EXTREME".into());
        assert!(e
            .into_engine()
            .unwrap_err()
            .message
            .contains("got 'EXTREME'"));
        for (name, level) in [
            ("low", Sensitivity::Low),
            ("Moderate", Sensitivity::Moderate),
            ("MEDIUM", Sensitivity::Moderate),
            ("high", Sensitivity::High),
            ("CRITICAL", Sensitivity::Critical),
        ] {
            assert_eq!(sensitivity(name).unwrap(), level, "{name}");
        }
        let mut e = event();
        e.signals = Some(vec![JsSignal {
            kind: "X".into(),
            severity: None,
            risk_impact: Some(f64::NAN),
        }]);
        assert!(e.into_engine().unwrap_err().type_error);
        let mut e = event();
        e.status_code = Some(1000);
        assert!(e.into_engine().is_err());
        let mut e = event();
        e.signals = Some(vec![JsSignal {
            kind: "X".into(),
            severity: Some("bad".into()),
            risk_impact: None,
        }]);
        assert!(e.into_engine().unwrap_err().type_error);
    }
}
