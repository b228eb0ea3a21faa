//! Input larger than the machine, or out of range, gets one line on stderr,
//! exit code 2, no abort, and each reason said once.
#![cfg(feature = "torch")]

use std::process::Command;

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = std::env::temp_dir().join(format!("grokscope-badinput-{}", std::process::id()));
    let o = Command::new(env!("CARGO_BIN_EXE_grokscope"))
        .args(args)
        .env("GROKSCOPE_RUNS", &out)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&out);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// No clause of the message (the parts between ": " and "; ") appears twice.
fn says_each_thing_once(msg: &str) -> bool {
    let parts: Vec<&str> = msg
        .split(": ")
        .flat_map(|p| p.split("; "))
        .filter(|p| p.len() >= 12)
        .collect();
    parts.iter().all(|p| msg.matches(p).count() == 1)
}

fn check(args: &[&str], needle: &str) {
    let (code, stderr) = run(args);
    assert_eq!(code, Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
    assert!(
        says_each_thing_once(&stderr),
        "{args:?} repeats itself: {stderr}"
    );
}

#[test]
fn the_repetition_check_can_fail() {
    assert!(!says_each_thing_once(
        "error: operation \"d:0\": d:0 has no elements here: d:0 has no elements here"
    ));
    assert!(says_each_thing_once(
        "error: operation \"d:0\": d:0 has no elements here"
    ));
}

#[test]
fn bad_parameters_say_their_reason_once() {
    check(&["group", "dihedral:0"], "dihedral:0 has no elements");
    check(&["group", "symmetric:9"], "symmetric:9");
    check(&["group", "xor:30"], "xor:30");
    check(&["group", "ring:1"], "ring:1 has fewer than 2 elements");
}

#[test]
fn operations_larger_than_the_machine_are_refused_before_allocating() {
    check(
        &["train", "--op", "ring:100000"],
        "too large for this machine",
    );
    check(&["group", "ring:100000"], "too large for this machine");
    check(
        &["train", "--op", "symmetric:30"],
        "too large for this machine",
    );
    // Fits in memory but would train for weeks: refused, naming the key.
    check(&["train", "--op", "ring:5000"], "allow_long = true");
}

#[test]
fn an_oversize_sweep_is_refused_with_one_line() {
    let dir = std::env::temp_dir().join(format!("grokscope-badsweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("big.toml");
    std::fs::write(&spec, "ops = [\"s3\", \"ring:100000\"]\nseeds = [0]\n").unwrap();
    check(
        &["sweep", spec.to_str().unwrap()],
        "too large for this machine",
    );
    std::fs::write(
        &spec,
        "ops = [\"s3\"]\nseeds = [0]\n[set]\nepochs = 100000000\n",
    )
    .unwrap();
    check(
        &["sweep", spec.to_str().unwrap()],
        "epochs = 100000000: at most 10000000",
    );
    std::fs::write(&spec, "ops = [\"s3\", \"ring:5000\"]\nseeds = [0]\n").unwrap();
    check(&["sweep", spec.to_str().unwrap()], "allow_long = true");
    assert!(
        !dir.join("big").exists(),
        "nothing written for a refused sweep"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_numerics_settings_and_claims_without_results_say_what_to_do() {
    check(
        &["train", "--op", "s3", "--set", "grokfast_alpha=1.5"],
        "grokfast_alpha 1.5 must be in [0, 1)",
    );
    check(
        &["train", "--op", "s3", "--set", "softmax=\"sparsemax\""],
        "sparsemax",
    );
    check(
        &[
            "train",
            "--op",
            "s3",
            "--set",
            "step=\"autograd\"",
            "--set",
            "loss_precision=\"f64\"",
        ],
        "need the default step",
    );
    let missing = std::env::temp_dir().join(format!("grokscope-noexp-{}", std::process::id()));
    check(
        &["claims", "--experiments", missing.to_str().unwrap()],
        "is not a directory",
    );
    let empty = std::env::temp_dir().join(format!("grokscope-emptyexp-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    check(
        &["claims", "--experiments", empty.to_str().unwrap()],
        "holds no sweep results",
    );
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn paper_experiments_are_chosen_by_registered_name_before_anything_trains() {
    check(
        &["run", "--full", "--sweeps", "suite,sweet"],
        "sweet is not an experiment of the paper; the experiments are suite, controls",
    );
    check(&["run", "--sweeps", "suite"], "add one of them");
    check(
        &[
            "run",
            "--campaign",
            "--sweeps",
            "chughtai",
            "--runs",
            "runs",
        ],
        "outside the work tree",
    );
}
