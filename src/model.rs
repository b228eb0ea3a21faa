//! The 1-layer transformer of docs/design.md, in tch, with TransformerLens names.
//!
//! A [`Transformer`] holds **S models at once**: every weight has a leading
//! model dimension (S = 1 for a single run). That is how batched seeds train
//! as one set of tensors; a single model is simply S = 1.
//!
//! Two forward paths compute the same function:
//! - [`Transformer::run_with_cache`]: the plain TransformerLens computation
//!   over all three positions, returning every named activation;
//! - [`Transformer::forward_last`]: the exact fast path for training. In a
//!   1-layer model only the last position reaches the logits, its query is
//!   the same for every input (`=` at position 2), and keys, values and the
//!   OV output depend on one token each; so per-token score and output
//!   tables are computed once over the vocabulary and gathered per example.
//!
//! ```no_run
//! use grokscope::model::TransformerConfig;
//! let cfg = TransformerConfig::for_order(113);
//! let vs = tch::nn::VarStore::new(tch::Device::Cpu);
//! let model = cfg.init(&vs.root(), &[0]).unwrap();
//! let tokens = tch::Tensor::from_slice(&[1i64, 2, 113]).view([1, 3]);
//! let (logits, cache) = model.run_with_cache(&tokens).unwrap();
//! assert_eq!(logits.size(), [1, 1, 3, 113]); // [S, batch, pos, d_vocab_out]
//! assert!(cache.get("blocks.0.mlp.hook_post").is_ok());
//! ```

pub use crate::config::Init;
use crate::rng::SplitMix64;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use tch::{nn, Kind, TchError, Tensor};

/// Errors from building, running, saving or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// libtorch reported an error.
    #[error("libtorch: {0}")]
    Torch(#[from] TchError),
    /// The architecture is inconsistent.
    #[error("invalid model config: {0}")]
    Config(String),
    /// A weights file is missing, unreadable or does not fit the config.
    #[error("weights {path}: {reason}")]
    Weights {
        /// The file.
        path: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// Inputs of the wrong shape, type or range.
    #[error("bad input: {0}")]
    Input(String),
    /// An activation name that `run_with_cache` does not record.
    #[error("no activation \"{name}\"; recorded: {known}")]
    UnknownActivation {
        /// The name asked for.
        name: String,
        /// The names available.
        known: String,
    },
}

/// Architecture of the 1-layer transformer (TransformerLens dimension names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerConfig {
    /// Input vocabulary: the n elements and `=`.
    pub d_vocab: usize,
    /// Output classes: the n elements.
    pub d_vocab_out: usize,
    /// Context length (3: `a`, `b`, `=`).
    pub n_ctx: usize,
    /// Residual stream width.
    pub d_model: usize,
    /// Attention heads; d_head = d_model / n_heads.
    pub n_heads: usize,
    /// MLP hidden width.
    pub d_mlp: usize,
    /// LayerNorm before attention, MLP and unembedding (off by default).
    pub layer_norm: bool,
    /// How weights are drawn at initialisation.
    #[serde(default)]
    pub init: Init,
}

impl TransformerConfig {
    /// The model a run of `cfg` trains on a table of order `n`: the one
    /// conversion from a run's settings to its model.
    pub fn of(cfg: &crate::config::RunConfig, n: usize) -> Self {
        Self {
            d_model: cfg.d_model,
            n_heads: cfg.n_heads,
            d_mlp: cfg.d_mlp,
            layer_norm: cfg.layer_norm,
            init: cfg.init,
            ..Self::for_order(n)
        }
    }

    /// The docs/design.md defaults for a group of order n: d_model 64, 4 heads,
    /// d_mlp 256, no LayerNorm.
    pub fn for_order(n: usize) -> Self {
        Self {
            d_vocab: n + 1,
            d_vocab_out: n,
            n_ctx: 3,
            d_model: 64,
            n_heads: 4,
            d_mlp: 256,
            layer_norm: false,
            init: Init::FanIn,
        }
    }

    /// d_model / n_heads.
    pub fn d_head(&self) -> usize {
        self.d_model / self.n_heads
    }

    /// Checks the dimensions fit together.
    ///
    /// # Errors
    /// Zero sizes, d_model not divisible by n_heads, or a context other than 3.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: String| Err(ModelError::Config(m));
        if self.d_model == 0 || self.n_heads == 0 || self.d_mlp == 0 || self.d_vocab_out == 0 {
            return bad("d_model, n_heads, d_mlp and the vocabulary must be positive".into());
        }
        if !self.d_model.is_multiple_of(self.n_heads) {
            return bad(format!(
                "d_model {} is not divisible by n_heads {}",
                self.d_model, self.n_heads
            ));
        }
        if self.n_ctx != 3 || self.d_vocab != self.d_vocab_out + 1 {
            return bad(
                "the model reads [a, b, =]: n_ctx must be 3 and d_vocab = d_vocab_out + 1".into(),
            );
        }
        Ok(())
    }

    /// Every weight's TransformerLens name, shape (without the model
    /// dimension) and initial standard deviation (0 = zeros, `None` = ones),
    /// in the fixed order the initialiser draws them.
    pub fn parameter_specs(&self) -> Vec<(&'static str, Vec<i64>, Option<f64>)> {
        let (v, vo, c) = (
            self.d_vocab as i64,
            self.d_vocab_out as i64,
            self.n_ctx as i64,
        );
        let (d, h, dh, m) = (
            self.d_model as i64,
            self.n_heads as i64,
            self.d_head() as i64,
            self.d_mlp as i64,
        );
        let sd = |fan_in: i64| match self.init {
            Init::FanIn => Some(1.0 / (fan_in as f64).sqrt()),
            Init::TransformerLens => Some(0.8 / (d as f64).sqrt()),
        };
        let mut specs = vec![
            ("embed.W_E", vec![v, d], sd(d)),
            ("pos_embed.W_pos", vec![c, d], sd(d)),
            ("blocks.0.attn.W_Q", vec![h, d, dh], sd(d)),
            ("blocks.0.attn.W_K", vec![h, d, dh], sd(d)),
            ("blocks.0.attn.W_V", vec![h, d, dh], sd(d)),
            ("blocks.0.attn.W_O", vec![h, dh, d], sd(h * dh)),
            ("blocks.0.mlp.W_in", vec![d, m], sd(d)),
            ("blocks.0.mlp.b_in", vec![m], Some(0.0)),
            ("blocks.0.mlp.W_out", vec![m, d], sd(m)),
            ("blocks.0.mlp.b_out", vec![d], Some(0.0)),
            ("unembed.W_U", vec![d, vo], sd(d)),
        ];
        if self.layer_norm {
            for name in ["blocks.0.ln1", "blocks.0.ln2", "ln_final"] {
                let (w, b): (&'static str, &'static str) = match name {
                    "blocks.0.ln1" => ("blocks.0.ln1.w", "blocks.0.ln1.b"),
                    "blocks.0.ln2" => ("blocks.0.ln2.w", "blocks.0.ln2.b"),
                    _ => ("ln_final.w", "ln_final.b"),
                };
                specs.push((w, vec![d], None));
                specs.push((b, vec![d], Some(0.0)));
            }
        }
        specs
    }

    /// Creates S = `seeds.len()` models as variables of `vs`, model s
    /// initialised from `seeds[s]`: normal with std 1/sqrt(fan_in) (fan-in
    /// d_model for the embeddings, as Nanda et al.), biases 0, LayerNorm
    /// gains 1. The values come from grokscope's own SplitMix64, so a seed
    /// gives the same initial weights alone or in a batch, on any libtorch.
    ///
    /// # Errors
    /// An invalid config or no seeds.
    pub fn init(&self, vs: &nn::Path, seeds: &[u64]) -> Result<Transformer, ModelError> {
        self.validate()?;
        if seeds.is_empty() {
            return Err(ModelError::Config("at least one seed is needed".into()));
        }
        let specs = self.parameter_specs();
        let mut rngs: Vec<SplitMix64> = seeds
            .iter()
            .map(|&s| SplitMix64::derived(s, "init"))
            .collect();
        let mut weights = BTreeMap::new();
        for (name, shape, sd) in &specs {
            let numel: i64 = shape.iter().product();
            let mut data = Vec::with_capacity(seeds.len() * numel as usize);
            for rng in rngs.iter_mut() {
                for _ in 0..numel {
                    data.push(match sd {
                        Some(0.0) => 0.0f32,
                        Some(sd) => (rng.normal() * sd) as f32,
                        None => 1.0,
                    });
                }
            }
            let mut full = vec![seeds.len() as i64];
            full.extend(shape);
            let t = Tensor::f_from_slice(&data)?.f_view(full.as_slice())?;
            weights.insert(name.to_string(), t);
        }
        Transformer::from_tensors(self.clone(), vs, weights)
    }
}

/// S transformers with stacked weights (leading dimension S on every tensor).
#[derive(Debug)]
pub struct Transformer {
    /// The architecture.
    pub cfg: TransformerConfig,
    /// Number of models S.
    pub n_models: usize,
    /// `embed.W_E`: [S, d_vocab, d_model].
    pub w_e: Tensor,
    /// `pos_embed.W_pos`: [S, n_ctx, d_model].
    pub w_pos: Tensor,
    /// `blocks.0.attn.W_Q`: [S, n_heads, d_model, d_head].
    pub w_q: Tensor,
    /// `blocks.0.attn.W_K`: [S, n_heads, d_model, d_head].
    pub w_k: Tensor,
    /// `blocks.0.attn.W_V`: [S, n_heads, d_model, d_head].
    pub w_v: Tensor,
    /// `blocks.0.attn.W_O`: [S, n_heads, d_head, d_model].
    pub w_o: Tensor,
    /// `blocks.0.mlp.W_in`: [S, d_model, d_mlp].
    pub w_in: Tensor,
    /// `blocks.0.mlp.b_in`: [S, d_mlp].
    pub b_in: Tensor,
    /// `blocks.0.mlp.W_out`: [S, d_mlp, d_model].
    pub w_out: Tensor,
    /// `blocks.0.mlp.b_out`: [S, d_model].
    pub b_out: Tensor,
    /// `unembed.W_U`: [S, d_model, d_vocab_out].
    pub w_u: Tensor,
    /// The three LayerNorms, when enabled.
    pub ln: Option<LayerNorms>,
}

/// One LayerNorm's gain and bias, each [S, d_model].
#[derive(Debug)]
pub struct LayerNorm {
    /// Gain (`*.w`), initialised to 1.
    pub w: Tensor,
    /// Bias (`*.b`), initialised to 0.
    pub b: Tensor,
}

/// The LayerNorms before attention, before the MLP and before the
/// unembedding (TransformerLens' `blocks.0.ln1`, `blocks.0.ln2`, `ln_final`).
#[derive(Debug)]
pub struct LayerNorms {
    /// `blocks.0.ln1`.
    pub ln1: LayerNorm,
    /// `blocks.0.ln2`.
    pub ln2: LayerNorm,
    /// `ln_final`.
    pub ln_final: LayerNorm,
}

impl LayerNorms {
    /// The three in order, with their gains' and biases' TransformerLens names.
    fn named(&self) -> [(&LayerNorm, [&'static str; 2]); 3] {
        [
            (&self.ln1, ["blocks.0.ln1.w", "blocks.0.ln1.b"]),
            (&self.ln2, ["blocks.0.ln2.w", "blocks.0.ln2.b"]),
            (&self.ln_final, ["ln_final.w", "ln_final.b"]),
        ]
    }
}

/// Named activations of one forward pass (TransformerLens hook names), each
/// with leading dimensions [S, batch].
#[derive(Debug)]
pub struct ActivationCache {
    map: BTreeMap<String, Tensor>,
}

impl ActivationCache {
    /// The activation called `name`, e.g. `blocks.0.mlp.hook_post`.
    ///
    /// # Errors
    /// An unknown name; the message lists the recorded ones.
    pub fn get(&self, name: &str) -> Result<&Tensor, ModelError> {
        self.map
            .get(name)
            .ok_or_else(|| ModelError::UnknownActivation {
                name: name.to_string(),
                known: self.names().join(", "),
            })
    }
    /// All recorded names.
    pub fn names(&self) -> Vec<String> {
        self.map.keys().cloned().collect()
    }
}

fn layer_norm(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor, TchError> {
    // TransformerLens LayerNorm over the last dimension, eps 1e-5. `w`, `b`
    // are [S, d_model] and broadcast over the middle dimensions of x [S, ..., d_model].
    let mean = x.f_mean_dim(-1, true, Kind::Float)?;
    let centred = x.f_sub(&mean)?;
    let var = centred
        .f_pow_tensor_scalar(2)?
        .f_mean_dim(-1, true, Kind::Float)?;
    let normed = centred.f_div(&var.f_add_scalar(1e-5)?.f_sqrt()?)?;
    let mut shape = vec![w.size()[0]];
    shape.extend(std::iter::repeat_n(1, x.dim() - 2));
    shape.push(w.size()[1]);
    normed
        .f_mul(&w.f_view(shape.as_slice())?)?
        .f_add(&b.f_view(shape.as_slice())?)
}

impl Transformer {
    /// Wraps named tensors (each with leading dimension S) as variables of
    /// `vs` under their TransformerLens names.
    ///
    /// # Errors
    /// A missing or misshapen tensor.
    pub fn from_tensors(
        cfg: TransformerConfig,
        vs: &nn::Path,
        mut weights: BTreeMap<String, Tensor>,
    ) -> Result<Self, ModelError> {
        cfg.validate()?;
        let specs = cfg.parameter_specs();
        let n_models = weights.get("embed.W_E").map(|t| t.size()[0]).unwrap_or(0);
        let mut take = |name: &str, shape: &[i64]| -> Result<Tensor, ModelError> {
            let t = weights
                .remove(name)
                .ok_or_else(|| ModelError::Config(format!("missing weight {name}")))?;
            let mut full = vec![n_models];
            full.extend(shape);
            if t.size() != full {
                return Err(ModelError::Config(format!(
                    "{name} has shape {:?}, expected {full:?}",
                    t.size()
                )));
            }
            // tch separates path components with '.', so "blocks.0.attn.W_Q"
            // is the variable W_Q under blocks / 0 / attn: the stored name is
            // the TransformerLens one.
            let mut parts: Vec<&str> = name.split('.').collect();
            let leaf = parts.pop().expect("names are non-empty");
            let path = parts[1..].iter().fold(vs.sub(parts[0]), |p, c| p.sub(*c));
            Ok(path.f_var_copy(leaf, &t.f_to_kind(Kind::Float)?)?)
        };
        let mut get = |name: &str| -> Result<Tensor, ModelError> {
            let shape = specs
                .iter()
                .find(|s| s.0 == name)
                .map(|s| s.1.clone())
                .ok_or_else(|| {
                    ModelError::Config(format!("{name} is not a weight of this config"))
                })?;
            take(name, &shape)
        };
        let (w_e, w_pos) = (get("embed.W_E")?, get("pos_embed.W_pos")?);
        let (w_q, w_k) = (get("blocks.0.attn.W_Q")?, get("blocks.0.attn.W_K")?);
        let (w_v, w_o) = (get("blocks.0.attn.W_V")?, get("blocks.0.attn.W_O")?);
        let (w_in, b_in) = (get("blocks.0.mlp.W_in")?, get("blocks.0.mlp.b_in")?);
        let (w_out, b_out) = (get("blocks.0.mlp.W_out")?, get("blocks.0.mlp.b_out")?);
        let w_u = get("unembed.W_U")?;
        let ln = if cfg.layer_norm {
            let mut norm = |prefix: &str| -> Result<LayerNorm, ModelError> {
                Ok(LayerNorm {
                    w: get(&format!("{prefix}.w"))?,
                    b: get(&format!("{prefix}.b"))?,
                })
            };
            Some(LayerNorms {
                ln1: norm("blocks.0.ln1")?,
                ln2: norm("blocks.0.ln2")?,
                ln_final: norm("ln_final")?,
            })
        } else {
            None
        };
        if let Some(extra) = weights.keys().next() {
            return Err(ModelError::Config(format!(
                "unexpected weight {extra} for this config"
            )));
        }
        Ok(Self {
            cfg,
            n_models: n_models as usize,
            w_e,
            w_pos,
            w_q,
            w_k,
            w_v,
            w_o,
            w_in,
            b_in,
            w_out,
            b_out,
            w_u,
            ln,
        })
    }

    /// Every weight with its TransformerLens name, in `parameter_specs` order.
    pub fn named_weights(&self) -> Vec<(&'static str, &Tensor)> {
        let mut out: Vec<(&'static str, &Tensor)> = vec![
            ("embed.W_E", &self.w_e),
            ("pos_embed.W_pos", &self.w_pos),
            ("blocks.0.attn.W_Q", &self.w_q),
            ("blocks.0.attn.W_K", &self.w_k),
            ("blocks.0.attn.W_V", &self.w_v),
            ("blocks.0.attn.W_O", &self.w_o),
            ("blocks.0.mlp.W_in", &self.w_in),
            ("blocks.0.mlp.b_in", &self.b_in),
            ("blocks.0.mlp.W_out", &self.w_out),
            ("blocks.0.mlp.b_out", &self.b_out),
            ("unembed.W_U", &self.w_u),
        ];
        if let Some(ln) = &self.ln {
            for (norm, [w, b]) in ln.named() {
                out.push((w, &norm.w));
                out.push((b, &norm.b));
            }
        }
        out
    }

    /// The weights of model `s` (no model dimension), detached copies.
    pub fn model_weights(&self, s: usize) -> Result<Vec<(String, Tensor)>, ModelError> {
        self.named_weights()
            .into_iter()
            .map(|(name, t)| {
                Ok((
                    name.to_string(),
                    t.f_select(0, s as i64)?.f_detach()?.f_contiguous()?.copy(),
                ))
            })
            .collect()
    }

    /// Writes model `s` as safetensors with TransformerLens names, through a
    /// temporary file renamed into place.
    ///
    /// # Errors
    /// I/O or libtorch errors.
    pub fn save_model(&self, s: usize, path: &Path) -> Result<(), ModelError> {
        let weights = self.model_weights(s)?;
        crate::store::write_file_atomic(path, |tmp| {
            Tensor::write_safetensors(&weights, tmp)
                .map_err(|e| crate::store::error_line(&e.to_string()))
        })
        .map_err(|e| ModelError::Weights {
            path: e.path,
            reason: e.reason,
        })
    }

    /// Loads one model per file (S = `paths.len()`), checking names and shapes.
    ///
    /// # Errors
    /// A missing file, a file that is not safetensors, or weights that do not
    /// fit `cfg`; the message names the file.
    pub fn load(
        cfg: &TransformerConfig,
        vs: &nn::Path,
        paths: &[&Path],
    ) -> Result<Self, ModelError> {
        let mut stacked: BTreeMap<String, Vec<Tensor>> = BTreeMap::new();
        for path in paths {
            let err = |reason: String| ModelError::Weights {
                path: path.display().to_string(),
                reason,
            };
            if !path.exists() {
                return Err(err(
                    "file not found; train the run first or check the run directory".into(),
                ));
            }
            crate::store::read_checked(path).map_err(|e| err(e.reason))?;
            let tensors = Tensor::read_safetensors(path).map_err(|e| {
                err(format!(
                    "not a readable safetensors file ({}); re-run training to rewrite it",
                    first_line(&e.to_string())
                ))
            })?;
            let mut names = std::collections::BTreeSet::new();
            for (name, t) in tensors {
                names.insert(name.clone());
                stacked.entry(name).or_default().push(t);
            }
            for (name, shape, _) in cfg.parameter_specs() {
                if !names.contains(name) {
                    return Err(err(format!(
                        "has no tensor {name}; it was not written by grokscope for this config"
                    )));
                }
                let got = stacked[name].last().map(|t| t.size()).unwrap_or_default();
                if got != shape {
                    return Err(err(format!(
                        "{name} has shape {got:?} but the config needs {shape:?}"
                    )));
                }
            }
        }
        let mut weights = BTreeMap::new();
        for (name, ts) in stacked {
            weights.insert(name, Tensor::f_stack(&ts, 0)?);
        }
        Self::from_tensors(cfg.clone(), vs, weights)
    }

    /// LayerNorm `i` (0: before attention, 1: before the MLP, 2: before
    /// the unembedding) of `x`, or `x` itself without LayerNorm.
    fn ln(&self, i: usize, x: &Tensor) -> Result<Tensor, TchError> {
        match &self.ln {
            Some(ln) => {
                let norm = ln.named()[i].0;
                layer_norm(x, &norm.w, &norm.b)
            }
            None => Ok(x.shallow_clone()),
        }
    }

    /// The plain TransformerLens forward pass over all positions, recording
    /// every activation.
    ///
    /// # Shapes
    /// `tokens: [batch, 3]` (i64) -> `logits: [S, batch, 3, d_vocab_out]`.
    /// Cache: `hook_embed`, `hook_pos_embed`, `blocks.0.hook_resid_pre`,
    /// `blocks.0.hook_resid_mid`, `blocks.0.hook_attn_out`,
    /// `blocks.0.hook_mlp_out`, `blocks.0.hook_resid_post`: [S, batch, pos, d_model];
    /// `blocks.0.attn.hook_q`/`hook_k`/`hook_v`/`hook_z`: [S, batch, pos, n_heads, d_head];
    /// `blocks.0.attn.hook_attn_scores`/`hook_pattern`: [S, batch, n_heads, query_pos, key_pos];
    /// `blocks.0.mlp.hook_pre`/`hook_post`: [S, batch, pos, d_mlp]; `logits`.
    ///
    /// # Errors
    /// Tokens out of range or of the wrong shape (libtorch reports it).
    pub fn run_with_cache(&self, tokens: &Tensor) -> Result<(Tensor, ActivationCache), ModelError> {
        let (s, d) = (self.n_models as i64, self.cfg.d_model as i64);
        let (dh, p) = (self.cfg.d_head() as i64, self.cfg.n_ctx as i64);
        let b = tokens.size().first().copied().unwrap_or(0);
        if tokens.size() != [b, p] {
            return Err(ModelError::Config(format!(
                "tokens must be [batch, {p}], got {:?}",
                tokens.size()
            )));
        }
        let mut map = BTreeMap::new();
        let embed = self
            .w_e
            .f_index_select(1, &tokens.f_flatten(0, 1)?)?
            .f_view([s, b, p, d])?;
        let pos = self.w_pos.f_unsqueeze(1)?.f_expand([s, b, p, d], false)?;
        let resid_pre = embed.f_add(&pos)?;
        let x = self.ln(0, &resid_pre)?;
        // [S, B, 1, P, D] @ [S, 1, H, D, Dh] -> [S, B, H, P, Dh]
        let project = |w: &Tensor| x.f_unsqueeze(2)?.f_matmul(&w.f_unsqueeze(1)?);
        let (q, k, v) = (
            project(&self.w_q)?,
            project(&self.w_k)?,
            project(&self.w_v)?,
        );
        let scores = q
            .f_matmul(&k.f_transpose(-1, -2)?)?
            .f_div_scalar((dh as f64).sqrt())?; // [S, B, H, P, P]
        let causal = Tensor::f_ones([p, p], (Kind::Bool, self.w_e.device()))?.f_triu(1)?;
        let scores = scores.f_masked_fill(&causal, f64::NEG_INFINITY)?;
        let pattern = scores.f_softmax(-1, Kind::Float)?;
        let z = pattern.f_matmul(&v)?; // [S, B, H, P, Dh]
                                       // Σ_h z_h W_O[h]: [S, B, H, P, Dh] @ [S, 1, H, Dh, D] -> sum over H -> [S, B, P, D]
        let attn_out =
            z.f_matmul(&self.w_o.f_unsqueeze(1)?)?
                .f_sum_dim_intlist(2, false, Kind::Float)?;
        let resid_mid = resid_pre.f_add(&attn_out)?;
        let x2 = self.ln(1, &resid_mid)?;
        let w_in = self.w_in.f_unsqueeze(1)?; // [S, 1, D, M]
        let mlp_pre = x2
            .f_matmul(&w_in)?
            .f_add(&self.b_in.f_view([s, 1, 1, -1])?)?;
        let mlp_post = mlp_pre.f_relu()?;
        let mlp_out = mlp_post
            .f_matmul(&self.w_out.f_unsqueeze(1)?)?
            .f_add(&self.b_out.f_view([s, 1, 1, d])?)?;
        let resid_post = resid_mid.f_add(&mlp_out)?;
        let logits = self
            .ln(2, &resid_post)?
            .f_matmul(&self.w_u.f_unsqueeze(1)?)?;
        let by_pos = |t: &Tensor| t.f_permute([0, 1, 3, 2, 4]); // [S, B, H, P, Dh] -> [S, B, P, H, Dh]
        map.insert("hook_embed".into(), embed);
        map.insert("hook_pos_embed".into(), pos);
        map.insert("blocks.0.hook_resid_pre".into(), resid_pre);
        map.insert("blocks.0.attn.hook_q".into(), by_pos(&q)?);
        map.insert("blocks.0.attn.hook_k".into(), by_pos(&k)?);
        map.insert("blocks.0.attn.hook_v".into(), by_pos(&v)?);
        map.insert("blocks.0.attn.hook_attn_scores".into(), scores);
        map.insert("blocks.0.attn.hook_pattern".into(), pattern);
        map.insert("blocks.0.attn.hook_z".into(), by_pos(&z)?);
        map.insert("blocks.0.hook_attn_out".into(), attn_out);
        map.insert("blocks.0.hook_resid_mid".into(), resid_mid);
        map.insert("blocks.0.mlp.hook_pre".into(), mlp_pre);
        map.insert("blocks.0.mlp.hook_post".into(), mlp_post);
        map.insert("blocks.0.hook_mlp_out".into(), mlp_out);
        map.insert("blocks.0.hook_resid_post".into(), resid_post);
        map.insert("logits".into(), logits.shallow_clone());
        Ok((logits, ActivationCache { map }))
    }

    /// The plain forward pass: logits at every position.
    ///
    /// # Shapes
    /// `tokens: [batch, 3]` -> `[S, batch, 3, d_vocab_out]`.
    ///
    /// # Errors
    /// As [`Self::run_with_cache`].
    pub fn forward(&self, tokens: &Tensor) -> Result<Tensor, ModelError> {
        Ok(self.run_with_cache(tokens)?.0)
    }

    /// Checks that `a` and `b` are `[S, batch]` int64 tokens in 0..n.
    fn check_tokens(&self, a: &Tensor, b: &Tensor) -> Result<(), ModelError> {
        let (s, n) = (self.n_models as i64, self.cfg.d_vocab_out as i64);
        for (name, t) in [("a", a), ("b", b)] {
            let size = t.size();
            if size.len() != 2 || size[0] != s {
                return Err(ModelError::Input(format!(
                    "{name} has shape {size:?}; expected [{s}, batch] (one row of tokens per model); unsqueeze(0) a single row"
                )));
            }
            if t.kind() != Kind::Int64 {
                return Err(ModelError::Input(format!(
                    "{name} is {:?}; expected int64 tokens",
                    t.kind()
                )));
            }
            if t.numel() > 0 {
                let (lo, hi) = (t.f_min()?.int64_value(&[]), t.f_max()?.int64_value(&[]));
                if lo < 0 || hi >= n {
                    return Err(ModelError::Input(format!(
                        "{name} holds tokens {lo}..={hi}; the group's elements are 0..{n}"
                    )));
                }
            }
        }
        if a.size() != b.size() {
            return Err(ModelError::Input(format!(
                "a has shape {:?} and b {:?}; they must match",
                a.size(),
                b.size()
            )));
        }
        Ok(())
    }

    /// The exact fast path: logits at the last position for pairs (a, b).
    ///
    /// `a` and `b` index S·n rows: entry `s·n + t` is token t of model s, so
    /// each model can read its own batch (its own training split).
    ///
    /// # Shapes
    /// `a, b: [S, batch]` (i64, tokens 0..n) -> `[S, batch, d_vocab_out]`.
    ///
    /// # Errors
    /// `a` and `b` not both `[S, batch]` int64 tensors of tokens in 0..n
    /// ([`ModelError::Input`]: a token out of range would otherwise read
    /// another model's embedding), or a libtorch error.
    pub fn forward_last(&self, a: &Tensor, b: &Tensor) -> Result<Tensor, ModelError> {
        let (s, n) = (self.n_models as i64, self.cfg.d_vocab_out as i64);
        let (d, h, dh) = (
            self.cfg.d_model as i64,
            self.cfg.n_heads as i64,
            self.cfg.d_head() as i64,
        );
        self.check_tokens(a, b)?;
        let batch = a.size()[1];
        let offset = Tensor::f_arange(s, (Kind::Int64, self.w_e.device()))?
            .f_mul_scalar(n)?
            .f_view([s, 1])?;
        let (ga, gb) = (
            a.f_add(&offset)?.f_flatten(0, 1)?,
            b.f_add(&offset)?.f_flatten(0, 1)?,
        ); // [S·B]

        let e = self.w_e.f_narrow(1, 0, n)?; // [S, n, D] element embeddings
        let pos = |i: i64| self.w_pos.f_select(1, i); // [S, D]
        let x0 = e.f_add(&pos(0)?.f_unsqueeze(1)?)?; // residual at position 0 for every token
        let x1 = e.f_add(&pos(1)?.f_unsqueeze(1)?)?;
        let x2 = self.w_e.f_select(1, n)?.f_add(&pos(2)?)?; // [S, D]: "=" at position 2
        let (h0, h1, h2) = (
            self.ln(0, &x0)?,
            self.ln(0, &x1)?,
            self.ln(0, &x2.f_unsqueeze(1)?)?,
        );

        // The query of "=" is shared by every example: q [S, H, Dh]; fold it
        // into the keys: u_h = W_K[h] q_h / sqrt(d_head) [S, H, D], so the
        // score of token t at position i is h_i(t) · u_h.
        let q = h2.f_unsqueeze(1)?.f_matmul(&self.w_q)?.f_squeeze_dim(2)?; // [S,1,1,D]@[S,H,D,Dh] -> [S,H,Dh]
        let u = self
            .w_k
            .f_matmul(&q.f_unsqueeze(-1)?)?
            .f_squeeze_dim(-1)?
            .f_div_scalar((dh as f64).sqrt())?;
        let ut = u.f_transpose(1, 2)?; // [S, D, H]
        let s0 = h0.f_bmm(&ut)?.f_reshape([s * n, h])?; // score tables [S·n, H]
        let s1 = h1.f_bmm(&ut)?.f_reshape([s * n, h])?;
        let s2 = h2.f_bmm(&ut)?; // [S, 1, H]

        // Value tables, all heads side by side: [S·n, H·d_head]. Gathering
        // values (d_head wide) and applying W_O once afterwards moves a
        // quarter of the data that gathering W_V W_O outputs (d_model wide
        // per head) would; the sum is the same.
        let hv = h * dh;
        let w_v = self.w_v.f_permute([0, 2, 1, 3])?.f_reshape([s, d, hv])?; // [S, D, H·Dh]
        let v0 = h0.f_bmm(&w_v)?.f_reshape([s * n, hv])?;
        let v1 = h1.f_bmm(&w_v)?.f_reshape([s * n, hv])?;
        let v2 = h2.f_bmm(&w_v)?.f_view([s, 1, h, dh])?;

        let scores = Tensor::f_stack(
            &[
                s0.f_index_select(0, &ga)?.f_view([s, batch, h])?,
                s1.f_index_select(0, &gb)?.f_view([s, batch, h])?,
                s2.f_expand([s, batch, h], false)?,
            ],
            -1,
        )?; // [S, B, H, 3]
        let w = scores.f_softmax(-1, Kind::Float)?;
        let za = v0.f_index_select(0, &ga)?.f_view([s, batch, h, dh])?;
        let zb = v1.f_index_select(0, &gb)?.f_view([s, batch, h, dh])?;
        // z_h = Σ_i w_i,h · v_i,h: [S, B, H, 1] * [S, B, H, Dh]
        let weighted = |i: i64, v: &Tensor| w.f_narrow(-1, i, 1)?.f_mul(v);
        let z = weighted(0, &za)?
            .f_add(&weighted(1, &zb)?)?
            .f_add(&weighted(2, &v2)?)?;
        let w_o = self.w_o.f_reshape([s, hv, d])?; // [S, H·Dh, D]
        let attn_out = z.f_view([s, batch, hv])?.f_bmm(&w_o)?; // [S, B, D]
        let resid = attn_out.f_add(&x2.f_unsqueeze(1)?)?;
        let pre = self
            .ln(1, &resid)?
            .f_bmm(&self.w_in)?
            .f_add(&self.b_in.f_unsqueeze(1)?)?; // [S, B, M]
        let mlp_out = pre
            .f_relu()?
            .f_bmm(&self.w_out)?
            .f_add(&self.b_out.f_unsqueeze(1)?)?; // [S, B, D]
        let resid = resid.f_add(&mlp_out)?;
        Ok(self.ln(2, &resid)?.f_bmm(&self.w_u)?) // [S, B, d_vocab_out]
    }

    /// ‖θ‖₂ of each model over all its weights.
    ///
    /// # Shapes
    /// -> `[S]`.
    pub fn weight_norms(&self) -> Result<Tensor, ModelError> {
        let mut total = Tensor::f_zeros([self.n_models as i64], (Kind::Float, self.w_e.device()))?;
        for (_, sq) in self.weight_squares()? {
            total = total.f_add(&sq)?;
        }
        Ok(total.f_sqrt()?)
    }

    /// Σ θ² of each weight of each model, in [`Self::named_weights`] order.
    ///
    /// # Shapes
    /// -> `[S]` per weight.
    pub fn weight_squares(&self) -> Result<Vec<(&'static str, Tensor)>, ModelError> {
        self.named_weights()
            .into_iter()
            .map(|(name, t)| {
                Ok((
                    name,
                    t.f_pow_tensor_scalar(2)?
                        .f_flatten(1, -1)?
                        .f_sum_dim_intlist(1, false, Kind::Float)?,
                ))
            })
            .collect()
    }
}

/// The metric naming one weight's norm in `metrics.parquet`:
/// `weight_norm/<name>` (`None` for a name that is not a weight).
pub fn norm_metric(name: &str) -> Option<&'static str> {
    NORM_METRICS
        .iter()
        .find(|m| m.strip_prefix("weight_norm/") == Some(name))
        .copied()
}

/// `weight_norm/<name>` of every weight [`TransformerConfig::parameter_specs`]
/// can name (tested to cover them).
pub const NORM_METRICS: [&str; 17] = [
    "weight_norm/embed.W_E",
    "weight_norm/pos_embed.W_pos",
    "weight_norm/blocks.0.attn.W_Q",
    "weight_norm/blocks.0.attn.W_K",
    "weight_norm/blocks.0.attn.W_V",
    "weight_norm/blocks.0.attn.W_O",
    "weight_norm/blocks.0.mlp.W_in",
    "weight_norm/blocks.0.mlp.b_in",
    "weight_norm/blocks.0.mlp.W_out",
    "weight_norm/blocks.0.mlp.b_out",
    "weight_norm/unembed.W_U",
    "weight_norm/blocks.0.ln1.w",
    "weight_norm/blocks.0.ln1.b",
    "weight_norm/blocks.0.ln2.w",
    "weight_norm/blocks.0.ln2.b",
    "weight_norm/ln_final.w",
    "weight_norm/ln_final.b",
];

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_weight_has_its_norm_metric() {
        let mut cfg = TransformerConfig::for_order(5);
        cfg.layer_norm = true;
        let names: Vec<&str> = cfg.parameter_specs().iter().map(|s| s.0).collect();
        assert_eq!(names.len(), NORM_METRICS.len());
        for name in names {
            assert_eq!(norm_metric(name).unwrap(), format!("weight_norm/{name}"));
        }
        assert_eq!(norm_metric("W_E"), None);
    }

    #[test]
    fn named_weights_follow_parameter_specs_with_and_without_layer_norm() {
        for layer_norm in [false, true] {
            let mut cfg = TransformerConfig::for_order(5);
            cfg.layer_norm = layer_norm;
            let vs = nn::VarStore::new(tch::Device::Cpu);
            let m = cfg.init(&vs.root(), &[0]).unwrap();
            let names: Vec<&str> = m.named_weights().iter().map(|w| w.0).collect();
            let specs: Vec<&str> = cfg.parameter_specs().iter().map(|s| s.0).collect();
            assert_eq!(names, specs);
            for ((_, t), spec) in m.named_weights().iter().zip(cfg.parameter_specs()) {
                assert_eq!(t.size()[1..], spec.1[..], "{}", spec.0);
            }
        }
    }
}
