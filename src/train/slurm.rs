//! Sweeps as Slurm job arrays: one array task per shard of the sweep
//! (`grokscope sweep X.toml --shard i/N`), and a job that runs when the
//! array has ended (`--dependency=afterany`) to aggregate and analyse
//! whatever completed. grokscope writes the batch scripts and calls the
//! real `sbatch` and `squeue`; it schedules nothing itself.
//!
//! Re-submitting a campaign skips complete runs and resumes killed ones
//! from their last checkpoint, because every shard is a resumable sweep.

use super::sweep::{plan, SweepSpec};
use super::TrainError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What `--slurm` asks of the cluster.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    /// `--partition`, if any.
    pub partition: Option<String>,
    /// `--time` per task (Slurm's format, e.g. `2:00:00`), if any.
    pub time: Option<String>,
    /// CPUs per task; each task runs this many 1-thread training jobs.
    pub cpus_per_task: usize,
    /// At most this many tasks at once (`--array=...%K`).
    pub max_parallel: Option<usize>,
    /// Number of shards (array tasks); default one per batch, at most 64.
    pub shards: Option<usize>,
    /// Analyse the sweep after aggregating.
    pub analyze: bool,
}

/// The two batch scripts of a campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct SlurmScripts {
    /// The job array: one task per shard.
    pub array: String,
    /// The job that aggregates (and analyses) when the array has ended.
    pub aggregate: String,
    /// Number of shards.
    pub shards: usize,
}

/// `<results>/slurm/jobs.json`: the job ids of the last submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submitted {
    /// The array's job id.
    pub array: String,
    /// The aggregating job's id.
    pub aggregate: String,
    /// Shards (array tasks).
    pub shards: usize,
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// The directory a campaign's scripts, logs and job ids go to.
pub fn slurm_dir(results_dir: &Path) -> PathBuf {
    results_dir.join("slurm")
}

/// Writes nothing: the scripts for the sweep `spec` (read from
/// `spec_path`), its runs in `runs`, run by the grokscope binary `exe`.
/// Every path is made absolute, since tasks start elsewhere.
///
/// # Errors
/// A bad spec, or paths that cannot be resolved.
pub fn scripts(
    spec_path: &Path,
    spec: &SweepSpec,
    runs: &Path,
    results_dir: &Path,
    exe: &Path,
    o: &SlurmOptions,
) -> Result<SlurmScripts, TrainError> {
    let abs = |p: &Path| -> Result<PathBuf, TrainError> {
        std::path::absolute(p).map_err(|e| TrainError::Io {
            path: p.display().to_string(),
            reason: e.to_string(),
        })
    };
    let batches = plan(spec)?.len();
    let limit = batches.min(crate::limits::MAX_SHARDS);
    if let Some(n) = o.shards.filter(|&n| n == 0 || n > limit) {
        return Err(TrainError::Config(crate::config::ConfigError::Invalid(format!(
            "--shards {n}: between 1 and {limit} (the sweep has {batches} batched jobs, and an array holds at most {} tasks)",
            crate::limits::MAX_SHARDS
        ))));
    }
    let shards = o.shards.unwrap_or(batches.min(64)).max(1);
    let (spec_path, runs, results, exe) =
        (abs(spec_path)?, abs(runs)?, abs(results_dir)?, abs(exe)?);
    let logs = slurm_dir(&results);
    let name = spec_path
        .file_stem()
        .map_or("sweep".into(), |s| s.to_string_lossy().to_string());
    let mut header = String::from("#!/bin/bash\n");
    let mut opt = |k: &str, v: String| header.push_str(&format!("#SBATCH --{k}={v}\n"));
    if let Some(p) = &o.partition {
        opt("partition", p.clone());
    }
    if let Some(t) = &o.time {
        opt("time", t.clone());
    }
    let common = header;
    let cpus = o.cpus_per_task.max(1);
    let array = format!(
        "{common}#SBATCH --job-name=grokscope-{name}\n#SBATCH --array=0-{}{}\n#SBATCH --cpus-per-task={cpus}\n#SBATCH --output={}/task-%A_%a.out\n\
         # One shard of the sweep per task; a shard skips complete runs and resumes killed ones.\n\
         set -euo pipefail\nexport GROKSCOPE_RUNS={}\n\
         exec {} sweep {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{shards}\" --jobs {cpus} --runs {}\n",
        shards - 1,
        o.max_parallel.map_or(String::new(), |k| format!("%{k}")),
        logs.display(),
        quote(&runs),
        quote(&exe),
        quote(&spec_path),
        quote(&runs),
    );
    let analyze = if o.analyze {
        format!(
            "{} analyze --sweep {} --runs {}\n",
            quote(&exe),
            quote(&results),
            quote(&runs)
        )
    } else {
        String::new()
    };
    let aggregate = format!(
        "{common}#SBATCH --job-name=grokscope-{name}-aggregate\n#SBATCH --cpus-per-task=1\n#SBATCH --output={}/aggregate-%j.out\n\
         # Runs when the array has ended, whatever its tasks' exit codes: aggregates what completed\n\
         # and lists what did not, with the command that resubmits it.\n\
         set -euo pipefail\nexport GROKSCOPE_RUNS={}\n\
         {} sweep {} --aggregate --runs {}\n{analyze}",
        logs.display(),
        quote(&runs),
        quote(&exe),
        quote(&spec_path),
        quote(&runs),
    );
    Ok(SlurmScripts {
        array,
        aggregate,
        shards,
    })
}

/// How long `sbatch` and `squeue` may take to answer.
pub const SLURM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs a Slurm command and returns its output, or why it gave none: not
/// installed, or no answer within [`SLURM_TIMEOUT`] (the command is killed).
fn slurm_command(cmd: &mut std::process::Command) -> Result<std::process::Output, String> {
    use std::process::Stdio;
    let name = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "{name}: {}; is Slurm installed and on PATH?",
                crate::store::io_reason(&e)
            )
        })?;
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > SLURM_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{name} did not answer within {} s; is the Slurm controller up (scontrol ping)?",
                    SLURM_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(e) => return Err(format!("{name}: {}", crate::store::io_reason(&e))),
        }
    }
    child
        .wait_with_output()
        .map_err(|e| format!("{name}: {}", crate::store::io_reason(&e)))
}

fn sbatch(args: &[String], script: &Path) -> Result<String, TrainError> {
    let err = |reason: String| TrainError::Io {
        path: "sbatch".into(),
        reason,
    };
    let out = slurm_command(
        std::process::Command::new("sbatch")
            .arg("--parsable")
            .args(args)
            .arg(script),
    )
    .map_err(err)?;
    if !out.status.success() {
        return Err(err(String::from_utf8_lossy(&out.stderr)
            .trim()
            .replace('\n', " ")));
    }
    // --parsable prints "jobid" or "jobid;cluster".
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text.trim().split(';').next().unwrap_or("").trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(format!(
            "printed {:?} where a job id was expected; check that sbatch is Slurm's",
            text.trim()
        )));
    }
    Ok(id.to_string())
}

/// Writes the scripts into `<results>/slurm/`, submits the array and the
/// dependent aggregating job with `sbatch`, and records their ids.
///
/// # Errors
/// I/O errors or an `sbatch` that fails (its message is passed on).
pub fn submit(results_dir: &Path, s: &SlurmScripts) -> Result<Submitted, TrainError> {
    let dir = slurm_dir(results_dir);
    std::fs::create_dir_all(&dir).map_err(|e| TrainError::Io {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    let (array_sh, agg_sh) = (dir.join("array.sh"), dir.join("aggregate.sh"));
    crate::store::write_atomic(&array_sh, s.array.as_bytes())?;
    crate::store::write_atomic(&agg_sh, s.aggregate.as_bytes())?;
    // Scripts stay only beside a submission that happened.
    let forget = || {
        let _ = std::fs::remove_file(&array_sh);
        let _ = std::fs::remove_file(&agg_sh);
    };
    let array = sbatch(&[], &array_sh).inspect_err(|_| forget())?;
    let aggregate = match sbatch(&[format!("--dependency=afterany:{array}")], &agg_sh) {
        Ok(id) => id,
        Err(e) => {
            // The array is queued: say so, so it can be cancelled or kept.
            forget();
            return Err(TrainError::Io {
                path: "sbatch".into(),
                reason: format!("{e}; the array (job {array}) was submitted: cancel it with scancel {array}, or aggregate by hand when it ends"),
            });
        }
    };
    let sub = Submitted {
        array,
        aggregate,
        shards: s.shards,
    };
    crate::store::write_json(&dir.join("jobs.json"), &sub)?;
    Ok(sub)
}

/// The last submission of a campaign, if any.
pub fn submitted(results_dir: &Path) -> Option<Submitted> {
    let text = std::fs::read_to_string(slurm_dir(results_dir).join("jobs.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// `squeue`'s lines for a submission's jobs (empty when they have all
/// left the queue), or why it could not be asked.
pub fn queue(sub: &Submitted) -> Result<Vec<String>, String> {
    let out = slurm_command(
        std::process::Command::new("squeue")
            .args(["-h", "-o", "%i %j %T %M %R", "-j"])
            .arg(format!("{},{}", sub.array, sub.aggregate)),
    )?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr)
            .trim()
            .replace('\n', " ");
        // Jobs that have left the queue make squeue say so: nothing queued.
        // Anything else (no controller) is not an answer.
        if why.contains("Invalid job id") {
            return Ok(Vec::new());
        }
        return Err(format!("squeue failed: {why}"));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}
