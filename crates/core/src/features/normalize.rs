//! Turning untrusted request strings into small, stable values.
//!
//! The state never stores request strings (a 1 MB user agent would otherwise live in memory
//! for hours): each one is truncated to a byte cap and reduced to a 64-bit hash, and per session
//! those hashes are interned into one-byte ids. The hash must be *stable* — the same on every
//! build, platform and release — because it is part of serialized snapshots, so it is defined
//! here rather than taken from `std` (whose `DefaultHasher` may change between releases).
//!
//! Endpoints are normalised before hashing: query string and fragment dropped, empty segments
//! ignored, id-like segments (numbers, hex object ids, UUIDs, long tokens) replaced by `:id`,
//! so `/api/expenses/64f1c0de9a1b2c3d4e5f6a7b?x=1` and `/api/expenses/42/` are the same
//! endpoint, `/api/expenses/:id`.

const K: u64 = 0x9E37_79B9_7F4A_7C15;
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Final avalanche (MurmurHash3's fmix64).
#[inline]
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

/// Stable 64-bit hash of `bytes` (8 bytes per step), domain-separated by `domain`.
pub fn stable_hash(domain: u64, bytes: &[u8]) -> u64 {
    let mut h = domain.wrapping_mul(K) ^ (bytes.len() as u64).wrapping_mul(0x2545_f491_4f6c_dd1d);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    let rem = chunks.remainder();
    if !rem.is_empty() {
        let mut w = [0u8; 8];
        w[..rem.len()].copy_from_slice(rem);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    fmix64(h)
}

/// Hash domains, so that e.g. an IP and a user agent with the same text never collide.
pub mod domain {
    pub const IP: u64 = 1;
    pub const USER_AGENT: u64 = 2;
    pub const DEVICE: u64 = 3;
    pub const SESSION: u64 = 4;
    pub const LOCATION: u64 = 5;
    pub const ACTION: u64 = 6;
    pub const USER: u64 = 7;
}

/// The longest prefix of `s` of at most `max_bytes` bytes that ends on a char boundary, and
/// whether anything was cut.
pub fn truncate(s: &str, max_bytes: usize) -> (&str, bool) {
    if s.len() <= max_bytes {
        return (s, false);
    }
    let mut end = max_bytes;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    (s.get(..end).unwrap_or(""), true)
}

/// True for path segments that are identifiers rather than names: decimal numbers, hex ids of
/// 8+ characters containing a digit (Mongo ObjectIds), UUIDs, and tokens of 16+ characters of
/// `[A-Za-z0-9_-]` with at least 3 digits.
pub fn is_id_segment(seg: &[u8]) -> bool {
    if seg.is_empty() {
        return false;
    }
    if seg.iter().all(u8::is_ascii_digit) {
        return true;
    }
    let digits = seg.iter().filter(|b| b.is_ascii_digit()).count();
    if seg.len() >= 8 && digits > 0 && seg.iter().all(u8::is_ascii_hexdigit) {
        return true;
    }
    if seg.len() == 36
        && seg.iter().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
    {
        return true;
    }
    seg.len() >= 16
        && digits >= 3
        && seg
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

#[inline]
fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// Hash of the normalised form of `path` (see the module docs). Never allocates.
pub fn endpoint_hash(path: &str) -> u64 {
    let end = path.find(['?', '#']).unwrap_or(path.len());
    let path = path.get(..end).unwrap_or(path);
    let mut h = FNV_OFFSET;
    for seg in path.as_bytes().split(|&b| b == b'/') {
        if seg.is_empty() {
            continue;
        }
        h = fnv(h, b"/");
        h = if is_id_segment(seg) {
            fnv(h, b":id")
        } else {
            fnv(h, seg)
        };
    }
    fmix64(h)
}

/// Writes the normalised form of `path` (for logs, docs and tests; the hot path only hashes).
pub fn normalized_endpoint(path: &str) -> String {
    let end = path.find(['?', '#']).unwrap_or(path.len());
    let path = path.get(..end).unwrap_or(path);
    let mut out = String::new();
    for seg in path.split('/') {
        if seg.is_empty() {
            continue;
        }
        out.push('/');
        out.push_str(if is_id_segment(seg.as_bytes()) {
            ":id"
        } else {
            seg
        });
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The `http_method` feature: GET/HEAD/OPTIONS (and missing) 0, POST 1, PUT/PATCH 2, DELETE 3,
/// anything else 4. Case-insensitive.
pub fn method_code(method: Option<&str>) -> u8 {
    let Some(m) = method else { return 0 };
    let m = m.trim();
    if m.eq_ignore_ascii_case("GET")
        || m.eq_ignore_ascii_case("HEAD")
        || m.eq_ignore_ascii_case("OPTIONS")
    {
        0
    } else if m.eq_ignore_ascii_case("POST") {
        1
    } else if m.eq_ignore_ascii_case("PUT") || m.eq_ignore_ascii_case("PATCH") {
        2
    } else if m.eq_ignore_ascii_case("DELETE") {
        3
    } else {
        4
    }
}

/// An "action" is a method class on a normalised endpoint: the symbol of the sequence features.
pub fn action_hash(endpoint: u64, method: u8) -> u64 {
    fmix64(endpoint ^ (u64::from(method) + 1).wrapping_mul(K) ^ domain::ACTION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_across_builds() {
        // Pinned values, computed by an independent Python transcription of `stable_hash`
        // (scripts/fixtures/stable_hash.py): a change here breaks every stored snapshot.
        assert_eq!(
            stable_hash(domain::IP, b"10.0.0.1"),
            stable_hash(domain::IP, b"10.0.0.1")
        );
        assert_ne!(
            stable_hash(domain::IP, b"10.0.0.1"),
            stable_hash(domain::USER_AGENT, b"10.0.0.1")
        );
        assert_ne!(
            stable_hash(domain::IP, b"10.0.0.1"),
            stable_hash(domain::IP, b"10.0.0.2")
        );
        assert_ne!(stable_hash(0, b""), stable_hash(0, b"\0"));
        assert_eq!(stable_hash(0, b"abc"), 0x5641_af78_8256_05df);
        assert_eq!(stable_hash(domain::IP, b"10.0.0.1"), 0xd7ab_c636_d7ef_42b4);
        assert_eq!(
            stable_hash(domain::USER_AGENT, b"Mozilla/5.0 (X11; Linux x86_64)"),
            0xffa9_f8ba_c581_1660
        );
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate("abcdef", 3), ("abc", true));
        assert_eq!(truncate("abc", 3), ("abc", false));
        // 'é' is two bytes: cutting inside it backs off to the boundary
        assert_eq!(truncate("aé", 2), ("a", true));
        assert_eq!(truncate("é", 0), ("", true));
    }

    #[test]
    fn id_segments() {
        for id in [
            "42",
            "64f1c0de9a1b2c3d4e5f6a7b",
            "123e4567-e89b-12d3-a456-426614174000",
            "tok_9aB3xYz81kLmN0pQ",
        ] {
            assert!(is_id_segment(id.as_bytes()), "{id}");
        }
        for name in [
            "expenses",
            "receipts",
            "upload",
            "v2",
            "deadbeef",
            "export-summary-report",
        ] {
            assert!(!is_id_segment(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn endpoints_normalise_ids_queries_and_slashes() {
        assert_eq!(
            normalized_endpoint("/api/expenses/64f1c0de9a1b2c3d4e5f6a7b?x=1"),
            "/api/expenses/:id"
        );
        assert_eq!(
            normalized_endpoint("api//expenses/42/"),
            "/api/expenses/:id"
        );
        assert_eq!(normalized_endpoint(""), "/");
        assert_eq!(
            endpoint_hash("/api/expenses/42"),
            endpoint_hash("/api/expenses/64f1c0de9a1b2c3d4e5f6a7b#top")
        );
        assert_ne!(
            endpoint_hash("/api/expenses"),
            endpoint_hash("/api/receipts")
        );
        assert_ne!(
            endpoint_hash("/api/expenses"),
            endpoint_hash("/api/expenses/1")
        );
    }

    #[test]
    fn method_codes() {
        assert_eq!(method_code(None), 0);
        assert_eq!(method_code(Some("get")), 0);
        assert_eq!(method_code(Some("POST")), 1);
        assert_eq!(method_code(Some("patch")), 2);
        assert_eq!(method_code(Some("Delete")), 3);
        assert_eq!(method_code(Some("BREW")), 4);
        assert_ne!(action_hash(1, 0), action_hash(1, 1));
    }
}
