//! The mechanism probes of one run ([`crate::analysis::mechanism`]): the
//! tch side, which reads gradients and ablated predictions out of the
//! model, and hands plain matrices to the maths.

use super::{embedding, table_logits, AnalyzeError};
use crate::analysis::mechanism::{
    distance_irrelevance, gradient_symmetricity, neuron_purity, project, Ablation, GradientPairs,
};
use crate::analysis::peter_weyl::{select_rows, PairSpectrum};
use crate::convert::to_vec;
use crate::data::Dataset;
use crate::groups::{GroupKind, Operation};
use crate::model::Transformer;
use crate::results::rows::AblationRow;
use nalgebra::DMatrix;
use serde::Serialize;
use tch::Tensor;

/// Pairs sampled for gradient symmetricity (Zhong et al. used 100).
pub const SYMMETRICITY_PAIRS: usize = 200;

/// Test accuracy and loss of the trained model with its embedding ablated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AblationResult {
    /// `none`, `remove <irrep>` or `keep key`.
    pub ablation: String,
    /// Test accuracy.
    pub test_accuracy: f64,
    /// Mean test cross-entropy (float64 softmax).
    pub test_loss: f64,
}

/// A run's mechanism probes, trained (`.0`) and at initialisation (`.1`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mechanism {
    /// Gradient symmetricity (cyclic analysis groups only).
    pub gradient_symmetricity: Option<(f64, f64)>,
    /// Distance irrelevance (cyclic analysis groups only).
    pub distance_irrelevance: Option<(f64, f64)>,
    /// Mean neuron irrep purity.
    pub neuron_purity: (f64, f64),
    /// Share of neurons whose strongest irrep pair is key on both axes.
    pub key_neuron_share: (f64, f64),
    /// The trained model's test accuracy and loss: unablated, with each key
    /// irrep removed from the embedding, and with only the key irreps
    /// (and the mean) kept.
    pub ablations: Vec<AblationResult>,
}

/// The probes of model 0 (trained) and 1 (initial) of `model`; `key` are
/// the trained embedding's key irreps as indices into the group's real
/// irreps; `neurons` the two models' neuron spectra; `unablated` the
/// trained model's [`pair_metrics`].
pub(super) fn probe(
    model: &Transformer,
    op: &Operation,
    ds: &Dataset,
    unablated: &PairMetrics,
    key: &[usize],
    neurons: &[PairSpectrum; 2],
    seed: u64,
) -> Result<Mechanism, AnalyzeError> {
    let view = &op.analysis;
    let n = op.order();
    let purity = [
        neuron_purity(&neurons[0], key),
        neuron_purity(&neurons[1], key),
    ];
    let cyclic = matches!(view.group.kind(), GroupKind::Cyclic(_));
    let (mut symmetricity, mut irrelevance) = (None, None);
    if cyclic {
        let logits = table_logits(model, n)?;
        let correct = |s: usize| {
            DMatrix::from_fn(view.group.order(), view.group.order(), |g, h| {
                let (ta, tb) = (view.tokens[g], view.tokens[h]);
                logits[s][(ta * n + tb, op.table[ta * n + tb])]
            })
        };
        irrelevance = Some((
            distance_irrelevance(&correct(0))?,
            distance_irrelevance(&correct(1))?,
        ));
        symmetricity = Some((
            gradient_symmetricity(&embedding_gradients(model, op, 0, seed)?)?,
            gradient_symmetricity(&embedding_gradients(model, op, 1, seed)?)?,
        ));
    }
    Ok(Mechanism {
        gradient_symmetricity: symmetricity,
        distance_irrelevance: irrelevance,
        neuron_purity: (purity[0].mean_purity, purity[1].mean_purity),
        key_neuron_share: (purity[0].key_share, purity[1].key_share),
        ablations: ablations(model, op, ds, unablated, key)?,
    })
}

/// `(∂Q/∂E_a, ∂Q/∂E_b)` of model `s` for [`SYMMETRICITY_PAIRS`] pairs of
/// distinct analysis-group elements drawn with `seed`, Q the logit of the
/// right answer.
fn embedding_gradients(
    model: &Transformer,
    op: &Operation,
    s: i64,
    seed: u64,
) -> Result<GradientPairs, AnalyzeError> {
    let view = &op.analysis;
    let (n, m) = (op.order(), view.group.order());
    let mut rng = crate::rng::SplitMix64::derived(seed, "gradient-symmetricity");
    let mut out = Vec::with_capacity(SYMMETRICITY_PAIRS);
    let s_count = model.n_models as i64;
    while out.len() < SYMMETRICITY_PAIRS.min(m * (m - 1)) {
        let (g, h) = (rng.below(m), rng.below(m));
        if g == h {
            continue;
        }
        let (ta, tb) = (view.tokens[g], view.tokens[h]);
        let label = op.table[ta * n + tb] as i64;
        let grad = model.w_e.grad();
        if grad.defined() {
            let _ = grad.shallow_clone().f_zero_()?;
        }
        let a = Tensor::f_full(
            [s_count, 1],
            ta as i64,
            (tch::Kind::Int64, tch::Device::Cpu),
        )?;
        let b = Tensor::f_full(
            [s_count, 1],
            tb as i64,
            (tch::Kind::Int64, tch::Device::Cpu),
        )?;
        let q = model
            .forward_last(&a, &b)?
            .f_get(s)?
            .f_get(0)?
            .f_get(label)?;
        q.f_backward()?;
        let g_e = model.w_e.grad().f_get(s)?;
        out.push((
            to_vec(&g_e.f_get(ta as i64)?)?,
            to_vec(&g_e.f_get(tb as i64)?)?,
        ));
    }
    Ok(out)
}

/// Accuracies and test loss of one model on a dataset's pairs.
pub(super) struct PairMetrics {
    train_accuracy: f64,
    test_accuracy: f64,
    /// Mean float64 cross-entropy on the test pairs.
    test_loss: f64,
}

/// [`PairMetrics`] of every model on `ds` (one forward pass for all):
/// training pairs against the labels trained on, test pairs against the
/// operation's. Computed once per analysis and read, unablated, by both
/// [`probe`]'s key ablations and [`irrep_ablations`].
pub(super) fn pair_metrics(
    model: &Transformer,
    op: &Operation,
    ds: &Dataset,
) -> Result<Vec<PairMetrics>, AnalyzeError> {
    Ok(table_logits(model, op.order())?
        .iter()
        .map(|logits| metrics_of(logits, ds))
        .collect())
}

/// [`PairMetrics`] of one model's logits of every pair.
fn metrics_of(logits: &DMatrix<f64>, ds: &Dataset) -> PairMetrics {
    // The first maximum, as argmax.
    let argmax = |p: usize| {
        let row = logits.row(p);
        (0..row.len()).fold(0, |b, j| if row[j] > row[b] { j } else { b })
    };
    let accuracy = |pairs: &[usize]| {
        let right = pairs.iter().filter(|&&p| argmax(p) == ds.labels[p]).count();
        right as f64 / pairs.len().max(1) as f64
    };
    let mut loss = 0.0;
    for &p in &ds.test {
        let row = logits.row(p);
        let best = row[argmax(p)];
        loss += best + row.iter().map(|x| (x - best).exp()).sum::<f64>().ln() - row[ds.labels[p]];
    }
    PairMetrics {
        train_accuracy: accuracy(&ds.train),
        test_accuracy: accuracy(&ds.test),
        test_loss: loss / ds.test.len().max(1) as f64,
    }
}

/// Runs `measure` with model `s`'s embedding rows of the analysis group
/// replaced by `rows` (group order), and restores the weights afterwards,
/// also when `measure` fails.
fn with_embedding<T>(
    model: &Transformer,
    s: usize,
    op: &Operation,
    rows: &DMatrix<f64>,
    measure: impl FnOnce() -> Result<T, AnalyzeError>,
) -> Result<T, AnalyzeError> {
    let s = s as i64;
    let original = model.w_e.f_get(s)?.f_detach()?.copy();
    let result = tch::no_grad(|| -> Result<(), AnalyzeError> {
        let w = original.copy();
        for (g, &t) in op.analysis.tokens.iter().enumerate() {
            let values: Vec<f32> = rows.row(g).iter().map(|&x| x as f32).collect();
            w.f_get(t as i64)?
                .f_copy_(&Tensor::f_from_slice(&values)?)?;
        }
        model.w_e.f_get(s)?.f_copy_(&w)?;
        Ok(())
    })
    .and_then(|()| measure());
    tch::no_grad(|| model.w_e.f_get(s)?.f_copy_(&original))?;
    result
}

/// The trained model's test metrics with its embedding (the analysis
/// group's rows) ablated as each key arm says, after `unablated`.
fn ablations(
    model: &Transformer,
    op: &Operation,
    ds: &Dataset,
    unablated: &PairMetrics,
    key: &[usize],
) -> Result<Vec<AblationResult>, AnalyzeError> {
    let view = &op.analysis;
    let reps = view.group.representations();
    let rows = select_rows(view, &embedding(model, 0, op.order() as i64)?)?;
    let mut out = vec![AblationResult {
        ablation: "none".into(),
        test_accuracy: unablated.test_accuracy,
        test_loss: unablated.test_loss,
    }];
    let mut arms: Vec<(String, Ablation)> = key
        .iter()
        .map(|&i| (format!("remove {}", reps.real[i].name), Ablation::Remove(i)))
        .collect();
    if !key.is_empty() {
        arms.push(("keep key".into(), Ablation::KeepOnly(key)));
    }
    for (name, ablation) in arms {
        let ablated = project(&view.group, &rows, ablation)?;
        let m =
            with_embedding(model, 0, op, &ablated, || pair_metrics(model, op, ds))?.swap_remove(0);
        out.push(AblationResult {
            ablation: name,
            test_accuracy: m.test_accuracy,
            test_loss: m.test_loss,
        });
    }
    Ok(out)
}

/// The causal check of the embedding's irreps: for the trained model and
/// the untrained one (a null), train and test accuracy unablated and with
/// each non-trivial real irrep's isotypic component removed in turn.
/// `shares` are each model's embedding shares per non-trivial irrep (in
/// the group's order, trivial excluded); `unablated` both models'
/// [`pair_metrics`].
pub(super) fn irrep_ablations(
    model: &Transformer,
    op: &Operation,
    ds: &Dataset,
    unablated: &[PairMetrics],
    shares: [&[f64]; 2],
) -> Result<Vec<AblationRow>, AnalyzeError> {
    let view = &op.analysis;
    let reps = view.group.representations();
    const MODELS: [&str; 2] = ["trained", "init"];
    let n = op.order() as i64;
    let trained = select_rows(view, &embedding(model, 0, n)?)?;
    let init = select_rows(view, &embedding(model, 1, n)?)?;
    // Each model's rows: unablated first, then one per irrep removed.
    let row = |s: usize, irrep: String, real_dim: u32, share: f64, m: &PairMetrics| AblationRow {
        model: MODELS[s].into(),
        irrep,
        real_dim,
        share,
        train_accuracy: m.train_accuracy,
        test_accuracy: m.test_accuracy,
    };
    let mut per_model: [Vec<AblationRow>; 2] = [Vec::new(), Vec::new()];
    for (s, m) in unablated.iter().enumerate() {
        per_model[s].push(row(s, "none".into(), 0, 0.0, m));
    }
    let nontrivial = reps
        .real
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.is_trivial());
    for (k, (i, rep)) in nontrivial.enumerate() {
        // Both models ablated at once: one forward pass reads both.
        let a = project(&view.group, &trained, Ablation::Remove(i))?;
        let b = project(&view.group, &init, Ablation::Remove(i))?;
        let m = with_embedding(model, 0, op, &a, || {
            with_embedding(model, 1, op, &b, || pair_metrics(model, op, ds))
        })?;
        for (s, m) in m.iter().enumerate() {
            per_model[s].push(row(
                s,
                rep.name.clone(),
                rep.real_dim() as u32,
                shares[s][k],
                m,
            ));
        }
    }
    let [mut out, init_rows] = per_model;
    out.extend(init_rows);
    Ok(out)
}
