//! Long budgets: a run stopped after a sustained grok equals the full run
//! up to its stop; an extended run equals a longer run byte for byte; a
//! killed run resumes to the same bytes. All on the machine's own kernel
//! path (the comparisons are within one process or one machine).
#![cfg(feature = "torch")]

mod common;
use common::*;
use grokscope::config::RunConfig;
use grokscope::grok::StopReason;
use grokscope::train::run::{extend_runs, read_manifest, read_metric_rows, train_runs};
use grokscope::train::{Quiet, TrainError};
use std::path::{Path, PathBuf};
use std::process::Command;

fn bytes(run: &Path) -> Vec<u8> {
    std::fs::read(run.join("metrics.parquet")).unwrap()
}

/// Extends `runs` with one `--set` on two threads into `out`.
fn extend(runs: &[PathBuf], set: &str, out: &Path) -> Result<Vec<PathBuf>, TrainError> {
    extend_runs(runs, &[set.into()], out, 2, &[], &mut Quiet)
}

fn s3(epochs: usize) -> RunConfig {
    RunConfig {
        op: "s3".into(),
        epochs,
        checkpoint_every: 50,
        d_model: 32,
        d_mlp: 64,
        ..RunConfig::default()
    }
}

#[test]
fn an_extended_run_equals_a_longer_run_byte_for_byte() {
    let dir = tempdir("extend");
    let short = train_runs(&[s3(200)], &dir.join("a"), 2, &[], &mut Quiet).unwrap();
    let long = train_runs(&[s3(400)], &dir.join("b"), 2, &[], &mut Quiet).unwrap();
    let ext = extend(&short, "epochs=400", &dir.join("c")).unwrap();
    assert_eq!(bytes(&ext[0]), bytes(&long[0]), "extension 200 -> 400");
    assert_eq!(
        std::fs::read(ext[0].join("final.safetensors")).unwrap(),
        std::fs::read(long[0].join("final.safetensors")).unwrap()
    );
    // A budget off the evaluation grid extends too (its last evaluation is dropped).
    let odd = train_runs(&[s3(205)], &dir.join("d"), 2, &[], &mut Quiet).unwrap();
    let ext = extend(&odd, "epochs=400", &dir.join("e")).unwrap();
    assert_eq!(bytes(&ext[0]), bytes(&long[0]), "extension 205 -> 400");
    // Keys that change the run are refused, and so is a shorter budget.
    let e = extend(&short, "lr=0.1", &dir.join("f"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`lr` changes the run"), "{e}");
    let e = extend(&long, "epochs=300", &dir.join("f"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("already ends at epoch 400"), "{e}");
    // A run trained by another revision of the fused step (here: a manifest
    // from before the revision was recorded, which reads as revision 1) is
    // not extended: the continuation would round differently.
    let manifest = short[0].join("manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    m.as_object_mut().unwrap().remove("step_revision").unwrap();
    std::fs::write(&manifest, m.to_string()).unwrap();
    let e = extend(&short, "epochs=400", &dir.join("g"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("revision 1 of the fused step"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn runs_with_every_numerics_and_optimiser_control_extend_exactly_and_record_diagnostics() {
    let dir = tempdir("controls");
    let controls = |epochs: usize| with_controls(s3(epochs));
    let short = train_runs(&[controls(100)], &dir.join("a"), 2, &[], &mut Quiet).unwrap();
    let long = train_runs(&[controls(200)], &dir.join("b"), 2, &[], &mut Quiet).unwrap();
    // The Grokfast filter's state is stored with the moments, so the
    // continuation is exact.
    let ext = extend(&short, "epochs=200", &dir.join("c")).unwrap();
    assert_eq!(bytes(&ext[0]), bytes(&long[0]), "extension 100 -> 200");
    let rows = grokscope::train::run::read_metric_rows(&long[0].join("metrics.parquet")).unwrap();
    let has = |split: &str, metric: &str| {
        rows.iter()
            .filter(|r| r.split == split && r.metric == metric)
            .count()
    };
    // 21 evaluations (0, 10, ..., 200); no update before epoch 0's.
    assert_eq!(has("train", "softmax_collapse_share"), 21);
    assert_eq!(has("train", "logit_scale"), 21);
    assert_eq!(has("model", "update_norm"), 20);
    assert_eq!(has("model", "weight_norm/embed.W_E"), 21);
    // The per-weight norms make up the total.
    let at = |metric: &str| {
        rows.iter()
            .find(|r| r.epoch == 200 && r.metric == metric)
            .unwrap()
            .value
    };
    let parts: f64 = grokscope::model::NORM_METRICS
        .iter()
        .filter(|m| has("model", m) > 0)
        .map(|m| at(m).powi(2))
        .sum();
    assert!((parts.sqrt() / at("weight_norm") - 1.0).abs() < 1e-5);
    // Stablemax in f64 keeps the training loss away from exact zero.
    assert_eq!(at("softmax_collapse_share"), 0.0);
    // The reference step has none of these controls, and says so.
    let mut c = controls(100);
    c.step = grokscope::config::Step::Autograd;
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("need the default step"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_stopped_run_equals_the_full_run_up_to_its_stop() {
    let dir = tempdir("stop");
    // add:23 at lr 0.003, weight decay 2 holds test accuracy from about
    // epoch 550 on every kernel path measured; a window of 200 keeps the test short.
    let cfg = |stop: bool| RunConfig {
        op: "add:23".into(),
        epochs: 2500,
        lr: 3e-3,
        weight_decay: 2.0,
        checkpoint_every: 0,
        grok_window: 200,
        stop_after_grok: stop,
        ..RunConfig::default()
    };
    // Two seeds batched: each stops on its own.
    let batch = |stop| {
        vec![
            cfg(stop),
            RunConfig {
                seed: 1,
                ..cfg(stop)
            },
        ]
    };
    let stopped = train_runs(&batch(true), &dir.join("a"), 2, &[], &mut Quiet).unwrap();
    let full = train_runs(&batch(false), &dir.join("b"), 2, &[], &mut Quiet).unwrap();
    for (st, fu) in stopped.iter().zip(&full) {
        let s = read_manifest(st).unwrap().summary.unwrap();
        let f = read_manifest(fu).unwrap().summary.unwrap();
        let e = s
            .sustained_grok_epoch
            .expect("sustained grok within 2500 epochs");
        assert_eq!(s.stop_reason, StopReason::SustainedGrok);
        assert_eq!(s.last_epoch, e + 200);
        assert!(s.last_epoch < 2500, "stopped at {}", s.last_epoch);
        assert_eq!(
            f.sustained_grok_epoch,
            Some(e),
            "same epoch in the full run"
        );
        assert_eq!(f.stop_reason, StopReason::Budget);
        let a = read_metric_rows(&st.join("metrics.parquet")).unwrap();
        let b: Vec<_> = read_metric_rows(&fu.join("metrics.parquet"))
            .unwrap()
            .into_iter()
            .filter(|r| r.epoch <= s.last_epoch)
            .collect();
        assert_eq!(a, b, "metrics up to the stop");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_killed_run_resumes_to_the_same_bytes() {
    let dir = tempdir("resume");
    let args = |out: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_grokscope"));
        c.args([
            "train",
            "--op",
            "s3",
            "--set",
            "epochs=20000",
            "--set",
            "checkpoint_every=100",
            "--set",
            "d_model=32",
            "--set",
            "d_mlp=64",
            "--set",
            "threads=1",
            "--out",
        ])
        .arg(out)
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null());
        c
    };
    let whole = dir.join("whole");
    assert!(args(&whole).status().unwrap().success());
    let killed = dir.join("killed");
    let mut child = args(&killed).spawn().unwrap();
    // Kill once a resume point past epoch 0 exists, at whatever moment of
    // writing the next one.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let points = || -> Vec<PathBuf> {
        let Some(entry) = std::fs::read_dir(&killed).ok().and_then(|d| {
            d.flatten()
                .find(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        }) else {
            return Vec::new();
        };
        let Ok(files) = std::fs::read_dir(entry.path().join("resume")) else {
            return Vec::new();
        };
        files
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                name.starts_with("point-") && name.ends_with(".json")
            })
            .collect()
    };
    while points().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no resume point written"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = points();
    assert!(
        !kept.is_empty(),
        "a kill while writing lost the resume point"
    );
    for p in &kept {
        let text = std::fs::read_to_string(p).unwrap();
        assert!(
            !text.contains("\"epoch\": 20000"),
            "killed too late: {text}"
        );
    }
    // A torn write of a later point (files without their point file), as a
    // kill mid-write leaves, is ignored.
    let resume_dir = kept[0].parent().unwrap();
    std::fs::write(resume_dir.join("weights-019900.safetensors"), b"torn").unwrap();
    std::fs::write(resume_dir.join("metrics-019900.parquet"), b"torn").unwrap();
    assert!(args(&killed).status().unwrap().success());
    let run = |d: &Path| {
        std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.join("manifest.json").exists())
            .unwrap()
    };
    assert_eq!(bytes(&run(&killed)), bytes(&run(&whole)), "resumed run");
    assert!(
        !run(&killed).join("resume").exists(),
        "resume point removed"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sweep_whose_budget_was_raised_extends_its_complete_runs() {
    let dir = tempdir("sweep-extend");
    let spec = |epochs: usize| {
        let p = dir.join(format!("s{epochs}.toml"));
        std::fs::write(
            &p,
            format!("ops = [\"s3\"]\nseeds = [0, 1]\n[set]\nepochs = {epochs}\ncheckpoint_every = 0\nd_model = 32\nd_mlp = 64\nthreads = 1\n"),
        )
        .unwrap();
        p
    };
    // The fresh sweep shares the results directory of the raised one, whose
    // rows would count as complete: it retrains them into its own runs.
    let sweep = |spec: &Path, runs: &Path| {
        let o = Command::new(env!("CARGO_BIN_EXE_grokscope"))
            .arg("sweep")
            .arg(spec)
            .arg("--runs")
            .arg(runs)
            .arg("--retrain-committed")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let raised = dir.join("raised");
    sweep(&spec(150), &raised);
    let log = sweep(&spec(300), &raised);
    assert!(
        log.contains("2 to train (2 by extending a shorter budget)"),
        "{log}"
    );
    let fresh = dir.join("fresh");
    sweep(&spec(300), &fresh);
    let mut checked = 0;
    // Run directories; `.locks` holds the runs' ownership locks.
    for e in std::fs::read_dir(&fresh).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let m = read_manifest(&e.path()).unwrap();
        if m.summary.as_ref().unwrap().last_epoch == 300 {
            assert_eq!(
                bytes(&e.path()),
                bytes(&raised.join(&m.run_id)),
                "{}",
                m.run_id
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}
