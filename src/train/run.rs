//! Run directories: `runs/<run-id>/` with `config.json`, `manifest.json`,
//! `metrics.parquet`, `final.safetensors`, `optimizer.safetensors` (the
//! fused step's AdamW state at the last epoch, for `train --extend`) and
//! `checkpoints/`.
//!
//! While a run trains, `<run-id>.partial/resume/` holds its latest resume
//! point (weights, optimiser state, metrics so far, each file named by its
//! epoch and completed by `point-<epoch>.json`); re-running the same
//! command continues from there, and the result is byte-identical to an
//! uninterrupted run on the same machine, threads and batch.
//!
//! A run is built in `runs/<run-id>.partial/` and renamed into place only
//! when every file is written, and every file is written to a temporary name
//! and renamed, so a killed run never leaves anything that looks complete.
//! The manifest records provenance: git commit and dirty flag, config and
//! dataset hashes, crate and libtorch versions, threads, the command line,
//! start and end times, status, and the [`Summary`].

use super::{train_from, MetricRow, ModelState, Observer, Progress, Start, Summary, TrainError};
use crate::config::RunConfig;
use crate::model::Transformer;
use crate::results::record::Record;
use crate::results::rows::MetricPoint;
use crate::store::{read_parquet, write_json, write_parquet};
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of the run-directory layout; readers refuse other versions.
/// Version 2 (grokscope 0.2): the fused step, optimiser state, resume
/// points, the sustained criterion and the kernel path in the manifest.
pub const FORMAT_VERSION: u32 = 2;

/// The libtorch version grokscope was built against.
pub const LIBTORCH_VERSION: &str = env!("GROKSCOPE_LIBTORCH_VERSION");

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Training (or killed while training).
    Running,
    /// Every file written.
    Complete,
}

/// `manifest.json`: what a run is and how it was produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Layout version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// Directory name.
    pub run_id: String,
    /// Running or complete.
    pub status: Status,
    /// The commit the binary was built from, or `unknown`.
    pub git_commit: String,
    /// Whether the tree it was built from had uncommitted changes.
    pub git_dirty: bool,
    /// Hash of config.json.
    pub config_hash: String,
    /// Hash of the operation table and split.
    pub dataset_hash: String,
    /// grokscope's version.
    pub crate_version: String,
    /// libtorch's version.
    pub libtorch_version: String,
    /// libtorch intra-op threads.
    pub threads: usize,
    /// The CPU kernel path the run computed with (bit-identity holds
    /// within one path; see the README).
    pub kernels: crate::kernels::KernelPath,
    /// The machine that trained it (`/etc/hostname` or `$HOSTNAME`);
    /// `unknown` in manifests written before it was recorded.
    #[serde(default = "unknown_host")]
    pub host: String,
    /// The revision of the fused step's arithmetic that trained it
    /// ([`super::fused::STEP_REVISION`]); 1 in manifests written before it
    /// was recorded. Runs of another revision are neither extended nor
    /// resumed: the result would not equal a run trained from scratch.
    #[serde(default = "first_revision")]
    pub step_revision: u32,
    /// Seeds trained together in one batched model (this one included).
    pub batch_seeds: Vec<u64>,
    /// The command that produced it.
    pub command_line: Vec<String>,
    /// UTC, RFC 3339.
    pub start_time: String,
    /// UTC, RFC 3339, when complete.
    pub end_time: Option<String>,
    /// The outcome, when complete.
    pub summary: Option<Summary>,
}

fn first_revision() -> u32 {
    1
}

/// Whether a run's state can be continued by this build's fused step so
/// that the result equals a run trained from scratch.
pub fn same_step(m: &Manifest) -> bool {
    m.step_revision == super::fused::STEP_REVISION
}

fn unknown_host() -> String {
    "unknown".into()
}

/// This machine's name, for the manifest.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// The git commit grokscope was built from and whether the tree had
/// uncommitted changes then (embedded by build.rs, so a run records the
/// code that actually ran, not the state of the checkout later).
pub fn git_state() -> (String, bool) {
    (
        env!("GROKSCOPE_GIT_COMMIT").to_string(),
        env!("GROKSCOPE_GIT_DIRTY") == "true",
    )
}

/// Reads a run's manifest.
///
/// # Errors
/// A missing or unparsable manifest, or one from another layout version.
pub fn read_manifest(dir: &Path) -> Result<Manifest, TrainError> {
    let path = dir.join("manifest.json");
    let err = |reason: String| TrainError::Io {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| err(format!("{e}; is this a grokscope run directory?")))?;
    let m: Manifest =
        serde_json::from_str(&text).map_err(|e| err(format!("not a grokscope manifest ({e})")))?;
    if m.format_version != FORMAT_VERSION {
        return Err(err(format!(
            "written by run format {} but this grokscope reads {FORMAT_VERSION}; re-run it with this version",
            m.format_version
        )));
    }
    Ok(m)
}

/// Whether `dir` holds a complete run.
pub fn is_complete(dir: &Path) -> bool {
    read_manifest(dir).is_ok_and(|m| m.status == Status::Complete)
}

/// Reads a run's `config.json`.
///
/// # Errors
/// A missing or invalid config.
pub fn read_config(dir: &Path) -> Result<RunConfig, TrainError> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::Io {
        path: path.display().to_string(),
        reason: format!("{e}; is this a run directory?"),
    })?;
    let cfg: RunConfig = serde_json::from_str(&text).map_err(|e| TrainError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    // The manifest hashed the config the run was trained with: an edited
    // config.json would put settings into results that never trained.
    if let Ok(m) = read_manifest(dir) {
        if m.config_hash != cfg.hash() {
            return Err(TrainError::Io {
                path: path.display().to_string(),
                reason: format!(
                    "does not match the config this run was trained with (manifest.json's config_hash {}, this file's {}); restore it, or train the changed config as a new run",
                    m.config_hash,
                    cfg.hash()
                ),
            });
        }
    }
    Ok(cfg)
}

/// Metrics as a long-format table: epoch, split, metric, value (the
/// stored [`MetricPoint`]).
///
/// # Errors
/// Polars errors.
pub fn metrics_frame(rows: &[MetricRow]) -> PolarsResult<DataFrame> {
    let points: Vec<MetricPoint> = rows
        .iter()
        .map(|r| MetricPoint {
            epoch: r.epoch,
            split: r.split.to_string(),
            metric: r.metric.to_string(),
            value: r.value,
        })
        .collect();
    MetricPoint::frame(&points)
}

/// Reads a run's `metrics.parquet`.
///
/// # Errors
/// A missing or unreadable file.
pub fn read_metrics(dir: &Path) -> Result<DataFrame, TrainError> {
    Ok(read_parquet(&dir.join("metrics.parquet"))?)
}

/// Writes a model state: weights under their TransformerLens names to
/// `weights` (when given) and, when it has them, AdamW moments and step to
/// `optimizer` (`adam.m.<name>`, `adam.v.<name>`, `adam.step`), each
/// through a temporary file.
///
/// # Errors
/// I/O or libtorch errors.
pub fn write_state(
    state: &ModelState,
    weights: Option<&Path>,
    optimizer: &Path,
) -> Result<(), TrainError> {
    let tmp_write = |tensors: &[(String, tch::Tensor)], path: &Path| -> Result<(), TrainError> {
        Ok(crate::store::write_file_atomic(path, |tmp| {
            tch::Tensor::write_safetensors(tensors, tmp)
                .map_err(|e| crate::store::error_line(&e.to_string()))
        })?)
    };
    if let Some(w) = weights {
        tmp_write(&state.weights, w)?;
    }
    if let Some(moments) = &state.moments {
        let mut t = Vec::new();
        for (k, (name, w)) in state.weights.iter().enumerate() {
            let shape = w.size();
            let parts = [
                ("adam.m", moments.m.get(k)),
                ("adam.v", moments.v.get(k)),
                ("grokfast.ema", moments.ema.get(k)),
            ];
            for (prefix, values) in parts {
                if let Some(values) = values {
                    t.push((
                        format!("{prefix}.{name}"),
                        tch::Tensor::f_from_slice(values)?.f_view(shape.as_slice())?,
                    ));
                }
            }
        }
        t.push((
            "adam.step".into(),
            tch::Tensor::f_from_slice(&[i64::from(state.epoch)])?,
        ));
        tmp_write(&t, optimizer)?;
    }
    Ok(())
}

/// Reads a model state written by [`write_state`]: weights from `weights`,
/// AdamW state from `optimizer`.
///
/// # Errors
/// Missing or unreadable files, or files that do not belong together.
pub fn read_state(weights: &Path, optimizer: &Path) -> Result<ModelState, TrainError> {
    let err = |p: &Path, reason: String| TrainError::Io {
        path: p.display().to_string(),
        reason,
    };
    let read = |p: &Path| {
        crate::store::read_checked(p).map_err(|e| err(p, e.reason))?;
        tch::Tensor::read_safetensors(p).map_err(|e| {
            err(
                p,
                format!(
                    "cannot read ({}); the run has no stored state to continue from",
                    e.to_string().lines().next().unwrap_or("")
                ),
            )
        })
    };
    let mut w = read(weights)?;
    w.sort_by(|a, b| a.0.cmp(&b.0));
    let opt: std::collections::HashMap<String, tch::Tensor> =
        read(optimizer)?.into_iter().collect();
    let step = opt
        .get("adam.step")
        .and_then(|t| i64::try_from(t).ok())
        .ok_or_else(|| err(optimizer, "has no adam.step".into()))?;
    let mut moments = crate::train::fused::Moments::default();
    for (name, _) in &w {
        for (prefix, out) in [("adam.m.", &mut moments.m), ("adam.v.", &mut moments.v)] {
            let t = opt
                .get(&format!("{prefix}{name}"))
                .ok_or_else(|| err(optimizer, format!("has no {prefix}{name}")))?;
            out.push(Vec::<f32>::try_from(t.f_flatten(0, -1)?)?);
        }
        // Grokfast's filter state, stored only by runs that use it.
        if let Some(t) = opt.get(&format!("grokfast.ema.{name}")) {
            moments.ema.push(Vec::<f32>::try_from(t.f_flatten(0, -1)?)?);
        }
    }
    Ok(ModelState {
        epoch: u32::try_from(step).map_err(|_| err(optimizer, "bad adam.step".into()))?,
        weights: w,
        moments: Some(moments),
    })
}

/// Metrics read back from a `metrics.parquet`.
///
/// # Errors
/// An unreadable file or unknown split or metric names.
pub fn read_metric_rows(path: &Path) -> Result<Vec<MetricRow>, TrainError> {
    let bad = |reason: String| TrainError::Io {
        path: path.display().to_string(),
        reason,
    };
    let points = MetricPoint::read_all(&read_parquet(path)?).map_err(bad)?;
    let intern = |x: &str, known: &[&'static str]| {
        known
            .iter()
            .find(|k| **k == x)
            .copied()
            .ok_or_else(|| bad(format!("unknown name {x:?} in metrics")))
    };
    points
        .iter()
        .map(|p| {
            Ok(MetricRow {
                epoch: p.epoch,
                split: intern(&p.split, &["train", "test", "informative_test", "model"])?,
                metric: intern(&p.metric, &METRIC_NAMES)
                    .or_else(|_| intern(&p.metric, &crate::model::NORM_METRICS))?,
                value: p.value,
            })
        })
        .collect()
}

/// The metrics a run records besides the per-weight norms
/// ([`crate::model::NORM_METRICS`]).
pub const METRIC_NAMES: [&str; 6] = [
    "loss",
    "accuracy",
    "weight_norm",
    "softmax_collapse_share",
    "logit_scale",
    "update_norm",
];

/// `resume/point-<epoch>.json`: where a resume point stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResumePoint {
    epoch: u32,
    stopped: Option<u32>,
    wall_seconds: f64,
}

/// Saves checkpoints, resume points and early stops into each model's
/// partial run directory.
struct RunObserver<'a> {
    dirs: &'a [PathBuf],
    inner: &'a mut dyn Observer,
    last_beat: Option<std::time::Instant>,
}

/// Seconds between heartbeats of a training run (`sweep --status` calls a
/// run whose heartbeat is older than two minutes stale).
const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

impl Observer for RunObserver<'_> {
    fn progress(&mut self, p: &Progress) -> bool {
        if self
            .last_beat
            .is_none_or(|t| t.elapsed() >= HEARTBEAT_EVERY)
        {
            self.last_beat = Some(std::time::Instant::now());
            let text = format!("epoch {}/{} at {}\n", p.epoch, p.epochs, now());
            for dir in self.dirs {
                // A missed heartbeat only makes --status report late.
                let _ = crate::store::write_atomic(&dir.join("heartbeat"), text.as_bytes());
            }
        }
        self.inner.progress(p)
    }
    fn checkpoint(
        &mut self,
        epoch: usize,
        model: &Transformer,
        active: &[bool],
    ) -> Result<(), TrainError> {
        for (s, dir) in self.dirs.iter().enumerate().filter(|(s, _)| active[*s]) {
            let path = dir
                .join("checkpoints")
                .join(format!("epoch_{epoch:06}.safetensors"));
            model.save_model(s, &path)?;
        }
        self.inner.checkpoint(epoch, model, active)
    }
    fn resume_point(&mut self, point: &Start) -> Result<(), TrainError> {
        // Three passes, so a kill at any moment leaves one epoch that every
        // directory of the batch holds complete: the new epoch's files, then
        // its point files (each marks its epoch complete), then the removal
        // of older epochs.
        for (s, dir) in self.dirs.iter().enumerate() {
            let r = dir.join("resume");
            std::fs::create_dir_all(&r).map_err(|e| TrainError::Io {
                path: r.display().to_string(),
                reason: e.to_string(),
            })?;
            let f = ResumeFiles::new(dir, point.epoch);
            write_state(&point.states[s], Some(&f.weights), &f.optimizer)?;
            let mut df = metrics_frame(&point.metrics[s]).map_err(|e| TrainError::Io {
                path: r.display().to_string(),
                reason: e.to_string(),
            })?;
            write_parquet(&mut df, &f.metrics)?;
        }
        for (s, dir) in self.dirs.iter().enumerate() {
            write_json(
                &ResumeFiles::new(dir, point.epoch).point,
                &ResumePoint {
                    epoch: point.epoch,
                    stopped: point.stopped[s],
                    wall_seconds: point.wall_seconds,
                },
            )?;
        }
        for dir in self.dirs {
            for epoch in resume_epochs(dir).into_iter().filter(|e| *e != point.epoch) {
                ResumeFiles::new(dir, epoch).remove();
            }
        }
        self.inner.resume_point(point)
    }
    fn stopped(&mut self, s: usize, state: &ModelState) -> Result<(), TrainError> {
        let dir = &self.dirs[s];
        write_state(
            state,
            Some(&dir.join("final.safetensors")),
            &dir.join("optimizer.safetensors"),
        )?;
        self.inner.stopped(s, state)
    }
}

/// The files of one resume point in `<run>.partial/resume/`, named by its
/// epoch; `point-<epoch>.json`, written last, marks them complete.
struct ResumeFiles {
    weights: PathBuf,
    optimizer: PathBuf,
    metrics: PathBuf,
    point: PathBuf,
}

impl ResumeFiles {
    fn new(dir: &Path, epoch: u32) -> ResumeFiles {
        let r = dir.join("resume");
        ResumeFiles {
            weights: r.join(format!("weights-{epoch:06}.safetensors")),
            optimizer: r.join(format!("optimizer-{epoch:06}.safetensors")),
            metrics: r.join(format!("metrics-{epoch:06}.parquet")),
            point: r.join(format!("point-{epoch:06}.json")),
        }
    }
    /// Removes the point file first, so a kill mid-way leaves no point
    /// whose files are gone.
    fn remove(&self) {
        for f in [&self.point, &self.weights, &self.optimizer, &self.metrics] {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// The epochs of the complete resume points in a partial run directory.
fn resume_epochs(dir: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(dir.join("resume")) else {
        return Vec::new();
    };
    let mut epochs: Vec<u32> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("point-")?
                .strip_suffix(".json")?
                .parse()
                .ok()
        })
        .collect();
    epochs.sort_unstable();
    epochs
}

/// The latest resume point that every partial directory of a batch holds
/// complete, for the same config and batch.
fn find_resume(configs: &[RunConfig], partial: &[PathBuf]) -> Option<Start> {
    let mut common: Option<Vec<u32>> = None;
    for (c, dir) in configs.iter().zip(partial) {
        if read_config(dir).ok()? != *c {
            return None;
        }
        let m = read_manifest(dir).ok()?;
        if m.batch_seeds != configs.iter().map(|c| c.seed).collect::<Vec<_>>() || !same_step(&m) {
            return None;
        }
        let here = resume_epochs(dir);
        common = Some(match common {
            None => here,
            Some(c) => c.into_iter().filter(|e| here.contains(e)).collect(),
        });
    }
    let epoch = *common?.last()?;
    let mut start = Start {
        epoch,
        states: Vec::new(),
        metrics: Vec::new(),
        stopped: Vec::new(),
        wall_seconds: 0.0,
    };
    for dir in partial {
        let f = ResumeFiles::new(dir, epoch);
        let p: ResumePoint = serde_json::from_str(&std::fs::read_to_string(&f.point).ok()?).ok()?;
        let state = read_state(&f.weights, &f.optimizer).ok()?;
        if p.epoch != epoch || state.epoch != epoch {
            return None;
        }
        start.wall_seconds = p.wall_seconds;
        start.stopped.push(p.stopped);
        start.states.push(state);
        start.metrics.push(read_metric_rows(&f.metrics).ok()?);
    }
    Some(start)
}

/// Trains `configs` (differing only in seed and operation, of one order)
/// as one batch and writes one complete run directory per config under
/// `out`; returns them in order.
/// An existing run directory with the same id is replaced. When the
/// batch's partial directories hold a resume point (a killed run), training
/// continues from it.
///
/// # Errors
/// Invalid configs, training or I/O errors. Partial directories of a
/// failed run are removed unless they hold a resume point.
pub fn train_runs(
    configs: &[RunConfig],
    out: &Path,
    threads: usize,
    command_line: &[String],
    observer: &mut dyn Observer,
) -> Result<Vec<PathBuf>, TrainError> {
    train_runs_from(configs, out, threads, command_line, observer, None)
}

/// Keys `train --extend` may change: they do not alter the trajectory.
pub const EXTEND_KEYS: &[&str] = &[
    "epochs",
    "stop_after_grok",
    "grok_window",
    "checkpoint_every",
    "allow_long",
    "threads",
];

/// Continues finished runs (one batch: the runs a sweep trained together)
/// to a longer budget, from their stored final weights and optimiser
/// state. `sets` are `key=value` overrides of [`EXTEND_KEYS`] (at least a
/// larger `epochs`). The new runs' metrics equal, byte for byte, those of
/// the same configuration trained to the new budget from the start, on the
/// same kernel path, threads and batch.
///
/// # Errors
/// Incomplete runs, runs without optimiser state (step = autograd), runs
/// of different configurations, a key outside [`EXTEND_KEYS`], or a budget
/// that does not reach past the runs' last epoch.
pub fn extend_runs(
    dirs: &[PathBuf],
    sets: &[String],
    out: &Path,
    threads: usize,
    command_line: &[String],
    observer: &mut dyn Observer,
) -> Result<Vec<PathBuf>, TrainError> {
    let bad = |m: String| TrainError::Config(crate::config::ConfigError::Invalid(m));
    let mut configs = Vec::new();
    let mut start = Start {
        epoch: 0,
        states: Vec::new(),
        metrics: Vec::new(),
        stopped: Vec::new(),
        wall_seconds: 0.0,
    };
    for (i, dir) in dirs.iter().enumerate() {
        let m = read_manifest(dir)?;
        if !same_step(&m) {
            return Err(bad(format!(
                "{} was trained by revision {} of the fused step and this grokscope has revision {}: an extension would not equal a run trained from scratch; retrain it, or extend it with a grokscope built from commit {}",
                dir.display(),
                m.step_revision,
                super::fused::STEP_REVISION,
                m.git_commit
            )));
        }
        let summary = m.summary.ok_or_else(|| {
            bad(format!(
                "{} is not complete; re-run the command that trained it to resume it",
                dir.display()
            ))
        })?;
        let old = read_config(dir)?;
        let mut cfg = old.clone();
        for set in sets {
            let key = set.split('=').next().unwrap_or("").trim();
            if !EXTEND_KEYS.contains(&key) {
                return Err(bad(format!(
                    "--extend can change only {}; `{key}` changes the run itself: train a new run",
                    EXTEND_KEYS.join(", ")
                )));
            }
            cfg.set(set)?;
        }
        let last = summary.last_epoch;
        if cfg.epochs as u32 <= last {
            return Err(bad(format!(
                "{} already ends at epoch {last}; extend with --set epochs=N for some N > {last}",
                dir.display()
            )));
        }
        if i == 0 {
            start.epoch = last;
        } else if last != start.epoch {
            return Err(bad(format!(
                "the runs end at different epochs ({} and {last}); extend them separately",
                start.epoch
            )));
        }
        let state = read_state(&dir.join("final.safetensors"), &dir.join("optimizer.safetensors"))
            .map_err(|e| {
                bad(format!(
                    "{}: {e}; runs trained with step = autograd or before grokscope 0.2 cannot be extended",
                    dir.display()
                ))
            })?;
        let mut rows = read_metric_rows(&dir.join("metrics.parquet"))?;
        // A last epoch off the evaluation grid was evaluated only because it
        // was last; the longer run does not evaluate it.
        if !(last as usize).is_multiple_of(cfg.eval_every) {
            rows.retain(|r| r.epoch != last);
        }
        start.states.push(state);
        start.metrics.push(rows);
        start.stopped.push(None);
        start.wall_seconds = start.wall_seconds.max(summary.wall_seconds);
        configs.push(cfg);
    }
    train_runs_from(&configs, out, threads, command_line, observer, Some(start))
}

/// Exclusive ownership of a batch's run ids in one runs directory, held
/// while the batch trains: an advisory lock on `<out>/.locks/<run-id>` per
/// run (the kernel drops it when the process ends, killed or not). A second
/// process that reaches the same runs waits for the owner instead of
/// training into the same `.partial` directories.
pub struct RunLocks {
    _files: Vec<std::fs::File>,
    /// Whether another process held a run when the locks were asked for.
    pub waited: bool,
}

impl RunLocks {
    /// Locks `ids` under `out` in sorted order (so two batches that share
    /// runs cannot deadlock), waiting for another owner; `waiting` is told
    /// who holds a run before each wait.
    ///
    /// # Errors
    /// A lock file that cannot be created.
    pub fn acquire(
        out: &Path,
        ids: &[String],
        waiting: &mut dyn FnMut(&str),
    ) -> Result<Self, TrainError> {
        use std::io::Write;
        let dir = out.join(".locks");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut sorted: Vec<&String> = ids.iter().collect();
        sorted.sort();
        sorted.dedup();
        let (mut files, mut waited) = (Vec::new(), false);
        for id in sorted {
            let path = dir.join(id);
            let mut f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io(&path))?;
            match f.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let owner = std::fs::read_to_string(&path).unwrap_or_default();
                    waiting(&format!(
                        "{id} is being trained by another process ({}); waiting for it",
                        owner.trim()
                    ));
                    waited = true;
                    f.lock().map_err(io(&path))?;
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(&path)(e)),
            }
            let owner = format!(
                "pid {} on {} since {}",
                std::process::id(),
                host_name(),
                now()
            );
            let _ = f.set_len(0).and_then(|()| f.write_all(owner.as_bytes()));
            files.push(f);
        }
        Ok(Self {
            _files: files,
            waited,
        })
    }
}

fn train_runs_from(
    configs: &[RunConfig],
    out: &Path,
    threads: usize,
    command_line: &[String],
    observer: &mut dyn Observer,
    start: Option<Start>,
) -> Result<Vec<PathBuf>, TrainError> {
    let mut checkpoint_bytes = 0;
    for c in configs {
        let n = c.validate()?.order();
        // Every checkpoint, and the resume point's weights and two moments.
        checkpoint_bytes +=
            crate::budget::Estimate::weight_bytes(c, n) * (c.checkpoint_count() as u64 + 3);
    }
    crate::limits::check_disk(out, checkpoint_bytes, "the runs' checkpoints").map_err(|e| {
        TrainError::Config(crate::config::ConfigError::Invalid(format!(
            "{e}; set a larger checkpoint_every or free some space"
        )))
    })?;
    if out.exists() && !out.is_dir() {
        return Err(TrainError::Io {
            path: out.display().to_string(),
            reason: "is a file; give a directory for the run directories".into(),
        });
    }
    std::fs::create_dir_all(out).map_err(io(out))?;
    let ids: Vec<String> = configs.iter().map(|c| c.run_id()).collect();
    let locks = RunLocks::acquire(out, &ids, &mut |m| eprintln!("grokscope: {m}"))?;
    // Another process trained these very runs while this one waited: take
    // its result instead of training them again.
    if locks.waited && finish_complete_partials(configs, out)? {
        let done: Vec<PathBuf> = ids.iter().map(|id| out.join(id)).collect();
        if done
            .iter()
            .zip(configs)
            .all(|(d, c)| read_manifest(d).is_ok_and(|m| m.config_hash == c.hash()))
        {
            return Ok(done);
        }
    }
    let partial: Vec<PathBuf> = ids
        .iter()
        .map(|id| out.join(format!("{id}.partial")))
        .collect();
    // A resume point left by a killed run of these configs wins over the
    // start given (an extension killed mid-way resumes too).
    let resume = find_resume(configs, &partial);
    let resuming = resume.is_some();
    let start = resume.or(start);
    let (git_commit, git_dirty) = git_state();
    let batch_seeds: Vec<u64> = configs.iter().map(|c| c.seed).collect();
    let mut manifests = Vec::new();
    for ((c, id), dir) in configs.iter().zip(&ids).zip(&partial) {
        if resuming {
            if let Ok(m) = read_manifest(dir) {
                manifests.push(m);
                continue;
            }
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(io(dir))?;
        }
        std::fs::create_dir_all(dir.join("checkpoints")).map_err(io(dir))?;
        let op =
            crate::groups::Operation::parse(&c.op).map_err(crate::config::ConfigError::from)?;
        let ds =
            crate::data::Dataset::for_config(&op, c).map_err(crate::config::ConfigError::from)?;
        let m = Manifest {
            format_version: FORMAT_VERSION,
            run_id: id.clone(),
            status: Status::Running,
            git_commit: git_commit.clone(),
            git_dirty,
            config_hash: c.hash(),
            dataset_hash: ds.hash(),
            crate_version: env!("CARGO_PKG_VERSION").into(),
            libtorch_version: LIBTORCH_VERSION.into(),
            threads,
            kernels: crate::kernels::pin().clone(),
            host: host_name(),
            step_revision: super::fused::STEP_REVISION,
            batch_seeds: batch_seeds.clone(),
            command_line: command_line.to_vec(),
            start_time: now(),
            end_time: None,
            summary: None,
        };
        write_json(&dir.join("config.json"), c)?;
        write_json(&dir.join("manifest.json"), &m)?;
        manifests.push(m);
    }
    let result = train_from(
        configs,
        threads,
        &mut RunObserver {
            dirs: &partial,
            inner: observer,
            last_beat: None,
        },
        start,
    );
    let failed = |id: &String| out.join(format!("{id}.failed"));
    let trained = match result {
        Ok(t) => t,
        Err(e) => {
            // A partial directory with a resume point is kept for the next
            // try; `sweep --status` reads the failure from `<run-id>.failed`.
            for (dir, id) in partial.iter().zip(&ids) {
                let _ = std::fs::remove_file(dir.join("heartbeat"));
                if resume_epochs(dir).is_empty() {
                    let _ = std::fs::remove_dir_all(dir);
                }
                if !matches!(e, TrainError::Interrupted) {
                    let _ = crate::store::write_atomic(&failed(id), format!("{e}\n").as_bytes());
                }
            }
            return Err(e);
        }
    };
    for id in &ids {
        let _ = std::fs::remove_file(failed(id));
    }
    let mut finals = Vec::new();
    for (s, ((dir, mut m), rows)) in partial
        .iter()
        .zip(manifests)
        .zip(&trained.metrics)
        .enumerate()
    {
        let mut df = metrics_frame(rows).map_err(|e| TrainError::Io {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        write_parquet(&mut df, &dir.join("metrics.parquet"))?;
        if let Some(state) = &trained.finals[s] {
            write_state(
                state,
                Some(&dir.join("final.safetensors")),
                &dir.join("optimizer.safetensors"),
            )?;
        }
        m.status = Status::Complete;
        m.end_time = Some(now());
        m.summary = Some(trained.summaries[s].clone());
        write_json(&dir.join("manifest.json"), &m)?;
    }
    // Every manifest of the batch says complete before any run is moved into
    // place: a kill between the two steps leaves a batch that
    // `finish_complete_partials` moves into place instead of training again.
    for (dir, id) in partial.iter().zip(&ids) {
        finals.push(move_into_place(dir, &out.join(id))?);
    }
    Ok(finals)
}

/// Maps an I/O error on `p` to a [`TrainError::Io`] naming the path.
fn io(p: &Path) -> impl Fn(std::io::Error) -> TrainError {
    let p = p.display().to_string();
    move |e| TrainError::Io {
        path: p.clone(),
        reason: e.to_string(),
    }
}

/// Moves a partial directory whose manifest says complete to `target`,
/// dropping its resume points and heartbeat.
fn move_into_place(dir: &Path, target: &Path) -> Result<PathBuf, TrainError> {
    let resume = dir.join("resume");
    if resume.exists() {
        std::fs::remove_dir_all(&resume).map_err(io(&resume))?;
    }
    let _ = std::fs::remove_file(dir.join("heartbeat"));
    if target.exists() {
        std::fs::remove_dir_all(target).map_err(io(target))?;
    }
    std::fs::rename(dir, target).map_err(io(target))?;
    Ok(target.to_path_buf())
}

/// Finishes a batch that was killed after every run of it was complete but
/// before all were moved into place: when each config of `configs` is either
/// complete in `out` or has a `.partial` directory whose manifest says
/// complete, the partial ones are moved into place. Returns whether the whole
/// batch is now complete.
///
/// # Errors
/// A directory that cannot be moved.
pub fn finish_complete_partials(configs: &[RunConfig], out: &Path) -> Result<bool, TrainError> {
    let mut pending = Vec::new();
    for c in configs {
        let id = c.run_id();
        let target = out.join(&id);
        if is_complete(&target) {
            continue;
        }
        let dir = out.join(format!("{id}.partial"));
        if !is_complete(&dir) {
            return Ok(false);
        }
        pending.push((dir, target));
    }
    for (dir, target) in pending {
        move_into_place(&dir, &target)?;
    }
    Ok(true)
}
