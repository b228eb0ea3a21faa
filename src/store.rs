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

pub use crate::text::{io_reason, short_hex};
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
    let io = |e: std::io::Error| StoreError::new(path, io_reason(&e));
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    // A failed write (a full disk) leaves neither the file nor its
    // temporary behind.
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
}

/// Writes `path` through `write` (given a temporary path to fill) and a
/// rename, and records its checksum (see [`SUMS`]): for files another
/// library writes, such as safetensors. A failed write leaves nothing.
///
/// # Errors
/// `write`'s error or an I/O failure, naming the path.
pub fn write_file_atomic(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), StoreError> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    let written = write(&tmp).and_then(|()| {
        let bytes = std::fs::read(&tmp).map_err(|e| io_reason(&e))?;
        std::fs::rename(&tmp, path).map_err(|e| io_reason(&e))?;
        Ok(bytes)
    });
    match written {
        Ok(bytes) => record_sum(path, &bytes),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(StoreError::new(path, e))
        }
    }
}

/// A library's error text on one line, with a Rust I/O error's debug form
/// (`IoError(Os { code: 2, kind: NotFound, message: "No such file or
/// directory" })`, as safetensors errors carry it) reduced to its message.
pub fn error_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    match (line.find("IoError(Os {"), line.find("message: \"")) {
        (Some(start), Some(m)) if m > start => {
            let rest = &line[m + "message: \"".len()..];
            let message = rest.split('"').next().unwrap_or(rest);
            format!("{}{message}", &line[..start])
        }
        _ => line.to_string(),
    }
}

/// The checksum file of a directory, in `sha256sum` format (so
/// `sha256sum -c SHA256SUMS` checks it by hand too): every table and
/// weight file grokscope writes is listed in its directory's file, and
/// checked against it when read.
pub const SUMS: &str = "SHA256SUMS";

/// The SHA-256 of `bytes` as 64 hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The checksums listed in `dir`'s [`SUMS`] file, by file name (empty
/// when there is none).
fn read_sums(dir: &Path) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
    let path = dir.join(SUMS);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(e) => return Err(StoreError::new(&path, io_reason(&e))),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split_once("  ")
                .filter(|(h, _)| h.len() == 64)
                .map(|(h, name)| (name.to_string(), h.to_string()))
                .ok_or_else(|| {
                    StoreError::new(
                        &path,
                        format!("{l:?} is not a `<sha256>  <file>` line; the checksum file is damaged: restore it or write the tables again"),
                    )
                })
        })
        .collect()
}

/// Records the checksum of `bytes`, just written to `path`, in its
/// directory's [`SUMS`] file (under a lock on the directory, so
/// concurrent writers in one directory do not lose each other's lines).
///
/// # Errors
/// I/O failures.
pub fn record_sum(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let (dir, name) = split(path);
    let lock = std::fs::File::open(dir).map_err(|e| StoreError::new(dir, io_reason(&e)))?;
    lock.lock()
        .map_err(|e| StoreError::new(dir, io_reason(&e)))?;
    let mut sums = read_sums(dir)?;
    sums.insert(name, sha256_hex(bytes));
    let text: String = sums.iter().map(|(f, h)| format!("{h}  {f}\n")).collect();
    write_atomic(&dir.join(SUMS), text.as_bytes())
}

/// Whether `path` is listed in its directory's [`SUMS`] file.
pub fn has_sum(path: &Path) -> bool {
    let (dir, name) = split(path);
    read_sums(dir).is_ok_and(|s| s.contains_key(&name))
}

fn split(path: &Path) -> (&Path, String) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (dir, name)
}

/// Reads `path` and checks it against its directory's [`SUMS`] file, when
/// that lists it: changed or damaged bytes are an error, never a table or
/// weights read from them.
///
/// # Errors
/// An unreadable file, or bytes that do not match their checksum.
pub fn read_checked(path: &Path) -> Result<Vec<u8>, StoreError> {
    let bytes = std::fs::read(path).map_err(|e| StoreError::new(path, io_reason(&e)))?;
    let (dir, name) = split(path);
    if let Some(want) = read_sums(dir)?.get(&name) {
        if *want != sha256_hex(&bytes) {
            return Err(StoreError::new(
                path,
                format!("its bytes do not match its checksum in {}: the file was changed or damaged; restore it (from git or a backup) or write it again", dir.join(SUMS).display()),
            ));
        }
    }
    Ok(bytes)
}

/// Writes a value as pretty JSON through a temporary file (see [`write_atomic`]).
///
/// # Errors
/// I/O failures, naming the path.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    let json = serde_json::to_string_pretty(value).expect("grokscope's records serialise");
    write_atomic(path, json.as_bytes())
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
    write_atomic(path, &buf)?;
    record_sum(path, &buf)
}

/// The format stamp of a Parquet file ([`crate::results`]).
///
/// # Errors
/// An unreadable file.
pub fn read_stamp(path: &Path) -> Result<crate::results::Stamp, StoreError> {
    stamp_of(path, &read_checked(path)?)
}

fn stamp_of(path: &Path, bytes: &[u8]) -> Result<crate::results::Stamp, StoreError> {
    use crate::results::{Stamp, FORMAT_KEY, TABLE_KEY};
    let err = |e: String| StoreError::new(path, e);
    let mut reader = ParquetReader::new(std::io::Cursor::new(bytes));
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
    let bytes = read_checked(path)?;
    if crate::results::layout_for_path(path).is_some() {
        let stamp = stamp_of(path, &bytes)?;
        crate::results::check_stamp(path, &stamp).map_err(|e| StoreError::new(path, e))?;
    }
    parse_parquet(path, bytes)
}

/// Reads any Parquet file without checking its format stamp (for
/// [`crate::results::migrate`]); its checksum is still checked.
///
/// # Errors
/// A missing or unreadable file.
pub fn read_parquet_unchecked(path: &Path) -> Result<DataFrame, StoreError> {
    parse_parquet(path, read_checked(path)?)
}

fn parse_parquet(path: &Path, bytes: Vec<u8>) -> Result<DataFrame, StoreError> {
    // polars panics on some malformed files; that is an error here too
    // (checksummed files never get this far damaged).
    std::panic::catch_unwind(|| ParquetReader::new(std::io::Cursor::new(bytes)).finish())
        .map_err(|_| StoreError::new(path, "not a readable Parquet file"))?
        .map_err(|e| StoreError::new(path, e))
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
