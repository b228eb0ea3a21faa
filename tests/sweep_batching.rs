//! A sweep's results do not depend on its batching: every group of order 8
//! and 12, two seeds, trained with the plan's batches (all runs of an order
//! in one batched model) and with one run per job, aggregate to the same
//! tables, column for column, apart from the columns that record timing,
//! the machine and the batch itself.
#![cfg(feature = "torch")]

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
