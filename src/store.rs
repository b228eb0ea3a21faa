//! Writing results safely and reading tables: every file is written to a
//! temporary name and renamed, so an interrupted write never leaves a file
//! that looks complete; tables are Parquet (zstd, deterministic) or CSV.
//!
//! ```
//! let dir = std::env::temp_dir().join("grokscope-store-doc");
//! std::fs::create_dir_all(&dir).unwrap();
//! grokscope::store::write_atomic(&dir.join("x.txt"), b"done").unwrap();
//! assert_eq!(std::fs::read(dir.join("x.txt")).unwrap(), b"done");
//! ```

use polars::prelude::*;
use std::path::Path;

/// A file that could not be written or read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct StoreError {
    /// The file or directory.
    pub path: String,
    /// What went wrong.
    pub reason: String,
}

impl StoreError {
    /// An error about `path`.
    pub fn new(path: &Path, reason: impl ToString) -> Self {
        Self {
            path: path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
///
/// # Errors
/// I/O failures, naming the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let io = |e: std::io::Error| StoreError::new(path, e);
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Writes a value as pretty JSON through a temporary file (see [`write_atomic`]).
///
/// # Errors
/// I/O failures, naming the path.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    let json = serde_json::to_string_pretty(value).expect("grokscope's records serialise");
    write_atomic(path, json.as_bytes())
}

/// The first 8 bytes of a digest as 16 hex digits: the short hashes in run
/// ids, config and dataset hashes.
pub fn short_hex(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Writes a DataFrame as Parquet (zstd at its default level: deterministic, so the bytes
/// depend only on the values and the polars version) through a temporary file.
///
/// # Errors
/// Polars or I/O errors, naming the path.
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<(), StoreError> {
    // A stored table is stamped with its name and format version, and may
    // hold only the columns its layout lists (crate::results).
    let stamp = match crate::results::layout_for_path(path) {
        Some(l) => {
            l.check_known(df.get_column_names().into_iter().map(|c| c.as_str()))
                .map_err(|e| StoreError::new(path, e))?;
            Some(KeyValueMetadata::from_static(vec![
                (crate::results::TABLE_KEY.into(), l.table.into()),
                (crate::results::FORMAT_KEY.into(), l.version.to_string()),
            ]))
        }
        None => None,
    };
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .with_compression(ParquetCompression::Zstd(None))
        .with_key_value_metadata(stamp)
        .finish(df)
        .map_err(|e| StoreError::new(path, e))?;
    write_atomic(path, &buf)
}

/// The format stamp of a Parquet file ([`crate::results`]).
///
/// # Errors
/// An unreadable file.
pub fn read_stamp(path: &Path) -> Result<crate::results::Stamp, StoreError> {
    use crate::results::{Stamp, FORMAT_KEY, TABLE_KEY};
    let err = |e: String| StoreError::new(path, e);
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let mut reader = ParquetReader::new(file);
    let meta = reader.get_metadata().map_err(|e| err(e.to_string()))?;
    let kv = meta.key_value_metadata().clone().unwrap_or_default();
    let get = |k: &str| kv.iter().find(|x| x.key == k).and_then(|x| x.value.clone());
    Ok(match (get(TABLE_KEY), get(FORMAT_KEY)) {
        (Some(t), Some(v)) => Stamp::Found(
            t,
            v.parse()
                .map_err(|_| err(format!("format version {v} is not a number")))?,
        ),
        _ => Stamp::Missing,
    })
}

/// Stacks frames with the same columns into one (empty for none).
///
/// # Errors
/// Frames whose columns differ.
pub fn vstack_all(frames: &[DataFrame]) -> Result<DataFrame, StoreError> {
    let mut out = frames.first().cloned().unwrap_or_default();
    for f in frames.iter().skip(1) {
        out.vstack_mut(f)
            .map_err(|e| StoreError::new(Path::new("tables"), e))?;
    }
    out.rechunk_mut();
    Ok(out)
}

/// Reads any Parquet file.
///
/// # Errors
/// A missing or unreadable file, naming it.
pub fn read_parquet(path: &Path) -> Result<DataFrame, StoreError> {
    if crate::results::layout_for_path(path).is_some() {
        let stamp = read_stamp(path)?;
        crate::results::check_stamp(path, &stamp).map_err(|e| StoreError::new(path, e))?;
    }
    read_parquet_unchecked(path)
}

/// Reads any Parquet file without checking its format stamp (for
/// [`crate::results::migrate`]).
///
/// # Errors
/// A missing or unreadable file.
pub fn read_parquet_unchecked(path: &Path) -> Result<DataFrame, StoreError> {
    let err = |e: String| StoreError::new(path, e);
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| err(e.to_string()))
}

/// Writes a DataFrame as CSV through a temporary file.
///
/// # Errors
/// Polars or I/O errors, naming the path.
pub fn write_csv(df: &mut DataFrame, path: &Path) -> Result<(), StoreError> {
    let mut buf = Vec::new();
    CsvWriter::new(&mut buf)
        .finish(df)
        .map_err(|e| StoreError::new(path, e))?;
    write_atomic(path, &buf)
}
