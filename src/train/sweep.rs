//! Running sweeps: trains the missing runs of a sweep's plan
//! ([`crate::sweep`]: the file, its expansion, batches and shards), `jobs`
//! batched jobs at a time, and aggregates every run's manifest into
//! `experiments/<name>/results.parquet` and `.csv`.
//!
//! A sweep is resumable: a run whose manifest says complete is skipped, and
//! a killed run leaves only a `.partial` directory that is started again.

use super::committed::Committed;
use super::run::{finish_complete_partials, is_complete, read_config, read_manifest, train_runs};
use super::{resolve_threads, Observer, Progress, TrainError};
use crate::config::{ConfigError, RunConfig};
use crate::store::{vstack_all, write_csv, write_parquet};
pub use crate::sweep::plan::{MEASURED_BATCH_GAIN, MIN_BATCH_GAIN, MIN_BATCH_GAIN_STOPPING};
pub use crate::sweep::{
    assign_shards, batch_label, batch_size, plan, plan_with, Batch, Shard, SweepSpec,
};
use polars::prelude::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
    /// Asked at every evaluation: `false` stops every job there with
    /// [`TrainError::Interrupted`], keeping the runs' checkpoints, so the
    /// next sweep resumes them. Default: `true`.
    fn keep_going(&self) -> bool {
        true
    }
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
        self.sweep.keep_going()
    }
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
    /// Train the runs the sweep's committed results hold too, when their
    /// run directories are not in the runs directory (to reproduce a
    /// sweep from scratch); by default they count as complete.
    pub retrain_committed: bool,
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
    // Runs in the sweep's committed results and not in the runs directory
    // are complete too (the runs directory of a campaign may be lost).
    let committed = if opts.retrain_committed {
        Committed::default()
    } else {
        Committed::read(results_dir)?
    };
    let mut from_committed = 0;
    // Batches with an incomplete run: each is one batched training job, which
    // extends the same batch's complete runs of a shorter budget if there are.
    let shorter = ShorterRuns::scan(runs_dir);
    let mut batches: Vec<(Vec<RunConfig>, Option<Vec<PathBuf>>)> = Vec::new();
    for b in &mine {
        let owed: Vec<RunConfig> = b
            .configs
            .iter()
            .filter(|c| {
                // Whatever the runs directory holds of a run (its directory,
                // or a `.partial` one being trained or left by a kill) wins
                // over its committed row: it is finished or resumed there.
                let id = c.run_id();
                let only_committed = committed.contains(&id)
                    && !runs_dir.join(&id).exists()
                    && !runs_dir.join(format!("{id}.partial")).exists();
                from_committed += usize::from(only_committed);
                !only_committed
            })
            .cloned()
            .collect();
        if owed.is_empty() || finish_complete_partials(&owed, runs_dir)? {
            continue;
        }
        let from = shorter.extendable(&owed);
        batches.push((owed, from));
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
        "{scope_name}: {total} runs, {} complete{}, {trained} to train ({extended} by extending a shorter budget) in {} batched jobs, {jobs} at a time; {}",
        total - trained,
        match committed.file() {
            Some(f) if from_committed > 0 => format!(
                " ({from_committed} of them only in {}, without a run directory)",
                f.display()
            ),
            _ => String::new(),
        },
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
    let committed = Committed::read(results_dir)?;
    let mut dirs = Vec::new();
    let mut keep = HashSet::new();
    let mut missing = Vec::new();
    for id in &ids {
        if is_complete(&runs_dir.join(id)) {
            dirs.push(runs_dir.join(id));
        } else if committed.contains(id) {
            keep.insert(id.clone());
        } else {
            missing.push(id.clone());
        }
    }
    if dirs.is_empty() && keep.is_empty() {
        return Err(TrainError::Io {
            path: runs_dir.display().to_string(),
            reason: "no run of this sweep is complete yet; train it first".into(),
        });
    }
    let fresh = if dirs.is_empty() {
        None
    } else {
        Some((
            results_frame(&dirs)?,
            curves_frame(&dirs, spec.curves_every)?,
        ))
    };
    let (mut results, mut curves) = committed.merge(fresh, &keep, &ids)?;
    if spec.curves_single {
        state_to_single(&mut curves).map_err(|e| TrainError::Io {
            path: results_dir.join("curves.parquet").display().to_string(),
            reason: e.to_string(),
        })?;
    }
    Ok((
        write_results(&mut results, &mut curves, results_dir)?,
        missing,
    ))
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
    /// In the sweep's committed results, without a run directory.
    Committed,
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
            RunState::Committed => "committed",
            RunState::Failed => "failed",
            RunState::Stale => "stale",
        }
    }
}

/// A heartbeat older than this marks a started run as stale.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

/// Every run of the sweep with its state and the epoch its heartbeat last
/// reported (for running and stale runs). Runs without a run directory that
/// are in the committed results in `results_dir` are [`RunState::Committed`].
///
/// # Errors
/// A bad spec, or committed results that cannot be read.
pub fn status(
    spec: &SweepSpec,
    runs_dir: &Path,
    results_dir: &Path,
) -> Result<Vec<(String, RunState, Option<String>)>, TrainError> {
    let committed = Committed::read(results_dir)?;
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
            } else if committed.contains(&id) {
                RunState::Committed
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
    let mut curves = curves_frame(run_dirs, curves_every)?;
    write_results(&mut df, &mut curves, results_dir)
}

/// Writes a sweep's results table (Parquet and CSV), its curves and its
/// groups table into `results_dir`.
fn write_results(
    df: &mut DataFrame,
    curves: &mut DataFrame,
    results_dir: &Path,
) -> Result<PathBuf, TrainError> {
    std::fs::create_dir_all(results_dir).map_err(|e| TrainError::Io {
        path: results_dir.display().to_string(),
        reason: e.to_string(),
    })?;
    // The results table last: a sweep whose results are written has its
    // curves and groups too, even when a full disk stops the writes midway.
    write_parquet(curves, &results_dir.join("curves.parquet"))?;
    crate::results::write_groups(df, results_dir)?;
    write_csv(df, &results_dir.join("results.csv"))?;
    let parquet = results_dir.join("results.parquet");
    write_parquet(df, &parquet)?;
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

/// Rounds the curves' values to single precision except loss and accuracy
/// (`SweepSpec::curves_single`). Rounding a value already rounded leaves
/// it as it is, so committed rows merged again do not drift.
fn state_to_single(curves: &mut DataFrame) -> PolarsResult<()> {
    use crate::results::rows::MetricPoint;
    let metric = curves
        .column(crate::column!(MetricPoint, metric))?
        .str()?
        .clone();
    let value = curves
        .column(crate::column!(MetricPoint, value))?
        .f64()?
        .clone();
    let rounded: Float64Chunked = metric
        .iter()
        .zip(value.iter())
        .map(|(m, v)| match m {
            Some("loss" | "accuracy") => v,
            #[allow(clippy::cast_possible_truncation)] // the rounding wanted
            _ => v.map(|v| f64::from(v as f32)),
        })
        .collect();
    curves.with_column(rounded.with_name(value.name().clone()).into_column())?;
    Ok(())
}

/// What a results row carries of `<run>/analysis/summary.json`
/// ([`crate::analyze::RunAnalysis`]; see `results::RESULTS_ANALYSIS`).
#[derive(serde::Deserialize)]
struct Analysed {
    dominant_irrep: String,
    dominant_kind: (u32, bool),
    dominant_share: f64,
}

impl Analysed {
    /// The run's analysis, if it has been analysed (a summary written by a
    /// grokscope that did not record the dominant irrep's kind counts as
    /// not analysed).
    fn read(run_dir: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(run_dir.join("analysis").join("summary.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Its values in the order of `results::RESULTS_ANALYSIS`.
    fn values(self) -> [serde_json::Value; 4] {
        [
            self.dominant_irrep.into(),
            self.dominant_kind.0.into(),
            self.dominant_kind.1.into(),
            self.dominant_share.into(),
        ]
    }
}

/// A results cell from the JSON value a row was built from.
fn cell(v: serde_json::Value) -> AnyValue<'static> {
    match v {
        serde_json::Value::Null => AnyValue::Null,
        serde_json::Value::Bool(b) => AnyValue::Boolean(b),
        serde_json::Value::Number(n) if n.is_f64() => {
            AnyValue::Float64(n.as_f64().unwrap_or(f64::NAN))
        }
        serde_json::Value::Number(n) => AnyValue::Int64(n.as_i64().unwrap_or(i64::MAX)),
        serde_json::Value::String(s) => AnyValue::StringOwned(s.into()),
        other => AnyValue::StringOwned(other.to_string().into()),
    }
}

/// Writes each analysed run's dominant irrep into the sweep's results rows
/// in `results_dir` (the columns of `results::RESULTS_ANALYSIS`), as
/// aggregating again after `grokscope analyze` would, and leaves every
/// other column as it is. A row whose run directory in `runs_dir` has no
/// analysis keeps what it had. What `grokscope analyze --sweep` runs last.
///
/// # Errors
/// An unreadable or unwritable results table.
pub fn record_analysis(results_dir: &Path, runs_dir: &Path) -> Result<PathBuf, TrainError> {
    let parquet = results_dir.join("results.parquet");
    let mut df = crate::store::read_parquet(&parquet)?;
    let table_error = |e: String| TrainError::Io {
        path: parquet.display().to_string(),
        reason: e,
    };
    let ids: Vec<Option<String>> = crate::results::columns::column(
        &df,
        crate::column!(crate::results::rows::ResultRow, run_id),
    )
    .and_then(|c| c.str().map_err(|e| e.to_string()).cloned())
    .map_err(table_error)?
    .iter()
    .map(|id| id.map(str::to_string))
    .collect();
    let analysed: Vec<Option<[AnyValue<'static>; 4]>> = ids
        .iter()
        .map(|id| {
            id.as_ref()
                .and_then(|id| Analysed::read(&runs_dir.join(id)))
                .map(|a| a.values().map(cell))
        })
        .collect();
    for (k, (name, dtype)) in crate::results::RESULTS_ANALYSIS.iter().enumerate() {
        let old = df.column(name).ok().cloned();
        let values: Vec<AnyValue<'static>> = analysed
            .iter()
            .enumerate()
            .map(|(i, a)| match (a, &old) {
                (Some(a), _) => Ok(a[k].clone()),
                (None, Some(old)) => old.get(i).map(|v| v.into_static()),
                (None, None) => Ok(AnyValue::Null),
            })
            .collect::<PolarsResult<_>>()
            .map_err(|e| table_error(e.to_string()))?;
        let column = Series::from_any_values_and_dtype((*name).into(), &values, dtype, false)
            .map_err(|e| table_error(e.to_string()))?;
        df.with_column(Column::from(column))
            .map_err(|e| table_error(e.to_string()))?;
    }
    // As the aggregate writes them: the CSV first, the Parquet table last.
    write_csv(&mut df, &results_dir.join("results.csv"))?;
    write_parquet(&mut df, &parquet)?;
    Ok(parquet)
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
        let provenance: [serde_json::Value; 12] = [
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
            m.kernels.cpu.clone().into(),
            serde_json::Value::from(m.step_revision),
        ];
        for (k, v) in crate::results::RESULTS_PROVENANCE.iter().zip(provenance) {
            row.push((k.to_string(), v));
        }
        // In the order of results::RESULTS_ANALYSIS; null if not analysed.
        let analysis = Analysed::read(dir)
            .map(Analysed::values)
            .unwrap_or_default();
        for ((k, _), v) in crate::results::RESULTS_ANALYSIS.iter().zip(analysis) {
            row.push((k.to_string(), v));
        }
        for (j, (k, v)) in row.into_iter().enumerate() {
            if i == 0 {
                cols.push((k.clone(), Vec::new()));
            }
            cols[j].1.push(cell(v));
        }
    }
    let columns: Vec<Column> = cols
        .into_iter()
        .map(|(name, values)| {
            // Null-tolerant typing: a column of all-null epochs is Int64;
            // the analysis columns, often all null, have their own types.
            let fixed = crate::results::RESULTS_ANALYSIS
                .into_iter()
                .find(|(c, _)| *c == name)
                .map(|(_, t)| t);
            let dtype = fixed.unwrap_or_else(|| {
                values
                    .iter()
                    .find(|v| !v.is_null())
                    .map(|v| v.dtype())
                    .unwrap_or(DataType::Int64)
            });
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
