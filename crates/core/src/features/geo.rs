//! Great-circle distance and location cells.

use super::event::GeoPoint;
use super::normalize::{domain, stable_hash};

/// Mean Earth radius (IUGG), km.
pub const EARTH_RADIUS_KM: f64 = 6_371.008_8;

/// Haversine distance between two valid points, in km. Always finite and in `[0, π·R]`.
pub fn haversine_km(a: GeoPoint, b: GeoPoint) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    // rounding can push h a hair outside [0, 1]
    2.0 * EARTH_RADIUS_KM * h.clamp(0.0, 1.0).sqrt().asin()
}

/// Cells of half a degree (about 55 km north–south): the unit of `location_diversity`.
pub fn cell_hash(p: GeoPoint) -> u64 {
    let lat = (p.lat * 2.0).floor() as i32;
    let lon = (p.lon * 2.0).floor() as i32;
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&lat.to_le_bytes());
    bytes[4..].copy_from_slice(&lon.to_le_bytes());
    stable_hash(domain::LOCATION, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        let paris = GeoPoint {
            lat: 48.8566,
            lon: 2.3522,
        };
        let nyc = GeoPoint {
            lat: 40.7128,
            lon: -74.0060,
        };
        let d = haversine_km(paris, nyc);
        assert!((d - 5837.0).abs() < 5.0, "{d}");
        assert_eq!(haversine_km(paris, paris), 0.0);
        let antipode = haversine_km(
            GeoPoint { lat: 0.0, lon: 0.0 },
            GeoPoint {
                lat: 0.0,
                lon: 180.0,
            },
        );
        assert!((antipode - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-6);
    }

    #[test]
    fn cells_group_nearby_points() {
        let a = GeoPoint {
            lat: 48.80,
            lon: 2.30,
        };
        let b = GeoPoint {
            lat: 48.90,
            lon: 2.40,
        };
        let c = GeoPoint {
            lat: 51.50,
            lon: -0.12,
        };
        assert_eq!(cell_hash(a), cell_hash(b));
        assert_ne!(cell_hash(a), cell_hash(c));
    }
}
