//! "No allocation per request once warm": a counting global allocator watches `observe` on a
//! session that has already seen its routes, addresses and agents.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use anomaly_core::features::{
    BehaviorState, GeoPoint, RequestEvent, Sensitivity, StateConfig, N_FEATURES,
};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_warm_session_observes_without_allocating() {
    const ROUTES: [(&str, &str, Sensitivity); 6] = [
        ("/api/expenses", "GET", Sensitivity::Low),
        (
            "/api/expenses/64f1c0de9a1b2c3d4e5f6a7b",
            "GET",
            Sensitivity::Low,
        ),
        ("/api/receipts/upload", "POST", Sensitivity::Moderate),
        ("/api/reports/export", "GET", Sensitivity::High),
        ("/api/budgets", "GET", Sensitivity::Low),
        ("/api/admin/users", "GET", Sensitivity::Critical),
    ];
    let events: Vec<RequestEvent> = (0..ROUTES.len() * 2)
        .map(|i| {
            let (path, method, sens) = ROUTES[i % ROUTES.len()];
            let mut e = RequestEvent::new(0, "session-1", "user-1");
            e.endpoint = Some(path.into());
            e.method = Some(method.into());
            e.endpoint_sensitivity = Some(sens);
            e.ip_address = Some(
                if i % 2 == 0 {
                    "203.0.113.7"
                } else {
                    "203.0.113.8"
                }
                .into(),
            );
            e.user_agent = Some("Mozilla/5.0 (Macintosh) Safari/605.1.15".into());
            e.content_length = Some(1_000);
            e.location = Some(GeoPoint {
                lat: 48.85,
                lon: 2.35,
            });
            e.status_code = Some(if i == 5 { 403 } else { 200 });
            e
        })
        .collect();
    let mut state = BehaviorState::new(StateConfig::default()).unwrap();
    let mut out = [0.0; N_FEATURES];
    let mut events = events;
    let mut ts = 1_704_103_200_000;
    let mut step = |state: &mut BehaviorState, k: usize, events: &mut Vec<RequestEvent>| {
        ts += 3_000 + (k as i64 % 7) * 1_000;
        let n = events.len();
        let e = &mut events[(k * 5) % n];
        e.timestamp = ts;
        state.observe(e, &mut out).unwrap();
    };
    // warm up: fill the 200-event windows and every table
    for k in 0..1_000 {
        step(&mut state, k, &mut events);
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    assert!(before > 0, "the counter sees the warm-up's allocations");
    for k in 1_000..3_000 {
        step(&mut state, k, &mut events);
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(
        allocations, 0,
        "{allocations} allocations in 2,000 warm observations"
    );
}
