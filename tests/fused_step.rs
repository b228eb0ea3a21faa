//! The fused step against its references: hand-derived gradients equal
//! autograd's on abelian and non-abelian tables, one model and a batch;
//! grokscope's AdamW equals libtorch's AdamW on the same gradients.
#![cfg(feature = "torch")]

use grokscope::config::{LossPrecision, Softmax};
use grokscope::data::Dataset;
use grokscope::groups::Operation;
use grokscope::model::{Transformer, TransformerConfig};
use grokscope::train::fused::{autograd_pass, pass, project_out, AdamW, AdamWConfig, Chunk};
use grokscope::train::loss::LossKind;
use tch::{nn, nn::OptimizerConfig, Kind, Tensor};

/// A model with every weight perturbed (biases start at zero otherwise).
fn model(vs: &nn::VarStore, n: usize, seeds: &[u64]) -> Transformer {
    let mut cfg = TransformerConfig::for_order(n);
    cfg.d_model = 32;
    cfg.d_mlp = 48;
    let m = cfg.init(&vs.root(), seeds).unwrap();
    tch::manual_seed(5);
    tch::no_grad(|| {
        for (_, t) in m.named_weights() {
            let _ = t
                .shallow_clone()
                .f_add_(&(Tensor::randn(t.size(), (Kind::Float, tch::Device::Cpu)) * 0.2))
                .unwrap();
        }
    });
    m
}

/// The training pairs of `op` for each seed, in chunks of `rows`.
fn chunks(op: &str, seeds: &[u64], rows: i64) -> (Vec<Chunk>, i64, usize) {
    let models: Vec<(&str, u64)> = seeds.iter().map(|&s| (op, s)).collect();
    chunks_of(&models, rows)
}

/// The training pairs of each model (an operation and a seed; one order),
/// in chunks of `rows`.
fn chunks_of(models: &[(&str, u64)], rows: i64) -> (Vec<Chunk>, i64, usize) {
    let ds: Vec<Dataset> = models
        .iter()
        .map(|&(op, s)| Dataset::new(&Operation::parse(op).unwrap(), 0.6, s).unwrap())
        .collect();
    let n = ds[0].n;
    assert!(ds.iter().all(|d| d.n == n), "one order per batch");
    let s = models.len() as i64;
    let (mut a, mut b, mut y) = (vec![], vec![], vec![]);
    for d in &ds {
        for &p in &d.train {
            a.push((p / d.n) as i64);
            b.push((p % d.n) as i64);
            y.push(d.labels[p] as i64);
        }
    }
    let t = |v: &[i64]| Tensor::from_slice(v).view([s, -1]);
    let (ta, tb, ty) = (t(&a), t(&b), t(&y));
    let total = ta.size()[1];
    (
        Chunk::split(&ta, &tb, &ty, n as i64, rows).unwrap(),
        total,
        n,
    )
}

fn check_gradients(op: &str, seeds: &[u64]) {
    check_gradients_of(op, seeds, LossKind::default());
}

fn check_gradients_of(op: &str, seeds: &[u64], kind: LossKind) {
    let models: Vec<(&str, u64)> = seeds.iter().map(|&s| (op, s)).collect();
    check_batch(&models, kind);
}

fn check_batch(models: &[(&str, u64)], kind: LossKind) {
    let (ch, total, n) = chunks_of(models, 37); // several uneven chunks
    let seeds: Vec<u64> = models.iter().map(|m| m.1).collect();
    let what = models
        .iter()
        .map(|(op, s)| format!("{op}#{s}"))
        .collect::<Vec<_>>()
        .join(",");
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let m = model(&vs, n, &seeds);
    let (fused_stats, fused) = pass(&m, &ch, total, true, kind).unwrap();
    let (auto_stats, auto) = autograd_pass(&m, &ch, total, true, kind).unwrap();
    let auto = auto.unwrap();
    for ((name, _), (g, r)) in m
        .named_weights()
        .iter()
        .zip(fused.unwrap().iter().zip(&auto))
    {
        let diff = f64::try_from((g - r).abs().max()).unwrap();
        let scale = f64::try_from(r.abs().max()).unwrap();
        assert!(
            diff <= 1e-5 * scale.max(1e-12),
            "{what} {kind:?}: {name} relative error {:.2e}",
            diff / scale
        );
    }
    for (x, y) in fused_stats.loss_sum.iter().zip(&auto_stats.loss_sum) {
        assert!((x - y).abs() <= 1e-4 * y.abs(), "loss {x} vs {y}");
    }
    assert_eq!(fused_stats.correct, auto_stats.correct);
    assert_eq!(fused_stats.collapsed, auto_stats.collapsed);
    for (x, y) in fused_stats
        .logit_scale_sum
        .iter()
        .zip(&auto_stats.logit_scale_sum)
    {
        assert!((x - y).abs() <= 1e-5 * y.abs(), "logit scale {x} vs {y}");
    }
}

#[test]
fn gradients_of_a_batch_of_different_operations_of_one_order_equal_autograd() {
    // D4, (Z/2)^3, Z/8 as addition in the ring Z/8, and Q8, with a second
    // seed of D4: different tables and splits side by side.
    let models = [
        ("smallgroup:8,3", 0),
        ("smallgroup:8,5", 1),
        ("ring:8", 2),
        ("smallgroup:8,4", 3),
        ("smallgroup:8,3", 4),
    ];
    check_batch(&models, LossKind::default());
    check_batch(
        &models,
        LossKind {
            precision: LossPrecision::F64,
            softmax: Softmax::Stablemax,
        },
    );
    // Large enough for the chunk loop's two threads.
    check_batch(
        &[("smallgroup:48,3", 0), ("smallgroup:48,52", 0)],
        LossKind::default(),
    );
}

#[test]
fn gradients_of_the_f64_and_stablemax_losses_equal_autograd() {
    for precision in [LossPrecision::F32, LossPrecision::F64] {
        for softmax in [Softmax::Standard, Softmax::Stablemax] {
            let kind = LossKind { precision, softmax };
            check_gradients_of("s3", &[0], kind);
            check_gradients_of("ring:6", &[4, 5], kind);
        }
    }
    // The two-thread chunk loop.
    check_gradients_of(
        "add:59",
        &[0],
        LossKind {
            precision: LossPrecision::F64,
            softmax: Softmax::Stablemax,
        },
    );
}

/// A one-element AdamW: its weight after being fed `grads` one by one.
fn adam_path(cfg: AdamWConfig, grads: &[f32]) -> Vec<f32> {
    let w = Tensor::from_slice(&[1.0f32]);
    let mut adam = AdamW::new(cfg, &[1], 1);
    grads
        .iter()
        .map(|&g| {
            adam.update(&[&w], &[Tensor::from_slice(&[g])]).unwrap();
            f32::try_from(&w).unwrap()
        })
        .collect()
}

#[test]
fn grokfast_feeds_adamw_the_gradient_plus_lambda_times_its_ema() {
    let plain = AdamWConfig {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.98,
        weight_decay: 0.5,
        eps: 1e-8,
        grokfast: None,
        orthogonal: false,
    };
    let filtered = AdamWConfig {
        grokfast: Some((0.5, 2.0)),
        ..plain
    };
    // By hand, α = 0.5, λ = 2 on gradients 1, −1, −1: the EMA is 1, then
    // 0.5 − 0.5 = 0, then −0.5, so AdamW is fed 1 + 2 = 3, −1 + 0 = −1,
    // −1 − 1 = −2.
    assert_eq!(
        adam_path(filtered, &[1.0, -1.0, -1.0]),
        adam_path(plain, &[3.0, -1.0, -2.0])
    );
}

#[test]
fn orthogonal_adamw_projects_each_models_gradient_off_its_weight() {
    // By hand: w = (3, 4), g = (1, 0): ⟨w, g⟩ / ⟨w, w⟩ = 3/25, so
    // g⊥ = (1 − 9/25, −12/25) = (0.64, −0.48), orthogonal to w.
    let mut g = [1.0f32, 0.0];
    project_out(&[3.0, 4.0], &mut g);
    assert!(
        (g[0] - 0.64).abs() < 1e-7 && (g[1] + 0.48).abs() < 1e-7,
        "{g:?}"
    );
    // A zero weight (a bias at initialisation) keeps its gradient.
    let mut g = [1.0f32, 2.0];
    project_out(&[0.0, 0.0], &mut g);
    assert_eq!(g, [1.0, 2.0]);
    // Two stacked models, each projected on its own weight: model 0's
    // gradient along its weight vanishes, so only decay moves it; model 1's
    // is orthogonal to its weight already and moves as plain AdamW.
    let cfg = AdamWConfig {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.98,
        weight_decay: 0.0,
        eps: 1e-8,
        grokfast: None,
        orthogonal: true,
    };
    let w = Tensor::from_slice(&[1.0f32, 0.0, 0.0, 1.0]).view([2, 2]);
    let mut adam = AdamW::new(cfg, &[4], 2);
    let g = Tensor::from_slice(&[2.0f32, 0.0, 1.0, 0.0]).view([2, 2]);
    adam.update(&[&w], &[g]).unwrap();
    let after = Vec::<f32>::try_from(w.view([-1])).unwrap();
    assert_eq!(&after[..2], &[1.0, 0.0]);
    // Plain AdamW's first step moves each coordinate by lr·sign(g).
    assert!(
        (after[2] + 0.1).abs() < 1e-6 && after[3] == 1.0,
        "{after:?}"
    );
    assert!(adam.last_update_sq[0] == 0.0 && (adam.last_update_sq[1] - 0.01).abs() < 1e-8);
}

#[test]
fn hand_derived_gradients_equal_autograd_on_abelian_and_non_abelian_tables() {
    check_gradients("add:11", &[0]);
    check_gradients("s3", &[0]);
    check_gradients("a4", &[1, 2, 3]);
    check_gradients("ring:6", &[4, 5]);
    // Large enough for the chunk loop's two threads (1024 pairs or more).
    check_gradients("add:59", &[0]);
}

#[test]
fn the_fused_pass_gives_the_same_bits_on_one_thread_and_two() {
    let (ch, total, n) = chunks("add:59", &[0, 1], 512);
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let m = model(&vs, n, &[0, 1]);
    let run = |threads: i32| {
        tch::set_num_threads(threads);
        let (stats, g) = pass(&m, &ch, total, true, LossKind::default()).unwrap();
        let g: Vec<Vec<f32>> = g
            .unwrap()
            .iter()
            .map(|t| Vec::<f32>::try_from(t.flatten(0, -1)).unwrap())
            .collect();
        (stats.loss_sum, stats.correct, g)
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.0, two.0, "losses");
    assert_eq!(one.1, two.1, "correct");
    for (k, (a, b)) in one.2.iter().zip(&two.2).enumerate() {
        assert!(
            a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "gradient {k} differs between one thread and two"
        );
    }
}

#[test]
fn grokscope_adamw_equals_libtorch_adamw() {
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let m = model(&vs, 6, &[0]);
    let (ch, total, _) = chunks("s3", &[0], 64);
    // The same starting weights, copied (tests run in parallel and share
    // libtorch's global RNG, so drawing them twice could differ).
    let ours_vs = nn::VarStore::new(tch::Device::Cpu);
    let copies = m
        .named_weights()
        .iter()
        .map(|(n, t)| (n.to_string(), t.detach().copy()))
        .collect();
    let ours = Transformer::from_tensors(m.cfg.clone(), &ours_vs.root(), copies).unwrap();
    let weights: Vec<&Tensor> = ours.named_weights().into_iter().map(|(_, t)| t).collect();
    let sizes: Vec<usize> = weights.iter().map(|t| t.numel()).collect();
    let cfg = AdamWConfig {
        lr: 3e-3,
        beta1: 0.9,
        beta2: 0.98,
        weight_decay: 1.0,
        eps: 1e-8,
        grokfast: None,
        orthogonal: false,
    };
    let mut adam = AdamW::new(cfg, &sizes, 1);
    let mut opt = nn::AdamW {
        beta1: cfg.beta1,
        beta2: cfg.beta2,
        wd: cfg.weight_decay,
        eps: cfg.eps,
        amsgrad: false,
    }
    .build(&vs, cfg.lr)
    .unwrap();
    for _ in 0..20 {
        opt.zero_grad();
        let (_, g) = autograd_pass(&m, &ch, total, true, LossKind::default()).unwrap();
        opt.step();
        let (_, g2) = autograd_pass(&ours, &ch, total, true, LossKind::default()).unwrap();
        adam.update(&weights, &g2.unwrap()).unwrap();
        drop(g);
    }
    // Same definition; the arithmetic differs only in rounding (libtorch
    // fuses some operations), so after 20 steps the weights agree closely.
    for ((name, a), (_, b)) in m.named_weights().iter().zip(ours.named_weights().iter()) {
        let diff = f64::try_from((*a - *b).abs().max()).unwrap();
        let scale = f64::try_from(a.abs().max()).unwrap();
        assert!(diff <= 1e-4 * scale, "{name}: {diff:.2e} of {scale:.2e}");
    }
    assert_eq!(adam.step, 20);
}

#[test]
fn transformer_lens_initialisation_draws_with_std_0_8_over_sqrt_d_model() {
    let mut cfg = TransformerConfig::for_order(60);
    cfg.d_model = 128;
    cfg.d_mlp = 512;
    cfg.init = grokscope::model::Init::TransformerLens;
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let m = cfg.init(&vs.root(), &[3]).unwrap();
    let want = 0.8 / (128f64).sqrt();
    for (name, t) in m.named_weights() {
        let sd = f64::try_from(t.std(true)).unwrap();
        if name.contains(".b_") {
            assert_eq!(f64::try_from(t.abs().max()).unwrap(), 0.0, "{name}");
        } else {
            // Thousands of draws each: the sample std is within 10%.
            assert!((sd / want - 1.0).abs() < 0.1, "{name}: std {sd} vs {want}");
        }
    }
}

#[test]
fn frozen_biases_stay_exactly_zero_while_the_rest_trains() {
    use grokscope::config::{RunConfig, Step};
    for step in [Step::Fused, Step::Autograd] {
        for freeze in [true, false] {
            let c = RunConfig {
                op: "s3".into(),
                epochs: 30,
                checkpoint_every: 0,
                freeze_biases: freeze,
                step,
                ..RunConfig::default()
            };
            let t = grokscope::train::train(&[c], 1, &mut grokscope::train::Quiet).unwrap();
            for (name, w) in t.model.named_weights() {
                let max = f64::try_from(w.abs().max()).unwrap();
                if name.contains(".b_") {
                    assert_eq!(
                        max == 0.0,
                        freeze,
                        "{step:?} freeze {freeze}: {name} max {max}"
                    );
                } else {
                    assert!(max > 0.0, "{name}");
                }
            }
        }
    }
}
