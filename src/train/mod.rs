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

pub mod run;
pub mod sweep;

use crate::config::{ConfigError, RunConfig};
use crate::data::Dataset;
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
    /// Batched configs that differ in more than the seed.
    #[error("batched training needs configs that differ only in seed; {0}")]
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

/// The outcome of one run, as stored in its manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// First evaluated epoch with train accuracy >= 0.99 (`null` if never).
    pub memorised_epoch: Option<u32>,
    /// First evaluated epoch with test accuracy >= 0.99 (`null` = not grokked).
    pub grokked_epoch: Option<u32>,
    /// grokked − memorised, when both happened.
    pub grok_delay: Option<u32>,
    /// Train accuracy at the last epoch.
    pub final_train_accuracy: f64,
    /// Test accuracy at the last epoch.
    pub final_test_accuracy: f64,
    /// Accuracy on the informative test pairs at the last epoch.
    pub final_informative_accuracy: f64,
    /// Train loss at the last epoch.
    pub final_train_loss: f64,
    /// Test loss at the last epoch.
    pub final_test_loss: f64,
    /// Number of informative test pairs.
    pub informative_pairs: usize,
    /// Number of test pairs.
    pub test_pairs: usize,
    /// Wall time of the (possibly batched) training, seconds.
    pub wall_seconds: f64,
}

/// Training pairs per model in one forward/backward chunk. Fixed (not
/// tuned to the machine) so that results depend only on the config, seed
/// and thread count.
pub const CHUNK_ROWS: i64 = 2048;

/// Accuracy threshold for "memorised" and "grokked" (DESIGN.md).
pub const THRESHOLD: f64 = 0.99;

/// Memorised and grokked epochs from a metrics series.
pub fn detect(metrics: &[MetricRow]) -> (Option<u32>, Option<u32>) {
    let first = |split: &str| {
        metrics
            .iter()
            .filter(|r| r.split == split && r.metric == "accuracy" && r.value >= THRESHOLD)
            .map(|r| r.epoch)
            .min()
    };
    (first("train"), first("test"))
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

/// Hooks a caller gives the loop: progress after each evaluation, and
/// checkpoints (epoch, model) at chosen epochs. Returning `false` from
/// `progress` stops training with [`TrainError::Interrupted`].
pub trait Observer {
    /// After each evaluation.
    fn progress(&mut self, _p: &Progress) -> bool {
        true
    }
    /// At epoch 0, every `checkpoint_every` epochs and the last epoch.
    fn checkpoint(&mut self, _epoch: usize, _model: &Transformer) -> Result<(), TrainError> {
        Ok(())
    }
}

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}

/// Trained models and their metrics.
pub struct Trained {
    /// The S models (with the VarStore that owns them).
    pub model: Transformer,
    /// Metrics per model.
    pub metrics: Vec<Vec<MetricRow>>,
    /// Summary per model.
    pub summaries: Vec<Summary>,
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
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    (cores / jobs.max(1)).max(1)
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

/// Trains the configurations (which must differ only in seed) as one
/// batched model. Sets libtorch's thread count to `threads`.
///
/// # Errors
/// Invalid or mismatched configs, libtorch errors, or an observer error.
pub fn train(
    configs: &[RunConfig],
    threads: usize,
    observer: &mut dyn Observer,
) -> Result<Trained, TrainError> {
    let first = configs
        .first()
        .ok_or_else(|| TrainError::Batch("no configs given".into()))?;
    for c in configs {
        let mut same = c.clone();
        same.seed = first.seed;
        if same != *first {
            return Err(TrainError::Batch(format!(
                "seed {} differs in other keys",
                c.seed
            )));
        }
    }
    let op: Operation = first.validate()?;
    tch::set_num_threads(threads as i32);
    let start = std::time::Instant::now();
    let seeds: Vec<u64> = configs.iter().map(|c| c.seed).collect();
    let datasets = seeds
        .iter()
        .map(|&s| Dataset::new(&op, first.train_fraction, s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ConfigError::from)?;
    let n = op.order();
    let mut mcfg = TransformerConfig::for_order(n);
    mcfg.d_model = first.d_model;
    mcfg.n_heads = first.n_heads;
    mcfg.d_mlp = first.d_mlp;
    mcfg.layer_norm = first.layer_norm;

    let vs = nn::VarStore::new(tch::Device::Cpu);
    let model = mcfg.init(&vs.root(), &seeds)?;
    let mut opt = nn::AdamW {
        beta1: first.beta1,
        beta2: first.beta2,
        wd: first.weight_decay,
        eps: 1e-8,
        amsgrad: false,
    }
    .build(&vs, first.lr)?;

    let trains: Vec<&[usize]> = datasets.iter().map(|d| d.train.as_slice()).collect();
    let (ta, tb, ty) = pair_tensors(&trains, &datasets)?;
    let all: Vec<usize> = (0..n * n).collect();
    let alls: Vec<&[usize]> = datasets.iter().map(|_| all.as_slice()).collect();
    let (fa, fb, fy) = pair_tensors(&alls, &datasets)?;
    let mask = |pick: &dyn Fn(&Dataset) -> &Vec<usize>| -> Result<Tensor, tch::TchError> {
        let mut m = vec![0f32; configs.len() * n * n];
        for (s, d) in datasets.iter().enumerate() {
            for &p in pick(d) {
                m[s * n * n + p] = 1.0;
            }
        }
        Tensor::f_from_slice(&m)?.f_view([configs.len() as i64, -1])
    };
    let masks = [
        ("train", mask(&|d| &d.train)?),
        ("test", mask(&|d| &d.test)?),
        ("informative_test", mask(&|d| &d.informative_test)?),
    ];

    let s_count = configs.len();
    let mut metrics: Vec<Vec<MetricRow>> = vec![Vec::new(); s_count];
    let epochs = first.epochs;
    for epoch in 0..=epochs {
        if epoch % first.eval_every == 0 || epoch == epochs {
            let (mut train_acc, mut test_acc) = (vec![0.0; s_count], vec![0.0; s_count]);
            tch::no_grad(|| -> Result<(), TrainError> {
                let logits = model.forward_last(&fa, &fb)?; // [S, n², n]
                let loss = cross_entropy(&logits, &fy)?;
                let correct = logits
                    .f_argmax(-1, false)?
                    .f_eq_tensor(&fy)?
                    .f_to_kind(Kind::Float)?;
                for (split, m) in &masks {
                    let l = Vec::<f64>::try_from(masked_mean(&loss, m)?.f_to_kind(Kind::Double)?)?;
                    let a =
                        Vec::<f64>::try_from(masked_mean(&correct, m)?.f_to_kind(Kind::Double)?)?;
                    for s in 0..s_count {
                        metrics[s].push(MetricRow {
                            epoch: epoch as u32,
                            split,
                            metric: "loss",
                            value: l[s],
                        });
                        metrics[s].push(MetricRow {
                            epoch: epoch as u32,
                            split,
                            metric: "accuracy",
                            value: a[s],
                        });
                        match *split {
                            "train" => train_acc[s] = a[s],
                            "test" => test_acc[s] = a[s],
                            _ => {}
                        }
                    }
                }
                let norms = Vec::<f64>::try_from(model.weight_norms()?.f_to_kind(Kind::Double)?)?;
                for s in 0..s_count {
                    metrics[s].push(MetricRow {
                        epoch: epoch as u32,
                        split: "model",
                        metric: "weight_norm",
                        value: norms[s],
                    });
                }
                Ok(())
            })?;
            let p = Progress {
                epoch,
                epochs,
                train_accuracy: train_acc,
                test_accuracy: test_acc,
            };
            if !observer.progress(&p) {
                return Err(TrainError::Interrupted);
            }
        }
        let at_checkpoint = epoch == 0
            || epoch == epochs
            || (first.checkpoint_every > 0 && epoch % first.checkpoint_every == 0);
        if at_checkpoint {
            observer.checkpoint(epoch, &model)?;
        }
        if epoch == epochs {
            break;
        }
        // Full-batch gradient, accumulated over fixed chunks of the training
        // set: Σ_chunks Σ_pairs CE / B is the per-seed mean loss, and chunks
        // whose activations fit in cache run faster than one pass.
        opt.zero_grad();
        let b = ta.size()[1];
        let mut start = 0;
        while start < b {
            let len = CHUNK_ROWS.min(b - start);
            let logits =
                model.forward_last(&ta.f_narrow(1, start, len)?, &tb.f_narrow(1, start, len)?)?; // [S, len, n]
            let loss = cross_entropy(&logits, &ty.f_narrow(1, start, len)?)?
                .f_sum(Kind::Float)?
                .f_div_scalar(b as f64)?;
            loss.backward();
            start += len;
        }
        opt.step();
    }
    let wall_seconds = start.elapsed().as_secs_f64();
    let summaries = metrics
        .iter()
        .zip(&datasets)
        .map(|(rows, d)| summarise(rows, d, wall_seconds))
        .collect();
    Ok(Trained {
        model,
        metrics,
        summaries,
        datasets,
        vs,
    })
}

fn summarise(rows: &[MetricRow], d: &Dataset, wall_seconds: f64) -> Summary {
    let (memorised, grokked) = detect(rows);
    let last = |split: &str, metric: &str| {
        rows.iter()
            .rev()
            .find(|r| r.split == split && r.metric == metric)
            .map_or(f64::NAN, |r| r.value)
    };
    Summary {
        memorised_epoch: memorised,
        grokked_epoch: grokked,
        grok_delay: match (memorised, grokked) {
            (Some(m), Some(g)) => Some(g.saturating_sub(m)),
            _ => None,
        },
        final_train_accuracy: last("train", "accuracy"),
        final_test_accuracy: last("test", "accuracy"),
        final_informative_accuracy: last("informative_test", "accuracy"),
        final_train_loss: last("train", "loss"),
        final_test_loss: last("test", "loss"),
        informative_pairs: d.informative_test.len(),
        test_pairs: d.test.len(),
        wall_seconds,
    }
}
