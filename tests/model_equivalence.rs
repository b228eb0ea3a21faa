//! The fast training path computes the same function as the plain
//! TransformerLens forward pass (values and gradients), batched seeds give
//! the same per-seed training as one model at a time, and an independent
//! PyTorch implementation (scripts/crosscheck_pytorch.py) gives the same
//! logits from a stored run.
#![cfg(feature = "torch")]

use grokscope::config::RunConfig;
use grokscope::model::{Transformer, TransformerConfig};
use grokscope::train::{self, Quiet};
use std::path::Path;
use tch::{nn, Kind, Tensor};

fn random_model(vs: &nn::VarStore, layer_norm: bool, seeds: &[u64]) -> Transformer {
    let mut cfg = TransformerConfig::for_order(7);
    cfg.d_model = 32;
    cfg.d_mlp = 48;
    cfg.layer_norm = layer_norm;
    let model = cfg.init(&vs.root(), seeds).unwrap();
    // Perturb everything (biases and LayerNorm gains start at 0 and 1).
    tch::manual_seed(11);
    tch::no_grad(|| {
        for (_, t) in model.named_weights() {
            let _ = t
                .shallow_clone()
                .f_add_(&(Tensor::randn(t.size(), (Kind::Float, tch::Device::Cpu)) * 0.3))
                .unwrap();
        }
    });
    model
}

/// All 49 pairs of a 7-element table, for S models.
fn all_pairs(s: i64) -> (Tensor, Tensor, Tensor) {
    let a: Vec<i64> = (0..49).map(|p| p / 7).collect();
    let b: Vec<i64> = (0..49).map(|p| p % 7).collect();
    let tokens: Vec<i64> = a.iter().zip(&b).flat_map(|(&x, &y)| [x, y, 7]).collect();
    let ta = Tensor::from_slice(&a).view([1, 49]).repeat([s, 1]);
    let tb = Tensor::from_slice(&b).view([1, 49]).repeat([s, 1]);
    (ta, tb, Tensor::from_slice(&tokens).view([49, 3]))
}

fn grads(model: &Transformer) -> Vec<Tensor> {
    model
        .named_weights()
        .iter()
        .map(|(_, t)| t.grad().copy())
        .collect()
}

fn zero_grads(model: &Transformer) {
    for (_, t) in model.named_weights() {
        let mut g = t.grad();
        if g.defined() {
            let _ = g.zero_();
        }
    }
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    f64::try_from((a - b).abs().max()).unwrap()
}

#[test]
fn fast_path_equals_plain_path_forward_and_backward() {
    for layer_norm in [false, true] {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let model = random_model(&vs, layer_norm, &[3, 4]);
        let (a, b, tokens) = all_pairs(2);
        let plain = model.forward(&tokens).unwrap().select(2, 2); // [S, B, V] at the last position
        let fast = model.forward_last(&a, &b).unwrap();
        assert_eq!(plain.size(), fast.size());
        // float32: compare relative to the logits' scale (here tens).
        let scale = f64::try_from(plain.abs().max()).unwrap();
        let d = max_diff(&plain, &fast) / scale;
        assert!(
            d < 1e-6,
            "layer_norm={layer_norm}: forward differs by {d} (relative to max |logit| {scale})"
        );

        // Gradients of the same scalar through both paths.
        tch::manual_seed(5);
        let r = Tensor::randn(plain.size(), (Kind::Float, tch::Device::Cpu));
        zero_grads(&model);
        (model.forward(&tokens).unwrap().select(2, 2) * &r)
            .sum(Kind::Float)
            .backward();
        let g_plain = grads(&model);
        zero_grads(&model);
        (model.forward_last(&a, &b).unwrap() * &r)
            .sum(Kind::Float)
            .backward();
        let g_fast = grads(&model);
        for ((name, _), (gp, gf)) in model
            .named_weights()
            .iter()
            .zip(g_plain.iter().zip(&g_fast))
        {
            let scale = f64::try_from(gp.abs().max()).unwrap().max(1.0);
            let d = max_diff(gp, gf) / scale;
            assert!(
                d < 1e-5,
                "layer_norm={layer_norm}: gradient of {name} differs by {d} (relative)"
            );
        }
    }
}

#[test]
fn run_with_cache_records_transformerlens_activations() {
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let model = random_model(&vs, false, &[0]);
    let (_, _, tokens) = all_pairs(1);
    let (_, cache) = model.run_with_cache(&tokens).unwrap();
    assert_eq!(
        cache.get("blocks.0.mlp.hook_post").unwrap().size(),
        [1, 49, 3, 48]
    );
    assert_eq!(
        cache.get("blocks.0.attn.hook_pattern").unwrap().size(),
        [1, 49, 4, 3, 3]
    );
    assert_eq!(
        cache.get("blocks.0.attn.hook_z").unwrap().size(),
        [1, 49, 3, 4, 8]
    );
    // Causal: position 0 attends only to itself.
    let p = cache.get("blocks.0.attn.hook_pattern").unwrap();
    assert!(f64::try_from(p.select(3, 0).select(3, 0).min()).unwrap() > 0.999999);
    let e = cache.get("hook_embd").unwrap_err().to_string();
    assert!(e.contains("hook_embed"), "{e}");
}

fn tiny(op: &str, seed: u64, epochs: usize) -> RunConfig {
    RunConfig {
        op: op.into(),
        seed,
        epochs,
        eval_every: 5,
        d_model: 32,
        d_mlp: 64,
        checkpoint_every: 0,
        ..RunConfig::default()
    }
}

#[test]
fn batched_seeds_train_like_one_model_at_a_time() {
    let seeds = [0u64, 1, 2];
    let configs: Vec<RunConfig> = seeds.iter().map(|&s| tiny("add:13", s, 40)).collect();
    let batched = train::train(&configs, 1, &mut Quiet).unwrap();
    for (s, cfg) in configs.iter().enumerate() {
        let single = train::train(std::slice::from_ref(cfg), 1, &mut Quiet).unwrap();
        for ((name, tb), (_, ts)) in batched
            .model
            .named_weights()
            .iter()
            .zip(single.model.named_weights())
        {
            let d = max_diff(&tb.get(s as i64), &ts.get(0));
            assert!(
                d < 1e-4,
                "seed {}: {name} differs by {d} after 40 epochs",
                cfg.seed
            );
        }
        for (rb, rs) in batched.metrics[s].iter().zip(&single.metrics[0]) {
            assert_eq!(
                (rb.epoch, rb.split, rb.metric),
                (rs.epoch, rs.split, rs.metric)
            );
            assert!(
                (rb.value - rs.value).abs() < 1e-4,
                "seed {}: {rb:?} vs {rs:?}",
                cfg.seed
            );
        }
    }
    // And the seeds really are different models.
    let w = &batched.model.w_e;
    assert!(max_diff(&w.get(0), &w.get(1)) > 0.1);
}

#[test]
fn pytorch_reimplementation_gives_the_same_logits() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/crosscheck_pytorch.py");
    assert!(
        python.exists(),
        "the project venv is missing: run `make setup`"
    );
    let dir = tempdir("crosscheck");
    for layer_norm in [false, true] {
        let mut cfg = tiny("s4", 7, 30);
        cfg.layer_norm = layer_norm;
        let runs =
            grokscope::train::run::train_runs(std::slice::from_ref(&cfg), &dir, 1, &[], &mut Quiet)
                .unwrap();
        let run = &runs[0];
        let out = dir.join(format!("torch-logits-{layer_norm}.safetensors"));
        let status = std::process::Command::new(&python)
            .arg(&script)
            .arg(run.join("final.safetensors"))
            .arg(run.join("config.json"))
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "crosscheck_pytorch.py failed");
        let torch_logits = Tensor::read_safetensors(&out).unwrap().remove(0).1; // [576, 24]
        let mut mcfg = TransformerConfig::for_order(24);
        mcfg.d_model = 32;
        mcfg.d_mlp = 64;
        mcfg.layer_norm = layer_norm;
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let model =
            Transformer::load(&mcfg, &vs.root(), &[&run.join("final.safetensors")]).unwrap();
        let a = Tensor::arange(24, (Kind::Int64, tch::Device::Cpu))
            .repeat_interleave_self_int(24, None, None)
            .view([1, -1]);
        let b = Tensor::arange(24, (Kind::Int64, tch::Device::Cpu))
            .repeat([24])
            .view([1, -1]);
        let ours = tch::no_grad(|| model.forward_last(&a, &b).unwrap()).squeeze_dim(0);
        let d = max_diff(&ours, &torch_logits);
        assert!(
            d < 1e-5,
            "layer_norm={layer_norm}: grokscope and PyTorch logits differ by {d}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("grokscope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn forward_last_refuses_bad_tokens_with_an_error_not_a_panic() {
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let model = random_model(&vs, false, &[3, 4]);
    let (a, b, _) = all_pairs(2);
    let msg = |a: &Tensor, b: &Tensor| model.forward_last(a, b).unwrap_err().to_string();
    // One row for two models, a 1-d tensor, floats, a token of model 1's
    // range (7 would read model 1's embedding from model 0), unequal shapes.
    assert!(msg(&a.narrow(0, 0, 1), &b.narrow(0, 0, 1)).contains("expected [2, batch]"));
    assert!(msg(&a.flatten(0, 1), &b.flatten(0, 1)).contains("expected [2, batch]"));
    assert!(msg(&a.to_kind(Kind::Float), &b).contains("int64"));
    assert!(msg(&(&a + 1), &b).contains("tokens 1..=7"));
    assert!(msg(&a, &b.narrow(1, 0, 10)).contains("must match"));
    assert!(model.forward_last(&a, &b).is_ok());
}
