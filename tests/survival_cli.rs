//! `grokscope survival` on hand-made results: counts, medians, and when
//! R3's pre-registered rule is final.
//!
//! Whether a verdict is final depends on the runs each sweep file plans;
//! the plan needs no libtorch, so this runs, with the same expectations,
//! in the default build and in `--no-default-features`.

use grokscope::results::record::Record;
use grokscope::results::rows::ResultRow;
use polars::prelude::*;
use std::path::Path;
use std::process::Command;

fn results(dir: &Path, rows: &[(&str, Option<u32>, u32)], spec_seeds: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let runs: Vec<ResultRow> = rows
        .iter()
        .enumerate()
        .map(|(i, &(op, sustained, last))| ResultRow {
            run_id: format!("run{i}"),
            op: op.into(),
            canonical_op: op.into(),
            train_fraction: 0.6,
            sustained_grok_epoch: sustained,
            last_epoch: Some(last),
            epochs: 50_000,
            final_test_accuracy: Some(if sustained.is_some() { 1.0 } else { 0.1 }),
            ..Default::default()
        })
        .collect();
    let mut df = ResultRow::frame(&runs).unwrap();
    grokscope::store::write_parquet(&mut df, &dir.join("results.parquet")).unwrap();
    // Its groups table, as aggregating a sweep writes it.
    grokscope::results::write_groups(&df, dir).unwrap();
    let seeds: Vec<String> = (0..spec_seeds).map(|s| s.to_string()).collect();
    std::fs::write(
        dir.with_extension("toml"),
        format!(
            "ops = [\"alternating:5\"]\nseeds = [{}]\n[set]\ntrain_fraction = 0.6\n",
            seeds.join(", ")
        ),
    )
    .unwrap();
}

fn survival(dir: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_grokscope"))
        .arg("survival")
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_verdict_is_final_only_when_missing_runs_cannot_change_it() {
    let root = std::env::temp_dir().join(format!("grokscope-survival-{}", std::process::id()));
    let dir = root.join("chughtai");
    // 2 of 4 planned runs done, both grokked: 2/4 or 4/4 -> not decided.
    results(
        &dir,
        &[
            ("alternating:5", Some(100), 600),
            ("alternating:5", Some(300), 800),
        ],
        4,
    );
    let out = survival(&dir);
    assert!(out.contains("2/4"), "{out}");
    assert!(out.contains("not yet decided"), "{out}");
    // 3 of 4 grokked: 3/4 >= 2/3 whatever the last run does.
    results(
        &dir,
        &[
            ("alternating:5", Some(100), 600),
            ("alternating:5", Some(300), 800),
            ("alternating:5", Some(500), 1000),
        ],
        4,
    );
    let out = survival(&dir);
    assert!(out.contains("verdict: budget artefact (final"), "{out}");
    // Median of 100, 300, 500 with one run still out: S(300) = 1/2.
    assert!(out.contains(" 300 ["), "{out}");
    // 1 of 3, complete: not two thirds, and one grok rules out a real boundary.
    results(
        &dir,
        &[
            ("alternating:5", Some(100), 600),
            ("alternating:5", None, 50000),
            ("alternating:5", None, 50000),
        ],
        3,
    );
    let out = survival(&dir);
    // The other decisive settings have no results here: they could still
    // reach two thirds, so nothing is final.
    assert!(out.contains("not yet decided"), "{out}");
    assert!(out.contains("not reached"), "{out}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn results_from_before_the_sustained_criterion_are_refused_with_the_reason() {
    let root = std::env::temp_dir().join(format!("grokscope-presustained-{}", std::process::id()));
    let dir = root.join("chughtai");
    results(&dir, &[("alternating:5", Some(100), 600)], 1);
    // No last_epoch: written before the sustained criterion existed.
    let path = dir.join("results.parquet");
    let mut df = grokscope::store::read_parquet(&path).unwrap();
    let _ = df.drop_in_place("last_epoch").unwrap();
    let _ = df.drop_in_place("sustained_grok_epoch").unwrap();
    grokscope::store::write_parquet(&mut df, &path).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_grokscope"))
        .arg("survival")
        .arg(&dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains(&format!("{}: ", dir.display()))
            && err.contains("predate the sustained criterion"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_table_without_a_format_stamp_is_refused_until_migrated() {
    let root = std::env::temp_dir().join(format!("grokscope-migrate-{}", std::process::id()));
    let dir = root.join("chughtai");
    results(&dir, &[("alternating:5", Some(100), 600)], 1);
    // Rewrite the table as an older grokscope did: no metadata, no groups
    // table and no checksums.
    std::fs::remove_file(dir.join("groups.parquet")).unwrap();
    std::fs::remove_file(dir.join("groups.csv")).unwrap();
    std::fs::remove_file(dir.join(grokscope::store::SUMS)).unwrap();
    let path = dir.join("results.parquet");
    let mut df = grokscope::store::read_parquet(&path).unwrap();
    let mut f = std::fs::File::create(&path).unwrap();
    ParquetWriter::new(&mut f).finish(&mut df).unwrap();
    let bin = env!("CARGO_BIN_EXE_grokscope");
    let o = Command::new(bin)
        .arg("survival")
        .arg(&dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("format version; run `grokscope migrate"),
        "{err}"
    );
    let o = Command::new(bin)
        .arg("migrate")
        .arg(&root)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    // The results table stamped, and the sweep's groups table added.
    assert!(
        out.contains(
            "1 table stamped, 1 groups table added, 0 tables checksummed, 0 tables already current"
        ),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(dir.join("groups.parquet").exists());
    assert!(survival(&dir).contains("1/1"));
    // The migrated table holds the same rows.
    let again = grokscope::store::read_parquet(&path).unwrap();
    assert!(again.equals_missing(&df));
    let _ = std::fs::remove_dir_all(&root);
}
