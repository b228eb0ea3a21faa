//! Full-batch AdamW training of one or several seeds of one configuration,
//! grokking detection, run directories and sweeps.
//!
//! Several seeds of one configuration train as one [`Transformer`] with a
//! leading model dimension: each seed keeps its own initial weights, its own
//! split and its own AdamW state (AdamW is elementwise), and the loss is the
//! sum of the per-seed mean losses, so each seed's gradient is its own.
//!
//! Metrics at epoch t are measured on the weights after t optimiser steps
//! (epoch 0 is the initialisation), every `eval_every` epochs and at the
//! last epoch, from one forward pass over the whole table.

pub mod attention;
pub mod committed;
pub mod fused;
pub mod loss;
pub mod run;
pub mod slurm;
pub mod sweep;
pub mod threads;

use crate::config::{ConfigError, RunConfig, Step};
use crate::data::Dataset;
/// The outcome of one run (defined with the grokking criteria, so the
/// results layout can name its fields without libtorch).
pub use crate::grok::Summary;
use crate::grok::{GrokReport, StopReason};
use crate::groups::Operation;
use crate::model::{ModelError, Transformer, TransformerConfig};
use serde::{Deserialize, Serialize};
use tch::{nn, nn::OptimizerConfig, Kind, Tensor};

/// What can stop training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// libtorch failed.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// Writing results failed.
    #[error("{path}: {reason}")]
    Io {
        /// The file or directory.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// Batched configs that differ in more than operation and seed, or
    /// whose operations differ in order.
    #[error("batched training: {0}")]
    Batch(String),
    /// A results file failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Stopped by the caller.
    #[error("interrupted")]
    Interrupted,
}

/// One metric value; `metrics.parquet` is a list of these (long format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRow {
    /// Epoch (optimiser steps taken).
    pub epoch: u32,
    /// `train`, `test`, `informative_test` or `model`.
    pub split: &'static str,
    /// `loss`, `accuracy` or `weight_norm`.
    pub metric: &'static str,
    /// The value.
    pub value: f64,
}

/// Training pairs per model in one forward/backward chunk of the autograd
/// step (grokscope 0.1's; its stored results depend on it). Fixed (not
/// tuned to the machine) so that results depend only on the config, seed
/// and thread count.
pub const CHUNK_ROWS: i64 = crate::budget::CHUNK_ROWS as i64;

/// Pairs per model in one chunk of the fused step: small enough that a
/// chunk's activations stay in cache (measured fastest of 512-9000 on
/// `add` with 2 threads). Fixed, so results depend only on the config,
/// seed, threads and batch.
pub const FUSED_CHUNK_ROWS: i64 = 512;

/// Accuracy threshold for "memorised" and "grokked" (docs/design.md).
pub const THRESHOLD: f64 = crate::grok::THRESHOLD;

/// (epoch, value) of one split's metric, in epoch order.
pub fn series(metrics: &[MetricRow], split: &str, metric: &str) -> Vec<(u32, f64)> {
    metrics
        .iter()
        .filter(|r| r.split == split && r.metric == metric)
        .map(|r| (r.epoch, r.value))
        .collect()
}

/// Memorised and first-crossing epochs from a metrics series.
pub fn detect(metrics: &[MetricRow]) -> (Option<u32>, Option<u32>) {
    (
        crate::grok::first_crossing(&series(metrics, "train", "accuracy")),
        crate::grok::first_crossing(&series(metrics, "test", "accuracy")),
    )
}

/// Progress of a training job, reported after every evaluation.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Epoch just evaluated.
    pub epoch: usize,
    /// Total epochs.
    pub epochs: usize,
    /// Train accuracy per model.
    pub train_accuracy: Vec<f64>,
    /// Test accuracy per model.
    pub test_accuracy: Vec<f64>,
}

/// One model's state at an epoch: its weights and, for the fused step,
/// its AdamW moments and step count. What `final.safetensors` and
/// `optimizer.safetensors` store, and what extension and resume start from.
#[derive(Debug)]
pub struct ModelState {
    /// Epochs trained (optimiser steps taken).
    pub epoch: u32,
    /// Weights with TransformerLens names, without the model dimension.
    pub weights: Vec<(String, Tensor)>,
    /// AdamW's moments (and Grokfast's EMA) per weight (fused step only).
    pub moments: Option<fused::Moments>,
}

/// Where a batch starts when it does not start from initialisation: a
/// resumed checkpoint or the end of finished runs being extended. Every
/// model of the batch is at `epoch`.
#[derive(Debug)]
pub struct Start {
    /// The epoch every model is at.
    pub epoch: u32,
    /// Each model's state at `epoch`.
    pub states: Vec<ModelState>,
    /// Each model's metrics up to and including `epoch`.
    pub metrics: Vec<Vec<MetricRow>>,
    /// Models that had already stopped (stop_after_grok), with their last epoch.
    pub stopped: Vec<Option<u32>>,
    /// Wall time already spent, seconds.
    pub wall_seconds: f64,
}

/// Hooks a caller gives the loop: progress after each evaluation, weight
/// checkpoints, resume points and models that stop early. Returning `false`
/// from `progress` stops training with [`TrainError::Interrupted`].
pub trait Observer {
    /// After each evaluation.
    fn progress(&mut self, _p: &Progress) -> bool {
        true
    }
    /// At epoch 0, every `checkpoint_every` epochs and the last epoch;
    /// `active[s]` is false for models that already stopped.
    fn checkpoint(
        &mut self,
        _epoch: usize,
        _model: &Transformer,
        _active: &[bool],
    ) -> Result<(), TrainError> {
        Ok(())
    }
    /// At every weight checkpoint strictly inside the budget (fused step):
    /// everything a killed run needs to continue from `epoch`.
    fn resume_point(&mut self, _point: &Start) -> Result<(), TrainError> {
        Ok(())
    }
    /// Model `s` stopped (stop_after_grok) with this final state.
    fn stopped(&mut self, _s: usize, _state: &ModelState) -> Result<(), TrainError> {
        Ok(())
    }
}

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}

/// Trained models and their metrics.
pub struct Trained {
    /// The S models (with the VarStore that owns them), as at the end of
    /// the loop (a model that stopped early trained on as a passenger;
    /// its own final state is in `finals`).
    pub model: Transformer,
    /// Metrics per model, up to its last epoch.
    pub metrics: Vec<Vec<MetricRow>>,
    /// Summary per model.
    pub summaries: Vec<Summary>,
    /// Final state per model (`None` for a model that had stopped before
    /// the start this training resumed from: its run directory holds it).
    pub finals: Vec<Option<ModelState>>,
    /// The datasets (one per seed).
    pub datasets: Vec<Dataset>,
    /// Keeps the variables alive.
    pub vs: nn::VarStore,
}

/// The number of threads libtorch will use for `cfg` run `jobs` at a time.
pub fn resolve_threads(cfg_threads: usize, jobs: usize) -> usize {
    if cfg_threads > 0 {
        return cfg_threads;
    }
    (crate::limits::cores() / jobs.max(1)).max(1)
}

/// Index tensors for a set of pairs, one row per model: (a, b, label).
fn pair_tensors(sets: &[&[usize]], ds: &[Dataset]) -> Result<(Tensor, Tensor, Tensor), TrainError> {
    let s = sets.len() as i64;
    let (mut a, mut b, mut y) = (Vec::new(), Vec::new(), Vec::new());
    for (set, d) in sets.iter().zip(ds) {
        for &p in *set {
            a.push((p / d.n) as i64);
            b.push((p % d.n) as i64);
            y.push(d.labels[p] as i64);
        }
    }
    let t = |v: &[i64]| Tensor::f_from_slice(v)?.f_view([s, -1]);
    Ok((t(&a)?, t(&b)?, t(&y)?))
}

/// Mean of `values` over the positions where `mask` is set, per model.
fn masked_mean(values: &Tensor, mask: &Tensor) -> Result<Tensor, tch::TchError> {
    let count = mask
        .f_sum_dim_intlist(1, false, Kind::Float)?
        .f_clamp_min(1.0)?;
    values
        .f_mul(mask)?
        .f_sum_dim_intlist(1, false, Kind::Float)?
        .f_div(&count)
}

/// Per-model cross-entropy at each pair: `logits [S, B, V]`, `labels [S, B]` -> `[S, B]`.
fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor, tch::TchError> {
    logits
        .f_log_softmax(-1, Kind::Float)?
        .f_gather(-1, &labels.f_unsqueeze(-1)?, false)?
        .f_squeeze_dim(-1)?
        .f_neg()
}

/// Loss and accuracy of one split per model, and for the training split
/// of the fused step the collapse share and logit scale.
#[derive(Debug, Clone, Default)]
struct SplitMetrics {
    loss: Vec<f64>,
    accuracy: Vec<f64>,
    diagnostics: Option<(Vec<f64>, Vec<f64>)>,
}

/// How one step is computed: the reference (autograd and libtorch's
/// AdamW, evaluation over the whole table) or the fused step.
enum Stepper {
    Autograd {
        opt: nn::Optimizer,
        train: (Tensor, Tensor, Tensor),
        all: (Tensor, Tensor, Tensor),
        masks: [(&'static str, Tensor); 3],
    },
    Fused {
        adam: fused::AdamW,
        train: Vec<fused::Chunk>,
        train_rows: i64,
        test: Vec<fused::Chunk>,
        informative: Tensor, // [S, test pairs] mask in test order
        autograd: bool,      // LayerNorm: gradients by autograd
        loss: loss::LossKind,
    },
}

impl Stepper {
    /// Metrics of train, test and informative test at the current weights,
    /// and (fused) the training gradients when `grads` is set.
    fn evaluate(
        &mut self,
        model: &Transformer,
        eval: bool,
        grads: bool,
    ) -> Result<(Option<[SplitMetrics; 3]>, Option<fused::Grads>), TrainError> {
        match self {
            Stepper::Autograd { all, masks, .. } => {
                if !eval {
                    return Ok((None, None));
                }
                let out = tch::no_grad(|| -> Result<[SplitMetrics; 3], TrainError> {
                    let logits = model.forward_last(&all.0, &all.1)?; // [S, n², n]
                    let loss = cross_entropy(&logits, &all.2)?;
                    let correct = logits
                        .f_argmax(-1, false)?
                        .f_eq_tensor(&all.2)?
                        .f_to_kind(Kind::Float)?;
                    let mut out: [SplitMetrics; 3] = Default::default();
                    for (i, (_, m)) in masks.iter().enumerate() {
                        out[i].loss =
                            Vec::<f64>::try_from(masked_mean(&loss, m)?.f_to_kind(Kind::Double)?)?;
                        out[i].accuracy = Vec::<f64>::try_from(
                            masked_mean(&correct, m)?.f_to_kind(Kind::Double)?,
                        )?;
                    }
                    Ok(out)
                })?;
                Ok((Some(out), None))
            }
            Stepper::Fused {
                train,
                train_rows,
                test,
                informative,
                autograd,
                loss,
                ..
            } => {
                if !eval && !grads {
                    return Ok((None, None));
                }
                let (stats, g) = if *autograd {
                    fused::autograd_pass(model, train, *train_rows, grads, *loss)?
                } else {
                    fused::pass(model, train, *train_rows, grads, *loss)?
                };
                if !eval {
                    return Ok((None, g));
                }
                let n = *train_rows as f64;
                let train_m = SplitMetrics {
                    loss: stats.loss_sum.iter().map(|l| l / n).collect(),
                    accuracy: stats.correct.iter().map(|c| c / n).collect(),
                    diagnostics: Some((
                        stats.collapsed.iter().map(|c| c / n).collect(),
                        stats.logit_scale_sum.iter().map(|c| c / n).collect(),
                    )),
                };
                let (test_m, inf_m) = tch::no_grad(|| -> Result<_, TrainError> {
                    let (ce, correct) = fused::per_pair(model, test, *loss)?; // [S, test pairs]
                    let ones = Tensor::f_ones_like(informative)?;
                    let split = |mask: &Tensor| -> Result<SplitMetrics, TrainError> {
                        Ok(SplitMetrics {
                            loss: Vec::<f64>::try_from(
                                masked_mean(&ce, mask)?.f_to_kind(Kind::Double)?,
                            )?,
                            accuracy: Vec::<f64>::try_from(
                                masked_mean(&correct, mask)?.f_to_kind(Kind::Double)?,
                            )?,
                            diagnostics: None,
                        })
                    };
                    Ok((split(&ones)?, split(informative)?))
                })?;
                Ok((Some([train_m, test_m, inf_m]), g))
            }
        }
    }

    fn step(
        &mut self,
        model: &Transformer,
        grads: Option<fused::Grads>,
        frozen: &[usize],
    ) -> Result<(), TrainError> {
        match self {
            Stepper::Autograd { opt, train, .. } => {
                // Full-batch gradient, accumulated over fixed chunks of the
                // training set: Σ_chunks Σ_pairs CE / B is the per-seed mean loss.
                opt.zero_grad();
                let b = train.0.size()[1];
                let mut start = 0;
                while start < b {
                    let len = CHUNK_ROWS.min(b - start);
                    let logits = model.forward_last(
                        &train.0.f_narrow(1, start, len)?,
                        &train.1.f_narrow(1, start, len)?,
                    )?; // [S, len, n]
                    let loss = cross_entropy(&logits, &train.2.f_narrow(1, start, len)?)?
                        .f_sum(Kind::Float)?
                        .f_div_scalar(b as f64)?;
                    loss.backward();
                    start += len;
                }
                for &k in frozen {
                    let mut g = model.named_weights()[k].1.grad();
                    if g.defined() {
                        let _ = g.f_zero_()?;
                    }
                }
                opt.step();
                Ok(())
            }
            Stepper::Fused { adam, .. } => {
                let mut grads = grads.ok_or_else(|| {
                    TrainError::Batch("internal: the fused step needs gradients".into())
                })?;
                for &k in frozen {
                    let _ = grads[k].f_zero_()?;
                }
                let weights: Vec<&Tensor> =
                    model.named_weights().into_iter().map(|(_, t)| t).collect();
                adam.update(&weights, &grads)?;
                Ok(())
            }
        }
    }

    fn snapshot(
        &self,
        model: &Transformer,
        s: usize,
        epoch: u32,
    ) -> Result<ModelState, TrainError> {
        Ok(ModelState {
            epoch,
            weights: model.model_weights(s)?,
            moments: match self {
                Stepper::Fused { adam, .. } => Some(adam.model_slice(s)),
                Stepper::Autograd { .. } => None,
            },
        })
    }
}

/// Trains the configurations (which may differ only in seed and in the
/// operation, of one order) as one batched model from initialisation.
/// Sets libtorch's thread count to `threads`.
///
/// # Errors
/// Invalid or mismatched configs, libtorch errors, or an observer error.
pub fn train(
    configs: &[RunConfig],
    threads: usize,
    observer: &mut dyn Observer,
) -> Result<Trained, TrainError> {
    train_from(configs, threads, observer, None)
}

/// As [`train`], from `start` when given (a resumed checkpoint or finished
/// runs being extended): the result is the same, byte for byte, as training
/// from initialisation with the same threads and batch.
///
/// # Errors
/// As [`train`]; a start whose shape does not fit the configs; a start for
/// the autograd step (its optimiser state is not stored).
pub fn train_from(
    configs: &[RunConfig],
    threads: usize,
    observer: &mut dyn Observer,
    start: Option<Start>,
) -> Result<Trained, TrainError> {
    let ops = admit_batch(configs)?;
    let first = &configs[0];
    let n = ops[0].order();
    crate::kernels::pin();
    threads::use_here(threads);
    let clock = std::time::Instant::now();
    let datasets = configs
        .iter()
        .zip(&ops)
        .map(|(c, op)| Dataset::for_config(op, c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ConfigError::from)?;
    let seeds: Vec<u64> = configs.iter().map(|c| c.seed).collect();
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let model = restore_model(
        &TransformerConfig::of(first, n),
        &vs,
        &seeds,
        start.as_ref(),
    )?;
    let mut stepper = Stepper::new(first, &vs, &model, &datasets, n, start.as_ref())?;
    let mut ledger = Ledger::new(configs.len(), start);
    let epoch = ledger.run(first, &model, &mut stepper, observer, clock)?;
    ledger.finish(&model, &stepper, epoch)?;
    let wall_seconds = ledger.wall_before + clock.elapsed().as_secs_f64();
    let summaries = ledger.summaries(&datasets, first.grok_window as u32, epoch, wall_seconds);
    Ok(Trained {
        model,
        metrics: ledger.metrics,
        summaries,
        finals: ledger.finals,
        datasets,
        vs,
    })
}

/// The batch's operations, each admitted (parsed and within the memory and
/// time limits), once it is checked that the configs differ only in
/// operation and seed and that their operations share one order.
fn admit_batch(configs: &[RunConfig]) -> Result<Vec<Operation>, TrainError> {
    let first = configs
        .first()
        .ok_or_else(|| TrainError::Batch("no configs given".into()))?;
    let ops: Vec<Operation> = configs
        .iter()
        .map(crate::budget::admit)
        .collect::<Result<_, _>>()?;
    let n = ops[0].order();
    for (c, op) in configs.iter().zip(&ops) {
        let mut same = c.clone();
        same.seed = first.seed;
        same.op.clone_from(&first.op);
        if same != *first {
            return Err(TrainError::Batch(format!(
                "{} seed {} differs from {} seed {} in keys other than op and seed; a batch trains one configuration",
                c.op, c.seed, first.op, first.seed
            )));
        }
        if op.order() != n {
            return Err(TrainError::Batch(format!(
                "{} has order {} and {} order {n}; a batch trains operations of one order",
                c.op,
                op.order(),
                first.op
            )));
        }
    }
    Ok(ops)
}

/// The batch's model: initialised from the seeds, or stacked from the
/// start's per-model weights.
fn restore_model(
    mcfg: &TransformerConfig,
    vs: &nn::VarStore,
    seeds: &[u64],
    start: Option<&Start>,
) -> Result<Transformer, TrainError> {
    let Some(st) = start else {
        return Ok(mcfg.init(&vs.root(), seeds)?);
    };
    if st.states.len() != seeds.len() || st.metrics.len() != seeds.len() {
        return Err(TrainError::Batch(format!(
            "the start holds {} models for a batch of {}",
            st.states.len(),
            seeds.len()
        )));
    }
    let mut stacked = std::collections::BTreeMap::new();
    for (name, _) in &st.states[0].weights {
        let parts: Vec<&Tensor> = st
            .states
            .iter()
            .map(|m| {
                m.weights
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, t)| t)
                    .ok_or_else(|| TrainError::Batch(format!("a start lacks {name}")))
            })
            .collect::<Result<_, _>>()?;
        stacked.insert(name.clone(), Tensor::f_stack(&parts, 0)?);
    }
    Ok(Transformer::from_tensors(
        mcfg.clone(),
        &vs.root(),
        stacked,
    )?)
}

/// Copies the start's per-model AdamW moments (and Grokfast filter, when
/// the configuration uses one) into the batch's optimiser.
fn restore_moments(
    adam: &mut fused::AdamW,
    names: &[&str],
    sizes: &[usize],
    start: &Start,
    grokfast: bool,
) -> Result<(), TrainError> {
    let s_count = start.states.len();
    adam.step = u64::from(start.epoch);
    for (k, size) in sizes.iter().enumerate() {
        let per = size / s_count;
        for (s, state) in start.states.iter().enumerate() {
            let stored = state.moments.as_ref().ok_or_else(|| {
                TrainError::Batch(
                    "the start has no optimiser state; it cannot be continued exactly".into(),
                )
            })?;
            // A state's moments follow its own weight order.
            let j = state
                .weights
                .iter()
                .position(|(n, _)| n == names[k])
                .ok_or_else(|| TrainError::Batch(format!("the start lacks {}", names[k])))?;
            let mut targets = vec![
                (&mut adam.state.m[k], &stored.m),
                (&mut adam.state.v[k], &stored.v),
            ];
            if grokfast {
                if stored.ema.is_empty() {
                    return Err(TrainError::Batch(
                        "the start has no Grokfast filter state; it cannot be continued exactly"
                            .into(),
                    ));
                }
                targets.push((&mut adam.state.ema[k], &stored.ema));
            }
            for (target, from) in targets {
                let from = from.get(j).map_or(&[][..], |x| x.as_slice());
                if from.len() != per {
                    return Err(TrainError::Batch(format!(
                        "stored optimiser state has {} entries for a weight of {per}",
                        from.len()
                    )));
                }
                target[s * per..(s + 1) * per].copy_from_slice(from);
            }
        }
    }
    Ok(())
}

impl Stepper {
    /// The step of `first.step` for the batch, its optimiser state
    /// restored from `start` when given.
    fn new(
        first: &RunConfig,
        vs: &nn::VarStore,
        model: &Transformer,
        datasets: &[Dataset],
        n: usize,
        start: Option<&Start>,
    ) -> Result<Stepper, TrainError> {
        let s_count = datasets.len();
        let trains: Vec<&[usize]> = datasets.iter().map(|d| d.train.as_slice()).collect();
        Ok(match first.step {
            Step::Autograd => {
                if start.is_some() {
                    return Err(TrainError::Batch(
                        "runs trained with step = autograd store no optimiser state and cannot be extended or resumed; train with the default step".into(),
                    ));
                }
                let opt = nn::AdamW {
                    beta1: first.beta1,
                    beta2: first.beta2,
                    wd: first.weight_decay,
                    eps: 1e-8,
                    amsgrad: false,
                }
                .build(vs, first.lr)?;
                let all: Vec<usize> = (0..n * n).collect();
                let alls: Vec<&[usize]> = datasets.iter().map(|_| all.as_slice()).collect();
                let mask =
                    |pick: &dyn Fn(&Dataset) -> &Vec<usize>| -> Result<Tensor, tch::TchError> {
                        let mut m = vec![0f32; s_count * n * n];
                        for (s, d) in datasets.iter().enumerate() {
                            for &p in pick(d) {
                                m[s * n * n + p] = 1.0;
                            }
                        }
                        Tensor::f_from_slice(&m)?.f_view([s_count as i64, -1])
                    };
                Stepper::Autograd {
                    opt,
                    train: pair_tensors(&trains, datasets)?,
                    all: pair_tensors(&alls, datasets)?,
                    masks: [
                        ("train", mask(&|d| &d.train)?),
                        ("test", mask(&|d| &d.test)?),
                        ("informative_test", mask(&|d| &d.informative_test)?),
                    ],
                }
            }
            Step::Fused => {
                let weights = model.named_weights();
                let sizes: Vec<usize> = weights.iter().map(|(_, t)| t.numel()).collect();
                let mut adam = fused::AdamW::new(fused::AdamWConfig::of(first), &sizes, s_count);
                if let Some(st) = start {
                    let names: Vec<&str> = weights.iter().map(|(n, _)| *n).collect();
                    restore_moments(&mut adam, &names, &sizes, st, first.grokfast_lambda > 0.0)?;
                }
                let (ta, tb, ty) = pair_tensors(&trains, datasets)?;
                let tests: Vec<&[usize]> = datasets.iter().map(|d| d.test.as_slice()).collect();
                let (xa, xb, xy) = pair_tensors(&tests, datasets)?;
                let test_rows = xa.size()[1];
                let mut inf = vec![0f32; s_count * test_rows as usize];
                for (s, d) in datasets.iter().enumerate() {
                    let informative: std::collections::HashSet<usize> =
                        d.informative_test.iter().copied().collect();
                    for (i, p) in d.test.iter().enumerate() {
                        if informative.contains(p) {
                            inf[s * test_rows as usize + i] = 1.0;
                        }
                    }
                }
                Stepper::Fused {
                    adam,
                    train_rows: ta.size()[1],
                    train: fused::Chunk::split(&ta, &tb, &ty, n as i64, FUSED_CHUNK_ROWS)?,
                    test: fused::Chunk::split(&xa, &xb, &xy, n as i64, FUSED_CHUNK_ROWS)?,
                    informative: Tensor::f_from_slice(&inf)?.f_view([s_count as i64, test_rows])?,
                    autograd: first.layer_norm,
                    loss: loss::LossKind::of(first),
                }
            }
        })
    }
}

/// Where each model of a batch stands as the epochs go by: its metric
/// rows, the epoch it stopped at, whether it diverged, and its final state
/// once taken.
struct Ledger {
    first_epoch: usize,
    wall_before: f64,
    metrics: Vec<Vec<MetricRow>>,
    stopped: Vec<Option<u32>>,
    /// Stopped before this start: its run directory holds its final state.
    before: Vec<bool>,
    diverged: Vec<bool>,
    finals: Vec<Option<ModelState>>,
}

impl Ledger {
    fn new(s_count: usize, start: Option<Start>) -> Ledger {
        let (first_epoch, metrics, stopped, wall_before) = match start {
            Some(st) => (st.epoch as usize, st.metrics, st.stopped, st.wall_seconds),
            None => (0, vec![Vec::new(); s_count], vec![None; s_count], 0.0),
        };
        Ledger {
            first_epoch,
            wall_before,
            before: stopped.iter().map(|s| s.is_some()).collect(),
            metrics,
            stopped,
            diverged: vec![false; s_count],
            finals: (0..s_count).map(|_| None).collect(),
        }
    }

    fn resumed(&self) -> bool {
        self.first_epoch > 0
    }

    /// Stops model `s` at `epoch` and takes its final state.
    fn stop(
        &mut self,
        s: usize,
        epoch: usize,
        model: &Transformer,
        stepper: &Stepper,
        observer: Option<&mut dyn Observer>,
    ) -> Result<(), TrainError> {
        self.stopped[s] = Some(epoch as u32);
        let state = stepper.snapshot(model, s, epoch as u32)?;
        if let Some(observer) = observer {
            observer.stopped(s, &state)?;
        }
        self.finals[s] = Some(state);
        Ok(())
    }

    /// The models still training that hold a sustained grok, with the
    /// epoch it began.
    fn sustained(&self, window: u32) -> Vec<(usize, u32)> {
        (0..self.stopped.len())
            .filter(|&s| self.stopped[s].is_none())
            .filter_map(|s| {
                let test = series(&self.metrics[s], "test", "accuracy");
                crate::grok::sustained(&test, window).map(|e| (s, e))
            })
            .collect()
    }

    /// Trains from the first epoch to the budget or until every model has
    /// stopped, and returns the epoch it ended at.
    fn run(
        &mut self,
        first: &RunConfig,
        model: &Transformer,
        stepper: &mut Stepper,
        observer: &mut dyn Observer,
        clock: std::time::Instant,
    ) -> Result<usize, TrainError> {
        let epochs = first.epochs;
        let window = first.grok_window as u32;
        let frozen = frozen_weights(model, first.freeze_biases);
        let resumed = self.resumed();
        if first.stop_after_grok && resumed {
            // A start that already held its window (an extended run that
            // had stopped) ends where it is.
            for (s, _) in self.sustained(window) {
                self.stop(s, self.first_epoch, model, stepper, None)?;
            }
        }
        let mut epoch = self.first_epoch;
        loop {
            let last = epoch == epochs || self.stopped.iter().all(|s| s.is_some());
            let eval = (epoch.is_multiple_of(first.eval_every) || epoch == epochs)
                && !(resumed && epoch == self.first_epoch);
            let (evaluated, grads) = stepper.evaluate(model, eval, !last)?;
            if let Some(m) = evaluated {
                self.record(epoch, model, stepper, &m)?;
                let p = Progress {
                    epoch,
                    epochs,
                    train_accuracy: m[0].accuracy.clone(),
                    test_accuracy: m[1].accuracy.clone(),
                };
                if !observer.progress(&p) {
                    return Err(TrainError::Interrupted);
                }
                // A model whose loss is no longer a number ends here, as a
                // diverged run (its batch mates train on).
                for s in 0..self.stopped.len() {
                    if self.stopped[s].is_none() && !m[0].loss[s].is_finite() {
                        self.diverged[s] = true;
                        self.stop(s, epoch, model, stepper, Some(&mut *observer))?;
                    }
                }
                if first.stop_after_grok {
                    for (s, grokked) in self.sustained(window) {
                        if epoch as u32 >= grokked + window {
                            self.stop(s, epoch, model, stepper, Some(&mut *observer))?;
                        }
                    }
                }
            }
            let all_stopped = self.stopped.iter().all(|s| s.is_some());
            let at_checkpoint = epoch == 0
                || epoch == epochs
                || (first.checkpoint_every > 0 && epoch.is_multiple_of(first.checkpoint_every));
            if at_checkpoint && !(resumed && epoch == self.first_epoch) {
                let active: Vec<bool> = self.stopped.iter().map(|s| s.is_none()).collect();
                observer.checkpoint(epoch, model, &active)?;
                let inside = epoch > 0 && epoch < epochs && !all_stopped;
                if inside && matches!(stepper, Stepper::Fused { .. }) {
                    let point = Start {
                        epoch: epoch as u32,
                        states: (0..self.stopped.len())
                            .map(|s| stepper.snapshot(model, s, epoch as u32))
                            .collect::<Result<_, _>>()?,
                        metrics: self.metrics.clone(),
                        stopped: self.stopped.clone(),
                        wall_seconds: self.wall_before + clock.elapsed().as_secs_f64(),
                    };
                    observer.resume_point(&point)?;
                }
            }
            if epoch == epochs || all_stopped {
                return Ok(epoch);
            }
            stepper.step(model, grads, &frozen)?;
            epoch += 1;
        }
    }

    /// Appends one evaluation's rows to every model still training: loss
    /// and accuracy per split, weight and update norms, and the fused
    /// step's softmax diagnostics.
    fn record(
        &mut self,
        epoch: usize,
        model: &Transformer,
        stepper: &Stepper,
        [train_m, test_m, inf_m]: &[SplitMetrics; 3],
    ) -> Result<(), TrainError> {
        let norms = Vec::<f64>::try_from(model.weight_norms()?.f_to_kind(Kind::Double)?)?;
        let parts = model
            .weight_squares()?
            .into_iter()
            .map(|(name, sq)| {
                let metric = crate::model::norm_metric(name).ok_or_else(|| {
                    TrainError::Batch(format!("internal: no norm metric for {name}"))
                })?;
                Ok((metric, Vec::<f64>::try_from(sq.f_to_kind(Kind::Double)?)?))
            })
            .collect::<Result<Vec<_>, TrainError>>()?;
        let update_sq = match stepper {
            Stepper::Fused { adam, .. } if adam.step > 0 => Some(&adam.last_update_sq),
            _ => None,
        };
        for s in (0..self.stopped.len()).filter(|&s| self.stopped[s].is_none()) {
            let mut push = |split, metric, value| {
                self.metrics[s].push(MetricRow {
                    epoch: epoch as u32,
                    split,
                    metric,
                    value,
                })
            };
            for (split, m) in [
                ("train", train_m),
                ("test", test_m),
                ("informative_test", inf_m),
            ] {
                push(split, "loss", m.loss[s]);
                push(split, "accuracy", m.accuracy[s]);
            }
            push("model", "weight_norm", norms[s]);
            if let Some((collapse, scale)) = &train_m.diagnostics {
                push("train", "softmax_collapse_share", collapse[s]);
                push("train", "logit_scale", scale[s]);
            }
            if let Some(u) = update_sq {
                push("model", "update_norm", u[s].sqrt());
            }
            for (metric, sq) in &parts {
                push("model", metric, sq[s].sqrt());
            }
        }
        Ok(())
    }

    /// Takes the final state of every model that trained to the end.
    fn finish(
        &mut self,
        model: &Transformer,
        stepper: &Stepper,
        epoch: usize,
    ) -> Result<(), TrainError> {
        for s in 0..self.finals.len() {
            if self.finals[s].is_none() && !self.before[s] {
                self.finals[s] = Some(stepper.snapshot(model, s, epoch as u32)?);
            }
        }
        Ok(())
    }

    /// Each model's summary, with why it stopped.
    fn summaries(
        &self,
        datasets: &[Dataset],
        window: u32,
        epoch: usize,
        wall_seconds: f64,
    ) -> Vec<Summary> {
        self.metrics
            .iter()
            .zip(datasets)
            .zip(&self.stopped)
            .zip(&self.diverged)
            .map(|(((rows, d), stop), &diverged)| {
                let reason = match stop {
                    None => StopReason::Budget,
                    Some(_) if diverged || last_loss_diverged(rows) => StopReason::Diverged,
                    Some(_) => StopReason::SustainedGrok,
                };
                summarise(
                    rows,
                    d,
                    window,
                    stop.map(|e| (e, reason)),
                    epoch as u32,
                    wall_seconds,
                )
            })
            .collect()
    }
}

/// The weights that get no gradient: the biases when they are frozen
/// (AdamW then leaves them at zero).
fn frozen_weights(model: &Transformer, freeze_biases: bool) -> Vec<usize> {
    model
        .named_weights()
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| freeze_biases && name.contains(".b_"))
        .map(|(k, _)| k)
        .collect()
}

/// Whether a model's last evaluated training loss is not a number (a
/// model stopped for divergence before an extension's start).
fn last_loss_diverged(rows: &[MetricRow]) -> bool {
    rows.iter()
        .rev()
        .find(|r| r.split == "train" && r.metric == "loss")
        .is_some_and(|r| !r.value.is_finite())
}

fn summarise(
    rows: &[MetricRow],
    d: &Dataset,
    window: u32,
    stopped: Option<(u32, StopReason)>,
    end: u32,
    wall_seconds: f64,
) -> Summary {
    let g = GrokReport::of(
        &series(rows, "train", "accuracy"),
        &series(rows, "test", "accuracy"),
        &series(rows, "informative_test", "accuracy"),
        d.informative_test.len(),
        window,
    );
    let last = |split: &str, metric: &str| {
        rows.iter()
            .rev()
            .find(|r| r.split == split && r.metric == metric)
            .map_or(f64::NAN, |r| r.value)
    };
    Summary {
        memorised_epoch: g.memorised_epoch,
        grokked_epoch: g.grokked_epoch,
        grok_delay: match (g.memorised_epoch, g.grokked_epoch) {
            (Some(m), Some(e)) => Some(e.saturating_sub(m)),
            _ => None,
        },
        sustained_grok_epoch: g.sustained_grok_epoch,
        sustained_informative_grok_epoch: g.sustained_informative_grok_epoch,
        relapses: g.relapses,
        first_relapse_epoch: g.first_relapse_epoch,
        last_epoch: stopped.map_or(end, |(e, _)| e),
        stop_reason: stopped.map_or(StopReason::Budget, |(_, r)| r),
        final_train_accuracy: last("train", "accuracy"),
        final_test_accuracy: last("test", "accuracy"),
        final_informative_accuracy: last("informative_test", "accuracy"),
        final_train_loss: last("train", "loss"),
        final_test_loss: last("test", "loss"),
        informative_pairs: d.informative_test.len(),
        test_pairs: d.test.len(),
        wall_seconds,
        loss_spikes: crate::grok::loss_spikes(&series(rows, "train", "loss"), g.memorised_epoch),
    }
}
