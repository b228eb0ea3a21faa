//! Sweeps: `experiments/<name>.toml` expands operations × grid × seeds into
//! runs, trains the missing ones (all seeds of one configuration as one
//! batched model, `jobs` configurations at a time), and aggregates every
//! run's manifest into `experiments/<name>/results.parquet` and `.csv`.
//!
//! ```toml
//! ops = ["add", "s4"]
//! seeds = [0, 1, 2]
//! [set]            # applied to every run
//! epochs = 3000
//! [grid]           # every combination of these values
//! weight_decay = [0.1, 1.0]
//! ```
//!
//! A sweep is resumable: a run whose manifest says complete is skipped, and
//! a killed run leaves only a `.partial` directory that is started again.

use super::run::{finish_complete_partials, is_complete, read_config, read_manifest, train_runs};
use super::{resolve_threads, Observer, Progress, TrainError};
use crate::config::{ConfigError, RunConfig};
use crate::store::{vstack_all, write_csv, write_parquet};
use polars::prelude::*;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Per-model speed of S models trained as one batch against one model
/// alone, as `grokscope bench --atlas` measured it (Intel Xeon with
/// AVX-512, one libtorch thread, the default model): `(training pairs, S,
/// ratio)`. The fused step's cost grows with the pairs of every model, and
/// what a batch shares (building the per-step tables, libtorch's calls) is
/// a small part of an epoch, so batches are barely faster.
pub const MEASURED_BATCH_GAIN: &[(usize, usize, f64)] = &[
    (45, 3, 1.34),
    (45, 8, 1.59),
    (45, 16, 1.61),
    (403, 3, 1.21),
    (403, 8, 1.20),
    (403, 16, 1.20),
    (717, 3, 1.10),
    (717, 8, 1.09),
    (717, 16, 1.01),
    (1613, 3, 1.04),
    (1613, 8, 0.95),
    (1613, 16, 0.85),
    (2867, 3, 1.00),
    (2867, 8, 0.94),
    (2867, 16, 0.84),
];

/// A batch is formed when its models run at least this much faster each
/// than alone.
pub const MIN_BATCH_GAIN: f64 = 1.1;

/// With early stops on, a model whose run has stopped keeps computing
/// until its whole batch stops; a batch is formed only when it is this
/// much faster (a batch of 3 where one model runs to the end and two stop
/// at a third of it breaks even at 1.8).
pub const MIN_BATCH_GAIN_STOPPING: f64 = 1.8;

/// How many runs of one order and configuration to train as one batched
/// model: the measured batch size with the best gain at the measured table
/// size nearest `train_pairs` (on a log scale), if that gain reaches
/// [`MIN_BATCH_GAIN`] (or [`MIN_BATCH_GAIN_STOPPING`] when runs stop
/// early); else 1.
pub fn batch_size(train_pairs: usize, stops_early: bool) -> usize {
    let need = if stops_early {
        MIN_BATCH_GAIN_STOPPING
    } else {
        MIN_BATCH_GAIN
    };
    let distance = |p: usize| ((p.max(1) as f64).ln() - (train_pairs.max(1) as f64).ln()).abs();
    let Some(nearest) = MEASURED_BATCH_GAIN
        .iter()
        .map(|m| m.0)
        .min_by(|&a, &b| distance(a).total_cmp(&distance(b)))
    else {
        return 1;
    };
    MEASURED_BATCH_GAIN
        .iter()
        .filter(|m| m.0 == nearest && m.2 >= need)
        .max_by(|a, b| a.2.total_cmp(&b.2).then(b.1.cmp(&a.1)))
        .map_or(1, |m| m.1)
}

/// The TOML description of a sweep.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Operations to train.
    pub ops: Vec<String>,
    /// Seeds per configuration.
    pub seeds: Vec<u64>,
    /// Settings applied to every run.
    #[serde(default)]
    pub set: toml::Table,
    /// Keys with lists of values; every combination is run.
    #[serde(default)]
    pub grid: toml::Table,
    /// Arms of the experiment (`[[variants]]` tables of settings): every
    /// grid point is run under each, for comparisons that are not a grid
    /// (a baseline, one intervention, a baseline at a matched learning
    /// rate). A variant may hold `ops = [...]`: it then applies to those
    /// operations only (a learning rate matched per operation). None: one
    /// arm, the `set` settings alone.
    #[serde(default)]
    pub variants: Vec<toml::Table>,
    /// Keep every k-th epoch's metrics in the aggregated curves (and each
    /// run's last), so a large sweep's committed curves stay small; the
    /// run directories keep every evaluation. None: every evaluation.
    #[serde(default)]
    pub curves_every: Option<usize>,
}

/// `smallgroup:n,*` in a sweep's `ops`: every group of order n in GAP's
/// library, as `smallgroup:n,1` ... `smallgroup:n,N`.
fn expand_ops(ops: &[String], origin: &str) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::new();
    for op in ops {
        let every = op
            .strip_prefix("smallgroup:")
            .and_then(|r| r.strip_suffix(",*"));
        match every {
            None => out.push(op.clone()),
            Some(n) => {
                let n: usize = n
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (2..=crate::groups::small::MAX_ORDER).contains(n))
                    .ok_or_else(|| {
                        ConfigError::Invalid(format!(
                            "{origin}: {op}: n must be an order from 2 to {}",
                            crate::groups::small::MAX_ORDER
                        ))
                    })?;
                let count = crate::groups::small::count(n);
                out.extend((1..=count).map(|i| format!("smallgroup:{n},{i}")));
            }
        }
    }
    Ok(out)
}

impl SweepSpec {
    /// Reads and checks a sweep file.
    ///
    /// # Errors
    /// Unreadable or invalid TOML, unknown keys, or an empty list.
    pub fn from_file(path: &Path) -> Result<Self, TrainError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Reads a sweep from TOML text; `origin` names it in errors.
    ///
    /// # Errors
    /// Invalid TOML, unknown keys, or an empty list.
    pub fn parse(text: &str, origin: &str) -> Result<Self, TrainError> {
        let mut spec: SweepSpec = toml::from_str(text).map_err(|e| ConfigError::Parse {
            origin: origin.to_string(),
            reason: e.message().replace('\n', " "),
        })?;
        spec.ops = expand_ops(&spec.ops, origin)?;
        if spec.curves_every == Some(0) {
            return Err(ConfigError::Invalid(format!(
                "{origin}: curves_every must be at least 1 (or left out: every evaluation)"
            ))
            .into());
        }
        if spec.ops.is_empty() || spec.seeds.is_empty() {
            return Err(ConfigError::Invalid(format!(
                "{origin}: `ops` and `seeds` must be non-empty"
            ))
            .into());
        }
        Ok(spec)
    }

    /// Every configuration, grouped: one group per (operation, variant,
    /// grid point), each holding one config per seed. Order: ops, then
    /// variants as listed, then grid (keys sorted, values as listed), then
    /// seeds. A variant's settings override `set`; the grid's override both.
    ///
    /// # Errors
    /// A setting that is not a config key or a value of the wrong type; an
    /// invalid configuration.
    pub fn expand(&self) -> Result<Vec<Vec<RunConfig>>, TrainError> {
        let invalid = |m: String| TrainError::from(ConfigError::Invalid(m));
        for (table, name) in [(&self.set, "[set]"), (&self.grid, "[grid]")] {
            for key in ["op", "seed"] {
                if table.contains_key(key) {
                    return Err(invalid(format!(
                        "{name} {key}: a sweep's {key}s come from its `{key}s` list; remove it there"
                    )));
                }
            }
        }
        let mut points = 1usize;
        for (key, values) in &self.grid {
            let n = values.as_array().map_or(1, Vec::len);
            if n == 0 {
                return Err(invalid(format!(
                    "grid.{key} is empty: give it at least one value, e.g. {key} = [0.1, 1.0]"
                )));
            }
            points = points.saturating_mul(n);
        }
        let runs = points
            .saturating_mul(self.ops.len())
            .saturating_mul(self.variants.len().max(1))
            .saturating_mul(self.seeds.len());
        if runs > crate::limits::MAX_SWEEP_RUNS {
            return Err(invalid(format!(
                "the sweep expands to {runs} runs: at most {}; split it into several sweep files",
                crate::limits::MAX_SWEEP_RUNS
            )));
        }
        let mut grid: Vec<Vec<(String, toml::Value)>> = vec![vec![]];
        for (key, values) in &self.grid {
            let values = values.as_array().ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "grid.{key} must be a list of values, e.g. {key} = [0.1, 1.0]"
                ))
            })?;
            grid = grid
                .iter()
                .flat_map(|p| {
                    values
                        .iter()
                        .map(move |v| [p.clone(), vec![(key.clone(), v.clone())]].concat())
                })
                .collect();
        }
        let arms = if self.variants.is_empty() {
            vec![toml::Table::new()]
        } else {
            self.variants.clone()
        };
        // Each arm's settings and the operations it is restricted to.
        let mut restricted = Vec::new();
        for arm in &arms {
            let mut settings = arm.clone();
            let only = match settings.remove("ops") {
                None => None,
                Some(v) => Some(
                    v.as_array()
                        .and_then(|a| {
                            a.iter()
                                .map(|o| o.as_str().map(String::from))
                                .collect::<Option<Vec<_>>>()
                        })
                        .filter(|o| o.iter().all(|op| self.ops.contains(op)))
                        .ok_or_else(|| {
                            ConfigError::Invalid(format!(
                                "a variant's ops must be a list of the sweep's ops {:?}, got {v}",
                                self.ops
                            ))
                        })?,
                ),
            };
            restricted.push((settings, only));
        }
        let mut groups = Vec::new();
        // Which entry of the file made each run id, to name a duplicate.
        let mut seen = std::collections::HashMap::new();
        let mut model_epochs = 0.0;
        for op in &self.ops {
            let points = restricted
                .iter()
                .filter(|(_, only)| only.as_ref().is_none_or(|o| o.contains(op)))
                .flat_map(|(arm, _)| {
                    grid.iter().map(move |g| {
                        [arm.clone().into_iter().collect::<Vec<_>>(), g.clone()].concat()
                    })
                });
            for point in points {
                let mut group = Vec::new();
                for &seed in &self.seeds {
                    let mut table =
                        toml::Table::try_from(RunConfig::default()).expect("serialises");
                    table.extend(self.set.clone());
                    table.extend(point.iter().cloned());
                    table.insert("op".into(), toml::Value::String(op.clone()));
                    table.insert("seed".into(), toml::Value::Integer(seed as i64));
                    let cfg: RunConfig =
                        table
                            .try_into()
                            .map_err(|e: toml::de::Error| ConfigError::Parse {
                                origin: "sweep".into(),
                                reason: e.message().replace('\n', " "),
                            })?;
                    cfg.validate()?;
                    let what = format!("{op} seed {seed}{}", describe(&point));
                    if let Some(first) = seen.insert(cfg.run_id(), what.clone()) {
                        return Err(invalid(format!(
                            "\"{first}\" and \"{what}\" are the same run ({}); list each operation, seed and variant once",
                            cfg.run_id()
                        )));
                    }
                    model_epochs += cfg.epochs as f64;
                    if model_epochs > crate::limits::MAX_SWEEP_MODEL_EPOCHS && !cfg.allow_long {
                        return Err(invalid(format!(
                            "the sweep asks for more than {:.0e} model-epochs (runs × epochs); set allow_long = true in [set] to go ahead, or split it",
                            crate::limits::MAX_SWEEP_MODEL_EPOCHS
                        )));
                    }
                    group.push(cfg);
                }
                groups.push(group);
            }
        }
        Ok(groups)
    }
}

/// A grid point or variant's settings as ` (key=value, ...)`, or nothing.
fn describe(point: &[(String, toml::Value)]) -> String {
    if point.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = point.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(" ({})", parts.join(", "))
}

/// What a sweep did.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepOutcome {
    /// Runs trained now.
    pub trained: usize,
    /// Runs skipped because they were already complete.
    pub skipped: usize,
    /// The aggregated results file (`None` for a shard, which does not aggregate).
    pub results: Option<PathBuf>,
    /// Run ids of the sweep that were not complete at aggregation.
    pub missing: Vec<String>,
}

/// Reports sweep progress as plain lines (jobs run in parallel threads).
pub trait SweepObserver: Sync {
    /// A message line.
    fn line(&self, message: &str);
    /// Before training: each job's budget in epochs (a job trains a batch
    /// of seeds together). Default: nothing.
    fn plan(&self, _budgets: &[usize]) {}
    /// At every progress report of job `job` (an index into the plan):
    /// epochs trained so far. Default: nothing.
    fn epoch(&self, _job: usize, _epoch: usize) {}
    /// Job `job` finished (at its budget or stopped once grokked).
    fn finished(&self, _job: usize) {}
}

/// A sweep observer that reports nothing (notebooks, tests).
pub struct Silent;

impl SweepObserver for Silent {
    fn line(&self, _message: &str) {}
}

struct JobObserver<'a> {
    job: usize,
    label: String,
    sweep: &'a dyn SweepObserver,
    every: usize,
}

impl Observer for JobObserver<'_> {
    fn progress(&mut self, p: &Progress) -> bool {
        self.sweep.epoch(self.job, p.epoch);
        if p.epoch.is_multiple_of(self.every) || p.epoch == p.epochs {
            let accs: Vec<String> = p
                .train_accuracy
                .iter()
                .zip(&p.test_accuracy)
                .map(|(a, b)| format!("{a:.2}/{b:.2}"))
                .collect();
            self.sweep.line(&format!(
                "{} epoch {}/{} train/test acc {}",
                self.label,
                p.epoch,
                p.epochs,
                accs.join(" ")
            ));
        }
        true
    }
}

/// One training job of a sweep: runs of one order and configuration
/// (differing in operation and seed) trained as one batched model, and its
/// expected cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Configs differing only in operation (of one order) and seed.
    pub configs: Vec<RunConfig>,
    /// Expected cost (training FLOPs over the budget, all models): what
    /// shards balance.
    pub cost: f64,
}

/// Every batch of a sweep, from the sweep file alone: runs of the same
/// order and configuration (across operations and seeds, in expansion
/// order) in batches of [`batch_size`]. Which runs are complete does not
/// change it, so shards are the same however often a sweep is resumed;
/// a run's results do not depend on its batch (tests/batch_invariance.rs).
///
/// # Errors
/// An invalid spec.
pub fn plan(spec: &SweepSpec) -> Result<Vec<Batch>, TrainError> {
    plan_with(spec, true)
}

/// [`plan`], or with `batching` off one run per batch.
///
/// # Errors
/// An invalid spec.
pub fn plan_with(spec: &SweepSpec, batching: bool) -> Result<Vec<Batch>, TrainError> {
    // (order, the config without op and seed) -> its runs, in order of
    // first appearance.
    let mut groups: Vec<(usize, RunConfig, Vec<RunConfig>)> = Vec::new();
    for group in spec.expand()? {
        for cfg in group {
            let n = crate::groups::OperationSpec::parse(&cfg.op)
                .map_err(ConfigError::from)?
                .order()
                .unwrap_or(0);
            let mut key = cfg.clone();
            key.op.clear();
            key.seed = 0;
            match groups.iter_mut().find(|g| g.0 == n && g.1 == key) {
                Some(g) => g.2.push(cfg),
                None => groups.push((n, key, vec![cfg])),
            }
        }
    }
    let mut batches = Vec::new();
    for (n, key, runs) in groups {
        let size = if batching {
            batch_size(
                crate::data::train_size(n, key.train_fraction),
                key.stop_after_grok,
            )
        } else {
            1
        };
        for chunk in runs.chunks(size) {
            let cost = crate::budget::Estimate::of(&chunk[0], chunk.len(), 1)?.run_seconds;
            batches.push(Batch {
                configs: chunk.to_vec(),
                cost,
            });
        }
    }
    Ok(batches)
}

/// A batch as progress lines name it: each operation with its seeds, e.g.
/// `s4 seeds 0,1,2` or `smallgroup:8,3 seed 0; smallgroup:8,5 seed 0`.
pub fn batch_label(batch: &[RunConfig]) -> String {
    let mut parts: Vec<(String, Vec<String>)> = Vec::new();
    for c in batch {
        match parts.last_mut() {
            Some((op, seeds)) if *op == c.op => seeds.push(c.seed.to_string()),
            _ => parts.push((c.op.clone(), vec![c.seed.to_string()])),
        }
    }
    parts
        .into_iter()
        .map(|(op, seeds)| {
            let word = if seeds.len() == 1 { "seed" } else { "seeds" };
            format!("{op} {word} {}", seeds.join(","))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Shard `i` of `count`: `--shard i/count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("--shard {s}: expected i/N with 0 <= i < N, e.g. --shard 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

/// The shard of every batch: longest expected cost first, each to the
/// shard with the least cost so far (ties to the lowest shard). A function
/// of the plan alone.
pub fn assign_shards(batches: &[Batch], count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..batches.len()).collect();
    order.sort_by(|&a, &b| batches[b].cost.total_cmp(&batches[a].cost).then(a.cmp(&b)));
    let mut load = vec![0.0f64; count.max(1)];
    let mut shard = vec![0; batches.len()];
    for i in order {
        let (best, _) = load
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
            .expect("at least one shard");
        shard[i] = best;
        load[best] += batches[i].cost;
    }
    shard
}

/// How to run a sweep.
#[derive(Debug, Clone, Copy, Default)]
pub struct SweepOptions {
    /// Training jobs at a time (0 = one per core).
    pub jobs: usize,
    /// Run only this shard's batches, and do not aggregate.
    pub shard: Option<Shard>,
    /// Train one run per job instead of the plan's batches (the results
    /// are the same; for comparisons and debugging).
    pub no_batching: bool,
}

/// Runs a sweep: trains missing runs into `runs_dir`, `jobs` batched
/// configurations at a time (0 = one per core, each with cores/jobs
/// libtorch threads), then aggregates into `results_dir`.
///
/// # Errors
/// A bad spec, or the first training error.
pub fn run_sweep(
    spec: &SweepSpec,
    runs_dir: &Path,
    results_dir: &Path,
    jobs: usize,
    command_line: &[String],
    observer: &dyn SweepObserver,
) -> Result<SweepOutcome, TrainError> {
    let opts = SweepOptions {
        jobs,
        ..SweepOptions::default()
    };
    run_sweep_with(spec, runs_dir, results_dir, opts, command_line, observer)
}

/// [`run_sweep`] with every option: a shard trains only its batches (a
/// Slurm array task) and leaves aggregation to [`aggregate_sweep`].
///
/// # Errors
/// A bad spec, or the first training error.
pub fn run_sweep_with(
    spec: &SweepSpec,
    runs_dir: &Path,
    results_dir: &Path,
    opts: SweepOptions,
    command_line: &[String],
    observer: &dyn SweepObserver,
) -> Result<SweepOutcome, TrainError> {
    crate::limits::check_jobs(opts.jobs).map_err(ConfigError::Invalid)?;
    let all = plan_with(spec, !opts.no_batching)?;
    let jobs = if opts.jobs == 0 {
        crate::limits::cores()
    } else {
        opts.jobs
    };
    let mine: Vec<&Batch> = match opts.shard {
        None => all.iter().collect(),
        Some(sh) => {
            let shards = assign_shards(&all, sh.count);
            all.iter()
                .zip(shards)
                .filter(|(_, s)| *s == sh.index)
                .map(|(b, _)| b)
                .collect()
        }
    };
    let total: usize = mine.iter().map(|b| b.configs.len()).sum();
    // Batches with an incomplete run: each is one batched training job, which
    // extends the same batch's complete runs of a shorter budget if there are.
    let shorter = ShorterRuns::scan(runs_dir);
    let mut batches: Vec<(Vec<RunConfig>, Option<Vec<PathBuf>>)> = Vec::new();
    for b in &mine {
        if finish_complete_partials(&b.configs, runs_dir)? {
            continue;
        }
        let from = shorter.extendable(&b.configs);
        batches.push((b.configs.clone(), from));
    }
    let trained: usize = batches.iter().map(|b| b.0.len()).sum();
    let extended: usize = batches
        .iter()
        .filter(|b| b.1.is_some())
        .map(|b| b.0.len())
        .sum();
    let estimate: f64 = batches
        .iter()
        .map(|(b, _)| {
            crate::budget::Estimate::of(&b[0], b.len(), resolve_threads(b[0].threads, jobs))
                .map_or(0.0, |e| e.run_seconds)
        })
        .sum::<f64>()
        / jobs.min(batches.len()).max(1) as f64;
    let scope_name = match opts.shard {
        Some(sh) => format!("shard {}/{}", sh.index, sh.count),
        None => "sweep".into(),
    };
    observer.line(&format!(
        "{scope_name}: {total} runs, {} complete, {trained} to train ({extended} by extending a shorter budget) in {} batched jobs, {jobs} at a time; {}",
        total - trained,
        batches.len(),
        if batches.is_empty() {
            "nothing to train".to_string()
        } else {
            format!("estimated at most {}", crate::budget::human_seconds(estimate))
        }
    ));
    observer.plan(&batches.iter().map(|b| b.0[0].epochs).collect::<Vec<_>>());
    let queue = Mutex::new(
        batches
            .into_iter()
            .enumerate()
            .collect::<std::collections::VecDeque<_>>(),
    );
    let failure: Mutex<Option<TrainError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                if failure.lock().expect("lock").is_some() {
                    return;
                }
                let Some((i, (batch, from))) = queue.lock().expect("lock").pop_front() else {
                    return;
                };
                let threads = resolve_threads(batch[0].threads, jobs);
                let label = format!("[job {i}] {}", batch_label(&batch));
                let every = (batch[0].epochs / 10).max(1);
                let mut obs = JobObserver {
                    job: i,
                    label: label.clone(),
                    sweep: observer,
                    every,
                };
                let result = match &from {
                    Some(dirs) => super::run::extend_runs(
                        dirs,
                        &extension_sets(&batch[0]),
                        runs_dir,
                        threads,
                        command_line,
                        &mut obs,
                    ),
                    None => train_runs(&batch, runs_dir, threads, command_line, &mut obs),
                };
                match result {
                    Ok(dirs) => {
                        observer.finished(i);
                        for d in dirs {
                            observer.line(&format!("{label}: complete {}", d.display()));
                        }
                    }
                    Err(e) => {
                        failure.lock().expect("lock").get_or_insert(e);
                        return;
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().expect("lock") {
        return Err(e);
    }
    if opts.shard.is_some() {
        return Ok(SweepOutcome {
            trained,
            skipped: total - trained,
            results: None,
            missing: Vec::new(),
        });
    }
    let (results, missing) = aggregate_sweep(spec, runs_dir, results_dir)?;
    Ok(SweepOutcome {
        trained,
        skipped: total - trained,
        results: Some(results),
        missing,
    })
}

/// Aggregates every complete run of the sweep into `results_dir` (see
/// [`aggregate`]) and returns the results file and the run ids still
/// missing. What a Slurm campaign's final job runs.
///
/// # Errors
/// A bad spec, no complete run at all, or I/O errors.
pub fn aggregate_sweep(
    spec: &SweepSpec,
    runs_dir: &Path,
    results_dir: &Path,
) -> Result<(PathBuf, Vec<String>), TrainError> {
    let ids: Vec<String> = plan(spec)?
        .iter()
        .flat_map(|b| b.configs.iter().map(|c| c.run_id()))
        .collect();
    let (done, missing): (Vec<String>, Vec<String>) = ids
        .into_iter()
        .partition(|id| is_complete(&runs_dir.join(id)));
    if done.is_empty() {
        return Err(TrainError::Io {
            path: runs_dir.display().to_string(),
            reason: "no run of this sweep is complete yet; train it first".into(),
        });
    }
    let dirs: Vec<PathBuf> = done.iter().map(|id| runs_dir.join(id)).collect();
    Ok((aggregate(&dirs, results_dir, spec.curves_every)?, missing))
}

/// Where a run of a sweep stands, read from the runs directory alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Not started (or cleaned up).
    Pending,
    /// Training: its heartbeat is fresh.
    Running,
    /// Complete.
    Complete,
    /// Its last attempt failed with an error (see `<run-id>.failed`).
    Failed,
    /// Started, but its heartbeat stopped: killed. Re-running resumes it.
    Stale,
}

impl RunState {
    /// The word `--status` prints.
    pub fn word(self) -> &'static str {
        match self {
            RunState::Pending => "pending",
            RunState::Running => "running",
            RunState::Complete => "complete",
            RunState::Failed => "failed",
            RunState::Stale => "stale",
        }
    }
}

/// A heartbeat older than this marks a started run as stale.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

/// Every run of the sweep with its state and the epoch its heartbeat last
/// reported (for running and stale runs).
///
/// # Errors
/// A bad spec.
pub fn status(
    spec: &SweepSpec,
    runs_dir: &Path,
) -> Result<Vec<(String, RunState, Option<String>)>, TrainError> {
    let mut out = Vec::new();
    for b in plan(spec)? {
        for c in &b.configs {
            let id = c.run_id();
            let partial = runs_dir.join(format!("{id}.partial"));
            let beat = partial.join("heartbeat");
            let state = if is_complete(&runs_dir.join(&id)) {
                RunState::Complete
            } else if let Ok(meta) = std::fs::metadata(&beat) {
                let age = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .unwrap_or(std::time::Duration::MAX);
                if age < STALE_AFTER {
                    RunState::Running
                } else {
                    RunState::Stale
                }
            } else if runs_dir.join(format!("{id}.failed")).exists() {
                RunState::Failed
            } else if partial.exists() {
                RunState::Stale
            } else {
                RunState::Pending
            };
            let detail = std::fs::read_to_string(&beat)
                .ok()
                .map(|t| t.trim().to_string());
            out.push((id, state, detail));
        }
    }
    Ok(out)
}
/// The `--set` assignments that turn a shorter run's config into `cfg`
/// (the keys `train --extend` may change).
fn extension_sets(cfg: &RunConfig) -> Vec<String> {
    let table = toml::Table::try_from(cfg).expect("configs serialise");
    super::run::EXTEND_KEYS
        .iter()
        .filter_map(|k| table.get(*k).map(|v| format!("{k}={v}")))
        .collect()
}

/// Complete runs of a runs directory indexed by everything but their
/// budget, so a sweep whose budget was raised can extend them.
struct ShorterRuns {
    by_key: std::collections::HashMap<String, Vec<(PathBuf, RunConfig, Vec<u64>)>>,
}

impl ShorterRuns {
    /// The configuration without the keys an extension may change.
    fn key(cfg: &RunConfig) -> String {
        let mut c = cfg.clone();
        c.epochs = 0;
        c.stop_after_grok = false;
        c.grok_window = 0;
        c.checkpoint_every = 0;
        c.threads = 0;
        c.allow_long = false;
        c.seed = 0;
        serde_json::to_string(&c).expect("configs serialise")
    }

    fn scan(runs_dir: &Path) -> Self {
        let mut by_key: std::collections::HashMap<_, Vec<_>> = Default::default();
        for entry in std::fs::read_dir(runs_dir).into_iter().flatten().flatten() {
            let dir = entry.path();
            let (Ok(m), Ok(cfg)) = (read_manifest(&dir), read_config(&dir)) else {
                continue;
            };
            if m.status == super::run::Status::Complete
                && super::run::same_step(&m)
                && dir.join("optimizer.safetensors").exists()
            {
                by_key
                    .entry(Self::key(&cfg))
                    .or_default()
                    .push((dir, cfg, m.batch_seeds));
            }
        }
        Self { by_key }
    }

    /// The complete runs of a shorter budget that this batch can extend:
    /// one per config, trained as the same batch, at the same budget.
    fn extendable(&self, batch: &[RunConfig]) -> Option<Vec<PathBuf>> {
        let seeds: Vec<u64> = batch.iter().map(|c| c.seed).collect();
        let candidates = self.by_key.get(&Self::key(&batch[0]))?;
        let mut budgets: Vec<usize> = candidates
            .iter()
            .filter(|(_, c, b)| *b == seeds && c.epochs < batch[0].epochs)
            .map(|(_, c, _)| c.epochs)
            .collect();
        budgets.sort_unstable();
        // The longest shorter budget that every seed of the batch has.
        budgets.into_iter().rev().find_map(|epochs| {
            batch
                .iter()
                .map(|cfg| {
                    candidates
                        .iter()
                        .find(|(_, c, b)| c.seed == cfg.seed && c.epochs == epochs && *b == seeds)
                        .map(|(d, _, _)| d.clone())
                })
                .collect()
        })
    }
}

/// One row per run: every config key, the summary, the run id and
/// provenance. Written as `results.parquet` and `results.csv` in `results_dir`.
///
/// # Errors
/// A run that is not complete, or I/O errors.
pub fn aggregate(
    run_dirs: &[PathBuf],
    results_dir: &Path,
    curves_every: Option<usize>,
) -> Result<PathBuf, TrainError> {
    let mut df = results_frame(run_dirs)?;
    std::fs::create_dir_all(results_dir).map_err(|e| TrainError::Io {
        path: results_dir.display().to_string(),
        reason: e.to_string(),
    })?;
    // The results table last: a sweep whose results are written has its
    // curves and groups too, even when a full disk stops the writes midway.
    let mut curves = curves_frame(run_dirs, curves_every)?;
    write_parquet(&mut curves, &results_dir.join("curves.parquet"))?;
    crate::results::write_groups(&df, results_dir)?;
    write_csv(&mut df, &results_dir.join("results.csv"))?;
    let parquet = results_dir.join("results.parquet");
    write_parquet(&mut df, &parquet)?;
    Ok(parquet)
}

/// Every run's metrics (long format) with its run id, so figures of
/// training curves can be drawn from `experiments/` without `runs/`.
///
/// # Errors
/// A run without readable metrics.
pub fn curves_frame(run_dirs: &[PathBuf], every: Option<usize>) -> Result<DataFrame, TrainError> {
    let mut frames = Vec::new();
    for dir in run_dirs {
        let id = read_manifest(dir)?.run_id;
        let mut m = super::run::read_metrics(dir)?;
        if let Some(k) = every {
            let epochs = m
                .column(crate::column!(crate::results::rows::MetricPoint, epoch))
                .and_then(|c| c.u32().cloned())
                .map_err(|e| TrainError::Io {
                    path: dir.display().to_string(),
                    reason: e.to_string(),
                })?;
            let last = epochs.max().unwrap_or(0);
            let keep: BooleanChunked = epochs
                .iter()
                .map(|e| e.map(|e| (e as usize).is_multiple_of(k) || e == last))
                .collect();
            m = m.filter(&keep).map_err(|e| TrainError::Io {
                path: dir.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        let ids = Column::new(
            crate::results::rows::CurveRow::KEY[0].into(),
            vec![id.as_str(); m.height()],
        );
        m.insert_column(0, ids).map_err(|e| TrainError::Io {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        frames.push(m);
    }
    Ok(vstack_all(&frames)?)
}

/// The results table of a set of complete runs (see [`aggregate`]).
///
/// # Errors
/// A run that is missing or incomplete.
pub fn results_frame(run_dirs: &[PathBuf]) -> Result<DataFrame, TrainError> {
    let mut cols: Vec<(String, Vec<AnyValue<'static>>)> = Vec::new();
    for (i, dir) in run_dirs.iter().enumerate() {
        let m = read_manifest(dir)?;
        let summary = m.summary.clone().ok_or_else(|| TrainError::Io {
            path: dir.display().to_string(),
            reason: "run is not complete; re-run the sweep to finish it".into(),
        })?;
        let cfg = read_config(dir)?;
        let mut row: Vec<(String, serde_json::Value)> = Vec::new();
        row.push((
            crate::column!(crate::results::rows::ResultRow, run_id).into(),
            m.run_id.clone().into(),
        ));
        if let serde_json::Value::Object(o) = serde_json::to_value(&cfg).expect("serialises") {
            row.extend(o);
        }
        if let serde_json::Value::Object(o) = serde_json::to_value(&summary).expect("serialises") {
            row.extend(o);
        }
        // In the order of results::RESULTS_PROVENANCE, which names them.
        let provenance: [serde_json::Value; 10] = [
            crate::groups::OperationSpec::parse(&cfg.op)
                .map(|s| s.canonical())
                .unwrap_or_default()
                .into(),
            m.config_hash.clone().into(),
            m.dataset_hash.clone().into(),
            m.crate_version.clone().into(),
            m.libtorch_version.clone().into(),
            m.git_commit.clone().into(),
            serde_json::Value::from(m.threads),
            m.kernels.aten.clone().into(),
            m.host.clone().into(),
            m.batch_seeds
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(",")
                .into(),
        ];
        for (k, v) in crate::results::RESULTS_PROVENANCE.iter().zip(provenance) {
            row.push((k.to_string(), v));
        }
        for (j, (k, v)) in row.into_iter().enumerate() {
            if i == 0 {
                cols.push((k.clone(), Vec::new()));
            }
            let value = match v {
                serde_json::Value::Null => AnyValue::Null,
                serde_json::Value::Bool(b) => AnyValue::Boolean(b),
                serde_json::Value::Number(n) if n.is_f64() => {
                    AnyValue::Float64(n.as_f64().unwrap_or(f64::NAN))
                }
                serde_json::Value::Number(n) => AnyValue::Int64(n.as_i64().unwrap_or(i64::MAX)),
                serde_json::Value::String(s) => AnyValue::StringOwned(s.into()),
                other => AnyValue::StringOwned(other.to_string().into()),
            };
            cols[j].1.push(value);
        }
    }
    let columns: Vec<Column> = cols
        .into_iter()
        .map(|(name, values)| {
            // Null-tolerant typing: a column of all-null epochs is Int64.
            let dtype = values
                .iter()
                .find(|v| !v.is_null())
                .map(|v| v.dtype())
                .unwrap_or(DataType::Int64);
            Series::from_any_values_and_dtype(name.into(), &values, &dtype, false).map(Column::from)
        })
        .collect::<PolarsResult<_>>()
        .map_err(|e| TrainError::Io {
            path: "results".into(),
            reason: e.to_string(),
        })?;
    DataFrame::new(run_dirs.len(), columns).map_err(|e| TrainError::Io {
        path: "results".into(),
        reason: e.to_string(),
    })
}

/// The results directory of a sweep file: `experiments/suite.toml` ->
/// `experiments/suite/`.
pub fn results_dir_for(spec_path: &Path) -> PathBuf {
    spec_path.with_extension("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_of_an_order_is_named_by_a_star() {
        let spec = SweepSpec::parse(
            "ops = [\"s3\", \"smallgroup:8,*\", \"smallgroup:64,*\"]\nseeds = [0]\n",
            "t",
        )
        .unwrap();
        // GAP: NrSmallGroups(8) = 5, NrSmallGroups(64) = 267.
        assert_eq!(spec.ops.len(), 1 + 5 + 267);
        assert_eq!(spec.ops[1], "smallgroup:8,1");
        assert_eq!(spec.ops[5], "smallgroup:8,5");
        assert_eq!(spec.ops[272], "smallgroup:64,267");
        for bad in ["smallgroup:65,*", "smallgroup:x,*", "smallgroup:1,*"] {
            let e = SweepSpec::parse(&format!("ops = [\"{bad}\"]\nseeds = [0]\n"), "t")
                .unwrap_err()
                .to_string();
            assert!(e.contains("n must be an order from 2 to 64"), "{e}");
        }
        // The atlas file names every group once: 585 groups, 1755 runs.
        let atlas = SweepSpec::from_file(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/atlas.toml"),
        )
        .unwrap();
        assert_eq!(atlas.ops.len(), 585);
        assert_eq!(atlas.curves_every, Some(100));
    }

    #[test]
    fn variants_are_arms_crossed_with_the_grid() {
        let spec = SweepSpec::parse(
            r#"
ops = ["s3"]
seeds = [0, 1]
[set]
epochs = 50
lr = 0.002
[grid]
weight_decay = [0.5, 1.0]
[[variants]]
[[variants]]
loss_precision = "f64"
[[variants]]
lr = 0.004
"#,
            "test",
        )
        .unwrap();
        let groups = spec.expand().unwrap();
        // 3 arms x 2 grid points, 2 seeds each, arms outermost.
        assert_eq!(groups.len(), 6);
        assert!(groups.iter().all(|g| g.len() == 2 && g[0].epochs == 50));
        let arm = |g: &Vec<RunConfig>| (g[0].loss_precision, g[0].lr, g[0].weight_decay);
        use crate::config::LossPrecision::{F32, F64};
        assert_eq!(
            groups.iter().map(arm).collect::<Vec<_>>(),
            vec![
                (F32, 0.002, 0.5),
                (F32, 0.002, 1.0),
                (F64, 0.002, 0.5),
                (F64, 0.002, 1.0),
                (F32, 0.004, 0.5),
                (F32, 0.004, 1.0),
            ]
        );
        // A variant's key must be a config key.
        let bad = SweepSpec::parse(
            "ops = [\"s3\"]\nseeds = [0]\n[[variants]]\nlearning_rate = 1.0\n",
            "t",
        )
        .unwrap()
        .expand()
        .unwrap_err()
        .to_string();
        assert!(bad.contains("learning_rate"), "{bad}");
        // A variant restricted to some operations runs only on those.
        let spec = SweepSpec::parse(
            "ops = [\"s3\", \"d5\"]\nseeds = [0]\n[[variants]]\n[[variants]]\nops = [\"d5\"]\nlr = 0.004\n",
            "t",
        )
        .unwrap();
        let runs: Vec<(String, f64)> = spec
            .expand()
            .unwrap()
            .iter()
            .map(|g| (g[0].op.clone(), g[0].lr))
            .collect();
        assert_eq!(
            runs,
            vec![
                ("s3".into(), 0.001),
                ("d5".into(), 0.001),
                ("d5".into(), 0.004)
            ]
        );
        let bad = SweepSpec::parse(
            "ops = [\"s3\"]\nseeds = [0]\n[[variants]]\nops = [\"a4\"]\n",
            "t",
        )
        .unwrap()
        .expand()
        .unwrap_err()
        .to_string();
        assert!(bad.contains("a variant's ops"), "{bad}");
    }
}
