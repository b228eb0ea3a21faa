//! One-line studies for notebooks: a sweep written as method calls instead
//! of a TOML file, trained, aggregated and analysed by the same code as
//! `grokscope sweep` and `grokscope analyze` ([`run_sweep`],
//! [`analyze_sweep`]), so a re-run skips complete runs exactly as a sweep
//! does.
//!
//! ```no_run
//! use grokscope::study::Study;
//! let study = Study::new(["add:23", "s4"])
//!     .seeds(0..3)
//!     .set("epochs", 1500)
//!     .dir("../scratch/notebooks")
//!     .train()
//!     .unwrap();
//! let table = study.table(); // an HTML table in a notebook
//! ```

use crate::analyze::{analyze_sweep, AnalyzeError};
use crate::notebook::{Figure, Table};
use crate::report::figures;
use crate::report::outcome::{Grok, RunOutcome};
use crate::report::{ReportError, SweepData};
use crate::train::sweep::{run_sweep, SweepObserver, SweepSpec};
use crate::train::TrainError;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What can go wrong running a study.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// A bad setting, or training failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The analysis failed.
    #[error(transparent)]
    Analyze(#[from] AnalyzeError),
    /// The stored results could not be read.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// A run's weights could not be read back.
    #[error(transparent)]
    Interop(#[from] crate::interop::InteropError),
    /// [`Training::stop`] stopped the training.
    #[error("training stopped as asked; the runs keep their checkpoints: train or launch the study again to resume")]
    Stopped,
    /// grokscope panicked (a bug: please report it with this message).
    #[error("grokscope panicked: {0}")]
    Panicked(String),
    /// The training failed (its error, again for a later `wait`), or its
    /// thread could not start.
    #[error("{0}")]
    Failed(String),
}

/// When [`Training::wait`] prints its first progress line, and how often
/// after that: complete lines, which the notebook shows as they come.
const FIRST_LINE_AFTER: Duration = Duration::from_secs(2);
const LINE_EVERY: Duration = Duration::from_secs(10);

/// One job's progress: its budget, the epoch it started from (a resumed or
/// extended job starts past 0), the epoch it reached, and whether it ended.
#[derive(Clone, Copy)]
struct JobProgress {
    budget: usize,
    first: Option<usize>,
    epoch: usize,
    finished: bool,
}

#[derive(Default)]
struct ProgressState {
    jobs: Vec<JobProgress>,
    started: Option<Instant>,
}

impl ProgressState {
    /// `jobs done/total · epochs done/planned · rate · time left`.
    fn line(&self) -> String {
        if self.started.is_none() {
            return "training: starting".into();
        }
        if self.jobs.is_empty() {
            return "training: nothing to train (every run is already stored)".into();
        }
        let done = self.jobs.iter().filter(|j| j.finished).count();
        let (mut trained, mut planned) = (0, 0);
        for j in &self.jobs {
            let start = j.first.unwrap_or(0);
            // A job that stopped once grokked planned only what it trained.
            let end = if j.finished { j.epoch } else { j.budget };
            trained += j.epoch.saturating_sub(start);
            planned += end.saturating_sub(start);
        }
        let secs = self.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
        let rate = if secs > 0.0 {
            trained as f64 / secs
        } else {
            0.0
        };
        let left = if rate > 0.0 {
            crate::budget::human_seconds(planned.saturating_sub(trained) as f64 / rate)
        } else {
            "unknown".into()
        };
        format!(
            "training: {done}/{} jobs done, {trained}/{planned} epochs, {rate:.0} epochs/s, at most {left} left",
            self.jobs.len()
        )
    }
}

/// What a training thread and the notebook share: the progress, and the
/// request to stop.
#[derive(Default)]
struct Shared {
    state: Mutex<ProgressState>,
    stop: AtomicBool,
}

impl SweepObserver for Shared {
    fn line(&self, _message: &str) {}
    fn plan(&self, budgets: &[usize]) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        *s = ProgressState {
            jobs: budgets
                .iter()
                .map(|&budget| JobProgress {
                    budget,
                    first: None,
                    epoch: 0,
                    finished: false,
                })
                .collect(),
            started: Some(Instant::now()),
        };
    }
    fn epoch(&self, job: usize, epoch: usize) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(j) = s.jobs.get_mut(job) {
            j.first.get_or_insert(epoch);
            j.epoch = epoch;
        }
    }
    fn finished(&self, job: usize) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(j) = s.jobs.get_mut(job) {
            j.finished = true;
        }
    }
    fn keep_going(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }
}

/// A study training in a background thread ([`Study::launch`]): the cell
/// that launched it has returned, the session keeps working, and
/// [`Self::status`], [`Self::stop`] and [`Self::wait`] reach it. Runs are
/// stored and checkpointed as by [`Study::train`], so a stopped or killed
/// study resumes where its checkpoints are when trained again.
pub struct Training {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<Result<(), StudyError>>>>,
    /// The thread's result once a `wait` collected it: `Ok`, or its error's
    /// message for a later `wait`.
    outcome: Mutex<Option<Result<(), String>>>,
    dir: PathBuf,
    name: String,
}

/// Where a [`Training`] is: its progress line, and whether it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingStatus {
    /// `training: 1/3 jobs done, 2300/9000 epochs, ...`.
    pub line: String,
    /// The training thread has ended (finished, stopped or failed).
    pub ended: bool,
    /// A stop was asked for.
    pub stopping: bool,
}

impl std::fmt::Display for TrainingStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match (self.ended, self.stopping) {
            (true, _) => " (ended: `wait()` gives the results or the error)",
            (false, true) => " (stopping at the next evaluation)",
            (false, false) => "",
        };
        write!(f, "{}{state}", self.line)
    }
}

impl TrainingStatus {
    /// Called by the evcxr kernel when a cell ends with a status.
    pub fn evcxr_display(&self) {
        let text = self.to_string();
        crate::notebook::emit_text(&text);
    }
}

impl Training {
    /// The progress so far (no waiting).
    pub fn status(&self) -> TrainingStatus {
        let line = self
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .line();
        TrainingStatus {
            line,
            ended: self.is_finished(),
            stopping: self.shared.stop.load(Ordering::Relaxed),
        }
    }
    /// Whether the training thread has ended.
    pub fn is_finished(&self) -> bool {
        self.thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_none_or(JoinHandle::is_finished)
    }
    /// Asks the training to stop at its next evaluation; returns at once.
    /// The runs keep their checkpoints; [`Self::wait`] then reports the
    /// stop, and training the study again resumes them.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
    /// Waits for the training to end, printing a progress line now and then
    /// (not when `GROKSCOPE_QUIET` is set, as `scripts/run-notebooks`
    /// does), and loads the results. Interrupting the kernel while it waits
    /// ends the session (evcxr kills its process); to keep the session,
    /// wait in slices with [`Self::wait_for`] (or poll [`Self::status`])
    /// and [`Self::stop`] when needed.
    ///
    /// # Errors
    /// The training's error, [`StudyError::Stopped`] after [`Self::stop`],
    /// or unreadable results.
    pub fn wait(&self) -> Result<TrainedStudy, StudyError> {
        self.watch(None);
        let taken = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let mut outcome = self.outcome.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(thread) = taken {
            let result = thread.join().unwrap_or_else(|payload| {
                Err(StudyError::Panicked(crate::notebook::panic_text(&*payload)))
            });
            *outcome = Some(result.as_ref().copied().map_err(ToString::to_string));
            result?;
            if !quiet() {
                println!("{}", self.status().line);
            }
        } else if let Some(Err(e)) = outcome.as_ref() {
            return Err(StudyError::Failed(e.clone()));
        }
        drop(outcome);
        TrainedStudy::load(self.dir.clone(), &self.name)
    }
    /// Waits until the training ends or `seconds` have passed, printing
    /// progress as [`Self::wait`] does, and returns the status. A cell of
    /// `training.wait_for(60.0)` ends on its own within the minute, so the
    /// session never needs an interrupt; [`Self::wait`] loads the results
    /// once the status says it ended. Negative or NaN seconds do not wait.
    pub fn wait_for(&self, seconds: f64) -> TrainingStatus {
        let limit = if seconds > 0.0 {
            Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
        } else {
            Duration::ZERO
        };
        self.watch(Some(limit));
        self.status()
    }
    /// Sleeps until the training thread ends (or `limit` passes), printing
    /// a progress line now and then unless `GROKSCOPE_QUIET` is set.
    fn watch(&self, limit: Option<Duration>) {
        let quiet = quiet();
        let started = Instant::now();
        let mut next_line = FIRST_LINE_AFTER;
        while !self.is_finished() && limit.is_none_or(|l| started.elapsed() < l) {
            std::thread::sleep(Duration::from_millis(100));
            if !quiet && started.elapsed() >= next_line {
                println!("{}", self.status().line);
                next_line = started.elapsed() + LINE_EVERY;
            }
        }
    }
    /// Called by the evcxr kernel when a cell ends with a training: its
    /// status.
    pub fn evcxr_display(&self) {
        self.status().evcxr_display();
    }
}

/// Progress lines are off when `GROKSCOPE_QUIET` is set (as
/// `scripts/run-notebooks` does).
fn quiet() -> bool {
    std::env::var_os("GROKSCOPE_QUIET").is_some()
}

/// `<checkout>/scratch/studies` for the nearest ancestor of the working
/// directory holding `Cargo.toml` and `experiments/` (git ignores
/// `/scratch/` there), else `scratch/studies`.
fn default_dir() -> PathBuf {
    let here = std::env::current_dir().unwrap_or_default();
    here.ancestors()
        .find(|d| d.join("Cargo.toml").is_file() && d.join("experiments").is_dir())
        .map_or_else(
            || PathBuf::from("scratch/studies"),
            |root| root.join("scratch/studies"),
        )
}

/// A study before training: operations, seeds and settings.
#[derive(Debug, Clone)]
pub struct Study {
    name: Option<String>,
    ops: Vec<String>,
    seeds: Vec<u64>,
    set: toml::Table,
    dir: PathBuf,
}

impl Study {
    /// A study of `ops` (catalogue names: `"add:23"`, `"s4"`, ...) with seed
    /// 0, the default settings, and its files under `scratch/studies` of
    /// the grokscope checkout the working directory is in (a notebook's
    /// directory is `notebooks/`), else of the working directory.
    pub fn new<I, S>(ops: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            name: None,
            ops: ops.into_iter().map(Into::into).collect(),
            seeds: vec![0],
            set: toml::Table::new(),
            dir: default_dir(),
        }
    }
    /// The seeds (one run per operation and seed).
    #[must_use]
    pub fn seeds(mut self, seeds: impl IntoIterator<Item = u64>) -> Self {
        self.seeds = seeds.into_iter().collect();
        self
    }
    /// Sets a run configuration key (`"epochs"`, `"lr"`, ...), as a sweep
    /// file's `[set]` table does; a bad key or value is reported by `train`.
    #[must_use]
    pub fn set(mut self, key: &str, value: impl Into<toml::Value>) -> Self {
        self.set.insert(key.to_string(), value.into());
        self
    }
    /// Takes every setting of a sweep file's `[set]` table (its grid,
    /// variants and seeds are not taken): a study of other operations or
    /// seeds at an experiment's settings. Later [`Self::set`] calls
    /// override them.
    ///
    /// # Errors
    /// An unreadable or invalid sweep file.
    pub fn settings_from(mut self, sweep_file: impl AsRef<Path>) -> Result<Self, StudyError> {
        let spec = SweepSpec::from_file(sweep_file.as_ref()).map_err(TrainError::from)?;
        self.set.extend(spec.set);
        Ok(self)
    }
    /// Where runs (`<dir>/runs/`) and results (`<dir>/<name>/`) go; studies
    /// sharing a directory share their runs.
    #[must_use]
    pub fn dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = dir.as_ref().to_path_buf();
        self
    }
    /// The results directory's name (default: the operations and seeds).
    #[must_use]
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    fn results_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            let ops: Vec<String> = self
                .ops
                .iter()
                .map(|o| o.replace([':', '/', ','], "-"))
                .collect();
            format!("study-{}-seeds{}", ops.join("_"), self.seeds.len())
        })
    }

    /// The sweep this study is: the same spec a TOML file would give.
    ///
    /// # Errors
    /// An empty list of operations or seeds.
    pub fn spec(&self) -> Result<SweepSpec, StudyError> {
        let mut t = toml::Table::new();
        t.insert(
            "ops".into(),
            toml::Value::Array(self.ops.iter().cloned().map(Into::into).collect()),
        );
        let seeds: Result<Vec<toml::Value>, _> = self
            .seeds
            .iter()
            .map(|&s| i64::try_from(s).map(toml::Value::Integer))
            .collect();
        let seeds = seeds.map_err(|_| {
            TrainError::from(crate::config::ConfigError::Parse {
                origin: "study".into(),
                reason: "a seed is above 2^63; use smaller seeds".into(),
            })
        })?;
        t.insert("seeds".into(), toml::Value::Array(seeds));
        t.insert("set".into(), toml::Value::Table(self.set.clone()));
        let text =
            toml::to_string(&t).expect("a table of strings, integers and settings serialises");
        Ok(SweepSpec::parse(&text, "study").map_err(TrainError::from)?)
    }

    /// Trains what is missing (complete runs are skipped), aggregates the
    /// results and loads them, printing a progress line now and then:
    /// [`Self::launch`] then [`Training::wait`].
    ///
    /// # Errors
    /// A bad operation, key or value, or a training error.
    pub fn train(self) -> Result<TrainedStudy, StudyError> {
        self.launch()?.wait()
    }

    /// Starts training in a background thread and returns at once: the
    /// notebook stays usable, [`Training::status`] shows the progress,
    /// [`Training::stop`] stops it with the checkpoints kept, and
    /// [`Training::wait`] gives the trained study. A bad operation, key or
    /// value is reported here, before anything trains.
    ///
    /// # Errors
    /// A bad operation, key or value.
    pub fn launch(self) -> Result<Training, StudyError> {
        let spec = self.spec()?;
        crate::sweep::plan(&spec).map_err(TrainError::from)?;
        let name = self.results_name();
        let shared = Arc::new(Shared::default());
        let (runs, results) = (self.dir.join("runs"), self.dir.join(&name));
        let observer = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("grokscope study {name}"))
            .spawn(move || {
                crate::notebook::catch_panic(|| {
                    run_sweep(&spec, &runs, &results, 0, &[], &*observer)
                        .map(drop)
                        .map_err(|e| match e {
                            TrainError::Interrupted => StudyError::Stopped,
                            e => e.into(),
                        })
                })
                .unwrap_or_else(|message| Err(StudyError::Panicked(message)))
            })
            .map_err(|e| StudyError::Failed(format!("could not start a training thread: {e}")))?;
        Ok(Training {
            shared,
            thread: Mutex::new(Some(thread)),
            outcome: Mutex::new(None),
            dir: self.dir,
            name,
        })
    }
}

/// A trained study: its results, and the analysis once [`Self::analyze`]
/// ran.
#[derive(Debug, Clone)]
pub struct TrainedStudy {
    /// Holds `runs/` and the results directory `<data.name>/`.
    dir: PathBuf,
    /// The stored tables, as figures and the paper read them.
    pub data: SweepData,
}

/// A figure's size for `panels` panels side by side.
fn panels_size(panels: usize) -> (u32, u32) {
    (380 * (panels as u32).clamp(2, 4), 420)
}

impl TrainedStudy {
    /// Loads the results `dir/<name>/` of a trained study.
    fn load(dir: PathBuf, name: &str) -> Result<Self, StudyError> {
        let data = SweepData::load(&dir, name)?.ok_or_else(|| {
            ReportError::Data(format!(
                "{} has no results after training",
                dir.join(name).display()
            ))
        })?;
        Ok(Self { dir, data })
    }

    /// One row per run: operation, seed, memorised, first-crossing and
    /// sustained grok epochs (each `not by <last epoch>` when the run did
    /// not grok, `not recorded` when its results cannot say), final
    /// accuracies.
    ///
    /// # Errors
    /// Results without these columns.
    pub fn table(&self) -> Result<Table, StudyError> {
        use polars::prelude::{Column, DataFrame};
        let outcomes = self.data.outcomes()?;
        let stored = |name: &str| crate::report::column(&self.data.results, name).cloned();
        let words = |name: &str, grok: &dyn Fn(&RunOutcome) -> Grok| {
            let cells: Vec<String> = outcomes.iter().map(|o| grok(o).to_string()).collect();
            Column::new(name.into(), cells)
        };
        let memorised: Vec<Option<u32>> = outcomes.iter().map(|o| o.memorised).collect();
        let columns = vec![
            stored("op")?,
            stored("seed")?,
            Column::new("memorised_epoch".into(), memorised),
            words("grokked_epoch", &|o| o.first_crossing),
            words("sustained_grok_epoch", &|o| o.sustained),
            stored("final_train_accuracy")?,
            stored("final_test_accuracy")?,
            stored("final_informative_accuracy")?,
        ];
        let df = DataFrame::new(outcomes.len(), columns)
            .map_err(|e| ReportError::Data(e.to_string()))?;
        Ok(Table::new(&df))
    }

    /// Analyses every run (spectra, Peter–Weyl shares, CKA, progress
    /// measures) as `grokscope analyze --sweep` does, and reloads.
    ///
    /// # Errors
    /// An analysis error.
    pub fn analyze(&mut self) -> Result<(), StudyError> {
        let (results, runs) = (self.results_dir(), self.dir.join("runs"));
        crate::notebook::catch_panic(|| analyze_sweep(&results, &runs, &|_| {}))
            .map_err(StudyError::Panicked)??;
        *self = Self::load(self.dir.clone(), &self.data.name)?;
        Ok(())
    }

    /// Train, test and informative-test accuracy against epoch, one panel
    /// per operation (mean over seeds, min–max band).
    ///
    /// # Errors
    /// Missing curves or a drawing error.
    pub fn curves(&self) -> Result<Figure, StudyError> {
        let panels = self.data.ops()?.len();
        self.data.need(&self.data.curves, "curves")?;
        // One row of panels per four operations, each row as tall as a
        // panel needs.
        let (width, height) = panels_size(panels);
        let rows = figures::curve_grid(panels).0 as u32;
        Ok(Figure::draw((width, height * rows), |a| {
            figures::grokking_curves(&a, &self.data)
        })?)
    }

    /// Peter–Weyl power per irrep of each operation's embedding, trained
    /// against untrained (after [`Self::analyze`]).
    ///
    /// # Errors
    /// Not analysed yet, or a drawing error.
    pub fn peter_weyl(&self) -> Result<Figure, StudyError> {
        let ops = self.data.ops()?;
        self.data.need(&self.data.spectra, "spectra")?;
        let ops: Vec<&str> = ops.iter().map(String::as_str).collect();
        Ok(Figure::draw(panels_size(ops.len()), |a| {
            figures::peter_weyl(&a, &self.data, &ops)
        })?)
    }

    /// Run `i` of the results table (its row order), read back with its
    /// final weights: its activations on any pairs are then
    /// `study.run(i)?.cache(&pairs)?`.
    ///
    /// # Errors
    /// `i` out of range, or the run's weights cannot be read.
    pub fn run(&self, i: usize) -> Result<crate::activations::StoredRun, StudyError> {
        let runs = self.data.runs()?;
        let row = runs.get(i).ok_or_else(|| {
            ReportError::Data(format!(
                "run {i} is out of range: the study has {} runs",
                runs.len()
            ))
        })?;
        Ok(crate::activations::StoredRun::open(
            self.dir.join("runs").join(&row.run_id),
        )?)
    }

    /// The results directory (`<dir>/<name>/`).
    pub fn results_dir(&self) -> PathBuf {
        self.dir.join(&self.data.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_study_is_the_sweep_its_toml_would_be() {
        let spec = Study::new(["add:23", "s4"])
            .seeds(0..3)
            .set("epochs", 1500)
            .set("lr", 0.003)
            .spec()
            .unwrap();
        let file = SweepSpec::parse(
            "ops = [\"add:23\", \"s4\"]\nseeds = [0, 1, 2]\n[set]\nepochs = 1500\nlr = 0.003\n",
            "file",
        )
        .unwrap();
        assert_eq!(spec.ops, file.ops);
        assert_eq!(spec.seeds, file.seeds);
        assert_eq!(spec.set, file.set);
        assert_eq!(
            Study::new(["add:23", "s4"]).seeds(0..3).results_name(),
            "study-add-23_s4-seeds3"
        );
    }

    #[test]
    fn a_bad_key_is_a_one_line_error_before_any_training() {
        let dir = std::env::temp_dir().join(format!("grokscope-study-{}", std::process::id()));
        let e = Study::new(["s3"])
            .set("epoch", 10)
            .dir(&dir)
            .train()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown field `epoch`; did you mean `epochs`?"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        assert!(
            !dir.join("runs").exists()
                || std::fs::read_dir(dir.join("runs"))
                    .unwrap()
                    .next()
                    .is_none()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    #[test]
    fn the_progress_line_counts_jobs_epochs_and_stops() {
        let p = Shared::default();
        assert_eq!(p.state.lock().unwrap().line(), "training: starting");
        p.plan(&[1000, 1000]);
        p.epoch(0, 0);
        p.epoch(0, 400);
        // Job 1 resumed at epoch 600: only what it trains here counts.
        p.epoch(1, 600);
        p.epoch(1, 700);
        let line = p.state.lock().unwrap().line();
        assert!(
            line.starts_with("training: 0/2 jobs done, 500/1400 epochs"),
            "{line}"
        );
        // Job 0 stopped once grokked at 450: its plan shrinks to what it trained.
        p.epoch(0, 450);
        p.finished(0);
        let line = p.state.lock().unwrap().line();
        assert!(
            line.starts_with("training: 1/2 jobs done, 550/850 epochs"),
            "{line}"
        );
        assert!(p.keep_going());
        p.stop.store(true, Ordering::Relaxed);
        assert!(!p.keep_going());
        // A study whose runs are all stored plans no job.
        let stored = Shared::default();
        stored.plan(&[]);
        let line = stored.state.lock().unwrap().line();
        assert!(line.contains("nothing to train"), "{line}");
    }
    #[test]
    fn the_default_directory_is_the_checkouts_ignored_scratch() {
        // Tests run in the package root, a checkout with experiments/.
        let d = default_dir();
        assert!(d.ends_with("scratch/studies"), "{}", d.display());
        assert!(d
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("experiments")
            .is_dir());
    }
}
