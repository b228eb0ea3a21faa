//! A run's bytes do not depend on its batch: trained alone, in a batch of
//! seeds, or in a batch with another operation of the same order, on one
//! thread or two, its `metrics.parquet` and `final.safetensors` are the
//! same. Every per-model computation of the fused step (libtorch's batched
//! products and reductions, the attention loops, AdamW) reads only its own
//! model's slice, in an order that does not depend on how many models sit
//! beside it.
#![cfg(feature = "torch")]

mod common;
use common::*;
use grokscope::config::RunConfig;
use grokscope::train::run::train_runs;
use grokscope::train::{Quiet, TrainError};
use std::path::Path;

/// Order 28 (549 training pairs: two chunks of the fused pass per model,
/// so its chunk loop has work for both threads).
fn run(op: &str, seed: u64) -> RunConfig {
    RunConfig {
        op: op.into(),
        seed,
        epochs: 80,
        checkpoint_every: 40,
        d_model: 32,
        d_mlp: 64,
        ..RunConfig::default()
    }
}

type Bytes = (Vec<u8>, Vec<u8>);

/// The stored bytes (metrics, final weights) of each run of one batch.
fn train(batch: &[RunConfig], threads: usize, out: &Path) -> Vec<Bytes> {
    train_runs(batch, out, threads, &[], &mut Quiet)
        .unwrap()
        .iter()
        .map(|run| {
            let bytes = |f: &str| std::fs::read(run.join(f)).unwrap();
            (bytes("metrics.parquet"), bytes("final.safetensors"))
        })
        .collect()
}

fn check(make: &dyn Fn(&str, u64) -> RunConfig, name: &str) {
    let dir = tempdir(name);
    let (a, b) = ("smallgroup:28,3", "smallgroup:28,1");
    let alone_a = train(&[make(a, 1)], 1, &dir.join("alone-a")).remove(0);
    let alone_b = train(&[make(b, 1)], 1, &dir.join("alone-b")).remove(0);
    for threads in [1, 2] {
        let batch = [make(a, 0), make(a, 1), make(b, 1)];
        let got = train(&batch, threads, &dir.join(format!("batch-{threads}")));
        assert!(
            got[1] == alone_a,
            "{name}: {a} seed 1 in a batch of 3 on {threads} threads differs from it alone"
        );
        assert!(
            got[2] == alone_b,
            "{name}: {b} seed 1 in a batch of 3 on {threads} threads differs from it alone"
        );
        assert!(
            got[0] != got[1],
            "{name}: two seeds gave the same bytes (the batch did not train them apart)"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_alone_equals_the_same_run_in_a_mixed_batch() {
    check(&run, "batch-default");
}

#[test]
fn a_run_alone_equals_the_same_run_in_a_mixed_batch_with_every_control() {
    check(&|op, seed| with_controls(run(op, seed)), "batch-controls");
}

#[test]
fn a_batch_refuses_other_orders_and_other_settings() {
    let dir = tempdir("batch-refuse");
    let err = |batch: &[RunConfig]| match train_runs(batch, &dir, 1, &[], &mut Quiet) {
        Err(e @ TrainError::Batch(_)) => e.to_string(),
        other => panic!("expected a batch error, got {other:?}"),
    };
    let other_order = err(&[run("smallgroup:28,3", 0), run("smallgroup:24,3", 0)]);
    assert!(other_order.contains("one order"), "{other_order}");
    assert_eq!(other_order.lines().count(), 1);
    let mut other_lr = run("smallgroup:28,1", 0);
    other_lr.lr = 0.01;
    let other_setting = err(&[run("smallgroup:28,3", 0), other_lr]);
    assert!(
        other_setting.contains("keys other than op and seed"),
        "{other_setting}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
