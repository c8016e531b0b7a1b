//! What the host's middlewares did without a prediction: requests they could not score and
//! request fields they had to drop. Reported by the middleware (`Engine::record_middleware`), so
//! that an integration that silently scores nothing shows in `/status` and `/metrics`.

use serde::{Deserialize, Serialize};

/// The counts (part of [`super::MetricsSnapshot`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MiddlewareCounts {
    /// Requests skipped because no user could be identified.
    pub skipped_without_user: u64,
    /// Requests skipped because a user but no session could be identified.
    pub skipped_without_session: u64,
    /// Locations dropped from a request's context (not a valid latitude/longitude).
    pub ignored_locations: u64,
}

/// One thing a middleware reports (see [`MiddlewareCounts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MiddlewareEvent {
    SkippedWithoutUser,
    SkippedWithoutSession,
    IgnoredLocation,
}

impl MiddlewareEvent {
    /// The event named `name` (`skippedWithoutUser`, `skippedWithoutSession`, `ignoredLocation`).
    pub fn parse(name: &str) -> Option<MiddlewareEvent> {
        match name {
            "skippedWithoutUser" => Some(MiddlewareEvent::SkippedWithoutUser),
            "skippedWithoutSession" => Some(MiddlewareEvent::SkippedWithoutSession),
            "ignoredLocation" => Some(MiddlewareEvent::IgnoredLocation),
            _ => None,
        }
    }
}

impl MiddlewareCounts {
    pub(crate) fn add(&mut self, event: MiddlewareEvent) {
        match event {
            MiddlewareEvent::SkippedWithoutUser => self.skipped_without_user += 1,
            MiddlewareEvent::SkippedWithoutSession => self.skipped_without_session += 1,
            MiddlewareEvent::IgnoredLocation => self.ignored_locations += 1,
        }
    }
}
