//! The fixed vocabulary of the simulated world: ExpenseFlow's routes, cities, user agents and
//! address blocks. Addresses come from documentation and private-use style blocks only.

use crate::features::{GeoPoint, Sensitivity};

/// One API route; `:id` in the path is replaced by an object id when requested.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Route {
    pub path: &'static str,
    pub method: &'static str,
    pub sensitivity: Sensitivity,
}

const fn r(path: &'static str, method: &'static str, sensitivity: Sensitivity) -> Route {
    Route {
        path,
        method,
        sensitivity,
    }
}

use Sensitivity::{Critical, High, Low, Moderate};

pub(crate) const LOGIN: Route = r("/api/auth/login", "POST", Moderate);
pub(crate) const LOGOUT: Route = r("/api/auth/logout", "POST", Low);
pub(crate) const DASHBOARD: Route = r("/api/dashboard", "GET", Low);
pub(crate) const NOTIFICATIONS: Route = r("/api/notifications", "GET", Low);
pub(crate) const EXPENSES: Route = r("/api/expenses", "GET", Low);
pub(crate) const EXPENSE: Route = r("/api/expenses/:id", "GET", Low);
pub(crate) const EXPENSE_CREATE: Route = r("/api/expenses", "POST", Moderate);
pub(crate) const EXPENSE_UPDATE: Route = r("/api/expenses/:id", "PUT", Moderate);
pub(crate) const EXPENSE_DELETE: Route = r("/api/expenses/:id", "DELETE", Moderate);
pub(crate) const EXPENSE_APPROVE: Route = r("/api/expenses/:id/approve", "POST", High);
pub(crate) const APPROVALS: Route = r("/api/approvals/pending", "GET", Low);
pub(crate) const RECEIPT_UPLOAD: Route = r("/api/receipts/upload", "POST", Moderate);
pub(crate) const RECEIPT: Route = r("/api/receipts/:id", "GET", Moderate);
pub(crate) const CATEGORIES: Route = r("/api/categories", "GET", Low);
pub(crate) const BUDGETS: Route = r("/api/budgets", "GET", Low);
pub(crate) const BUDGET_UPDATE: Route = r("/api/budgets/:id", "PATCH", Moderate);
pub(crate) const REPORT_SUMMARY: Route = r("/api/reports/summary", "GET", Low);
pub(crate) const REPORT_EXPORT: Route = r("/api/reports/export", "GET", High);
pub(crate) const SETTINGS: Route = r("/api/settings", "GET", Low);
pub(crate) const SETTINGS_UPDATE: Route = r("/api/settings", "PUT", Moderate);
pub(crate) const SECURITY: Route = r("/api/users/me/security", "GET", High);
pub(crate) const PASSWORD: Route = r("/api/users/me/password", "PUT", High);
pub(crate) const USER_PROFILE: Route = r("/api/users/:id", "GET", High);
pub(crate) const ADMIN_USERS: Route = r("/api/admin/users", "GET", Critical);
pub(crate) const ADMIN_USER_ROLE: Route = r("/api/admin/users/:id/role", "PUT", Critical);
pub(crate) const ADMIN_USER_CREATE: Route = r("/api/admin/users", "POST", Critical);
pub(crate) const ADMIN_USER_DELETE: Route = r("/api/admin/users/:id", "DELETE", Critical);
pub(crate) const ADMIN_AUDIT: Route = r("/api/admin/audit-log", "GET", Critical);
pub(crate) const ADMIN_SETTINGS: Route = r("/api/admin/settings", "PUT", Critical);

/// A place requests come from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct City {
    pub name: &'static str,
    pub lat: f64,
    pub lon: f64,
    /// Offset east of UTC in minutes.
    pub tz_minutes: i32,
}

const fn c(name: &'static str, lat: f64, lon: f64, tz_minutes: i32) -> City {
    City {
        name,
        lat,
        lon,
        tz_minutes,
    }
}

impl City {
    pub fn point(&self) -> GeoPoint {
        GeoPoint {
            lat: self.lat,
            lon: self.lon,
        }
    }
}

/// Cities with company offices (where users live).
pub(crate) const OFFICES: [City; 8] = [
    c("New York", 40.7128, -74.0060, -300),
    c("San Francisco", 37.7749, -122.4194, -480),
    c("Toronto", 43.6532, -79.3832, -300),
    c("London", 51.5074, -0.1278, 0),
    c("Paris", 48.8566, 2.3522, 60),
    c("Berlin", 52.5200, 13.4050, 60),
    c("Bangalore", 12.9716, 77.5946, 330),
    c("Singapore", 1.3521, 103.8198, 480),
];

/// Other cities: business-trip destinations and attack origins.
pub(crate) const ELSEWHERE: [City; 12] = [
    c("Chicago", 41.8781, -87.6298, -360),
    c("Austin", 30.2672, -97.7431, -360),
    c("Madrid", 40.4168, -3.7038, 60),
    c("Amsterdam", 52.3676, 4.9041, 60),
    c("Dubai", 25.2048, 55.2708, 240),
    c("Tokyo", 35.6762, 139.6503, 540),
    c("Sydney", -33.8688, 151.2093, 600),
    c("Sao Paulo", -23.5505, -46.6333, -180),
    c("Lagos", 6.5244, 3.3792, 60),
    c("Moscow", 55.7558, 37.6173, 180),
    c("Jakarta", -6.2088, 106.8456, 420),
    c("Bucharest", 44.4268, 26.1025, 120),
];

/// Hosting regions (scrapers and VPN exits).
pub(crate) const DATACENTERS: [City; 4] = [
    c("Ashburn", 39.0438, -77.4874, -300),
    c("Frankfurt", 50.1109, 8.6821, 60),
    c("Singapore DC", 1.2966, 103.7764, 480),
    c("Oregon", 45.8399, -119.7006, -480),
];

/// Desktop browsers; `{v}` is replaced by a major version.
pub(crate) const DESKTOP_AGENTS: [&str; 6] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{v} Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.0.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
];

/// Phone browsers and the app's webview.
pub(crate) const MOBILE_AGENTS: [&str; 3] = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{v} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{v} Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile Safari/537.36",
    "ExpenseFlow/3.{v} (iOS 17; iPhone15,2) CFNetwork/1485 Darwin/23.1.0",
];

/// Clients of automated tools.
pub(crate) const SCRIPT_AGENTS: [&str; 5] = [
    "python-requests/2.31.0",
    "curl/8.4.0",
    "Go-http-client/1.1",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
    "okhttp/4.12.0",
];

/// A user agent string from a template and a version.
pub(crate) fn agent(template: &str, version: u32) -> String {
    template.replace("{v}", &version.to_string())
}
