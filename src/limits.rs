//! The limits on every resource a user can ask for, checked before
//! anything starts: a mistyped `threads=100000` or `checkpoint_every=1` on a
//! long run is refused with one line instead of forking the machine to a
//! halt or filling its disk.
//!
//! | resource | limit | past it |
//! |---|---|---|
//! | `threads` | the cores this process may use | none: more threads than cores only oversubscribe |
//! | `--jobs` | the cores this process may use | none |
//! | `d_model` | [`MAX_D_MODEL`] | none |
//! | `d_mlp` | [`MAX_D_MLP`] | none |
//! | `n_heads` | [`MAX_HEADS`] and at most `d_model` | none |
//! | `epochs` | [`MAX_EPOCHS`]; time beyond a day needs `allow_long` ([`crate::budget`]) | `allow_long = true` (time only) |
//! | `eval_every` | at most [`MAX_EVALUATIONS`] evaluations a run | a larger `eval_every` |
//! | `checkpoint_every` | at most [`MAX_CHECKPOINTS`] checkpoints a run, and their bytes within the free disk | a larger `checkpoint_every` |
//! | sweep size | [`MAX_SWEEP_RUNS`] runs and [`MAX_SWEEP_MODEL_EPOCHS`] model-epochs | `allow_long = true` in `[set]` (model-epochs only) |
//! | `--shards` | the sweep's batches, and [`MAX_SHARDS`] | none |
//! | `table:PATH` | [`crate::groups::table_file::MAX_FILE_BYTES`] and order [`crate::groups::table_file::MAX_ORDER`] | a constructor (`grokscope ops`) |
//!
//! ```
//! use grokscope::limits;
//! assert!(limits::check_threads(1).is_ok());
//! assert!(limits::check_threads(100_000).unwrap_err().contains("at most"));
//! ```

use std::path::Path;

/// Largest residual width.
pub const MAX_D_MODEL: usize = 4096;
/// Largest MLP width.
pub const MAX_D_MLP: usize = 16384;
/// Most attention heads.
pub const MAX_HEADS: usize = 64;
/// Longest budget in epochs (epochs are stored as 32-bit numbers; a run of
/// this length takes weeks at the fastest step).
pub const MAX_EPOCHS: usize = 10_000_000;
/// Most evaluations of one run (`epochs / eval_every`): each is a row per
/// metric in `metrics.parquet`.
pub const MAX_EVALUATIONS: usize = 200_000;
/// Most stored checkpoints of one run (`epochs / checkpoint_every`).
pub const MAX_CHECKPOINTS: usize = 2_000;
/// Most runs in one sweep.
pub const MAX_SWEEP_RUNS: usize = 100_000;
/// Most model-epochs (runs × epochs) in one sweep without `allow_long`:
/// the 585-group atlas is 3.5·10⁷.
pub const MAX_SWEEP_MODEL_EPOCHS: f64 = 1e9;
/// Most shards of a sweep (a Slurm array's size).
pub const MAX_SHARDS: usize = 10_000;

/// The cores this process may use (its CPU affinity and quota), at least 1.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Refuses more libtorch threads than cores.
///
/// # Errors
/// The limit and the value asked for, as one line.
pub fn check_threads(threads: usize) -> Result<(), String> {
    at_most_cores(threads, "threads =", "0 = all of them")
}

/// Refuses more parallel training jobs than cores.
///
/// # Errors
/// The limit and the value asked for, as one line.
pub fn check_jobs(jobs: usize) -> Result<(), String> {
    at_most_cores(jobs, "--jobs", "0 = one job per core")
}

fn at_most_cores(asked: usize, what: &str, zero: &str) -> Result<(), String> {
    let cores = cores();
    if asked > cores {
        return Err(format!(
            "{what} {asked}: at most {cores}, the cores this process may use ({zero})"
        ));
    }
    Ok(())
}

/// Bytes free for an unprivileged writer on the file system holding
/// `dir` (or its nearest existing ancestor); `None` when unknown.
pub fn free_disk(dir: &Path) -> Option<u64> {
    let mut p = dir;
    while !p.exists() {
        p = p.parent()?;
    }
    let p = if p.as_os_str().is_empty() {
        Path::new(".")
    } else {
        p
    };
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).ok()?;
    let mut s = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid C string and `s` a buffer statvfs fills.
    let s = unsafe {
        if libc::statvfs(c.as_ptr(), s.as_mut_ptr()) != 0 {
            return None;
        }
        s.assume_init()
    };
    Some(s.f_bavail as u64 * s.f_frsize as u64)
}

/// Refuses `need` bytes of output under `dir` when the disk has less free.
///
/// # Errors
/// What needs the space, how much, and how much is free.
pub fn check_disk(dir: &Path, need: u64, what: &str) -> Result<(), String> {
    match free_disk(dir) {
        Some(free) if need > free => Err(format!(
            "{what} need about {}, and {} has {} free",
            crate::text::human_bytes(need),
            dir.display(),
            crate::text::human_bytes(free)
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_and_jobs_stop_at_the_cores() {
        let c = cores();
        assert!(check_threads(c).is_ok() && check_jobs(c).is_ok());
        let e = check_threads(c + 1).unwrap_err();
        assert!(e.contains(&format!("at most {c}")), "{e}");
        assert!(check_jobs(c + 1).unwrap_err().contains("--jobs"));
    }

    #[test]
    fn disk_is_checked_against_what_is_free() {
        let dir = std::env::temp_dir().join("grokscope-limits-not-yet-made/deeper");
        let free = free_disk(&dir).expect("the temp dir's file system answers statvfs");
        assert!(free > 0);
        assert!(check_disk(&dir, 1, "a test").is_ok());
        let e = check_disk(&dir, u64::MAX, "checkpoints").unwrap_err();
        assert!(e.starts_with("checkpoints need about"), "{e}");
    }
}
