//! What a run will cost before anything is allocated: memory and time,
//! estimated from the configuration alone, and the refusals that keep a
//! mistyped `ring:100000` from aborting the process or a `ring:5000` from
//! silently training for weeks.
//!
//! The estimates are deliberately simple (sizes times a few, FLOPs at a
//! rate measured on a 2-core machine) and err towards needing more: they
//! decide only what to refuse outright, never anything scientific.
//!
//! ```
//! use grokscope::config::RunConfig;
//! use grokscope::budget::Estimate;
//! let e = Estimate::of(&RunConfig::default(), 1, 2).unwrap();
//! assert!(e.bytes < 1 << 30 && e.run_seconds < 3600.0);
//! ```

use crate::config::{ConfigError, RunConfig};
use crate::groups::{GroupError, Operation, OperationError, OperationSpec};
pub use crate::text::human_bytes;

/// Bytes per table entry held while a run lives: the Cayley table, the
/// dataset's labels and split, and the index tensors of every pair.
const BYTES_PER_PAIR_BASE: u64 = 64;

/// Sustained training throughput assumed per libtorch thread, FLOP/s
/// (measured on `add` with 2 threads on a 2-core EPYC: about 95 GFLOP/s in
/// all; taken at half that per thread to err long).
const FLOPS_PER_THREAD: f64 = 2.5e10;

/// Fixed cost of one epoch (kernel launches, optimiser), seconds.
const EPOCH_OVERHEAD: f64 = 1.5e-3;

/// A run estimated to take longer than this is refused unless
/// `allow_long = true`.
pub const LONG_RUN_SECONDS: f64 = 24.0 * 3600.0;

/// Rows of pairs per forward/backward chunk of the autograd step
/// (`train::CHUNK_ROWS` is this value); activations are bounded by it.
pub const CHUNK_ROWS: u64 = 2048;

/// Memory this machine can give a run now (`MemAvailable`), in bytes.
pub fn available_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(8 << 30, |kb| kb * 1024)
}

/// Seconds as `45 s`, `12 min`, `3.4 h` or `5.1 days`.
pub fn human_seconds(s: f64) -> String {
    match s {
        s if s < 120.0 => format!("{s:.0} s"),
        s if s < 7200.0 => format!("{:.0} min", s / 60.0),
        s if s < 3.0 * 86400.0 => format!("{:.1} h", s / 3600.0),
        s => format!("{:.1} days", s / 86400.0),
    }
}

/// Refuses an operation whose Cayley table alone cannot be held in this
/// machine's memory, before it is built.
///
/// # Errors
/// [`GroupError::Parameter`] saying how much the table needs.
pub fn check_table(spec: &OperationSpec) -> Result<(), GroupError> {
    let name = spec.canonical();
    let too_big = |need: String| {
        GroupError::Parameter(format!(
            "{name} is too large for this machine: {need}, and {} is available; choose a smaller parameter",
            human_bytes(available_memory())
        ))
    };
    let Some(n) = spec.order() else {
        return Err(too_big("its order overflows".into()));
    };
    let need = (n as u64)
        .checked_mul(n as u64)
        .and_then(|p| p.checked_mul(BYTES_PER_PAIR_BASE));
    match need {
        Some(b) if b <= available_memory() => Ok(()),
        Some(b) => Err(too_big(format!(
            "its {n} elements make {} pairs, which need about {}",
            n as u64 * n as u64,
            human_bytes(b)
        ))),
        None => Err(too_big(format!("its {n} elements overflow any table"))),
    }
}

/// Builds the operation `name` once its Cayley table is known to fit in this
/// machine's memory ([`check_table`]): what the entries that build a group
/// without training one (`grokscope group`, importing a model) call in
/// place of [`Operation::parse`].
///
/// # Errors
/// An unknown name, a bad parameter, or a table too large for the memory.
pub fn build_operation(name: &str) -> Result<Operation, OperationError> {
    check_table_of(name)?;
    Operation::parse(name)
}

/// [`check_table`] for the operation named `name`, its refusal an error of
/// that operation.
fn check_table_of(name: &str) -> Result<(), OperationError> {
    check_table(&OperationSpec::parse(name)?).map_err(|e| OperationError::Parameter {
        name: name.to_string(),
        source: Box::new(e),
    })
}

/// Admits one run of `cfg` on this machine, before anything is allocated:
/// its values ([`RunConfig::check_values`]), its Cayley table against the
/// memory available ([`check_table`]), its estimated memory and time
/// ([`Estimate::check`]; more than a day needs `allow_long`), then builds
/// the operation and checks that the training fraction splits its table.
/// The one admission check of the entries that train (`train`, `sweep`, a
/// notebook's `Study`, `bench`).
///
/// # Errors
/// The first refusal, as one line naming what to change.
pub fn admit(cfg: &RunConfig) -> Result<Operation, ConfigError> {
    cfg.check_values()?;
    // Before the estimate and before anything is built.
    check_table_of(&cfg.op)?;
    let threads = if cfg.threads > 0 {
        cfg.threads
    } else {
        crate::limits::cores()
    };
    Estimate::of(cfg, 1, threads)?.check(
        cfg,
        &format!("a run of {}", cfg.op),
        available_memory(),
    )?;
    let op = Operation::parse(&cfg.op)?;
    crate::data::Dataset::for_config(&op, cfg)?;
    Ok(op)
}

/// The estimated cost of training one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Peak memory of the run (all `seeds` batched), bytes.
    pub bytes: u64,
    /// Wall time per epoch, seconds (evaluation included).
    pub seconds_per_epoch: f64,
    /// Wall time of the whole budget, seconds.
    pub run_seconds: f64,
}

impl Estimate {
    /// The cost of `cfg` trained as `seeds` batched seeds with `threads`
    /// libtorch threads.
    ///
    /// # Errors
    /// An operation name that does not parse.
    pub fn of(cfg: &RunConfig, seeds: usize, threads: usize) -> Result<Self, ConfigError> {
        let spec = OperationSpec::parse(&cfg.op)?;
        let n = spec.order().unwrap_or(usize::MAX) as f64;
        let s = seeds.max(1) as f64;
        let pairs = n * n;
        let train = (cfg.train_fraction * pairs).max(1.0);
        let (d, m, h) = (cfg.d_model as f64, cfg.d_mlp as f64, cfg.n_heads as f64);
        // Activations of one chunk of pairs: logits (with softmax and
        // gradient), MLP pre/post (with gradients), attention.
        let row_bytes = 4.0 * (4.0 * n + 4.0 * m + 8.0 * d + 8.0 * h);
        let chunk = (CHUNK_ROWS as f64).min(pairs);
        let bytes = pairs * BYTES_PER_PAIR_BASE as f64
            + s * (pairs * 24.0 + chunk * row_bytes)
            + s * 4.0 * 4.0 * (n * d * 3.0 + 4.0 * d * d + 2.0 * d * m + d * n);
        // FLOPs of the fused step's forward pass per pair: 3H rows of the
        // per-token tables (width D and M), the MLP's output layer and the
        // unembedding; a pass with gradients costs about three times this.
        let forward = 2.0 * (3.0 * h * (d + m) + d * m + d * n);
        let per_epoch = s * forward * (3.0 * train + pairs / cfg.eval_every.max(1) as f64);
        let seconds_per_epoch =
            per_epoch / (FLOPS_PER_THREAD * threads.max(1) as f64) + EPOCH_OVERHEAD;
        Ok(Self {
            bytes: bytes.min(u64::MAX as f64) as u64,
            seconds_per_epoch,
            run_seconds: seconds_per_epoch * cfg.epochs as f64,
        })
    }

    /// Bytes of one model's weights as stored in a checkpoint (float32),
    /// for an operation of order `n`.
    pub fn weight_bytes(cfg: &RunConfig, n: usize) -> u64 {
        let (n, d, m) = (n as u64, cfg.d_model as u64, cfg.d_mlp as u64);
        // W_E, W_pos, W_Q/K/V/O, W_in and b_in, W_out and b_out, W_U.
        4 * ((n + 1) * d + 3 * d + 4 * d * d + d * m + m + m * d + d + d * n)
    }

    /// Refuses what cannot fit in `available` bytes, or what would run
    /// longer than [`LONG_RUN_SECONDS`] without `allow_long`. `what` names
    /// the run in the message.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`], one line, with what to change.
    pub fn check(&self, cfg: &RunConfig, what: &str, available: u64) -> Result<(), ConfigError> {
        if self.bytes > available {
            return Err(ConfigError::Invalid(format!(
                "{what} needs about {} of memory and {} is available; use a smaller operation or fewer parallel jobs (--jobs)",
                human_bytes(self.bytes),
                human_bytes(available)
            )));
        }
        if self.run_seconds > LONG_RUN_SECONDS && !cfg.allow_long {
            return Err(ConfigError::Invalid(format!(
                "{what} would train for about {} ({} epochs at about {} per epoch); lower epochs, or set allow_long = true (--set allow_long=true) to go ahead",
                human_seconds(self.run_seconds),
                cfg.epochs,
                human_seconds(self.seconds_per_epoch)
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(op: &str) -> RunConfig {
        RunConfig {
            op: op.into(),
            ..RunConfig::default()
        }
    }

    #[test]
    fn a_huge_table_is_refused_before_it_is_built() {
        let e = check_table(&OperationSpec::parse("ring:100000").unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("too large") && e.contains("10000000000 pairs"),
            "{e}"
        );
        let e = check_table(&OperationSpec::parse("symmetric:30").unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("overflow"), "{e}");
        check_table(&OperationSpec::parse("add:113").unwrap()).unwrap();
    }

    #[test]
    fn estimates_grow_with_the_table_and_refusals_name_the_key() {
        let small = Estimate::of(&cfg("add"), 1, 2).unwrap();
        let big = Estimate::of(&cfg("ring:5000"), 1, 2).unwrap();
        assert!(big.bytes > 100 * small.bytes && big.run_seconds > 1000.0 * small.run_seconds);
        small.check(&cfg("add"), "add", 24 << 30).unwrap();
        let e = big
            .check(&cfg("ring:5000"), "ring:5000", u64::MAX)
            .unwrap_err()
            .to_string();
        assert!(e.contains("allow_long = true"), "{e}");
        let mut allowed = cfg("ring:5000");
        allowed.allow_long = true;
        big.check(&allowed, "ring:5000", u64::MAX).unwrap();
        let e = small
            .check(&cfg("add"), "add", 1000)
            .unwrap_err()
            .to_string();
        assert!(e.contains("of memory"), "{e}");
    }
}
