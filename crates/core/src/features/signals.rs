//! Behavioral signals: the ones derived here from the event stream, and the categories that
//! both derived and external signals are counted in.
//!
//! ExpenseFlow's original looked derived signals up in MongoDB on every request. Here each one
//! is a pure function of the event and the bounded state, computed in the same pass that
//! extracts the features, so it costs nothing extra and is identical in training and serving.

use serde::{Deserialize, Serialize};

use super::event::{Severity, Signal};

/// Feature category of a signal: the five `signal_*` features count the first five; `Other`
/// still counts in the risk, severity, anomaly and entropy features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalCategory {
    Endpoint,
    Cadence,
    Geo,
    Ua,
    Priv,
    Other,
}

pub(crate) const N_CATEGORIES: usize = 6;

impl SignalCategory {
    pub(crate) fn index(self) -> u8 {
        match self {
            SignalCategory::Endpoint => 0,
            SignalCategory::Cadence => 1,
            SignalCategory::Geo => 2,
            SignalCategory::Ua => 3,
            SignalCategory::Priv => 4,
            SignalCategory::Other => 5,
        }
    }

    /// Category of an external signal type. The type is split into words (on `_`, `-`, spaces
    /// and camelCase humps) and the first word that matches decides, in this order of checks
    /// per word: `priv*`, `admin*`, `escalat*`, `auth*`, `permission*`, `critical` → priv;
    /// `geo*`, `location*`, `travel*`, `ip` → geo; `agent`, `ua`, `device*`, `fingerprint*`,
    /// `browser*` → ua; `cadence*`, `rate`, `velocity*`, `burst*`, `frequen*` → cadence;
    /// `endpoint*`, `route*`, `path*`, `resource*`, `access*`, `sensitive*` → endpoint.
    /// Anything else is `Other`. Derived kinds map to their own category through the same rule
    /// (their names are chosen to; a test checks it).
    pub fn classify(kind: &str) -> SignalCategory {
        const RULES: [(&str, bool, SignalCategory); 24] = [
            ("priv", true, SignalCategory::Priv),
            ("admin", true, SignalCategory::Priv),
            ("escalat", true, SignalCategory::Priv),
            ("auth", true, SignalCategory::Priv),
            ("permission", true, SignalCategory::Priv),
            ("critical", false, SignalCategory::Priv),
            ("geo", true, SignalCategory::Geo),
            ("location", true, SignalCategory::Geo),
            ("travel", true, SignalCategory::Geo),
            ("ip", false, SignalCategory::Geo),
            ("agent", false, SignalCategory::Ua),
            ("ua", false, SignalCategory::Ua),
            ("device", true, SignalCategory::Ua),
            ("fingerprint", true, SignalCategory::Ua),
            ("browser", true, SignalCategory::Ua),
            ("cadence", true, SignalCategory::Cadence),
            ("rate", false, SignalCategory::Cadence),
            ("velocity", true, SignalCategory::Cadence),
            ("burst", true, SignalCategory::Cadence),
            ("frequen", true, SignalCategory::Cadence),
            ("endpoint", true, SignalCategory::Endpoint),
            ("route", true, SignalCategory::Endpoint),
            ("path", true, SignalCategory::Endpoint),
            ("resource", true, SignalCategory::Endpoint),
        ];
        const EXTRA: [(&str, bool, SignalCategory); 2] = [
            ("access", true, SignalCategory::Endpoint),
            ("sensitive", true, SignalCategory::Endpoint),
        ];
        first_word_match(kind.as_bytes(), |word| {
            RULES
                .iter()
                .chain(EXTRA.iter())
                .find_map(|(key, prefix, cat)| {
                    let k = key.as_bytes();
                    let hit = if *prefix {
                        word.get(..k.len())
                            .is_some_and(|w| w.eq_ignore_ascii_case(k))
                    } else {
                        word.eq_ignore_ascii_case(k)
                    };
                    hit.then_some(*cat)
                })
        })
        .unwrap_or(SignalCategory::Other)
    }
}

/// Calls `f` on each word of a signal type until it returns `Some`. Words are split on
/// non-alphanumerics and before an upper-case letter that follows a lower-case one
/// (`userAgentChange` → `user`, `Agent`, `Change`).
fn first_word_match(
    b: &[u8],
    mut f: impl FnMut(&[u8]) -> Option<SignalCategory>,
) -> Option<SignalCategory> {
    let mut start = 0;
    for i in 0..=b.len() {
        let (boundary, skip) = match b.get(i) {
            None => (true, false),
            Some(c) if !c.is_ascii_alphanumeric() => (true, true),
            Some(c) => (
                i > start
                    && c.is_ascii_uppercase()
                    && b.get(i - 1).is_some_and(u8::is_ascii_lowercase),
                false,
            ),
        };
        if boundary {
            let word = b.get(start..i).unwrap_or(&[]);
            if !word.is_empty() {
                if let Some(cat) = f(word) {
                    return Some(cat);
                }
            }
            start = if skip { i + 1 } else { i };
        }
    }
    None
}

/// The signals this crate derives itself. See docs/features.md for the exact rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DerivedKind {
    /// The session's IP differs from its previous request's.
    IpChange,
    /// The session's user agent differs from its previous request's.
    UaChange,
    /// The session's device fingerprint differs from the one it started with.
    DeviceMismatch,
    /// The user's device (fingerprint, else user agent) is not among the devices seen in 7 days.
    NewDevice,
    /// The user moved farther than the drift distance since their previous located request.
    GeoDrift,
    /// The user moved faster than the impossible-travel speed.
    ImpossibleTravel,
    /// The session's last-minute request count is far above its own baseline.
    CadenceSpike,
    /// A HIGH-sensitivity endpoint was requested.
    SensitiveEndpoint,
    /// A CRITICAL-sensitivity endpoint was requested.
    CriticalEndpoint,
    /// A HIGH or CRITICAL action (method + endpoint) the user had not used in 7 days, by a user
    /// known for at least a day.
    NewSensitiveEndpoint,
    /// The session used one sensitive action far more often than the user ever did in a
    /// session of the last week (at least `sensitiveVolumeMin` times).
    SensitiveVolume,
    /// The request was answered 401 or 403.
    AuthFailure,
    /// The user had several 401/403 answers within a few minutes (across sessions).
    FailedAuthBurst,
    /// A 401/403 answered to a device the user had not used in 7 days (`NewDevice` on the same
    /// request): a typo on the user's own laptop is `AuthFailure` alone; a wrong password from
    /// a device never seen is how credential stuffing and account takeover start.
    UnfamiliarAuthFailure,
}

impl DerivedKind {
    pub const ALL: [DerivedKind; 14] = [
        DerivedKind::IpChange,
        DerivedKind::UaChange,
        DerivedKind::DeviceMismatch,
        DerivedKind::NewDevice,
        DerivedKind::GeoDrift,
        DerivedKind::ImpossibleTravel,
        DerivedKind::CadenceSpike,
        DerivedKind::SensitiveEndpoint,
        DerivedKind::CriticalEndpoint,
        DerivedKind::NewSensitiveEndpoint,
        DerivedKind::SensitiveVolume,
        DerivedKind::AuthFailure,
        DerivedKind::FailedAuthBurst,
        DerivedKind::UnfamiliarAuthFailure,
    ];

    /// The signal type string, as the host's own signals spell theirs.
    pub fn as_str(self) -> &'static str {
        match self {
            DerivedKind::IpChange => "IP_CHANGE",
            DerivedKind::UaChange => "UA_CHANGE",
            DerivedKind::DeviceMismatch => "DEVICE_MISMATCH",
            DerivedKind::NewDevice => "NEW_DEVICE",
            DerivedKind::GeoDrift => "GEO_DRIFT",
            DerivedKind::ImpossibleTravel => "IMPOSSIBLE_TRAVEL",
            DerivedKind::CadenceSpike => "CADENCE_SPIKE",
            DerivedKind::SensitiveEndpoint => "SENSITIVE_ENDPOINT",
            DerivedKind::CriticalEndpoint => "CRITICAL_ENDPOINT",
            DerivedKind::NewSensitiveEndpoint => "NEW_SENSITIVE_ENDPOINT",
            DerivedKind::SensitiveVolume => "SENSITIVE_VOLUME",
            DerivedKind::AuthFailure => "AUTH_FAILURE",
            DerivedKind::FailedAuthBurst => "FAILED_AUTH_BURST",
            DerivedKind::UnfamiliarAuthFailure => "UNFAMILIAR_AUTH_FAILURE",
        }
    }

    pub fn category(self) -> SignalCategory {
        match self {
            DerivedKind::IpChange | DerivedKind::GeoDrift | DerivedKind::ImpossibleTravel => {
                SignalCategory::Geo
            }
            DerivedKind::UaChange | DerivedKind::DeviceMismatch | DerivedKind::NewDevice => {
                SignalCategory::Ua
            }
            DerivedKind::CadenceSpike => SignalCategory::Cadence,
            DerivedKind::SensitiveEndpoint
            | DerivedKind::NewSensitiveEndpoint
            | DerivedKind::SensitiveVolume => SignalCategory::Endpoint,
            DerivedKind::CriticalEndpoint
            | DerivedKind::AuthFailure
            | DerivedKind::FailedAuthBurst
            | DerivedKind::UnfamiliarAuthFailure => SignalCategory::Priv,
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            DerivedKind::NewDevice | DerivedKind::SensitiveEndpoint | DerivedKind::AuthFailure => {
                Severity::Low
            }
            DerivedKind::IpChange
            | DerivedKind::GeoDrift
            | DerivedKind::CadenceSpike
            | DerivedKind::CriticalEndpoint => Severity::Moderate,
            DerivedKind::UaChange
            | DerivedKind::DeviceMismatch
            | DerivedKind::NewSensitiveEndpoint
            | DerivedKind::SensitiveVolume
            | DerivedKind::FailedAuthBurst
            | DerivedKind::UnfamiliarAuthFailure => Severity::High,
            DerivedKind::ImpossibleTravel => Severity::Critical,
        }
    }

    /// Risk points on the 0–100 scale external signals use.
    pub fn risk_impact(self) -> f64 {
        match self {
            DerivedKind::IpChange => 25.0,
            DerivedKind::UaChange => 40.0,
            DerivedKind::DeviceMismatch => 50.0,
            DerivedKind::NewDevice => 15.0,
            DerivedKind::GeoDrift => 30.0,
            DerivedKind::ImpossibleTravel => 80.0,
            DerivedKind::CadenceSpike => 35.0,
            DerivedKind::SensitiveEndpoint => 10.0,
            DerivedKind::CriticalEndpoint => 30.0,
            DerivedKind::NewSensitiveEndpoint => 45.0,
            DerivedKind::SensitiveVolume => 55.0,
            DerivedKind::AuthFailure => 10.0,
            DerivedKind::FailedAuthBurst => 60.0,
            DerivedKind::UnfamiliarAuthFailure => 50.0,
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// As an owned [`Signal`] (allocates; for logs and explanations, not the hot path).
    pub fn to_signal(self) -> Signal {
        Signal {
            kind: self.as_str().to_string(),
            severity: self.severity(),
            risk_impact: self.risk_impact(),
        }
    }
}

/// The set of signals derived for one event: a bitset, so observing allocates nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DerivedSignals(u16);

impl DerivedSignals {
    pub fn insert(&mut self, kind: DerivedKind) {
        self.0 |= kind.bit();
    }

    pub fn contains(&self, kind: DerivedKind) -> bool {
        self.0 & kind.bit() != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// The kinds present, in [`DerivedKind::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = DerivedKind> + '_ {
        DerivedKind::ALL.into_iter().filter(|k| self.contains(*k))
    }

    /// As owned signals (allocates).
    pub fn to_signals(&self) -> Vec<Signal> {
        self.iter().map(DerivedKind::to_signal).collect()
    }
}

/// A signal as the session window stores it: 4 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignalRec {
    /// Risk impact in hundredths of a point, 0..=10_000.
    pub risk_centi: u16,
    pub category: u8,
    pub severity: u8,
}

pub(crate) const MAX_RISK_CENTI: u16 = 10_000;

impl SignalRec {
    pub fn new(category: SignalCategory, severity: Severity, risk_impact: f64) -> Self {
        let r = if risk_impact.is_finite() {
            risk_impact.clamp(0.0, 100.0)
        } else {
            0.0
        };
        SignalRec {
            risk_centi: (r * 100.0).round() as u16,
            category: category.index(),
            severity: severity.ordinal(),
        }
    }

    pub fn derived(kind: DerivedKind) -> Self {
        SignalRec::new(kind.category(), kind.severity(), kind.risk_impact())
    }

    pub fn external(signal: &Signal) -> Self {
        SignalRec::new(
            SignalCategory::classify(&signal.kind),
            signal.severity,
            signal.risk_impact,
        )
    }

    /// Valid when it could have been built by [`SignalRec::new`] (checked on snapshot load).
    pub fn is_valid(&self) -> bool {
        self.risk_centi <= MAX_RISK_CENTI
            && (self.category as usize) < N_CATEGORIES
            && self.severity < 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_kind_names_classify_to_their_own_category() {
        for k in DerivedKind::ALL {
            assert_eq!(
                SignalCategory::classify(k.as_str()),
                k.category(),
                "{}",
                k.as_str()
            );
        }
    }

    #[test]
    fn external_kinds_classify_by_keyword() {
        assert_eq!(
            SignalCategory::classify("privilege_escalation"),
            SignalCategory::Priv
        );
        assert_eq!(
            SignalCategory::classify("LOCATION_ANOMALY"),
            SignalCategory::Geo
        );
        assert_eq!(
            SignalCategory::classify("userAgentChange"),
            SignalCategory::Ua
        );
        assert_eq!(
            SignalCategory::classify("REQUEST_VELOCITY"),
            SignalCategory::Cadence
        );
        assert_eq!(
            SignalCategory::classify("unusual_endpoint"),
            SignalCategory::Endpoint
        );
        assert_eq!(
            SignalCategory::classify("SHIPPING_RATE_CHANGE"),
            SignalCategory::Cadence,
            "`ip` is a whole word"
        );
        assert_eq!(
            SignalCategory::classify("newIpAddress"),
            SignalCategory::Geo
        );
        assert_eq!(
            SignalCategory::classify("something_else"),
            SignalCategory::Other
        );
        assert_eq!(SignalCategory::classify(""), SignalCategory::Other);
    }

    #[test]
    fn bitset_holds_each_kind_once() {
        let mut s = DerivedSignals::default();
        assert!(s.is_empty());
        s.insert(DerivedKind::GeoDrift);
        s.insert(DerivedKind::FailedAuthBurst);
        s.insert(DerivedKind::GeoDrift);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![DerivedKind::GeoDrift, DerivedKind::FailedAuthBurst]
        );
        assert_eq!(s.to_signals()[1].kind, "FAILED_AUTH_BURST");
    }

    #[test]
    fn risk_is_clamped_and_finite() {
        assert_eq!(
            SignalRec::new(SignalCategory::Other, Severity::Low, f64::NAN).risk_centi,
            0
        );
        assert_eq!(
            SignalRec::new(SignalCategory::Other, Severity::Low, -5.0).risk_centi,
            0
        );
        assert_eq!(
            SignalRec::new(SignalCategory::Other, Severity::Low, 1e300).risk_centi,
            10_000
        );
        assert_eq!(
            SignalRec::new(SignalCategory::Other, Severity::Low, 12.345).risk_centi,
            1235
        );
    }
}
