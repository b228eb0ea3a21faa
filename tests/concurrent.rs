//! A run's bytes do not depend on what else runs in its process: two
//! trainings with different thread counts, run at once on two threads of
//! one process, give exactly the bytes each gives alone. libtorch's thread
//! count is per thread but seeded from a process-wide value, so a training
//! that read "the" thread count could see the other's (see
//! `train::threads`).
#![cfg(feature = "torch")]

mod common;
use common::*;
use grokscope::config::RunConfig;
use grokscope::train::run::train_runs;
use grokscope::train::Quiet;
use std::path::Path;

/// add:47 (1546 training pairs: the fused pass splits its chunk loop over
/// two threads when it has two) with two threads.
fn wide() -> RunConfig {
    RunConfig {
        op: "add:47".into(),
        epochs: 60,
        checkpoint_every: 30,
        d_model: 32,
        d_mlp: 64,
        threads: 2,
        ..RunConfig::default()
    }
}

/// s3 with every numerics and optimiser control on one thread (the
/// configuration whose extension failed on a loaded machine).
fn controls() -> RunConfig {
    with_controls(RunConfig {
        op: "s3".into(),
        epochs: 100,
        checkpoint_every: 50,
        d_model: 32,
        d_mlp: 64,
        threads: 1,
        ..RunConfig::default()
    })
}

/// The stored bytes of one run: metrics and final weights.
fn train(cfg: &RunConfig, out: &Path) -> (Vec<u8>, Vec<u8>) {
    let run = train_runs(std::slice::from_ref(cfg), out, cfg.threads, &[], &mut Quiet)
        .unwrap()
        .remove(0);
    let bytes = |f: &str| std::fs::read(run.join(f)).unwrap();
    (bytes("metrics.parquet"), bytes("final.safetensors"))
}

#[test]
fn two_trainings_at_once_give_the_bytes_each_gives_alone() {
    let dir = tempdir("concurrent");
    let (a, b) = (wide(), controls());
    let alone_a = train(&a, &dir.join("alone-a"));
    let alone_b = train(&b, &dir.join("alone-b"));
    for round in 0..20 {
        let out = dir.join(format!("a{round}"));
        let (got_a, got_b) = std::thread::scope(|scope| {
            let first = scope.spawn(|| train(&a, &out));
            let got_b = train(&b, &dir.join(format!("b{round}")));
            (first.join().unwrap(), got_b)
        });
        assert!(
            got_a == alone_a,
            "round {round}: the 2-thread run's bytes changed"
        );
        assert!(
            got_b == alone_b,
            "round {round}: the 1-thread run's bytes changed"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
