//! Run directories: `runs/<run-id>/` with `config.json`, `manifest.json`,
//! `metrics.parquet`, `final.safetensors` and `checkpoints/`.
//!
//! A run is built in `runs/<run-id>.partial/` and renamed into place only
//! when every file is written, and every file is written to a temporary name
//! and renamed, so a killed run never leaves anything that looks complete.
//! The manifest records provenance: git commit and dirty flag, config and
//! dataset hashes, crate and libtorch versions, threads, the command line,
//! start and end times, status, and the [`Summary`].

use super::{train, MetricRow, Observer, Progress, Summary, TrainError};
use crate::config::RunConfig;
use crate::model::Transformer;
use crate::store::{read_parquet, write_json, write_parquet};
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of the run-directory layout; readers refuse other versions.
pub const FORMAT_VERSION: u32 = 1;

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
    serde_json::from_str(&text).map_err(|e| TrainError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Metrics as a long-format table: epoch, split, metric, value.
///
/// # Errors
/// Polars errors.
pub fn metrics_frame(rows: &[MetricRow]) -> PolarsResult<DataFrame> {
    df!(
        "epoch" => rows.iter().map(|r| r.epoch).collect::<Vec<u32>>(),
        "split" => rows.iter().map(|r| r.split).collect::<Vec<&str>>(),
        "metric" => rows.iter().map(|r| r.metric).collect::<Vec<&str>>(),
        "value" => rows.iter().map(|r| r.value).collect::<Vec<f64>>(),
    )
}

/// Reads a run's `metrics.parquet`.
///
/// # Errors
/// A missing or unreadable file.
pub fn read_metrics(dir: &Path) -> Result<DataFrame, TrainError> {
    Ok(read_parquet(&dir.join("metrics.parquet"))?)
}

/// Saves checkpoints into each model's partial run directory.
struct RunObserver<'a> {
    dirs: &'a [PathBuf],
    inner: &'a mut dyn Observer,
}

impl Observer for RunObserver<'_> {
    fn progress(&mut self, p: &Progress) -> bool {
        self.inner.progress(p)
    }
    fn checkpoint(&mut self, epoch: usize, model: &Transformer) -> Result<(), TrainError> {
        for (s, dir) in self.dirs.iter().enumerate() {
            let path = dir
                .join("checkpoints")
                .join(format!("epoch_{epoch:06}.safetensors"));
            model.save_model(s, &path)?;
        }
        self.inner.checkpoint(epoch, model)
    }
}

/// Trains `configs` (differing only in seed) as one batch and writes one
/// complete run directory per config under `out`; returns them in order.
/// An existing run directory with the same id is replaced.
///
/// # Errors
/// Invalid configs, training or I/O errors. Partial directories of a
/// failed run are removed.
pub fn train_runs(
    configs: &[RunConfig],
    out: &Path,
    threads: usize,
    command_line: &[String],
    observer: &mut dyn Observer,
) -> Result<Vec<PathBuf>, TrainError> {
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |e: std::io::Error| TrainError::Io {
            path: p.clone(),
            reason: e.to_string(),
        }
    };
    for c in configs {
        c.validate()?;
    }
    std::fs::create_dir_all(out).map_err(io(out))?;
    let ids: Vec<String> = configs.iter().map(|c| c.run_id()).collect();
    let partial: Vec<PathBuf> = ids
        .iter()
        .map(|id| out.join(format!("{id}.partial")))
        .collect();
    let (git_commit, git_dirty) = git_state();
    let batch_seeds: Vec<u64> = configs.iter().map(|c| c.seed).collect();
    let mut manifests = Vec::new();
    for ((c, id), dir) in configs.iter().zip(&ids).zip(&partial) {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(io(dir))?;
        }
        std::fs::create_dir_all(dir.join("checkpoints")).map_err(io(dir))?;
        let op =
            crate::groups::Operation::parse(&c.op).map_err(crate::config::ConfigError::from)?;
        let ds = crate::data::Dataset::new(&op, c.train_fraction, c.seed)
            .map_err(crate::config::ConfigError::from)?;
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
    let result = train(
        configs,
        threads,
        &mut RunObserver {
            dirs: &partial,
            inner: observer,
        },
    );
    let trained = match result {
        Ok(t) => t,
        Err(e) => {
            for dir in &partial {
                let _ = std::fs::remove_dir_all(dir);
            }
            return Err(e);
        }
    };
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
        trained
            .model
            .save_model(s, &dir.join("final.safetensors"))?;
        m.status = Status::Complete;
        m.end_time = Some(now());
        m.summary = Some(trained.summaries[s].clone());
        write_json(&dir.join("manifest.json"), &m)?;
        let target = out.join(&m.run_id);
        if target.exists() {
            std::fs::remove_dir_all(&target).map_err(io(&target))?;
        }
        std::fs::rename(dir, &target).map_err(io(&target))?;
        finals.push(target);
    }
    Ok(finals)
}
