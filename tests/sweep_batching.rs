//! A sweep's results do not depend on its batching: every group of order 8
//! and 12, two seeds, trained with the plan's batches (all runs of an order
//! in one batched model) and with one run per job, aggregate to the same
//! tables, column for column, apart from the columns that record timing,
//! the machine and the batch itself.
#![cfg(feature = "torch")]

use grokscope::results::rows::CurveRow;
use grokscope::train::sweep::{plan, run_sweep_with, Silent, SweepOptions, SweepSpec};
use polars::prelude::*;
use std::path::{Path, PathBuf};

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("grokscope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const SPEC: &str = r#"
description = "every group of order 8 and 12, batched or not"
ops = ["smallgroup:8,*", "smallgroup:12,*"]
seeds = [0, 1]
[set]
epochs = 300
d_model = 32
d_mlp = 64
checkpoint_every = 0
threads = 1
"#;

/// Columns that record when, where and in which batch a run trained.
const SCHEDULING: [&str; 4] = ["wall_seconds", "host", "batch_seeds", "end_time"];

fn tables(dir: &Path) -> Vec<(String, DataFrame)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let df = ParquetReader::new(std::fs::File::open(&p).unwrap())
                .finish()
                .unwrap();
            let keep: Vec<PlSmallStr> = df
                .get_column_names()
                .into_iter()
                .filter(|c| !SCHEDULING.contains(&c.as_str()))
                .cloned()
                .collect();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            (name, df.select(keep).unwrap())
        })
        .collect()
}

#[test]
fn a_mixed_order_sweep_gives_the_same_results_batched_or_not() {
    let dir = tempdir("sweep-batching");
    let spec = SweepSpec::parse(SPEC, "inline").unwrap();
    // The plan batches each order's 10 runs (5 groups x 2 seeds) together.
    let sizes: Vec<usize> = plan(&spec)
        .unwrap()
        .iter()
        .map(|b| b.configs.len())
        .collect();
    assert!(
        sizes.iter().any(|&s| s > 2),
        "the plan batches across operations: {sizes:?}"
    );
    let mut got = Vec::new();
    for no_batching in [false, true] {
        let name = if no_batching { "single" } else { "batched" };
        let opts = SweepOptions {
            jobs: 1,
            no_batching,
            ..SweepOptions::default()
        };
        let out = run_sweep_with(
            &spec,
            &dir.join(format!("runs-{name}")),
            &dir.join(format!("results-{name}")),
            opts,
            &[],
            &Silent,
        )
        .unwrap();
        assert_eq!(out.trained, 20);
        got.push(tables(&dir.join(format!("results-{name}"))));
    }
    assert!(!got[0].is_empty());
    assert_eq!(got[0].len(), got[1].len());
    for ((name, a), (_, b)) in got[0].iter().zip(&got[1]) {
        assert!(a.height() > 0, "{name} is empty");
        assert!(
            a.equals_missing(b),
            "{name} differs batched and not:\n{a}\n{b}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The rows of `df` whose run id is in `ids`, in `ids`' order.
/// A sweep's stored results table.
fn results_table(results: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(results.join("results.parquet")).unwrap())
        .finish()
        .unwrap()
}

/// A string column's cells.
fn strings(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

/// A sweep of tiny models (one thread, no checkpoints): `head` (its ops,
/// seeds and sweep keys) trained for `epochs`.
fn tiny(head: &str, epochs: u32) -> SweepSpec {
    let set = "d_model = 32\nd_mlp = 64\ncheckpoint_every = 0\nthreads = 1";
    SweepSpec::parse(
        &format!("{head}\n[set]\nepochs = {epochs}\n{set}\n"),
        "tiny",
    )
    .unwrap()
}

fn rows_of(df: &DataFrame, ids: &[String]) -> DataFrame {
    let frames: Vec<DataFrame> = ids
        .iter()
        .map(|id| {
            let mask = df
                .column("run_id")
                .unwrap()
                .str()
                .unwrap()
                .equal(id.as_str());
            df.filter(&mask).unwrap()
        })
        .collect();
    let mut out = frames[0].clone();
    for f in &frames[1..] {
        out.vstack_mut(f).unwrap();
    }
    out
}

#[test]
fn a_lost_runs_directory_keeps_the_committed_runs() {
    use grokscope::train::sweep::{status, RunState};
    let dir = tempdir("sweep-committed");
    let results = dir.join("results");
    let opts = SweepOptions {
        jobs: 1,
        ..SweepOptions::default()
    };
    let first = tiny("ops = [\"smallgroup:6,*\"]\nseeds = [0]", 60);
    let out = run_sweep_with(&first, &dir.join("runs-a"), &results, opts, &[], &Silent).unwrap();
    assert_eq!(out.trained, 2);
    // One run analysed before aggregating again: its row gains its
    // embedding's dominant irrep, the other's stays null (typed, not Int64).
    let ids: Vec<String> = plan(&first)
        .unwrap()
        .iter()
        .flat_map(|b| b.configs.iter().map(|c| c.run_id()))
        .collect();
    let analysis = grokscope::analyze::analyze_run(&dir.join("runs-a").join(&ids[0])).unwrap();
    grokscope::train::sweep::aggregate_sweep(&first, &dir.join("runs-a"), &results).unwrap();
    let stored = results_table(&results);
    assert_eq!(
        strings(&stored, "dominant_irrep"),
        [Some(analysis.dominant_irrep.clone()), None]
    );
    let degree = stored
        .column("dominant_degree")
        .unwrap()
        .i64()
        .unwrap()
        .get(0);
    assert_eq!(degree, Some(analysis.dominant_kind.0 as i64));
    assert!(stored.column("dominant_faithful").unwrap().bool().is_ok());
    // The other run analysed, and the rows told without aggregating again
    // (what `grokscope analyze --sweep` ends with): it gains its irrep,
    // the first keeps its own although its analysis is gone, and no other
    // column changes.
    std::fs::remove_dir_all(dir.join("runs-a").join(&ids[0]).join("analysis")).unwrap();
    let second = grokscope::analyze::analyze_run(&dir.join("runs-a").join(&ids[1])).unwrap();
    grokscope::train::sweep::record_analysis(&results, &dir.join("runs-a")).unwrap();
    let told = results_table(&results);
    assert_eq!(
        strings(&told, "dominant_irrep"),
        [
            Some(analysis.dominant_irrep.clone()),
            Some(second.dominant_irrep.clone())
        ]
    );
    let shares: Vec<Option<f64>> = told
        .column("dominant_share")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(
        shares,
        [Some(analysis.dominant_share), Some(second.dominant_share)]
    );
    let analysed: Vec<&str> = [
        "dominant_irrep",
        "dominant_degree",
        "dominant_faithful",
        "dominant_share",
    ]
    .to_vec();
    assert_eq!(told.get_column_names(), stored.get_column_names());
    for name in stored.get_column_names() {
        if !analysed.contains(&name.as_str()) {
            assert!(
                told.column(name)
                    .unwrap()
                    .equals_missing(stored.column(name).unwrap()),
                "{name} changed"
            );
        }
    }
    let csv = std::fs::read_to_string(results.join("results.csv")).unwrap();
    assert!(csv.contains(&second.dominant_irrep), "{csv}");
    let before = tables(&results);
    let committed_ids: Vec<String> = plan(&first)
        .unwrap()
        .iter()
        .flat_map(|b| b.configs.iter().map(|c| c.run_id()))
        .collect();
    // The runs directory is lost; the committed results remain. The sweep
    // grows: order 4 before order 6, and a second seed.
    std::fs::remove_dir_all(dir.join("runs-a")).unwrap();
    let grown = tiny(
        "ops = [\"smallgroup:4,*\", \"smallgroup:6,*\"]\nseeds = [0, 1]",
        60,
    );
    let runs = dir.join("runs-b");
    let states = status(&grown, &runs, &results).unwrap();
    let committed: Vec<&String> = states
        .iter()
        .filter(|(_, s, _)| *s == RunState::Committed)
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(committed, committed_ids.iter().collect::<Vec<_>>());
    // Order 4's 4 runs and order 6's seed 1 are trained; seed 0 is not.
    let out = run_sweep_with(&grown, &runs, &results, opts, &[], &Silent).unwrap();
    assert_eq!((out.trained, out.skipped), (6, 2));
    assert!(out.missing.is_empty());
    for id in &committed_ids {
        assert!(!runs.join(id).exists(), "{id} was trained again");
    }
    let after = tables(&results);
    // Every row names the CPU and the step revision that trained it.
    let stored = results_table(&results);
    let cpu = &grokscope::kernels::pin().cpu;
    let cpus = strings(&stored, "cpu");
    assert!(cpus.iter().all(|c| c.as_ref() == Some(cpu)), "{cpus:?}");
    let revisions = stored
        .column("step_revision")
        .unwrap()
        .i64()
        .unwrap()
        .clone();
    let want = i64::from(grokscope::train::fused::STEP_REVISION);
    assert!(revisions.iter().all(|r| r == Some(want)), "{revisions:?}");
    let order: Vec<String> = plan(&grown)
        .unwrap()
        .iter()
        .flat_map(|b| b.configs.iter().map(|c| c.run_id()))
        .collect();
    for ((name, old), (_, new)) in before.iter().zip(&after) {
        if name == "groups.parquet" {
            assert_eq!(new.height(), 4, "{new}");
            continue;
        }
        // The committed rows and curves, unchanged but for the scheduling
        // columns `tables` drops (none of which may differ here either).
        let kept = rows_of(new, &committed_ids);
        assert!(kept.equals_missing(old), "{name}:\n{kept}\n{old}");
        // Every run of the grown sweep, in its plan's order.
        let ids: Vec<String> = new
            .column("run_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(String::from)
            .collect();
        let mut distinct = ids.clone();
        distinct.dedup();
        assert_eq!(distinct, order, "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A sweep's curves table, read as the report reads it.
fn curve_rows(results: &Path) -> Vec<CurveRow> {
    let df = ParquetReader::new(std::fs::File::open(results.join("curves.parquet")).unwrap())
        .finish()
        .unwrap();
    CurveRow::read_all(&df).unwrap()
}

#[test]
fn curves_single_rounds_the_state_metrics_and_keeps_loss_and_accuracy() {
    let dir = tempdir("sweep-single");
    let exact = tiny("ops = [\"smallgroup:6,1\"]\nseeds = [0]", 40);
    let single = tiny(
        "ops = [\"smallgroup:6,1\"]\nseeds = [0]\ncurves_single = true",
        40,
    );
    let runs = dir.join("runs");
    let opts = SweepOptions {
        jobs: 1,
        ..SweepOptions::default()
    };
    run_sweep_with(&exact, &runs, &dir.join("exact"), opts, &[], &Silent).unwrap();
    let rounded = dir.join("single");
    grokscope::train::sweep::aggregate_sweep(&single, &runs, &rounded).unwrap();
    let full = curve_rows(&dir.join("exact"));
    let kept = curve_rows(&rounded);
    assert_eq!(full.len(), kept.len());
    let mut changed = 0;
    for (a, b) in full.iter().zip(&kept) {
        let key = |c: &CurveRow| {
            (
                c.run_id.clone(),
                c.row.epoch,
                c.row.split.clone(),
                c.row.metric.clone(),
            )
        };
        assert_eq!(key(a), key(b));
        let (x, y) = (a.row.value, b.row.value);
        if a.row.metric == "loss" || a.row.metric == "accuracy" {
            assert_eq!(x.to_bits(), y.to_bits(), "{a:?} was rounded");
        } else {
            assert_eq!(y, f64::from(x as f32), "{a:?} -> {b:?}");
            changed += usize::from(x != y);
        }
    }
    assert!(changed > 0, "no value needed rounding");
    // The runs directory lost: the committed rows, aggregated again, keep
    // their values (rounding a rounded value changes nothing).
    std::fs::remove_dir_all(&runs).unwrap();
    std::fs::create_dir_all(&runs).unwrap();
    grokscope::train::sweep::aggregate_sweep(&single, &runs, &rounded).unwrap();
    assert_eq!(curve_rows(&rounded), kept);
    std::fs::remove_dir_all(&dir).unwrap();
}
