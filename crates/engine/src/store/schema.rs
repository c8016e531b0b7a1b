//! Opening the SQLite file: recognising it, creating or checking the schema, setting durability.
//!
//! ## Recognising our files
//! The database header carries `application_id` ([`APPLICATION_ID`], "MLAN") and
//! `user_version` ([`SCHEMA_VERSION`]). Opening checks them *before changing anything*, so:
//! - a file that is not SQLite at all (random bytes, a truncated copy) is refused with
//!   "... is not an ml-anomaly store: file is not a database";
//! - a SQLite database of another application (tables present, another or no application id)
//!   is refused with "... is not an ml-anomaly database" and left untouched;
//! - a store written by a newer version is refused with its schema number;
//! - an empty or new file becomes a fresh store.
//!
//! ## Durability
//! WAL journal with `synchronous=NORMAL`: a transaction is durable against a crash of the
//! *process* once committed (the WAL is written before `COMMIT` returns; a `kill -9` loses at
//! most the batch being written, and the database stays consistent). Against power loss the
//! last transactions before the last checkpoint may be lost — SQLite's documented trade-off for
//! this mode, acceptable for prediction logs. `locking_mode=EXCLUSIVE` makes the file belong to
//! one engine at a time: a second process (or a second engine in the same process) opening it
//! gets "database is locked" instead of interleaving writes.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{EngineError, Result};

/// `PRAGMA application_id` of an ml-anomaly store: "MLAN".
pub const APPLICATION_ID: i32 = 0x4D4C_414E;
/// `PRAGMA user_version`: the schema version this build writes and reads (older versions are
/// migrated forward on open, one step per entry of the private `MIGRATIONS` table).
pub const SCHEMA_VERSION: i32 = 1 + MIGRATIONS.len() as i32;
/// How long opening waits for a lock held by someone else before giving up.
const BUSY_TIMEOUT_MS: u64 = 500;

const SCHEMA: &str = r#"
CREATE TABLE models (
    version          INTEGER PRIMARY KEY,
    created_at       INTEGER NOT NULL,
    bundle           BLOB    NOT NULL,
    training_metrics TEXT    NOT NULL,
    is_active        INTEGER NOT NULL DEFAULT 0,
    deactivated_at   INTEGER,
    drift_state      TEXT
);
CREATE TABLE predictions (
    id                      INTEGER PRIMARY KEY,
    session_id              TEXT    NOT NULL,
    user_id                 TEXT    NOT NULL,
    timestamp               INTEGER NOT NULL,
    features                BLOB    NOT NULL,
    isolation_forest_score  REAL    NOT NULL,
    autoencoder_score       REAL    NOT NULL,
    composite_score         REAL    NOT NULL,
    is_anomaly              INTEGER NOT NULL,
    confidence              REAL    NOT NULL,
    model_agreement         REAL,
    explanation             TEXT,
    request_context         TEXT,
    model_version           INTEGER,
    recommended_action      TEXT    NOT NULL,
    action_taken            TEXT    NOT NULL,
    feedback_false_positive INTEGER,
    feedback_false_negative INTEGER,
    feedback_notes          TEXT,
    feedback_submitted_at   INTEGER,
    processing_time_us      REAL    NOT NULL,
    fallback                INTEGER NOT NULL,
    error                   TEXT,
    signals                 TEXT
);
CREATE INDEX predictions_user_time ON predictions (user_id, timestamp);
CREATE INDEX predictions_time ON predictions (timestamp);
CREATE INDEX predictions_session ON predictions (session_id, id);
CREATE INDEX predictions_false_positives ON predictions (feedback_submitted_at)
    WHERE feedback_false_positive = 1;
CREATE TABLE training_samples (
    slot      INTEGER PRIMARY KEY,
    timestamp INTEGER NOT NULL,
    features  BLOB    NOT NULL
);
CREATE INDEX training_samples_time ON training_samples (timestamp);
CREATE TABLE state_snapshot (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    taken_at INTEGER NOT NULL,
    snapshot BLOB    NOT NULL
);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#;

/// What each schema version adds to the one before, in order: entry `i` turns schema `i + 1`
/// into schema `i + 2`. A new store runs [`SCHEMA`] (version 1) and then every entry, so a fresh
/// store and a migrated one have the same tables by construction.
const MIGRATIONS: [&str; 1] = [
    // 2: every feedback report is kept (who, when, what), not only the latest one on the record;
    // reports already on records become the first entry of their history.
    r#"
CREATE TABLE feedback_reports (
    prediction_id  INTEGER NOT NULL,
    submitted_at   INTEGER NOT NULL,
    submitted_by   TEXT    NOT NULL,
    false_positive INTEGER NOT NULL,
    false_negative INTEGER NOT NULL,
    notes          TEXT
);
CREATE INDEX feedback_reports_prediction ON feedback_reports (prediction_id, submitted_at);
INSERT INTO feedback_reports
    SELECT id, feedback_submitted_at, user_id, coalesce(feedback_false_positive, 0),
           coalesce(feedback_false_negative, 0), feedback_notes
    FROM predictions WHERE feedback_submitted_at IS NOT NULL;
"#,
];

/// Opens (creating if needed) the store at `path`, or an in-memory store for `":memory:"`.
pub fn open(path: &str) -> Result<Connection> {
    let memory = path == super::MEMORY_STORE;
    let conn = if memory {
        Connection::open_in_memory()
    } else {
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            if !dir.is_dir() {
                return Err(EngineError::Store(format!(
                    "cannot open store {path}: directory {} does not exist",
                    dir.display()
                )));
            }
        }
        Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
    }
    .map_err(|e| {
        EngineError::Store(format!(
            "cannot open store {path}: {e}{}",
            os_reason(path, memory)
        ))
    })?;
    configure_and_check(&conn, path, memory)?;
    Ok(conn)
}

/// What the operating system says about writing the store, as `" (reason)"`, or `""` when it
/// allows it. SQLite reports a read-only file or directory as "disk I/O error" or "unable to open
/// database file"; the reason (permission denied, read-only file system...) is what an operator
/// needs. The directory matters because SQLite creates its journal files beside the store.
fn os_reason(path: &str, memory: bool) -> String {
    use std::fs::OpenOptions;
    use std::io::ErrorKind;
    if memory {
        return String::new();
    }
    match OpenOptions::new().read(true).write(true).open(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => return format!(" ({path}: {e})"),
        _ => {}
    }
    let file = Path::new(path);
    let dir = match file.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d,
        None => Path::new("."),
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let probe = dir.join(format!(".{name}.write-check-{}", std::process::id()));
    match OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            String::new()
        }
        Err(e) => format!(
            " (cannot create files in {} for the journal: {e})",
            dir.display()
        ),
    }
}

fn configure_and_check(conn: &Connection, path: &str, memory: bool) -> Result<()> {
    let not_ours = |e: rusqlite::Error| -> EngineError {
        let msg = e.to_string();
        if msg.contains("not a database") {
            EngineError::Store(format!(
                "{path} is not an ml-anomaly store: file is not a database"
            ))
        } else if msg.contains("locked") || msg.contains("busy") {
            EngineError::Store(format!(
                "store {path} is in use by another engine or process ({msg})"
            ))
        } else {
            EngineError::Store(format!(
                "cannot read store {path}: {msg}{}",
                os_reason(path, memory)
            ))
        }
    };
    conn.busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS))
        .map_err(not_ours)?;
    if !memory {
        // Must precede the first read for WAL to run without shared memory.
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
            .map_err(not_ours)?;
    }
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(not_ours)?;
    let version: i32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(not_ours)?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(not_ours)?;

    match (app_id, objects) {
        (0, 0) if version == 0 => {
            if !memory {
                set_journal(conn, path)?;
            }
            create(conn).map_err(not_ours)?;
            return Ok(());
        }
        (APPLICATION_ID, _) => {}
        (0, _) => {
            return Err(EngineError::Store(format!(
                "{path} is not an ml-anomaly database: it is a SQLite database with {objects} objects of another application"
            )))
        }
        (other, _) => {
            return Err(EngineError::Store(format!(
                "{path} is not an ml-anomaly database (application_id {other:#010x}, expected {APPLICATION_ID:#010x})"
            )))
        }
    }
    if version > SCHEMA_VERSION {
        return Err(EngineError::Store(format!(
            "{path} was written by a newer version of ml-anomaly (schema {version}; this build reads schema {SCHEMA_VERSION})"
        )));
    }
    if version < 1 {
        return Err(EngineError::Store(format!(
            "{path} has schema {version}, which this build cannot migrate (it reads schema {SCHEMA_VERSION})"
        )));
    }
    if !memory {
        set_journal(conn, path)?;
    }
    if version < SCHEMA_VERSION {
        migrate(conn, version).map_err(|e| {
            EngineError::Store(format!(
                "cannot migrate store {path} from schema {version} to {SCHEMA_VERSION}: {e}"
            ))
        })?;
    }
    check_tables(conn, path)
}

fn set_journal(conn: &Connection, path: &str) -> Result<()> {
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(|e| EngineError::Store(format!("cannot enable WAL on {path}: {e}")))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(EngineError::Store(format!(
            "cannot enable WAL on {path}: journal mode is {mode}"
        )));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| EngineError::Store(format!("cannot set synchronous=NORMAL on {path}: {e}")))?;
    Ok(())
}

fn create(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "BEGIN;\n{SCHEMA}\n{}\nPRAGMA application_id = {APPLICATION_ID};\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;",
        MIGRATIONS.concat()
    ))
}

/// Runs the migrations after schema `from` in one transaction: a failure leaves the store as it
/// was.
fn migrate(conn: &Connection, from: i32) -> rusqlite::Result<()> {
    let steps = MIGRATIONS[(from - 1) as usize..].concat();
    conn.execute_batch(&format!(
        "BEGIN;\n{steps}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;"
    ))
    .inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })
}

/// A store of our schema version must have every table; a missing one means the file was
/// tampered with.
fn check_tables(conn: &Connection, path: &str) -> Result<()> {
    for table in [
        "models",
        "predictions",
        "training_samples",
        "state_snapshot",
        "meta",
        "feedback_reports",
    ] {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .map_err(|e| EngineError::Store(format!("cannot read store {path}: {e}")))?;
        if n != 1 {
            return Err(EngineError::Store(format!(
                "{path} is a damaged ml-anomaly store: table {table} is missing"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(dir: &tempfile::TempDir, name: &str) -> String {
        dir.path().join(name).to_string_lossy().into_owned()
    }

    #[test]
    fn fresh_file_gets_the_schema_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = temp_path(&dir, "s.sqlite");
        {
            let conn = open(&path).unwrap();
            let id: i32 = conn
                .pragma_query_value(None, "application_id", |r| r.get(0))
                .unwrap();
            assert_eq!(id, APPLICATION_ID);
            let mode: String = conn
                .pragma_query_value(None, "journal_mode", |r| r.get(0))
                .unwrap();
            assert_eq!(mode.to_lowercase(), "wal");
        }
        open(&path).unwrap();
        open(crate::store::MEMORY_STORE).unwrap();
    }

    #[test]
    fn random_bytes_are_not_a_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = temp_path(&dir, "junk.sqlite");
        let junk: Vec<u8> = (0..8192u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(&path, &junk).unwrap();
        let err = open(&path).unwrap_err().to_string();
        assert!(
            err.contains("is not an ml-anomaly store: file is not a database"),
            "{err}"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            junk,
            "the file is left untouched"
        );
    }

    #[test]
    fn foreign_sqlite_database_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = temp_path(&dir, "other.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE invoices (id INTEGER PRIMARY KEY); INSERT INTO invoices VALUES (1);",
            )
            .unwrap();
        }
        let err = open(&path).unwrap_err().to_string();
        assert!(err.contains("is not an ml-anomaly database"), "{err}");
        let c = Connection::open(&path).unwrap();
        let mode: String = c
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete", "journal mode unchanged");
        // another application's id
        c.pragma_update(None, "application_id", 42).unwrap();
        drop(c);
        let err = open(&path).unwrap_err().to_string();
        assert!(err.contains("application_id 0x0000002a"), "{err}");
    }

    #[test]
    fn newer_schema_and_missing_tables_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = temp_path(&dir, "s.sqlite");
        drop(open(&path).unwrap());
        {
            let c = Connection::open(&path).unwrap();
            c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        let err = open(&path).unwrap_err().to_string();
        assert!(err.contains("newer version"), "{err}");
        {
            let c = Connection::open(&path).unwrap();
            c.pragma_update(None, "user_version", SCHEMA_VERSION)
                .unwrap();
            c.execute_batch("DROP TABLE meta;").unwrap();
        }
        let err = open(&path).unwrap_err().to_string();
        assert!(err.contains("table meta is missing"), "{err}");
    }

    #[test]
    fn a_second_opener_gets_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = temp_path(&dir, "s.sqlite");
        let first = open(&path).unwrap();
        // the exclusive lock is taken by the first write
        first
            .execute("INSERT INTO meta (key, value) VALUES ('k', 'v')", [])
            .unwrap();
        let err = open(&path).unwrap_err().to_string();
        assert!(err.contains("in use by another engine or process"), "{err}");
        drop(first);
        open(&path).unwrap();
    }

    #[test]
    fn missing_directory_is_reported() {
        let err = open("/nonexistent-dir-ml-anomaly/x.sqlite")
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
    }
}
