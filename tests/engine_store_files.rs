//! Files that are not ours, or no longer readable, are clear errors and are left untouched.

#[path = "engine_support/mod.rs"]
mod support;

use anomaly_engine::testkit::Traffic;
use anomaly_engine::{Engine, EngineError};
use support::*;

fn open_error(path: &str) -> String {
    match Engine::open(small_config(path)) {
        Err(e @ EngineError::Store(_)) => e.to_string(),
        other => panic!("expected a store error, got {other:?}"),
    }
}

#[test]
fn random_bytes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_store(&dir, "junk.sqlite");
    let junk: Vec<u8> = (0..65_536u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    std::fs::write(&path, &junk).unwrap();
    let err = open_error(&path);
    assert!(
        err.contains("is not an ml-anomaly store: file is not a database"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), junk);
}

#[test]
fn another_applications_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_store(&dir, "expenses.sqlite");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE expenses (id INTEGER PRIMARY KEY, amount REAL); INSERT INTO expenses VALUES (1, 9.5);")
            .unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    let err = open_error(&path);
    assert!(err.contains("is not an ml-anomaly database"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_damaged_store_is_an_error_not_a_silent_reset() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_store(&dir, "store.sqlite");
    {
        let engine = Engine::open(small_config(&path)).unwrap();
        let mut traffic = Traffic::new(1, 10, T0);
        feed(&engine, &mut traffic, 2000);
        engine.close().unwrap();
    }
    // Overwrite the middle of the file (the data pages) with garbage.
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 64 * 1024, "{} bytes", bytes.len());
    for (i, b) in bytes[8192..].iter_mut().enumerate() {
        *b = (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[2];
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = open_error(&path);
    assert!(
        err.contains("cannot restore the engine from") && err.contains("store.sqlite"),
        "{err}"
    );
    assert!(err.contains("malformed"), "{err}");
}

#[test]
fn one_store_file_belongs_to_one_engine() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_store(&dir, "store.sqlite");
    let first = Engine::open(small_config(&path)).unwrap();
    let err = open_error(&path);
    assert!(err.contains("in use by another engine or process"), "{err}");
    first.close().unwrap();
    Engine::open(small_config(&path)).unwrap();
}

#[test]
fn a_missing_directory_is_reported() {
    let err = open_error("/nonexistent-ml-anomaly-dir/store.sqlite");
    assert!(err.contains("does not exist"), "{err}");
}
