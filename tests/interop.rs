//! The TransformerLens bridge without TransformerLens: an export read back
//! by the importer is the same model, and what cannot be represented is
//! refused in one line, leaving nothing behind. The round trip against the
//! real library is `make test-interop` (scripts/interop_test.py).
#![cfg(feature = "torch")]

mod common;

use grokscope::config::RunConfig;
use grokscope::groups::Operation;
use grokscope::interop::{export, import, table_tokens, ExportOptions, InteropError};
use grokscope::train::run::train_runs;
use grokscope::train::Quiet;
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

fn trained(dir: &Path, op: &str, sets: &[&str]) -> PathBuf {
    let mut cfg = RunConfig::default();
    for s in [
        format!("op=\"{op}\""),
        "epochs=60".into(),
        "checkpoint_every=20".into(),
    ] {
        cfg.set(&s).unwrap();
    }
    for s in sets {
        cfg.set(s).unwrap();
    }
    train_runs(&[cfg], &dir.join("runs"), 1, &[], &mut Quiet)
        .unwrap()
        .remove(0)
}

fn refusal(result: Result<impl std::fmt::Debug, InteropError>) -> String {
    match result {
        Err(InteropError::Refused(m)) => {
            assert_eq!(m.lines().count(), 1, "one line: {m}");
            m
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn an_export_imports_as_the_same_model() {
    let dir = common::tempdir("interop-round-trip");
    for (op, sets) in [("s3", vec![]), ("a4", vec!["layer_norm=true"])] {
        let run = trained(&dir, op, &sets);
        let out = dir.join(format!("tl-{op}"));
        let e = export(&run, &out, &ExportOptions::default()).unwrap();
        assert_eq!(e.epoch, 60);
        let op = Operation::parse(op).unwrap();
        let imported = import(&out, &op).unwrap();
        assert!(imported.notes.is_empty(), "{:?}", imported.notes);
        // The weights read back are the run's, bit for bit.
        let stored = Tensor::read_safetensors(run.join("final.safetensors")).unwrap();
        assert_eq!(stored.len(), imported.weights.len());
        for (name, t) in &stored {
            assert!(t.equal(&imported.weights[name]), "{name}");
        }
        // And they compute the reference logits the export wrote, exactly.
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let model = imported.model(&vs.root()).unwrap();
        let logits = model
            .forward(&table_tokens(op.order()).unwrap())
            .unwrap()
            .get(0);
        let reference = Tensor::read_safetensors(out.join("reference_logits.safetensors")).unwrap();
        let reference = &reference.iter().find(|(n, _)| n == "logits").unwrap().1;
        assert!(logits.equal(reference));
        // The biases grokscope has not are written as zeros.
        let state = Tensor::read_safetensors(out.join("model.safetensors")).unwrap();
        for name in ["blocks.0.attn.b_Q", "blocks.0.attn.b_O", "unembed.b_U"] {
            let t = &state.iter().find(|(n, _)| n == name).unwrap().1;
            assert_eq!(t.abs().max().double_value(&[]), 0.0, "{name}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn export_refuses_what_it_cannot_represent_and_leaves_nothing() {
    let dir = common::tempdir("interop-export-refusals");
    let stablemax = trained(&dir, "s3", &["softmax=\"stablemax\""]);
    let out = dir.join("tl");
    let m = refusal(export(&stablemax, &out, &ExportOptions::default()));
    assert!(
        m.contains("StableMax") && m.contains("--allow-stablemax"),
        "{m}"
    );
    assert!(!out.exists());
    let allowed = ExportOptions {
        allow_stablemax: true,
        ..ExportOptions::default()
    };
    export(&stablemax, &out, &allowed).unwrap();
    let m = refusal(export(&stablemax, &out, &allowed));
    assert!(m.contains("already exists"), "{m}");
    let epoch_7 = ExportOptions {
        epoch: Some(7),
        ..allowed.clone()
    };
    let m = refusal(export(&stablemax, &dir.join("tl-7"), &epoch_7));
    assert!(
        m.contains("no checkpoint at epoch 7; stored: 0, 20, 40, 60"),
        "{m}"
    );
    let m = refusal(export(&dir, &dir.join("tl-x"), &allowed));
    assert!(m.contains("not a grokscope run directory"), "{m}");
    // Nothing half-written beside the exports.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(names.iter().all(|n| !n.contains("partial")), "{names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn import_refuses_what_grokscope_cannot_compute() {
    let dir = common::tempdir("interop-import-refusals");
    let run = trained(&dir, "s3", &[]);
    let good = dir.join("tl");
    export(&run, &good, &ExportOptions::default()).unwrap();
    let s3 = Operation::parse("s3").unwrap();
    // A copy of the export with one change to its config or its tensors.
    let variant =
        |name: &str, config: &dyn Fn(&mut serde_json::Value), bias: Option<(&str, f64)>| {
            let d = dir.join(name);
            std::fs::create_dir_all(&d).unwrap();
            let mut cfg: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(good.join("config.json")).unwrap())
                    .unwrap();
            config(&mut cfg);
            std::fs::write(d.join("config.json"), cfg.to_string()).unwrap();
            let mut state = Tensor::read_safetensors(good.join("model.safetensors")).unwrap();
            if let Some((bias, value)) = bias {
                let t = &mut state.iter_mut().find(|(n, _)| n == bias).unwrap().1;
                *t = t.ones_like().to_kind(Kind::Float) * value;
            }
            Tensor::write_safetensors(&state, d.join("model.safetensors")).unwrap();
            d
        };
    let unchanged = |_: &mut serde_json::Value| {};
    let m = refusal(import(
        &variant("bq", &unchanged, Some(("blocks.0.attn.b_Q", 0.5))),
        &s3,
    ));
    assert!(m.contains("blocks.0.attn.b_Q is nonzero"), "{m}");
    let m = refusal(import(
        &variant("bu", &unchanged, Some(("unembed.b_U", 0.5))),
        &s3,
    ));
    assert!(m.contains("unembed.b_U is nonzero"), "{m}");
    // A nonzero b_K is dropped exactly: the same logits.
    let bk = import(
        &variant("bk", &unchanged, Some(("blocks.0.attn.b_K", 0.5))),
        &s3,
    )
    .unwrap();
    assert_eq!(bk.notes.len(), 1);
    let logits = |imported: &grokscope::interop::Imported| {
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let model = imported.model(&vs.root()).unwrap();
        model.forward(&table_tokens(6).unwrap()).unwrap()
    };
    assert!(logits(&bk).equal(&logits(&import(&good, &s3).unwrap())));
    let layers = variant("layers", &|c| c["n_layers"] = 2.into(), None);
    assert!(refusal(import(&layers, &s3)).contains("n_layers is 2, not 1"));
    let gelu = variant("gelu", &|c| c["act_fn"] = "gelu".into(), None);
    assert!(refusal(import(&gelu, &s3)).contains("act_fn is \"gelu\""));
    let rms = variant("rms", &|c| c["normalization_type"] = "RMS".into(), None);
    assert!(refusal(import(&rms, &s3)).contains("normalization_type"));
    let m = refusal(import(&good, &Operation::parse("add:7").unwrap()));
    assert!(m.contains("do not fit add:7 (order 7)"), "{m}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_stored_run_gives_its_activations_by_name() {
    use grokscope::activations::StoredRun;
    let dir = common::tempdir("interop-activations");
    let run_dir = trained(&dir, "s3", &["layer_norm=true"]);
    let run = StoredRun::open(&run_dir).unwrap();
    assert_eq!(run.epoch, 60);
    let cache = run.cache(&[(1, 2), (3, 4), (5, 0)]).unwrap();
    let d = run.config.d_model as i64;
    assert_eq!(cache.get("resid_post").unwrap().size(), [3, 3, d]);
    assert_eq!(
        cache.get("blocks.0.hook_resid_post").unwrap().size(),
        [3, 3, d]
    );
    assert_eq!(
        cache.get("mlp.hook_post").unwrap().size(),
        [3, 3, run.config.d_mlp as i64]
    );
    // The residual stream adds up: resid_post = resid_mid + mlp_out.
    let sum = cache
        .get("resid_mid")
        .unwrap()
        .f_add(&cache.get("mlp_out").unwrap())
        .unwrap();
    assert!(sum.allclose(&cache.get("resid_post").unwrap(), 1e-6, 1e-6, false));
    // Attention rows are distributions over the keys up to the query.
    let pattern = cache.get("pattern").unwrap(); // [3, H, 3, 3]
    let rows = pattern.sum_dim_intlist(-1, false, Kind::Float);
    assert!(rows.allclose(&rows.ones_like(), 1e-6, 1e-6, false));
    assert_eq!(pattern.get(0).get(0).get(0).get(1).double_value(&[]), 0.0);
    // The logits are the run's own: the full table's forward pass gives
    // the same, to rounding. Not bit for bit: libtorch picks its matrix
    // kernels by the number of rows and the CPU (3 pairs and 36 differ in
    // the last bits on an AVX-512 EPYC), so the tolerance is 1e-5 of the
    // logits' scale, as `export`'s check uses.
    let all = run.cache_all().unwrap().get("logits").unwrap(); // [36, 3, 6]
    let scale = all.abs().max().double_value(&[]);
    let mine = cache.get("logits").unwrap();
    for (i, (a, b)) in [(1i64, 2i64), (3, 4), (5, 0)].into_iter().enumerate() {
        let theirs = all.get(a * 6 + b);
        let gap = (mine.get(i as i64) - &theirs).abs().max().double_value(&[]);
        assert!(gap <= 1e-5 * scale, "pair {i}: {gap} apart, scale {scale}");
    }
    assert!(cache.pattern(1).unwrap().svg().starts_with("<svg"));
    // Refusals, in one line each.
    let e = refusal(cache.get("resid_psot"));
    assert!(e.contains("did you mean resid_post"), "{e}");
    assert!(refusal(run.cache(&[(6, 0)])).contains("elements 0 to 5"));
    assert!(refusal(cache.pattern(3)).contains("holds 3 pairs"));
    let e = refusal(StoredRun::at_epoch(&run_dir, 30));
    assert!(
        e.contains("no checkpoint at epoch 30; stored: 0, 20, 40, 60"),
        "{e}"
    );
    assert_eq!(StoredRun::at_epoch(&run_dir, 40).unwrap().epoch, 40);
    assert!(refusal(StoredRun::open(&dir)).contains("not a grokscope run directory"));
    std::fs::remove_dir_all(&dir).unwrap();
}
