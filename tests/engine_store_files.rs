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

/// Set in the child of [`a_store_that_cannot_be_written_names_the_path_and_the_os_reason`]: the
/// store it opens as an unprivileged user.
const READ_ONLY_CHILD: &str = "ML_ANOMALY_TEST_READ_ONLY_STORE";

#[cfg(unix)]
#[test]
fn a_store_that_cannot_be_written_names_the_path_and_the_os_reason() {
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;
    if let Ok(path) = std::env::var(READ_ONLY_CHILD) {
        match Engine::open(small_config(&path)) {
            Err(e) => println!("OPEN-ERROR {e}"),
            Ok(engine) => {
                let mut traffic = Traffic::new(3, 5, T0);
                let answered = (0..50).all(|_| engine.predict(traffic.next_event(), None).is_ok());
                println!("OPENED answered={answered} close={:?}", engine.close());
            }
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("ro");
    std::fs::create_dir(&store_dir).unwrap();
    let path = store_dir
        .join("store.sqlite")
        .to_string_lossy()
        .into_owned();
    {
        let engine = Engine::open(small_config(&path)).unwrap();
        let mut traffic = Traffic::new(1, 10, T0);
        feed(&engine, &mut traffic, 300);
        engine.close().unwrap();
    }
    let mode = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    mode(dir.path(), 0o755);
    mode(std::path::Path::new(&path), 0o444);
    mode(&store_dir, 0o555);
    // Permission bits do not bind root: run the child as `nobody` then.
    let exe = std::env::current_exe().unwrap();
    let test = "a_store_that_cannot_be_written_names_the_path_and_the_os_reason";
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc_geteuid() } == 0;
    let mut command = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    let out = command
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(READ_ONLY_CHILD, &path)
        .output()
        .expect("start the child");
    mode(&store_dir, 0o755);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| {
            l.find("OPEN-ERROR")
                .or_else(|| l.find("OPENED"))
                .map(|at| &l[at..])
        })
        .unwrap_or_else(|| {
            panic!(
                "child said nothing: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(
        line.starts_with("OPEN-ERROR"),
        "a read-only store must not open for writing: {line}"
    );
    assert!(line.contains(&path), "{line}");
    assert!(
        line.contains("Permission denied") || line.contains("Read-only file system"),
        "the OS reason, not only SQLite's: {line}"
    );
    println!("{line}");
}

#[cfg(unix)]
extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

#[test]
fn a_schema_1_store_is_migrated_and_keeps_its_feedback() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_store(&dir, "store.sqlite");
    let (id, owner) = {
        let engine = Engine::open(small_config(&path)).unwrap();
        let mut traffic = Traffic::new(1, 10, T0);
        let answers = feed(&engine, &mut traffic, 20);
        engine.close().unwrap();
        (answers[3].id, answers[3].user_id.clone())
    };
    // What a schema-1 build left: feedback on the record only, no history table.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(&format!(
            "DROP TABLE feedback_reports;
             UPDATE predictions SET feedback_false_positive = 1, feedback_false_negative = 0,
                    feedback_notes = 'mine', feedback_submitted_at = {T0} WHERE id = {id};
             PRAGMA user_version = 1;"
        ))
        .unwrap();
    }
    let engine = Engine::open(small_config(&path)).unwrap();
    let record = engine.prediction(id, &owner, false).unwrap();
    assert_eq!(
        record.feedback_history.len(),
        1,
        "the old report opens the history"
    );
    let first = &record.feedback_history[0];
    assert_eq!(
        (
            first.submitted_by.as_str(),
            first.submitted_at,
            first.is_false_positive,
            first.notes.as_deref()
        ),
        (owner.as_str(), T0, true, Some("mine"))
    );
    engine.close().unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    let version: i32 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, anomaly_engine::store::SCHEMA_VERSION);
}
