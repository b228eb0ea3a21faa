//! Proves libtorch links and loads (no LD_LIBRARY_PATH: the build sets an
//! rpath) and that gradients flow: a tiny model, a few AdamW steps on a fixed
//! batch, and the loss must fall.
#![cfg(feature = "torch")]

use grokscope::model::TransformerConfig;
use tch::{nn, nn::OptimizerConfig, Kind, Tensor};

#[test]
fn a_tiny_model_fits_a_fixed_batch() {
    let cfg = TransformerConfig {
        d_vocab: 8,
        d_vocab_out: 7,
        n_ctx: 3,
        d_model: 16,
        n_heads: 2,
        d_mlp: 32,
        layer_norm: false,
        init: Default::default(),
    };
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let model = cfg.init(&vs.root(), &[0]).unwrap();
    let mut opt = nn::AdamW::default().build(&vs, 1e-2).unwrap();
    // (a + b) mod 7 on a fixed batch of 20 pairs.
    let a: Vec<i64> = (0..20).map(|i| i % 7).collect();
    let b: Vec<i64> = (0..20).map(|i| (3 * i + 1) % 7).collect();
    let y: Vec<i64> = a.iter().zip(&b).map(|(x, y)| (x + y) % 7).collect();
    let (a, b, y) = (
        Tensor::from_slice(&a).view([1, 20]),
        Tensor::from_slice(&b).view([1, 20]),
        Tensor::from_slice(&y),
    );
    let loss = |m: &grokscope::model::Transformer| {
        let logits = m.forward_last(&a, &b).unwrap().squeeze_dim(0);
        logits.cross_entropy_for_logits(&y)
    };
    let first = f64::try_from(loss(&model)).unwrap();
    for _ in 0..30 {
        let l = loss(&model);
        opt.zero_grad();
        l.backward();
        opt.step();
    }
    let last = f64::try_from(loss(&model).to_kind(Kind::Double)).unwrap();
    assert!(last < 0.5 * first, "loss did not fall: {first} -> {last}");
}
