//! `table:PATH`: a group brought by the user as its Cayley table in a file.
//!
//! Two formats, chosen by extension:
//! - `.csv`: n lines of n comma-separated element indices 0..n-1 (row a,
//!   column b holds a ∘ b); blank lines and lines starting with `#` are
//!   skipped;
//! - `.json`: `{"labels": [...], "table": [[...], ...]}`, entries either
//!   indices or labels (`labels` optional with indices).
//!
//! The table is validated as every group is (closure, identity, inverses,
//! associativity, first violation named). Its run-id slug is
//! `table-<8 hex digits of the table's SHA-256>`, so a changed file gets a
//! new run id (the config hash after the slug still includes the path, as
//! the config names the file).

use super::{FiniteGroup, GroupError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// Largest table file read, in bytes (a 4096-element table of indices is
/// about 80 MB as CSV): a larger file is refused before it is read.
pub const MAX_FILE_BYTES: u64 = 128 << 20;

/// Largest order a table file may have. Checked before any entry is
/// parsed; the memory and time a run needs are checked again when it is
/// admitted.
pub const MAX_ORDER: usize = 4096;

/// The labels and row-major table of the file at `path`.
///
/// # Errors
/// An unreadable file, a format error (with the line or entry), or a shape
/// that is not n × n.
pub fn read(path: &str) -> Result<(Vec<String>, Vec<usize>), GroupError> {
    let bad = |why: String| GroupError::Parameter(format!("table:{path}: {why}"));
    let size = std::fs::metadata(path)
        .map_err(|e| bad(format!("cannot read it ({})", crate::text::io_reason(&e))))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(bad(format!(
            "the file is {} MB, above the {} MB grokscope reads (tables up to order {MAX_ORDER}); build a larger group with a constructor (grokscope ops)",
            size >> 20,
            MAX_FILE_BYTES >> 20
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(format!("cannot read it ({})", crate::text::io_reason(&e))))?;
    let ext = Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    let (labels, rows): (Option<Vec<String>>, Vec<Vec<String>>) = match ext {
        "csv" => {
            let rows = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| l.split(',').map(|x| x.trim().to_string()).collect())
                .collect();
            (None, rows)
        }
        "json" => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct File {
                labels: Option<Vec<String>>,
                table: Vec<Vec<serde_json::Value>>,
            }
            let f: File = serde_json::from_str(&text)
                .map_err(|e| bad(format!("not the expected JSON ({e})")))?;
            let rows = f
                .table
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|v| match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            (f.labels, rows)
        }
        _ => return Err(bad(
            "use a .csv file of indices or a .json file with \"table\" (and optional \"labels\")"
                .into(),
        )),
    };
    let n = rows.len();
    if n == 0 {
        return Err(bad("it holds no rows".into()));
    }
    if n > MAX_ORDER {
        return Err(bad(format!(
            "{n} rows, above the largest order grokscope reads from a file ({MAX_ORDER}); build a larger group with a constructor (grokscope ops)"
        )));
    }
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != n) {
        return Err(bad(format!(
            "row {} has {} entries, but there are {n} rows; a Cayley table is n × n",
            i + 1,
            r.len()
        )));
    }
    let labels = match labels {
        Some(l) if l.len() != n => {
            return Err(bad(format!("{} labels for {n} rows", l.len())));
        }
        Some(l) => l,
        None => (0..n).map(|i| i.to_string()).collect(),
    };
    // The first label of each name wins, as a linear search would find it.
    let mut by_label = HashMap::with_capacity(n);
    for (i, l) in labels.iter().enumerate() {
        by_label.entry(l.as_str()).or_insert(i);
    }
    let mut table = Vec::with_capacity(n * n);
    for (i, row) in rows.iter().enumerate() {
        for (j, entry) in row.iter().enumerate() {
            let index = by_label
                .get(entry.as_str())
                .copied()
                .or_else(|| entry.parse::<usize>().ok());
            match index {
                Some(x) => table.push(x),
                None => {
                    return Err(bad(format!(
                        "row {}, column {}: {entry:?} is neither an index nor a label",
                        i + 1,
                        j + 1
                    )))
                }
            }
        }
    }
    Ok((labels, table))
}

/// The group of the file at `path`, validated.
///
/// # Errors
/// As [`read`], or the first group axiom the table breaks.
pub fn group(path: &str) -> Result<FiniteGroup, GroupError> {
    let (labels, table) = read(path)?;
    let name = Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("table")
        .to_string();
    FiniteGroup::from_table(name, labels, table)
        .map_err(|e| GroupError::Parameter(format!("table:{path} is not a group: {e}")))
}

/// `table-<hash>`: the first 8 hex digits of the SHA-256 of the table's
/// entries (not of the file's bytes or path).
pub fn slug(table: &[usize]) -> String {
    let mut h = Sha256::new();
    for &x in table {
        h.update((x as u32).to_le_bytes());
    }
    format!("table-{}", &crate::text::short_hex(&h.finalize())[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> String {
        let dir = std::env::temp_dir().join(format!("grokscope-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    #[test]
    fn csv_and_json_tables_load_and_bad_ones_say_what_is_wrong() {
        let z3 = write("z3.csv", "# Z/3\n0,1,2\n1,2,0\n2,0,1\n");
        let g = group(&z3).unwrap();
        assert_eq!((g.order(), g.is_abelian()), (3, true));
        let v4 = write(
            "v4.json",
            r#"{"labels": ["e", "a", "b", "c"], "table": [["e","a","b","c"],["a","e","c","b"],["b","c","e","a"],["c","b","a","e"]]}"#,
        );
        let g = group(&v4).unwrap();
        assert_eq!((g.order(), g.label(3)), (4, "c"));
        // The slug depends on the table, not the path.
        let again = write("same-z3.csv", "0,1,2\n1,2,0\n2,0,1\n");
        assert_eq!(slug(&read(&z3).unwrap().1), slug(&read(&again).unwrap().1));
        for (name, text, needle) in [
            ("short.csv", "0,1\n1\n", "row 2 has 1 entries"),
            (
                "word.csv",
                "0,x\n1,0\n",
                "\"x\" is neither an index nor a label",
            ),
            ("nogroup.csv", "0,0\n0,0\n", "is not a group: "),
            ("bad.txt", "0\n", "use a .csv file"),
        ] {
            let e = group(&write(name, text)).unwrap_err().to_string();
            assert!(e.contains(needle) && !e.contains('\n'), "{name}: {e}");
        }
        let e = group("/nonexistent/t.csv").unwrap_err().to_string();
        assert!(e.contains("cannot read it"), "{e}");
    }
}
