//! The trainer end to end: a small group groks, runs are byte-reproducible,
//! bad input fails with one line and exit code 2, and a sweep survives being
//! killed.
#![cfg(feature = "torch")]

use grokscope::config::RunConfig;
use grokscope::train::run::{read_manifest, train_runs, Status};
use grokscope::train::Quiet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("grokscope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_grokscope"))
}

/// Settings that make add:23 grok in seconds: the docs/design.md model and
/// optimiser, a larger learning rate and weight decay.
fn fast_add23(seed: u64) -> RunConfig {
    RunConfig {
        op: "add:23".into(),
        seed,
        epochs: 1500,
        lr: 3e-3,
        weight_decay: 2.0,
        checkpoint_every: 500,
        ..RunConfig::default()
    }
}

/// Holds on every CPU kernel path: on the paths measured (ATen avx2 and
/// avx512) add:23 first holds test accuracy >= 0.99 for 500 epochs from
/// epoch 550-580, and its first crossing comes at 540-580; the test asks
/// for a sustained grok anywhere before epoch 2000 of a 3000-epoch budget
/// (3.4x the measured epoch), and asserts no accuracy at a single epoch
/// where a late dip (seen up to epoch 2820 on one path) could decide it.
#[test]
fn add23_groks_within_a_test_sized_budget() {
    let dir = tempdir("grok");
    let mut cfg = fast_add23(0);
    cfg.epochs = 3000;
    cfg.stop_after_grok = true;
    let runs = train_runs(&[cfg], &dir, 2, &[], &mut Quiet).unwrap();
    let m = read_manifest(&runs[0]).unwrap();
    assert_eq!(m.status, Status::Complete);
    let s = m.summary.unwrap();
    let (mem, grok) = (
        s.memorised_epoch.expect("memorised"),
        s.sustained_grok_epoch.expect("sustained grok"),
    );
    assert!(mem < grok, "memorised at {mem}, grokked at {grok}");
    assert!(grok < 2000, "sustained grok only at {grok}");
    // It stopped at the end of its window, where accuracy held by definition.
    assert_eq!(s.last_epoch, grok + 500);
    assert!(s.final_test_accuracy >= 0.99);
    // Every file of a complete run is there, checkpoints included.
    for f in [
        "config.json",
        "manifest.json",
        "metrics.parquet",
        "final.safetensors",
        "optimizer.safetensors",
        "checkpoints/epoch_000000.safetensors",
        "checkpoints/epoch_000500.safetensors",
    ] {
        assert!(runs[0].join(f).exists(), "{f} missing");
    }
    assert!(!runs[0].join("resume").exists());
    irrep_ablation_is_causal_for_the_grokked_model(&runs[0]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The causal check on the grokked add:23 run: removing its dominant
/// frequency from the embedding costs test accuracy, removing a frequency
/// it does not use costs none, and the untrained model is at chance with
/// or without ablation.
fn irrep_ablation_is_causal_for_the_grokked_model(run: &Path) {
    use grokscope::results::record::Record;
    use grokscope::results::rows::AblationRow;
    let analysis = grokscope::analyze::analyze_run(run).unwrap();
    let df = grokscope::store::read_parquet(&run.join("analysis/ablations.parquet")).unwrap();
    let rows = AblationRow::read_all(&df).unwrap();
    // Z/23: 11 non-trivial real irreps, each ablated, plus the unablated row, per model.
    assert_eq!(rows.len(), 2 * 12);
    let trained: Vec<&AblationRow> = rows.iter().filter(|r| r.model == "trained").collect();
    let none = trained[0];
    assert_eq!(none.irrep, "none");
    assert!(none.test_accuracy >= 0.99 && none.train_accuracy == 1.0);
    let dominant = trained
        .iter()
        .find(|r| r.irrep == analysis.dominant_irrep)
        .unwrap();
    let weakest = trained[1..]
        .iter()
        .min_by(|a, b| a.share.total_cmp(&b.share))
        .unwrap();
    assert!(
        dominant.test_accuracy < 0.9,
        "removing {} leaves {}",
        dominant.irrep,
        dominant.test_accuracy
    );
    assert!(
        weakest.test_accuracy >= 0.98,
        "removing {} leaves {}",
        weakest.irrep,
        weakest.test_accuracy
    );
    let shares: f64 = trained[1..].iter().map(|r| r.share).sum();
    assert!((shares - 1.0).abs() < 1e-9);
    for r in rows.iter().filter(|r| r.model == "init") {
        assert!(
            r.test_accuracy < 0.2,
            "untrained {}: {}",
            r.irrep,
            r.test_accuracy
        );
    }
}

#[test]
fn same_seed_gives_identical_metrics_bytes_and_another_seed_does_not() {
    let dir = tempdir("determinism");
    let mut cfg = fast_add23(0);
    cfg.epochs = 200;
    let read = |d: &Path| std::fs::read(d.join("metrics.parquet")).unwrap();
    let a = train_runs(
        std::slice::from_ref(&cfg),
        &dir.join("a"),
        2,
        &[],
        &mut Quiet,
    )
    .unwrap();
    let b = train_runs(
        std::slice::from_ref(&cfg),
        &dir.join("b"),
        2,
        &[],
        &mut Quiet,
    )
    .unwrap();
    assert_eq!(
        read(&a[0]),
        read(&b[0]),
        "same seed and threads must give the same bytes"
    );
    cfg.seed = 1;
    let c = train_runs(
        std::slice::from_ref(&cfg),
        &dir.join("c"),
        2,
        &[],
        &mut Quiet,
    )
    .unwrap();
    assert_ne!(read(&a[0]), read(&c[0]));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn assert_one_line_exit_2(args: &[&str], needle: &str, out: &Path) {
    let o = bin().args(args).arg("--out").arg(out).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{args:?}: not one line: {stderr}"
    );
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
}

#[test]
fn bad_training_input_fails_with_one_line_and_exit_2() {
    let dir = tempdir("badinput");
    let out = dir.join("runs");
    assert_one_line_exit_2(
        &["train", "--op", "s3", "--set", "epoch=5"],
        "unknown field `epoch`",
        &out,
    );
    assert_one_line_exit_2(
        &["train", "--op", "s3", "--set", "train_fraction=0"],
        "outside (0, 1)",
        &out,
    );
    assert_one_line_exit_2(
        &["train", "--op", "s3", "--set", "train_fraction=1.5"],
        "outside (0, 1)",
        &out,
    );
    assert_one_line_exit_2(
        &["train", "--op", "s3", "--set", "epochs=0"],
        "epochs must be at least 1",
        &out,
    );
    assert_one_line_exit_2(&["train", "--op", "s6"], "unknown operation \"s6\"", &out);
    assert_one_line_exit_2(
        &["train", "--config", "/nonexistent/grok.toml"],
        "cannot read config",
        &out,
    );
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "op = \"s3\"\nepochs = \"ten\"\n").unwrap();
    assert_one_line_exit_2(
        &["train", "--config", bad.to_str().unwrap()],
        "epochs",
        &out,
    );
    // Nothing that looks like a run was left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_checkpoint_that_is_not_safetensors_is_a_one_line_error() {
    let dir = tempdir("badckpt");
    let path = dir.join("final.safetensors");
    std::fs::write(&path, b"this is not a safetensors file").unwrap();
    let cfg = grokscope::model::TransformerConfig::for_order(6);
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let e = grokscope::model::Transformer::load(&cfg, &vs.root(), &[&path])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not a readable safetensors file") && !e.contains('\n'),
        "{e}"
    );
    let e = grokscope::model::Transformer::load(&cfg, &vs.root(), &[&dir.join("none.safetensors")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("file not found"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn train_cli_prints_the_run_directory_last() {
    let dir = tempdir("cli");
    let o = bin()
        .args([
            "train",
            "--op",
            "s3",
            "--set",
            "epochs=20",
            "--set",
            "checkpoint_every=0",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let last = PathBuf::from(stdout.trim().lines().last().unwrap());
    assert!(last.join("manifest.json").exists());
    let m = read_manifest(&last).unwrap();
    assert_eq!(m.command_line[1], "train");
    assert_eq!(m.libtorch_version.split('+').next(), Some("2.13.0"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs `grokscope sweep SPEC --runs RUNS` to the end, asserts it
/// succeeded, and returns its stderr.
fn sweep_to_completion(spec: &Path, runs: &Path) -> String {
    let o = bin()
        .arg("sweep")
        .arg(spec)
        .arg("--runs")
        .arg(runs)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{stderr}");
    stderr
}

#[test]
fn a_killed_sweep_restarts_and_runs_nothing_twice() {
    let dir = tempdir("sweep");
    let spec = dir.join("tiny.toml");
    // Three configurations (ops) × two seeds; each configuration is one batched job.
    std::fs::write(
        &spec,
        "ops = [\"s3\", \"add:7\", \"d5\"]\nseeds = [0, 1]\n[set]\nepochs = 400\neval_every = 20\ncheckpoint_every = 0\nd_model = 32\nd_mlp = 64\n",
    )
    .unwrap();
    let runs = dir.join("runs");
    let manifests = |runs: &Path| -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = std::fs::read_dir(runs)
            .map(|d| d.flatten().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            // A run is complete once moved into place; a `.partial`
            // directory may already carry a complete manifest.
            .filter(|e| !e.file_name().to_string_lossy().ends_with(".partial"))
            .filter_map(|e| read_manifest(&e.path()).ok())
            .filter(|m| m.status == Status::Complete)
            .map(|m| (m.run_id, m.start_time))
            .collect();
        out.sort();
        out
    };
    let mut child = bin()
        .arg("sweep")
        .arg(&spec)
        .arg("--runs")
        .arg(&runs)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the first job has finished (two runs complete) and before all are.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        let done = manifests(&runs).len();
        if done >= 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "sweep made no progress"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = manifests(&runs);
    assert!(
        before.len() >= 2 && before.len() < 6,
        "kill came too late to test anything: {} complete",
        before.len()
    );

    let stderr = sweep_to_completion(&spec, &runs);
    let after = manifests(&runs);
    assert_eq!(after.len(), 6, "every run complete");
    // Runs completed before the kill kept their manifests: not run again.
    for run in &before {
        assert!(after.contains(run), "{run:?} was run twice");
    }
    // A batch killed after its runs were complete but before all were moved
    // into place is finished, not trained: it counts as skipped too.
    let counts = stderr
        .lines()
        .find_map(|l| {
            let rest = l.split("trained ").nth(1)?;
            let (trained, rest) = rest.split_once(" runs, skipped ")?;
            let skipped = rest.split_whitespace().next()?;
            Some((
                trained.parse::<usize>().ok()?,
                skipped.parse::<usize>().ok()?,
            ))
        })
        .unwrap_or_else(|| panic!("no 'trained N runs, skipped M' line: {stderr}"));
    assert_eq!(counts.0 + counts.1, 6, "{stderr}");
    assert!(counts.1 >= before.len(), "{stderr}");
    // No partial directories remain, and the results have one row per run.
    assert!(std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().ends_with(".partial")));
    let csv = std::fs::read_to_string(dir.join("tiny/results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_batch_killed_while_moving_into_place_is_finished_not_retrained() {
    let dir = tempdir("finish");
    let spec = dir.join("pair.toml");
    std::fs::write(
        &spec,
        "ops = [\"add:5\"]\nseeds = [0, 1]\n[set]\nepochs = 60\neval_every = 20\ncheckpoint_every = 0\nd_model = 16\nd_mlp = 32\n",
    )
    .unwrap();
    let runs = dir.join("runs");
    let sweep = || sweep_to_completion(&spec, &runs);
    assert!(sweep().contains("trained 2 runs, skipped 0 complete"));
    let seed1 = std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().contains("seed1"))
        .unwrap();
    let started = read_manifest(&seed1).unwrap().start_time;
    // The state a kill leaves between the batch's two moves into place.
    let partial = seed1.with_file_name(format!(
        "{}.partial",
        seed1.file_name().unwrap().to_string_lossy()
    ));
    std::fs::rename(&seed1, &partial).unwrap();
    let stderr = sweep();
    assert!(
        stderr.contains("trained 0 runs, skipped 2 complete"),
        "{stderr}"
    );
    assert!(!partial.exists());
    assert_eq!(read_manifest(&seed1).unwrap().start_time, started);
    // A partial directory whose manifest is not complete is trained again.
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(seed1.join("manifest.json")).unwrap())
            .unwrap();
    m["status"] = "running".into();
    std::fs::write(seed1.join("manifest.json"), m.to_string()).unwrap();
    std::fs::rename(&seed1, &partial).unwrap();
    let stderr = sweep();
    assert!(
        stderr.contains("trained 2 runs, skipped 0 complete"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
