//! Prediction ids: never handed out twice, across crashes and restarts.
//!
//! An id is answered to the host before its record is committed (the writer batches), so
//! after a `kill -9` the store's `max(id) + 1` can be below ids already answered, and handing
//! those out again points a user's stored prediction, and the host's security events, at
//! someone else's request. Ids are therefore handed out only from a range reserved durably
//! beforehand: `meta.prediction_ids_reserved` holds the range's end, and an opening engine
//! reserves a new range starting at it. Half way through a range the writer thread extends it
//! (one small write, never awaited by a request); a request that catches up with the durable
//! end before that write lands waits for a reservation of its own (only when the writer is
//! far behind). A restart after a crash therefore skips at most one range of ids; a clean
//! close seals the allocator and gives back the unused rest, so ids continue without a gap.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use rusqlite::Connection;

use crate::error::{EngineError, Result};
use crate::store::{self, Store};

/// Ids reserved at a time.
pub(crate) const ID_BLOCK: i64 = 1 << 16;
/// The meta key of the reserved range's end (exclusive).
pub(crate) const RESERVED_KEY: &str = "prediction_ids_reserved";
/// `next` after [`IdAllocator::seal`]: every later request fails as closed.
const SEALED: i64 = i64::MAX / 2;

/// Hands out prediction ids below a durably reserved end.
pub(crate) struct IdAllocator {
    next: AtomicI64,
    /// End (exclusive) of the range known to be committed.
    durable: Arc<AtomicI64>,
    /// An extension is queued on the writer.
    extending: Arc<AtomicBool>,
}

impl IdAllocator {
    /// Starts at `start` with the range up to `durable_end` already reserved.
    pub fn new(start: i64, durable_end: i64) -> Self {
        IdAllocator {
            next: AtomicI64::new(start),
            durable: Arc::new(AtomicI64::new(durable_end)),
            extending: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A fresh id. Fails only when the range is exhausted and the store cannot reserve more:
    /// an id that a restart might hand out again is never answered.
    pub fn next(&self, store: &Store) -> Result<i64> {
        let id = self.next.fetch_add(1, Ordering::AcqRel);
        if id >= SEALED {
            return Err(EngineError::Closed);
        }
        let durable = self.durable.load(Ordering::Acquire);
        if id >= durable {
            let end = store.call(move |conn| reserve(conn, id + ID_BLOCK))?;
            self.durable.fetch_max(end, Ordering::AcqRel);
        } else if id >= durable - ID_BLOCK / 2 && !self.extending.swap(true, Ordering::AcqRel) {
            let (durable_end, extending) = (self.durable.clone(), self.extending.clone());
            let queued = store.submit(move |conn| {
                if let Ok(end) = reserve(conn, durable + ID_BLOCK) {
                    durable_end.fetch_max(end, Ordering::AcqRel);
                }
                extending.store(false, Ordering::Release);
            });
            if !queued {
                // a full queue: the next request tries again
                self.extending.store(false, Ordering::Release);
            }
        }
        Ok(id)
    }

    /// Stops handing out ids and returns the first id never handed out: a request that races
    /// with the close fails as closed instead of taking an id past the one given back.
    pub fn seal(&self) -> i64 {
        self.next.swap(SEALED, Ordering::AcqRel).min(SEALED)
    }
}

/// Gives back the reservation above `first_unused` (at a clean close, after [`IdAllocator::seal`]).
pub(crate) fn release(conn: &Connection, first_unused: i64) -> Result<()> {
    store::set_meta(conn, RESERVED_KEY, &first_unused.to_string())?;
    Ok(())
}

/// Reserves ids up to `end` (or keeps a larger stored end); returns the stored end.
pub(crate) fn reserve(conn: &Connection, end: i64) -> Result<i64> {
    let end = end.max(reserved_end(conn)?);
    store::set_meta(conn, RESERVED_KEY, &end.to_string())?;
    Ok(end)
}

/// The stored end of the reserved range (0 for a store that never reserved one).
pub(crate) fn reserved_end(conn: &Connection) -> Result<i64> {
    Ok(store::get_meta_i64(conn, RESERVED_KEY)?.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{WriterSettings, MEMORY_STORE};
    use std::time::Duration;

    fn store() -> Store {
        Store::open(
            MEMORY_STORE,
            WriterSettings {
                queue_capacity: 16,
                batch_size: 4,
                flush_interval: Duration::from_millis(1),
            },
        )
        .unwrap()
    }

    #[test]
    fn ids_never_pass_the_committed_reservation() {
        let store = store();
        let ids = IdAllocator::new(1, 1);
        let mut last = 0;
        for _ in 0..(3 * ID_BLOCK) {
            let id = ids.next(&store).unwrap();
            assert!(id > last);
            last = id;
            let reserved = store.call(|conn| reserved_end(conn)).unwrap();
            assert!(
                id < reserved,
                "id {id} answered beyond the reserved end {reserved}"
            );
        }
    }

    #[test]
    fn a_sealed_allocator_answers_closed() {
        let store = store();
        let ids = IdAllocator::new(5, 5 + ID_BLOCK);
        assert_eq!(ids.next(&store).unwrap(), 5);
        assert_eq!(ids.seal(), 6);
        assert!(matches!(ids.next(&store), Err(EngineError::Closed)));
        assert_eq!(ids.seal(), SEALED);
    }

    #[test]
    fn a_reservation_never_moves_back() {
        let store = store();
        assert_eq!(store.call(|c| reserve(c, 100)).unwrap(), 100);
        assert_eq!(store.call(|c| reserve(c, 50)).unwrap(), 100);
        assert_eq!(store.call(|c| reserved_end(c)).unwrap(), 100);
    }
}
