//! Loading numeric tables (CSV, JSON Lines) with errors that point at the offending line.
//!
//! Every subcommand reads its feature vectors through [`load`]. The format follows the file
//! extension:
//! - `.csv`: a header line naming the columns, then one row of numbers per line. Cells may be
//!   wrapped in double quotes; quoted commas are not supported (numeric tables never need them).
//! - `.jsonl`, `.ndjson`, `.json`: JSON Lines, one row per line, every line of the same form:
//!   an array of numbers (columns named `x0`, `x1`, ... as in the ADBench files), an object with
//!   a `"features"` array (other keys, such as the label, beside it), or an object mapping
//!   column names to numbers (names and their order from the first line; later lines may list
//!   the keys in any order but must have the same set).
//!
//! A label column, when asked for, is taken out of the features and must hold 0/1 (or
//! `true`/`false` in JSON). Blank lines are skipped. Values must be finite numbers: NaN or
//! infinity would otherwise surface much later as a model error without a line number.

use std::fmt;
use std::path::Path;

use ndarray::Array2;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::error::CliError;

/// A numeric table: one row per sample, named columns, optional binary labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Column names of `rows`, in order (the label column is not among them).
    pub names: Vec<String>,
    pub rows: Array2<f64>,
    /// `true` = anomaly; present when a label column was asked for.
    pub labels: Option<Vec<bool>>,
}

/// Reads `path` as CSV or JSON Lines (by extension). `label_column` names the column holding
/// 0/1 labels, which is then removed from the features.
pub fn load(path: &Path, label_column: Option<&str>) -> Result<Dataset, CliError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match ext.as_deref() {
        Some("csv") => Format::Csv,
        Some("jsonl" | "ndjson" | "json") => Format::JsonLines,
        _ => {
            return Err(CliError::data(
                path,
                "unsupported file type: expected a .csv, .jsonl, .ndjson or .json file",
            ))
        }
    };
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.trim().is_empty() {
        return Err(CliError::data(path, "the file is empty"));
    }
    let table = match format {
        Format::Csv => parse_csv(text),
        Format::JsonLines => parse_json_lines(text),
    }
    .map_err(|msg| CliError::data(path, msg))?;
    table
        .into_dataset(label_column)
        .map_err(|msg| CliError::data(path, msg))
}

enum Format {
    Csv,
    JsonLines,
}

/// Parsed cells before the label column is split off. `cells[r]` has one entry per name;
/// `lines[r]` is the 1-based line the row came from.
struct Table {
    names: Vec<String>,
    cells: Vec<Vec<Cell>>,
    lines: Vec<usize>,
}

/// A cell: its numeric value, or the text it had if it was not a number.
#[derive(Clone)]
enum Cell {
    Number(f64),
    Bool(bool),
    Other(String),
}

impl Table {
    fn into_dataset(self, label_column: Option<&str>) -> Result<Dataset, String> {
        if self.cells.is_empty() {
            return Err("no data rows after the header".into());
        }
        let label_index = match label_column {
            None => None,
            Some(name) => match self.names.iter().position(|n| n == name) {
                Some(i) => Some(i),
                None => {
                    return Err(format!(
                        "label column `{name}` not found (columns: {})",
                        abbreviate(&self.names)
                    ))
                }
            },
        };
        let feature_columns: Vec<usize> = (0..self.names.len())
            .filter(|&c| Some(c) != label_index)
            .collect();
        if feature_columns.is_empty() {
            return Err("no feature columns besides the label".into());
        }
        let mut values = Vec::with_capacity(self.cells.len() * feature_columns.len());
        let mut labels = label_index.map(|_| Vec::with_capacity(self.cells.len()));
        for (row, &line) in self.cells.iter().zip(&self.lines) {
            for &c in &feature_columns {
                let name = &self.names[c];
                match &row[c] {
                    Cell::Number(v) if v.is_finite() => values.push(*v),
                    Cell::Number(v) => {
                        return Err(format!(
                            "line {line}, column `{name}`: non-finite value {v}"
                        ))
                    }
                    Cell::Bool(b) => {
                        return Err(format!(
                            "line {line}, column `{name}`: expected a number, got {b}"
                        ))
                    }
                    Cell::Other(text) => {
                        return Err(format!(
                            "line {line}, column `{name}`: expected a number, got `{text}`"
                        ))
                    }
                }
            }
            if let (Some(c), Some(labels)) = (label_index, labels.as_mut()) {
                let label = match &row[c] {
                    Cell::Number(v) if *v == 0.0 => false,
                    Cell::Number(v) if *v == 1.0 => true,
                    Cell::Bool(b) => *b,
                    Cell::Number(v) => {
                        return Err(format!(
                            "line {line}: label `{}` must be 0 or 1, got {v}",
                            self.names[c]
                        ))
                    }
                    Cell::Other(text) => {
                        return Err(format!(
                            "line {line}: label `{}` must be 0 or 1, got `{text}`",
                            self.names[c]
                        ))
                    }
                };
                labels.push(label);
            }
        }
        let n_rows = self.cells.len();
        let names = feature_columns
            .iter()
            .map(|&c| self.names[c].clone())
            .collect();
        let rows = Array2::from_shape_vec((n_rows, feature_columns.len()), values)
            .map_err(|e| format!("internal shape error: {e}"))?;
        Ok(Dataset {
            names,
            rows,
            labels,
        })
    }
}

fn abbreviate(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
    if names.len() > shown.len() {
        format!("{}, ... ({} in all)", shown.join(", "), names.len())
    } else {
        shown.join(", ")
    }
}

fn unquote(cell: &str) -> &str {
    let cell = cell.trim();
    cell.strip_prefix('"')
        .and_then(|c| c.strip_suffix('"'))
        .unwrap_or(cell)
}

fn parse_csv(text: &str) -> Result<Table, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err("the file is empty".into());
    };
    let names: Vec<String> = header.split(',').map(|c| unquote(c).to_string()).collect();
    if let Some(i) = names.iter().position(String::is_empty) {
        return Err(format!("line 1: header column {} has no name", i + 1));
    }
    let mut cells = Vec::new();
    let mut line_numbers = Vec::new();
    for (line, text) in lines {
        let row: Vec<Cell> = text
            .split(',')
            .map(|c| {
                let c = unquote(c);
                match c.parse::<f64>() {
                    Ok(v) => Cell::Number(v),
                    Err(_) => Cell::Other(c.to_string()),
                }
            })
            .collect();
        if row.len() != names.len() {
            return Err(format!(
                "line {line}: {} cells, but the header has {} columns",
                row.len(),
                names.len()
            ));
        }
        cells.push(row);
        line_numbers.push(line);
    }
    Ok(Table {
        names,
        cells,
        lines: line_numbers,
    })
}

/// One JSON line, keeping the key order of objects (serde_json's map would sort them).
enum Line {
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
    Scalar(Value),
}

impl<'de> Deserialize<'de> for Line {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LineVisitor;
        impl<'de> Visitor<'de> for LineVisitor {
            type Value = Line;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON array or object")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Line, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = seq.next_element::<Value>()? {
                    items.push(v);
                }
                Ok(Line::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Line, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    entries.push((k, v));
                }
                Ok(Line::Object(entries))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Line, E> {
                Ok(Line::Scalar(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Line, E> {
                Ok(Line::Scalar(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Line, E> {
                Ok(Line::Scalar(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Line, E> {
                Ok(Line::Scalar(Value::from(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Line, E> {
                Ok(Line::Scalar(Value::from(v)))
            }
            fn visit_unit<E>(self) -> Result<Line, E> {
                Ok(Line::Scalar(Value::Null))
            }
        }
        deserializer.deserialize_any(LineVisitor)
    }
}

fn json_cell(value: &Value) -> Cell {
    match value {
        Value::Number(n) => n
            .as_f64()
            .map(Cell::Number)
            .unwrap_or_else(|| Cell::Other(n.to_string())),
        Value::Bool(b) => Cell::Bool(*b),
        other => Cell::Other(other.to_string()),
    }
}

/// The shape every line must share, fixed by the first one.
enum JsonForm {
    Array,
    /// `{"features": [...], other keys...}`: the other keys' names.
    Features(Vec<String>),
    Named,
}

fn parse_json_lines(text: &str) -> Result<Table, String> {
    let mut names: Vec<String> = Vec::new();
    let mut form: Option<JsonForm> = None;
    let mut cells = Vec::new();
    let mut line_numbers = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let parsed: Line =
            serde_json::from_str(raw).map_err(|e| format!("line {line}: invalid JSON: {e}"))?;
        let row: Vec<Cell> = match parsed {
            Line::Scalar(v) => {
                return Err(format!(
                    "line {line}: expected a JSON array or object, got `{v}`"
                ))
            }
            Line::Array(items) => {
                match &form {
                    None => {
                        names = (0..items.len()).map(|i| format!("x{i}")).collect();
                        form = Some(JsonForm::Array);
                    }
                    Some(JsonForm::Array) => {}
                    Some(_) => {
                        return Err(format!(
                            "line {line}: an array, but the first line was an object"
                        ))
                    }
                }
                if items.len() != names.len() {
                    return Err(format!(
                        "line {line}: {} values, but the first line has {}",
                        items.len(),
                        names.len()
                    ));
                }
                items.iter().map(json_cell).collect()
            }
            Line::Object(entries) => {
                let features = entries
                    .iter()
                    .find(|(k, _)| k == "features")
                    .map(|(_, v)| v);
                if form.is_none() {
                    form = Some(match features {
                        Some(Value::Array(items)) => {
                            let others: Vec<String> = entries
                                .iter()
                                .filter(|(k, _)| k != "features")
                                .map(|(k, _)| k.clone())
                                .collect();
                            names = (0..items.len())
                                .map(|i| format!("x{i}"))
                                .chain(others.iter().cloned())
                                .collect();
                            JsonForm::Features(others)
                        }
                        Some(_) => {
                            return Err(format!(
                                "line {line}: `features` must be an array of numbers"
                            ))
                        }
                        None => {
                            names = entries.iter().map(|(k, _)| k.clone()).collect();
                            JsonForm::Named
                        }
                    });
                }
                match &form {
                    Some(JsonForm::Array) => {
                        return Err(format!(
                            "line {line}: an object, but the first line was an array"
                        ))
                    }
                    Some(JsonForm::Features(others)) => {
                        let Some(Value::Array(items)) = features else {
                            return Err(format!("line {line}: `features` must be an array of numbers, as on the first line"));
                        };
                        let expected = names.len() - others.len();
                        if items.len() != expected {
                            return Err(format!(
                                "line {line}: {} features, but the first line has {expected}",
                                items.len()
                            ));
                        }
                        let mut row: Vec<Cell> = items.iter().map(json_cell).collect();
                        for key in others {
                            match entries.iter().find(|(k, _)| k == key) {
                                Some((_, v)) => row.push(json_cell(v)),
                                None => return Err(format!("line {line}: missing key `{key}`")),
                            }
                        }
                        row
                    }
                    Some(JsonForm::Named) | None => named_row(&names, &entries, line)?,
                }
            }
        };
        cells.push(row);
        line_numbers.push(line);
    }
    Ok(Table {
        names,
        cells,
        lines: line_numbers,
    })
}

fn named_row(
    names: &[String],
    entries: &[(String, Value)],
    line: usize,
) -> Result<Vec<Cell>, String> {
    if let Some((extra, _)) = entries.iter().find(|(k, _)| !names.contains(k)) {
        return Err(format!(
            "line {line}: unexpected column `{extra}` (not in the first line)"
        ));
    }
    if entries.len() != names.len() {
        return Err(format!(
            "line {line}: {} columns, but the first line has {}",
            entries.len(),
            names.len()
        ));
    }
    names
        .iter()
        .map(|name| match entries.iter().find(|(k, _)| k == name) {
            Some((_, v)) => Ok(json_cell(v)),
            None => Err(format!("line {line}: missing column `{name}`")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A file in the temp directory, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, contents: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("ml-anomaly-data-{}-{name}", std::process::id()));
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn load_str(name: &str, contents: &str, label: Option<&str>) -> Result<Dataset, String> {
        let file = TempFile::new(name, contents);
        load(&file.0, label).map_err(|e| e.to_string())
    }

    fn err(name: &str, contents: &str, label: Option<&str>) -> String {
        match load_str(name, contents, label) {
            Ok(d) => panic!("{name}: accepted {d:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn csv_with_labels() {
        let d = load_str("ok.csv", "a,b,label\n1,2.5,0\n\n-3,4e2,1\n", Some("label")).unwrap();
        assert_eq!(d.names, ["a", "b"]);
        assert_eq!(d.rows, ndarray::arr2(&[[1.0, 2.5], [-3.0, 400.0]]));
        assert_eq!(d.labels, Some(vec![false, true]));
        let all = load_str("nolabel.csv", "\u{feff}\"a\", b\r\n1, 2\r\n", None).unwrap();
        assert_eq!(all.names, ["a", "b"]);
        assert_eq!(all.labels, None);
        assert_eq!(all.rows, ndarray::arr2(&[[1.0, 2.0]]));
    }

    #[test]
    fn json_lines_in_three_forms() {
        let arrays = load_str("a.jsonl", "[1, 2, 0]\n[3, 4.5, 1]\n", Some("x2")).unwrap();
        assert_eq!(arrays.names, ["x0", "x1"]);
        assert_eq!(arrays.labels, Some(vec![false, true]));
        let features = load_str(
            "f.ndjson",
            "{\"features\": [1, 2], \"label\": 0}\n{\"label\": true, \"features\": [3, 4]}\n",
            Some("label"),
        )
        .unwrap();
        assert_eq!(features.rows, ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]));
        assert_eq!(features.labels, Some(vec![false, true]));
        // key order of the first line is kept (not sorted), later lines may reorder keys
        let named = load_str(
            "n.json",
            "{\"zeta\": 1, \"alpha\": 2}\n{\"alpha\": 4, \"zeta\": 3}\n",
            None,
        )
        .unwrap();
        assert_eq!(named.names, ["zeta", "alpha"]);
        assert_eq!(named.rows, ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]));
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let path = std::env::temp_dir().join("ml-anomaly-data-does-not-exist.csv");
        match load(&path, None) {
            Err(CliError::Io { path: p, .. }) => assert_eq!(p, path),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_files() {
        assert!(err("empty.csv", "", None).contains("empty"));
        assert!(err("blank.jsonl", "\n  \n", None).contains("empty"));
        assert!(err("header.csv", "a,b\n", None).contains("no data rows"));
    }

    #[test]
    fn ragged_rows_name_the_line_and_counts() {
        let e = err("ragged.csv", "a,b,c\n1,2,3\n4,5\n", None);
        assert!(
            e.contains("line 3") && e.contains("2 cells") && e.contains("3 columns"),
            "{e}"
        );
        let e = err("ragged.jsonl", "[1,2]\n\n[1,2,3]\n", None);
        assert!(
            e.contains("line 3") && e.contains("3 values") && e.contains("has 2"),
            "{e}"
        );
        let e = err("ragged.json", "{\"a\":1,\"b\":2}\n{\"a\":1}\n", None);
        assert!(e.contains("line 2") && e.contains("1 columns"), "{e}");
        let e = err("extra.json", "{\"a\":1}\n{\"a\":1,\"c\":2}\n", None);
        assert!(e.contains("line 2") && e.contains("`c`"), "{e}");
    }

    #[test]
    fn non_numeric_cells_name_line_column_and_text() {
        let e = err("text.csv", "amount,count\n1,2\n3,abc\n", None);
        assert!(
            e.contains("line 3") && e.contains("`count`") && e.contains("`abc`"),
            "{e}"
        );
        let e = err("nan.csv", "a\nNaN\n", None);
        assert!(e.contains("line 2") && e.contains("non-finite"), "{e}");
        let e = err("null.jsonl", "{\"a\": 1}\n{\"a\": null}\n", None);
        assert!(
            e.contains("line 2") && e.contains("`a`") && e.contains("null"),
            "{e}"
        );
        let e = err("bad.jsonl", "[1,2]\n[1,\n", None);
        assert!(e.contains("line 2") && e.contains("invalid JSON"), "{e}");
        let e = err("scalar.jsonl", "3\n", None);
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn label_column_must_exist_and_be_binary() {
        let e = err("nolabel.csv", "a,b\n1,2\n", Some("label"));
        assert!(
            e.contains("label column `label` not found") && e.contains("a, b"),
            "{e}"
        );
        let e = err("twolabel.csv", "a,label\n1,0\n2,2\n", Some("label"));
        assert!(
            e.contains("line 3") && e.contains("0 or 1") && e.contains('2'),
            "{e}"
        );
        let e = err(
            "textlabel.jsonl",
            "{\"a\":1,\"label\":\"yes\"}\n",
            Some("label"),
        );
        assert!(e.contains("line 1") && e.contains("0 or 1"), "{e}");
        let e = err("onlylabel.csv", "label\n1\n", Some("label"));
        assert!(e.contains("no feature columns"), "{e}");
    }

    #[test]
    fn unknown_extension() {
        let e = err("table.txt", "a\n1\n", None);
        assert!(e.contains(".csv"), "{e}");
    }
}
