//! `grokscope bench`: training throughput measured in one invocation, as
//! ratios against baselines run on the same machine at the same time.
//!
//! - (a) a plain PyTorch eager implementation (scripts/bench_pytorch.py,
//!   the project venv) of the same model and step on the same split;
//! - (b) grokscope, one model;
//! - (c) grokscope, S = 3 and S = 8 batched seeds (per-seed throughput);
//! - (d) the sweep schedule on this machine: one 1-thread job per core;
//!
//! then a breakdown of one step and the projected wall time of the
//! reference suite (8 operations × 3 seeds × 3000 epochs) under the
//! sweep runner's policy, from measured per-operation rates.

use crate::config::RunConfig;
use crate::data::Dataset;
use crate::groups::Operation;
use crate::model::TransformerConfig;
use crate::train::sweep::batch_size;
use crate::train::{train, Quiet, TrainError};
use std::path::Path;
use std::time::Instant;
use tch::{nn, Tensor};

/// Epochs per second of one measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Model-epochs per second summed over all models trained.
    pub total: f64,
    /// Per model (seed).
    pub per_model: f64,
}

fn config(op: &str, seed: u64, epochs: usize) -> RunConfig {
    RunConfig {
        op: op.into(),
        seed,
        epochs,
        checkpoint_every: 0,
        ..RunConfig::default()
    }
}

/// Trains S seeds of `op` batched for `epochs` (eval every 10) with the
/// default (fused) step and times it.
///
/// # Errors
/// Training errors.
pub fn measure(op: &str, seeds: usize, threads: usize, epochs: usize) -> Result<Rate, TrainError> {
    measure_step(op, seeds, threads, epochs, crate::config::Step::Fused)
}

/// As [`measure`], with the given training step: the real training loop
/// (`train`), so what is timed is what runs.
///
/// # Errors
/// Training errors.
pub fn measure_step(
    op: &str,
    seeds: usize,
    threads: usize,
    epochs: usize,
    step: crate::config::Step,
) -> Result<Rate, TrainError> {
    let configs: Vec<RunConfig> = (0..seeds as u64)
        .map(|s| RunConfig {
            step,
            ..config(op, s, epochs)
        })
        .collect();
    let t = time_batch(&configs, threads)?;
    Ok(Rate {
        total: (epochs * seeds) as f64 / t,
        per_model: epochs as f64 / t,
    })
}

/// Seconds to train `configs` as one batch with `threads` threads, after
/// a short warm-up training of the first operation (allocator, MKL
/// initialisation) outside the timing.
fn time_batch(configs: &[RunConfig], threads: usize) -> Result<f64, TrainError> {
    train(&[config(&configs[0].op, 99, 2)], threads, &mut Quiet)?;
    let start = Instant::now();
    train(configs, threads, &mut Quiet)?;
    Ok(start.elapsed().as_secs_f64())
}

/// `jobs` trainings of `op` at once, each of `seeds` batched seeds with one
/// libtorch thread: the sweep runner's schedule.
///
/// # Errors
/// Training errors.
pub fn measure_parallel(
    op: &str,
    seeds: usize,
    jobs: usize,
    epochs: usize,
) -> Result<Rate, TrainError> {
    train(&[config(op, 99, 2)], 1, &mut Quiet)?;
    let start = Instant::now();
    let results: Vec<Result<(), TrainError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|j| {
                scope.spawn(move || {
                    let configs: Vec<RunConfig> = (0..seeds)
                        .map(|s| config(op, (j * seeds + s) as u64, epochs))
                        .collect();
                    train(&configs, 1, &mut Quiet).map(|_| ())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .collect()
    });
    for r in results {
        r?;
    }
    let t = start.elapsed().as_secs_f64();
    Ok(Rate {
        total: (epochs * jobs * seeds) as f64 / t,
        per_model: (epochs * jobs) as f64 / t / jobs as f64,
    })
}

/// Epochs that make one measurement of a table with `train_pairs` pairs
/// take a few seconds here (small tables are overhead-bound).
pub fn epochs_for(train_pairs: usize, scale: f64) -> usize {
    (((400_000 / train_pairs.max(1)).clamp(40, 1500)) as f64 * scale)
        .round()
        .max(10.0) as usize
}

/// Runs scripts/bench_pytorch.py on the training split of `add:n`, seed 0.
///
/// # Errors
/// A missing venv or a failing script.
pub fn measure_pytorch(
    root: &Path,
    n: usize,
    threads: usize,
    epochs: usize,
) -> Result<f64, TrainError> {
    let io = |reason: String| TrainError::Io {
        path: "scripts/bench_pytorch.py".into(),
        reason,
    };
    let op = Operation::parse(&format!("add:{n}")).map_err(crate::config::ConfigError::from)?;
    let ds = Dataset::new(&op, 0.7, 0).map_err(crate::config::ConfigError::from)?;
    let split = std::env::temp_dir().join(format!("grokscope-bench-{}.txt", std::process::id()));
    let text: String = ds.train.iter().map(|p| format!("{p}\n")).collect();
    std::fs::write(&split, text).map_err(|e| io(e.to_string()))?;
    let out = std::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("scripts/bench_pytorch.py"))
        .args([
            "--n",
            &n.to_string(),
            "--epochs",
            &epochs.to_string(),
            "--threads",
            &threads.to_string(),
            "--train",
        ])
        .arg(&split)
        .output()
        .map_err(|e| io(format!("{e}; run `make setup` to create the venv")))?;
    let _ = std::fs::remove_file(&split);
    if !out.status.success() {
        return Err(io(String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("failed")
            .to_string()));
    }
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| io(e.to_string()))?;
    v["epochs_per_s"]
        .as_f64()
        .ok_or_else(|| io("no epochs_per_s in its output".into()))
}

/// Milliseconds per part of one training epoch (all models of the batch).
#[derive(Debug, Clone, Copy)]
pub struct Breakdown {
    /// Building the per-step tables from the weights (part of every pass).
    pub tables: f64,
    /// A forward pass over the training chunks (with the loss), tables
    /// excluded.
    pub forward: f64,
    /// What a pass with gradients adds to it.
    pub backward: f64,
    /// The AdamW update.
    pub optimizer: f64,
    /// The full-table evaluation, divided by the evaluation cadence (10).
    pub eval_share: f64,
}

impl Breakdown {
    /// Milliseconds of one epoch in all.
    pub fn total(&self) -> f64 {
        self.tables + self.forward + self.backward + self.optimizer + self.eval_share
    }
}

/// Times the parts of one epoch of the fused step (the default training
/// step, through the functions the training loop calls) on `add:n` with
/// `threads` threads; see [`breakdown_of`].
///
/// # Errors
/// libtorch errors.
pub fn breakdown(n: usize, threads: usize, reps: usize) -> Result<Breakdown, TrainError> {
    breakdown_of(&[&format!("add:{n}")], threads, reps)
}

/// Times the parts of one epoch of the fused step on a batch of one model
/// per operation of `ops` (seeds 0, 1, ...; one order): the per-step
/// tables, a forward pass over the training chunks, the rest of a pass
/// with gradients, the AdamW update, and the evaluation of the test pairs
/// (every tenth epoch, so a tenth of it).
///
/// # Errors
/// Invalid operations, operations of different orders, libtorch errors.
pub fn breakdown_of(ops: &[&str], threads: usize, reps: usize) -> Result<Breakdown, TrainError> {
    use crate::train::fused::{pass, per_pair, AdamW, AdamWConfig, Chunk};
    use crate::train::FUSED_CHUNK_ROWS;
    crate::train::threads::use_here(threads);
    let configs: Vec<RunConfig> = ops
        .iter()
        .enumerate()
        .map(|(s, op)| config(op, s as u64, 1))
        .collect();
    let mut datasets = Vec::new();
    for c in &configs {
        let op = crate::budget::admit(c)?;
        datasets.push((
            Dataset::for_config(&op, c).map_err(crate::config::ConfigError::from)?,
            op.order(),
        ));
    }
    let n = datasets[0].1;
    if datasets.iter().any(|(_, m)| *m != n) {
        return Err(TrainError::Batch(
            "a breakdown batches operations of one order".into(),
        ));
    }
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let seeds: Vec<u64> = (0..ops.len() as u64).collect();
    let model = TransformerConfig::for_order(n).init(&vs.root(), &seeds)?;
    let chunks = |pick: &dyn Fn(&Dataset) -> &Vec<usize>| -> Result<Vec<Chunk>, tch::TchError> {
        let col = |f: &dyn Fn(&Dataset, usize) -> usize| {
            let v: Vec<i64> = datasets
                .iter()
                .flat_map(|(d, _)| pick(d).iter().map(move |&p| f(d, p) as i64))
                .collect();
            Tensor::from_slice(&v).view([ops.len() as i64, -1])
        };
        let (a, b, y) = (
            col(&|_, p| p / n),
            col(&|_, p| p % n),
            col(&|d, p| d.labels[p]),
        );
        Chunk::split(&a, &b, &y, n as i64, FUSED_CHUNK_ROWS)
    };
    let (train, test) = (chunks(&|d| &d.train)?, chunks(&|d| &d.test)?);
    let rows = datasets[0].0.train.len() as i64;
    let weights: Vec<&Tensor> = model.named_weights().into_iter().map(|(_, t)| t).collect();
    let sizes: Vec<usize> = weights.iter().map(|t| t.numel()).collect();
    let cfg = &configs[0];
    let kind = crate::train::loss::LossKind::of(cfg);
    let mut adam = AdamW::new(AdamWConfig::of(cfg), &sizes, ops.len());
    let (mut tab, mut fwd, mut full, mut step, mut eval) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for rep in 0..=reps {
        let timed = rep > 0; // the first repetition warms up
        let t = Instant::now();
        pass(&model, &[], rows, false, kind)?;
        let t0 = Instant::now();
        pass(&model, &train, rows, false, kind)?;
        let t1 = Instant::now();
        let (_, grads) = pass(&model, &train, rows, true, kind)?;
        let t2 = Instant::now();
        adam.update(&weights, &grads.expect("a pass with gradients"))?;
        let t3 = Instant::now();
        let _ = per_pair(&model, &test, kind)?;
        if timed {
            tab += (t0 - t).as_secs_f64();
            fwd += (t1 - t0).as_secs_f64();
            full += (t2 - t1).as_secs_f64();
            step += (t3 - t2).as_secs_f64();
            eval += t3.elapsed().as_secs_f64();
        }
    }
    let ms = |x: f64| 1000.0 * x / reps as f64;
    Ok(Breakdown {
        tables: ms(tab),
        forward: ms(fwd) - ms(tab),
        backward: ms(full - fwd),
        optimizer: ms(step),
        eval_share: ms(eval) / 10.0,
    })
}

/// Projected wall time (s) of `seeds` seeds × `epochs` epochs of each
/// operation under the sweep runner's policy: seeds batched by
/// [`batch_size`], `jobs` one-thread jobs at a time taken in order.
/// `rate(op, s)` is the measured per-model epochs/s of an S-seed batch.
pub fn project_sweep(
    ops: &[(&str, usize)],
    seeds: usize,
    epochs: usize,
    jobs: usize,
    rate: &dyn Fn(&str, usize) -> f64,
) -> f64 {
    let mut queue = Vec::new();
    for &(op, train_pairs) in ops {
        let per_batch = batch_size(train_pairs, false).min(seeds);
        let mut left = seeds;
        while left > 0 {
            let s = per_batch.min(left);
            queue.push(epochs as f64 / rate(op, s));
            left -= s;
        }
    }
    // The runner hands the next job to the first free worker.
    let mut free_at = vec![0.0f64; jobs.max(1)];
    for t in queue {
        let w = (0..free_at.len())
            .min_by(|&i, &j| free_at[i].total_cmp(&free_at[j]))
            .expect("a worker");
        free_at[w] += t;
    }
    free_at.into_iter().fold(0.0, f64::max)
}

/// Epochs per second of a whole `grokscope train --op add` process
/// (start-up and files included, `epochs` epochs, evaluation every 10,
/// training fraction 0.7, `threads` threads) with `ATEN_CPU_CAPABILITY`
/// set to `aten` in the child (ATen reads it once per process).
///
/// # Errors
/// A child that fails.
pub fn measure_process(
    exe: &Path,
    aten: &str,
    threads: usize,
    epochs: usize,
) -> Result<f64, TrainError> {
    let out = std::env::temp_dir().join(format!("grokscope-bench-runs-{}", std::process::id()));
    let start = Instant::now();
    let o = std::process::Command::new(exe)
        .args(["train", "--op", "add", "--set"])
        .arg(format!("epochs={epochs}"))
        .args([
            "--set",
            "eval_every=10",
            "--set",
            "train_fraction=0.7",
            "--set",
            "checkpoint_every=0",
            "--set",
        ])
        .arg(format!("threads={threads}"))
        .arg("--out")
        .arg(&out)
        .env(crate::kernels::ATEN_VAR, aten)
        .output()
        .map_err(|e| TrainError::Io {
            path: exe.display().to_string(),
            reason: e.to_string(),
        })?;
    let t = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&out);
    if !o.status.success() {
        return Err(TrainError::Io {
            path: exe.display().to_string(),
            reason: String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("failed")
                .to_string(),
        });
    }
    Ok(epochs as f64 / t)
}

/// Orders `grokscope bench --atlas` measures.
pub const ATLAS_ORDERS: [usize; 5] = [8, 24, 32, 48, 64];
/// Batch sizes `grokscope bench --atlas` measures beside one model alone.
pub const ATLAS_BATCHES: [usize; 3] = [3, 8, 16];

/// Model-epochs per second of one job (one libtorch thread) training one
/// model of each of `ops` (groups of one order, seeds 0, 1, ...) as one
/// batch, through the real training loop (evaluation every 10 epochs).
///
/// # Errors
/// Invalid operations or training errors.
pub fn measure_batch(ops: &[String], epochs: usize) -> Result<f64, TrainError> {
    let configs: Vec<RunConfig> = ops
        .iter()
        .enumerate()
        .map(|(s, op)| config(op, s as u64, epochs))
        .collect();
    Ok((epochs * ops.len()) as f64 / time_batch(&configs, 1)?)
}

/// `s` operations of order `n` for a measurement: its SmallGroups
/// library's groups, in turn (repeated when it has fewer).
pub fn atlas_ops(n: usize, s: usize) -> Result<Vec<String>, TrainError> {
    if !(2..=crate::groups::small::MAX_ORDER).contains(&n) {
        return Err(TrainError::Batch(format!(
            "order {n}: the SmallGroups library here holds orders 2 to {}",
            crate::groups::small::MAX_ORDER
        )));
    }
    let count = crate::groups::small::count(n);
    Ok((0..s)
        .map(|i| format!("smallgroup:{n},{}", 1 + i % count))
        .collect())
}

/// Seconds per model-epoch at `train_pairs`, interpolated linearly in the
/// pairs between measured `(pairs, seconds)` points (sorted by pairs) and
/// extended by the nearest segment beyond them.
pub fn interpolate(points: &[(usize, f64)], train_pairs: usize) -> f64 {
    let x = train_pairs as f64;
    match points {
        [] => f64::NAN,
        [(_, y)] => *y,
        _ => {
            let i = points
                .windows(2)
                .position(|w| x <= w[1].0 as f64)
                .unwrap_or(points.len() - 2);
            let ((x0, y0), (x1, y1)) = (points[i], points[i + 1]);
            let (x0, x1) = (x0 as f64, x1 as f64);
            (y0 + (y1 - y0) * (x - x0) / (x1 - x0)).max(0.0)
        }
    }
}

/// Core-hours to train every group of order 2 to 64 (the SmallGroups
/// library) for `seeds` seeds × `epochs` epochs without early stops (an
/// upper bound), at `seconds(train_pairs)` per model-epoch on one core,
/// with the atlas' training fraction 0.7.
pub fn atlas_core_hours(seeds: usize, epochs: usize, seconds: &dyn Fn(usize) -> f64) -> f64 {
    let mut total = 0.0;
    for n in 2..=crate::groups::small::MAX_ORDER {
        let groups = crate::groups::small::count(n);
        let pairs = crate::data::train_size(n, 0.7);
        total += (groups * seeds * epochs) as f64 * seconds(pairs);
    }
    total / 3600.0
}

/// Single-thread float32 GEMM rate (FLOP/s) of `[rows, k] × [k, cols]`
/// (libtorch's `mm`, the kernel the fused step's products use), best of
/// 30 after a warm-up.
pub fn gemm_rate(rows: i64, k: i64, cols: i64) -> f64 {
    crate::train::threads::use_here(1);
    let opts = (tch::Kind::Float, tch::Device::Cpu);
    let (a, b) = (
        Tensor::randn([rows, k], opts),
        Tensor::randn([k, cols], opts),
    );
    let _ = a.mm(&b);
    let mut best = f64::MAX;
    for _ in 0..30 {
        let t = Instant::now();
        let _ = a.mm(&b);
        best = best.min(t.elapsed().as_secs_f64());
    }
    2.0 * (rows * k * cols) as f64 / best
}

/// FLOPs of one training epoch of the fused step on one model: per
/// training pair, the three products with W_out (forward, the gradient of
/// the activations and of W_out), the three with W_U, and the attention
/// loops' weighted rows (3H rows of width D and M, once forward and about
/// twice backward). The per-step tables and the optimiser are left out:
/// they do not grow with the pairs.
pub fn step_flops(cfg: &RunConfig, n: usize) -> f64 {
    let (d, m, h) = (cfg.d_model as f64, cfg.d_mlp as f64, cfg.n_heads as f64);
    let pairs = crate::data::train_size(n, cfg.train_fraction) as f64;
    pairs * 2.0 * (3.0 * d * m + 3.0 * d * n as f64 + 3.0 * 3.0 * h * (d + m))
}
