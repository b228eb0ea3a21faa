//! The findings of a fault campaign against the command line, each turned
//! into a test: resource limits refused before anything starts, two
//! processes on one run, duplicates in a sweep file, diverging runs,
//! missing or damaged stored files, paths that leave the runs directory,
//! Slurm commands that fail, and usage errors on one line.
#![cfg(feature = "torch")]

use grokscope::results::record::Record;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("grokscope-faults-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn grokscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grokscope"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit 2 with one line on stderr that contains `needle`.
fn refused(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "wanted {needle:?} in {err}");
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn every_resource_has_a_limit_checked_before_anything_starts() {
    let dir = tempdir("limits");
    let out = dir.join("runs");
    let train = |sets: &[&str], needle: &str| {
        let mut args = vec!["train", "--op", "s3", "--out", path(&out)];
        for s in sets {
            args.extend(["--set", s]);
        }
        refused(&grokscope(&args), needle);
        assert!(!out.exists(), "{sets:?} wrote {}", out.display());
    };
    let cores = std::thread::available_parallelism().unwrap().get();
    train(
        &["threads=100000"],
        &format!("threads = 100000: at most {cores}"),
    );
    train(
        &["d_model=8192", "n_heads=4"],
        "d_model = 8192: at most 4096",
    );
    train(&["d_mlp=100000"], "d_mlp = 100000: at most 16384");
    train(&["d_model=256", "n_heads=128"], "n_heads = 128: at most 64");
    train(&["epochs=20000000"], "epochs = 20000000: at most 10000000");
    train(
        &["epochs=1000000", "eval_every=1"],
        "1000000 evaluations: at most 200000 a run",
    );
    train(
        &["epochs=10000", "checkpoint_every=1"],
        "10000 checkpoints: at most 2000 a run",
    );
    // Jobs, sweep size, shards.
    let spec = dir.join("s.toml");
    let sweep = |toml: &str, extra: &[&str], needle: &str| {
        std::fs::write(&spec, toml).unwrap();
        let mut args = vec!["sweep", path(&spec), "--runs", path(&out)];
        args.extend(extra);
        refused(&grokscope(&args), needle);
        assert!(!out.exists() && !dir.join("s").exists());
    };
    sweep(
        "ops = [\"s3\"]\nseeds = [0]\n",
        &["--jobs", "1000"],
        &format!("--jobs 1000: at most {cores}"),
    );
    let many: Vec<String> = (0..400)
        .map(|i| format!("{}", 1e-4 * (i + 1) as f64))
        .collect();
    sweep(
        &format!(
            "ops = [\"s3\"]\nseeds = [{}]\n[grid]\nlr = [{}]\n",
            (0..300)
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            many.join(", ")
        ),
        &[],
        "the sweep expands to 120000 runs: at most 100000",
    );
    sweep(
        &format!(
            "ops = [\"s3\"]\nseeds = [{}]\n[set]\nepochs = 9000000\neval_every = 100\ncheckpoint_every = 0\n",
            (0..200).map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
        ),
        &[],
        "model-epochs (runs × epochs); set allow_long = true",
    );
    sweep(
        "ops = [\"s3\", \"d5\"]\nseeds = [0]\n",
        &["--slurm", "--dry-run", "--shards", "1000000"],
        "--shards 1000000: between 1 and 2",
    );
    // A table file: too many rows, or too many bytes, refused before parsing.
    let rows = dir.join("tall.csv");
    std::fs::write(&rows, "0\n".repeat(4097)).unwrap();
    refused(
        &grokscope(&["group", &format!("table:{}", path(&rows))]),
        "4097 rows, above the largest order",
    );
    let huge = dir.join("huge.csv");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(200 << 20)
        .unwrap();
    let start = std::time::Instant::now();
    refused(
        &grokscope(&["group", &format!("table:{}", path(&huge))]),
        "the file is 200 MB, above the 128 MB",
    );
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_processes_training_one_run_both_end_with_it() {
    let dir = tempdir("twice");
    let out = dir.join("runs");
    let args = [
        "train",
        "--op",
        "s3",
        "--set",
        "epochs=600",
        "--set",
        "d_model=32",
        "--set",
        "d_mlp=64",
        "--set",
        "threads=1",
        "--out",
        path(&out),
    ];
    for round in 0..3 {
        let spawn = || {
            Command::new(env!("CARGO_BIN_EXE_grokscope"))
                .args(args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        for o in [&a, &b] {
            assert!(o.status.success(), "round {round}: {}", stderr(o));
        }
        let names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        assert_eq!(names.len(), 1, "round {round}: {names:?}");
        assert!(grokscope::train::run::is_complete(&out.join(&names[0])));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sweep_file_names_each_run_once() {
    let dir = tempdir("dups");
    let spec = dir.join("d.toml");
    let check = |toml: &str, needle: &str| {
        std::fs::write(&spec, toml).unwrap();
        let o = grokscope(&["sweep", path(&spec), "--runs", path(&dir.join("runs"))]);
        refused(&o, needle);
        assert!(!dir.join("runs").exists());
    };
    check(
        "ops = [\"s3\"]\nseeds = [0, 0]\n",
        "\"s3 seed 0\" and \"s3 seed 0\" are the same run",
    );
    check(
        "ops = [\"s3\", \"symmetric:3\"]\nseeds = [0]\n",
        "\"s3 seed 0\" and \"symmetric:3 seed 0\" are the same run",
    );
    check(
        "ops = [\"s3\"]\nseeds = [0]\n[[variants]]\nlr = 0.01\n[[variants]]\nlr = 0.01\n",
        "are the same run",
    );
    check(
        "ops = [\"s3\"]\nseeds = [0]\n[set]\nseed = 4\n",
        "[set] seed: a sweep's seeds come from its `seeds` list",
    );
    check(
        "ops = [\"s3\"]\nseeds = [0]\n[set]\nop = \"d5\"\n",
        "[set] op: a sweep's ops come from its `ops` list",
    );
    check(
        "ops = [\"s3\"]\nseeds = [0]\n[grid]\nlr = []\n",
        "grid.lr is empty",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_diverging_run_is_a_complete_result() {
    let dir = tempdir("diverge");
    let spec = dir.join("div.toml");
    std::fs::write(
        &spec,
        "ops = [\"s3\"]\nseeds = [0]\n[set]\nepochs = 200\nlr = 1e30\nd_model = 32\nd_mlp = 64\ncheckpoint_every = 0\n",
    )
    .unwrap();
    let runs = dir.join("runs");
    let run = || grokscope(&["sweep", path(&spec), "--runs", path(&runs)]);
    let o = run();
    assert!(o.status.success(), "{}", stderr(&o));
    let results = dir.join("div").join("results.parquet");
    let rows = grokscope::results::rows::ResultRow::read_all(
        &grokscope::store::read_parquet(&results).unwrap(),
    )
    .unwrap();
    assert_eq!(rows.len(), 1);
    let m = grokscope::train::run::read_manifest(&runs.join(&rows[0].run_id)).unwrap();
    let s = m.summary.unwrap();
    assert_eq!(s.stop_reason, grokscope::grok::StopReason::Diverged);
    assert!(s.final_train_loss.is_nan() && s.last_epoch < 200, "{s:?}");
    // A second run of the sweep finds it complete instead of training it again.
    let again = stderr(&run());
    assert!(again.contains("1 complete, 0 to train"), "{again}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_or_damaged_stored_files_are_errors_never_other_numbers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempdir("stored");
    // An empty experiments directory: nothing is rewritten.
    let (empty, generated) = (dir.join("empty"), dir.join("generated"));
    std::fs::create_dir_all(&empty).unwrap();
    let o = grokscope(&[
        "figures",
        "--experiments",
        path(&empty),
        "--out",
        path(&dir.join("figs")),
        "--generated",
        path(&generated),
    ]);
    refused(&o, "has no results for suite, controls");
    assert!(!generated.exists() && !dir.join("figs").exists());
    // A copy of the suite's results: delete its results or its curves, or
    // flip one byte of its results.
    let exp = dir.join("exp");
    let suite = exp.join("suite");
    let copy = || {
        let _ = std::fs::remove_dir_all(&exp);
        std::fs::create_dir_all(&suite).unwrap();
        for e in std::fs::read_dir(root.join("experiments/suite"))
            .unwrap()
            .flatten()
        {
            std::fs::copy(e.path(), suite.join(e.file_name())).unwrap();
        }
        // The committed tables carry their checksums.
        assert!(suite.join(grokscope::store::SUMS).exists());
    };
    let claims = || grokscope(&["claims", "--experiments", path(&exp)]);
    copy();
    assert!(claims().status.success());
    std::fs::remove_file(suite.join("results.parquet")).unwrap();
    refused(&claims(), "holds tables but no results.parquet");
    copy();
    std::fs::remove_file(suite.join("curves.parquet")).unwrap();
    refused(&claims(), "curves.parquet is missing");
    copy();
    let results = suite.join("results.parquet");
    let mut bytes = std::fs::read(&results).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&results, bytes).unwrap();
    refused(&claims(), "do not match its checksum");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_run_directory_is_refused_where_it_is_read() {
    let dir = tempdir("damaged");
    let runs = dir.join("runs");
    let o = grokscope(&[
        "train",
        "--op",
        "s3",
        "--set",
        "epochs=50",
        "--set",
        "d_model=32",
        "--set",
        "d_mlp=64",
        "--out",
        path(&runs),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("manifest.json").exists())
        .unwrap();
    let extend = || {
        grokscope(&[
            "train",
            "--extend",
            path(&run),
            "--set",
            "epochs=100",
            "--out",
            path(&dir.join("ext")),
        ])
    };
    // Garbled weights.
    let weights = run.join("final.safetensors");
    let good = std::fs::read(&weights).unwrap();
    let mut bad = good.clone();
    let end = bad.len() - 3;
    bad[end] ^= 0xff;
    std::fs::write(&weights, &bad).unwrap();
    refused(&extend(), "do not match its checksum");
    std::fs::write(&weights, &good).unwrap();
    // An edited config.
    let config = run.join("config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, "{}").unwrap();
    refused(
        &extend(),
        "does not match the config this run was trained with",
    );
    std::fs::write(&config, text.replace("0.001", "0.002")).unwrap();
    refused(
        &extend(),
        "does not match the config this run was trained with",
    );
    std::fs::write(&config, &text).unwrap();
    assert!(extend().status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_table_path_inside_a_product_stays_inside_the_runs_directory() {
    let dir = tempdir("traversal");
    let tables = dir.join("t");
    std::fs::create_dir_all(&tables).unwrap();
    std::fs::write(tables.join("z3.csv"), "0,1,2\n1,2,0\n2,0,1\n").unwrap();
    let runs = dir.join("a/b/runs");
    std::fs::create_dir_all(&runs).unwrap();
    // The path is relative to the working directory, the run goes under --out.
    let o = Command::new(env!("CARGO_BIN_EXE_grokscope"))
        .current_dir(&runs)
        .args([
            "train",
            "--op",
            "product:s3,table:../../../t/z3.csv",
            "--set",
            "epochs=20",
            "--set",
            "d_model=16",
            "--set",
            "d_mlp=16",
            "--out",
            ".",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let made: Vec<String> = std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");
    assert!(
        !made[0].contains('/') && !made[0].contains(".."),
        "{made:?}"
    );
    assert!(!dir.join("t").join("z3.csv").with_extension("").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn messages_are_one_line_and_say_what_is_wrong() {
    refused(
        &grokscope(&["train", "--bogus"]),
        "see `grokscope train --help`",
    );
    refused(&grokscope(&["sweep"]), "<SPEC>");
    refused(
        &grokscope(&["group", "smallgroup:-8,1"]),
        "smallgroup's parameters are non-negative integers, got \"-8\"",
    );
    refused(
        &grokscope(&["group", "semidirect:7,3,-2"]),
        "non-negative integers, got \"-2\"",
    );
    let dir = tempdir("messages");
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    refused(
        &grokscope(&["train", "--op", "s3", "--out", path(&file)]),
        "is a file; give a directory",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn slurm_commands_that_fail_or_talk_nonsense_are_errors() {
    let dir = tempdir("slurm");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = |name: &str, body: &str| {
        let p = bin.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    let spec = dir.join("c.toml");
    std::fs::write(&spec, "ops = [\"s3\"]\nseeds = [0]\n[set]\nepochs = 10\n").unwrap();
    let path_env = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_grokscope"))
            .args(args)
            .env("PATH", &path_env)
            .output()
            .unwrap()
    };
    let submit = || {
        run(&[
            "sweep",
            path(&spec),
            "--runs",
            path(&dir.join("runs")),
            "--slurm",
        ])
    };
    let scripts = dir.join("c").join("slurm");
    fake("sbatch", "echo 'Submitted batch job, maybe'");
    refused(&submit(), "where a job id was expected");
    assert!(!scripts.join("array.sh").exists(), "scripts left behind");
    fake(
        "sbatch",
        "echo 'sbatch: error: Batch job submission failed' >&2; exit 1",
    );
    refused(&submit(), "Batch job submission failed");
    assert!(!scripts.join("array.sh").exists(), "scripts left behind");
    // A submission, then a queue that cannot be read: not "left the queue".
    fake("sbatch", "echo 4242");
    assert!(submit().status.success());
    fake(
        "squeue",
        "echo 'slurm_load_jobs error: Unable to contact slurm controller' >&2; exit 1",
    );
    let o = run(&[
        "sweep",
        path(&spec),
        "--runs",
        path(&dir.join("runs")),
        "--status",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("Unable to contact slurm controller"), "{err}");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("left the queue"));
    std::fs::remove_dir_all(&dir).unwrap();
}
