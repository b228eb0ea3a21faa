//! The flat run configuration (docs/design.md defaults), read from TOML and
//! `--set key=value` overrides. It is plain data: no device, no RNG.
//!
//! ```
//! use grokscope::config::RunConfig;
//! let mut cfg = RunConfig::default();
//! cfg.set("op=s4").unwrap();
//! cfg.set("epochs=500").unwrap();
//! assert_eq!((cfg.op.as_str(), cfg.epochs), ("s4", 500));
//! assert!(cfg.set("learning_rate=0.1").is_err()); // unknown key
//! ```

use crate::groups::{Operation, OperationError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Why a configuration was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// TOML or JSON that does not fit the schema (includes unknown keys).
    #[error("config {origin}: {reason}")]
    Parse {
        /// Where it came from (file name or `--set k=v`).
        origin: String,
        /// What serde said, on one line.
        reason: String,
    },
    /// `--set` without `=`.
    #[error("--set {0}: expected key=value, e.g. --set epochs=500")]
    SetSyntax(String),
    /// A value out of range.
    #[error("config: {0}")]
    Invalid(String),
    /// The operation does not exist.
    #[error(transparent)]
    Operation(#[from] OperationError),
    /// The training fraction does not split this table.
    #[error("{0}")]
    Data(String),
}

/// Every setting of one training run; each key can be set with `--set`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// The operation (`add`, `s4`, `ring:12`, ...; see `grokscope ops`).
    pub op: String,
    /// Fixes the initial weights and the train/test split.
    pub seed: u64,
    /// Full-batch optimiser steps.
    pub epochs: usize,
    /// Evaluate train/test metrics every this many epochs (and at the end).
    pub eval_every: usize,
    /// Share of all n² pairs used for training, in (0, 1).
    pub train_fraction: f64,
    /// AdamW learning rate.
    pub lr: f64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// AdamW β1.
    pub beta1: f64,
    /// AdamW β2.
    pub beta2: f64,
    /// Residual width.
    pub d_model: usize,
    /// Attention heads.
    pub n_heads: usize,
    /// MLP width.
    pub d_mlp: usize,
    /// LayerNorm on (the reference study's setting) or off (default).
    pub layer_norm: bool,
    /// libtorch intra-op threads; 0 = all cores (divided among parallel jobs).
    pub threads: usize,
    /// Save weights every this many epochs (0 = only the initial and final
    /// weights). A killed run resumes from its latest checkpoint.
    pub checkpoint_every: usize,
    /// Epochs a sustained grok must hold test accuracy >= 0.99 (see
    /// [`crate::grok`]).
    pub grok_window: usize,
    /// End the run at sustained grok + `grok_window` instead of at `epochs`.
    pub stop_after_grok: bool,
    /// How gradients and the update are computed (see [`Step`]).
    pub step: Step,
    /// Train even when the estimate says the run takes more than a day
    /// (see [`crate::budget`]). Scheduling only: not part of the run id.
    pub allow_long: bool,
    /// Weight initialisation: `fan_in` (default) or `transformer_lens`
    /// (Chughtai et al.'s setting).
    pub init: Init,
    /// Keep the MLP biases at zero (no gradient, no decay), as Chughtai et
    /// al. froze every bias.
    pub freeze_biases: bool,
    /// A null model: the labels of the training pairs are permuted among
    /// those pairs by a permutation seeded with `seed` (the test pairs keep
    /// their true labels). The model memorises a table with no structure
    /// while seeing the same inputs (see [`crate::data::Dataset::for_config`]).
    pub shuffle_labels: bool,
    /// Precision of the loss: `f32` (default) or `f64`, the logits upcast
    /// for the loss and its gradient, as Nanda et al.'s code computes it
    /// (see [`crate::train::loss`]).
    pub loss_precision: LossPrecision,
    /// `standard` softmax (default) or `stablemax` (Prieto et al. 2025) in
    /// the cross-entropy.
    pub softmax: Softmax,
    /// `adamw` (default) or `orthogonal_adamw`: AdamW fed each weight's
    /// gradient projected orthogonal to that weight (Prieto et al.'s ⊥AdamW).
    pub optimizer: Optimizer,
    /// Grokfast's EMA decay α (Lee et al. 2024): the filter keeps
    /// `h = α h + (1 − α) g` and the optimiser sees `g + λ h`.
    pub grokfast_alpha: f64,
    /// Grokfast's amplification λ; 0 (default) turns the filter off.
    pub grokfast_lambda: f64,
}

/// Precision of the loss and its gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LossPrecision {
    /// float32, as the model computes (the default).
    #[default]
    F32,
    /// The logits upcast to float64 for the loss and its gradient.
    F64,
}

/// The normalisation inside the cross-entropy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Softmax {
    /// `exp(x_j) / Σ exp(x_k)` (the default).
    #[default]
    Standard,
    /// `s(x_j) / Σ s(x_k)` with `s(x) = x + 1` for `x ≥ 0`, `1 / (1 − x)`
    /// below (Prieto et al. 2025).
    Stablemax,
}

/// What the optimiser is fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Optimizer {
    /// AdamW on the gradient (the default).
    #[default]
    Adamw,
    /// AdamW on `g − (⟨w, g⟩ / ⟨w, w⟩) w` per weight matrix and model
    /// (unchanged where `w = 0`).
    OrthogonalAdamw,
}

/// Initialisation of the weights (biases start at zero, LayerNorm gains at one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// Normal with standard deviation 1/sqrt(fan_in) (fan-in d_model for
    /// the embeddings, as Nanda et al.): grokscope's default.
    #[default]
    FanIn,
    /// TransformerLens' default (`init_weights=True`, GPT-2 mode): every
    /// weight matrix normal with standard deviation 0.8/sqrt(d_model), as
    /// Chughtai et al. (2023) trained with.
    TransformerLens,
}

/// How a training step computes gradients and updates the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// Hand-derived backward pass of the exact fast path (autograd where
    /// LayerNorm is on) and grokscope's own AdamW, whose state is stored so
    /// runs can be extended and resumed exactly. The default.
    Fused,
    /// The reference: autograd over the fast path and libtorch's AdamW, the
    /// step every result of grokscope 0.1 was trained with. Its optimiser
    /// state cannot be stored: such runs neither extend nor resume.
    Autograd,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            op: "add".into(),
            seed: 0,
            epochs: 3000,
            eval_every: 10,
            train_fraction: 0.7,
            lr: 1e-3,
            weight_decay: 1.0,
            beta1: 0.9,
            beta2: 0.98,
            d_model: 64,
            n_heads: 4,
            d_mlp: 256,
            layer_norm: false,
            threads: 0,
            checkpoint_every: 100,
            grok_window: crate::grok::DEFAULT_WINDOW,
            stop_after_grok: false,
            step: Step::Fused,
            allow_long: false,
            init: Init::FanIn,
            freeze_biases: false,
            shuffle_labels: false,
            loss_precision: LossPrecision::F32,
            softmax: Softmax::Standard,
            optimizer: Optimizer::Adamw,
            grokfast_alpha: 0.98,
            grokfast_lambda: 0.0,
        }
    }
}

/// A serde message on one line.
/// A serde or TOML message on one line, an unknown key with the nearest
/// known one.
pub(crate) fn one_line(e: impl std::fmt::Display) -> String {
    crate::suggest::unknown_field(
        &e.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    )
}

impl RunConfig {
    /// Reads a TOML file of flat keys over the defaults.
    ///
    /// # Errors
    /// An unreadable file, bad TOML, an unknown key or a wrong type.
    pub fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))
    }

    /// Applies one `key=value` override. The value is read as TOML (so
    /// `epochs=500`, `layer_norm=true`, `op=s4` all work).
    ///
    /// # Errors
    /// No `=`, an unknown key or a value of the wrong type.
    pub fn set(&mut self, assignment: &str) -> Result<(), ConfigError> {
        let (key, value) = assignment
            .split_once('=')
            .ok_or_else(|| ConfigError::SetSyntax(assignment.to_string()))?;
        let (key, value) = (key.trim(), value.trim());
        let origin = format!("--set {assignment}");
        let mut table = toml::Table::try_from(&*self).map_err(|e| ConfigError::Parse {
            origin: origin.clone(),
            reason: one_line(e),
        })?;
        let parsed: toml::Value = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        table.insert(key.to_string(), parsed);
        *self = table
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse {
                origin,
                reason: one_line(e.message()),
            })?;
        Ok(())
    }

    /// Checks every value and builds the operation (its size is capped by
    /// [`crate::groups::MAX_ORDER`], the same on every machine). Whether this
    /// machine can train it is [`crate::budget::admit`]'s question, asked
    /// where a run is admitted (train, sweep, study).
    ///
    /// # Errors
    /// The first bad value, with what to use instead, or an operation that
    /// does not exist.
    pub fn validate(&self) -> Result<Operation, ConfigError> {
        self.check_values()?;
        Ok(Operation::parse(&self.op)?)
    }

    /// Checks every value but the operation's name, without building
    /// anything.
    ///
    /// # Errors
    /// The first bad value, with what to use instead.
    pub fn check_values(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        // Whether it splits this operation's table is asked where the run
        // is admitted (crate::budget::admit), which builds the split.
        if !(self.train_fraction > 0.0 && self.train_fraction < 1.0) {
            return bad(format!(
                "train_fraction {} is outside (0, 1); use a value such as 0.7",
                self.train_fraction
            ));
        }
        if self.epochs == 0 {
            return bad("epochs must be at least 1".into());
        }
        if self.eval_every == 0 {
            return bad("eval_every must be at least 1".into());
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad(format!("lr {} must be positive", self.lr));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return bad(format!("weight_decay {} must be >= 0", self.weight_decay));
        }
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return bad(format!("{name} {b} must be in [0, 1)"));
            }
        }
        if self.d_model == 0
            || self.n_heads == 0
            || self.d_mlp == 0
            || !self.d_model.is_multiple_of(self.n_heads)
        {
            return bad(format!(
                "d_model {} must be a positive multiple of n_heads {}, and d_mlp {} positive",
                self.d_model, self.n_heads, self.d_mlp
            ));
        }
        self.check_limits().map_err(ConfigError::Invalid)?;
        if self.stop_after_grok && !self.grok_window.is_multiple_of(self.eval_every) {
            return bad(format!(
                "stop_after_grok needs grok_window {} to be a multiple of eval_every {}, so a stopped run ends on an evaluation",
                self.grok_window, self.eval_every
            ));
        }
        if !(0.0..1.0).contains(&self.grokfast_alpha) {
            return bad(format!(
                "grokfast_alpha {} must be in [0, 1)",
                self.grokfast_alpha
            ));
        }
        if !(self.grokfast_lambda >= 0.0 && self.grokfast_lambda.is_finite()) {
            return bad(format!(
                "grokfast_lambda {} must be >= 0 (0 turns Grokfast off)",
                self.grokfast_lambda
            ));
        }
        let d = Self::default();
        if self.step == Step::Autograd
            && (self.loss_precision != d.loss_precision
                || self.softmax != d.softmax
                || self.optimizer != d.optimizer
                || self.grokfast_lambda != d.grokfast_lambda)
        {
            return bad("loss_precision, softmax, optimizer and grokfast_lambda need the default step = \"fused\"; step = \"autograd\" is grokscope 0.1's reference and has none of them".into());
        }
        Ok(())
    }

    /// The limits of [`crate::limits`] on what this config asks for:
    /// sizes, budget, evaluation and checkpoint counts, threads.
    ///
    /// # Errors
    /// The first resource over its limit, as one line saying the limit.
    pub fn check_limits(&self) -> Result<(), String> {
        use crate::limits::*;
        let over =
            |what: String, limit: usize, past: &str| Err(format!("{what}: at most {limit}{past}"));
        if self.d_model > MAX_D_MODEL {
            return over(format!("d_model = {}", self.d_model), MAX_D_MODEL, "");
        }
        if self.d_mlp > MAX_D_MLP {
            return over(format!("d_mlp = {}", self.d_mlp), MAX_D_MLP, "");
        }
        if self.n_heads > MAX_HEADS.min(self.d_model) {
            return over(
                format!("n_heads = {}", self.n_heads),
                MAX_HEADS.min(self.d_model),
                " (and at most d_model)",
            );
        }
        if self.epochs > MAX_EPOCHS {
            return over(format!("epochs = {}", self.epochs), MAX_EPOCHS, "");
        }
        if self.epochs / self.eval_every > MAX_EVALUATIONS {
            return over(
                format!(
                    "eval_every = {} makes {} evaluations",
                    self.eval_every,
                    self.epochs / self.eval_every
                ),
                MAX_EVALUATIONS,
                " a run; evaluate less often",
            );
        }
        if self.checkpoint_every > 0 && self.epochs / self.checkpoint_every > MAX_CHECKPOINTS {
            return over(
                format!(
                    "checkpoint_every = {} makes {} checkpoints",
                    self.checkpoint_every,
                    self.epochs / self.checkpoint_every
                ),
                MAX_CHECKPOINTS,
                " a run; checkpoint less often",
            );
        }
        check_threads(self.threads)
    }

    /// Checkpoints this run stores (the initial and final weights and one
    /// every `checkpoint_every` epochs).
    pub fn checkpoint_count(&self) -> usize {
        2 + self
            .epochs
            .checked_div(self.checkpoint_every)
            .unwrap_or_default()
    }

    /// SHA-256 of the config (first 16 hex digits). Keys added after
    /// grokscope 0.1 enter only when they differ from their defaults, so
    /// stored runs keep their hashes.
    pub fn hash(&self) -> String {
        hash_json(&self.identity())
    }

    /// What identifies the config's results: every key of grokscope 0.1 in
    /// its order, then the keys added since where they differ from their
    /// defaults (`allow_long` never: it schedules, it does not change results).
    fn identity(&self) -> Identity<'_> {
        let d = Self::default();
        Identity {
            op: &self.op,
            seed: self.seed,
            epochs: self.epochs,
            eval_every: self.eval_every,
            train_fraction: self.train_fraction,
            lr: self.lr,
            weight_decay: self.weight_decay,
            beta1: self.beta1,
            beta2: self.beta2,
            d_model: self.d_model,
            n_heads: self.n_heads,
            d_mlp: self.d_mlp,
            layer_norm: self.layer_norm,
            threads: self.threads,
            checkpoint_every: self.checkpoint_every,
            grok_window: (self.grok_window != d.grok_window).then_some(self.grok_window),
            stop_after_grok: (self.stop_after_grok != d.stop_after_grok)
                .then_some(self.stop_after_grok),
            step: (self.step != d.step).then_some(self.step),
            init: (self.init != d.init).then_some(self.init),
            freeze_biases: (self.freeze_biases != d.freeze_biases).then_some(self.freeze_biases),
            shuffle_labels: (self.shuffle_labels != d.shuffle_labels)
                .then_some(self.shuffle_labels),
            loss_precision: (self.loss_precision != d.loss_precision)
                .then_some(self.loss_precision),
            softmax: (self.softmax != d.softmax).then_some(self.softmax),
            optimizer: (self.optimizer != d.optimizer).then_some(self.optimizer),
            // α matters only while the filter is on.
            grokfast: (self.grokfast_lambda != d.grokfast_lambda)
                .then_some((self.grokfast_alpha, self.grokfast_lambda)),
        }
    }

    /// The run identifier: operation, seed, and a hash of every setting that
    /// changes the results (thread count and checkpoint cadence excluded), so
    /// a sweep recognises a finished run however it was scheduled.
    pub fn run_id(&self) -> String {
        let mut canonical = self.clone();
        canonical.threads = 0;
        canonical.checkpoint_every = 0;
        let slug = match crate::groups::OperationSpec::parse(&self.op) {
            Ok(spec) => {
                canonical.op = spec.canonical();
                spec.slug()
            }
            Err(_) => canonical
                .op
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect(),
        };
        format!(
            "{slug}-seed{}-{}",
            self.seed,
            &hash_json(&canonical.identity())[..8]
        )
    }
}

/// The serialised identity of a config (see [`RunConfig::hash`]): the
/// field order of grokscope 0.1 is part of every stored hash.
#[derive(Serialize)]
struct Identity<'a> {
    op: &'a str,
    seed: u64,
    epochs: usize,
    eval_every: usize,
    train_fraction: f64,
    lr: f64,
    weight_decay: f64,
    beta1: f64,
    beta2: f64,
    d_model: usize,
    n_heads: usize,
    d_mlp: usize,
    layer_norm: bool,
    threads: usize,
    checkpoint_every: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    grok_window: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_after_grok: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    init: Option<Init>,
    #[serde(skip_serializing_if = "Option::is_none")]
    freeze_biases: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shuffle_labels: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loss_precision: Option<LossPrecision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    softmax: Option<Softmax>,
    #[serde(skip_serializing_if = "Option::is_none")]
    optimizer: Option<Optimizer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grokfast: Option<(f64, f64)>,
}

/// A TOML error on one line, naming the file and, where the text parses
/// but a value does not fit, the offending `key = value`.
pub(crate) fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let origin = path.display().to_string();
    let reason = match text.parse::<toml::Table>() {
        Ok(table) => match offending_key(&table) {
            Some((key, value, msg)) => format!("{key} = {value}: {msg}"),
            None => one_line(e.message()),
        },
        Err(parse) => one_line(parse.message()),
    };
    ConfigError::Parse { origin, reason }
}

/// The first key whose value alone, over the defaults, fails to deserialise.
fn offending_key(table: &toml::Table) -> Option<(String, toml::Value, String)> {
    table.iter().find_map(|(k, v)| {
        let mut t = toml::Table::try_from(RunConfig::default()).ok()?;
        t.insert(k.clone(), v.clone());
        let r: Result<RunConfig, _> = t.try_into();
        r.err()
            .map(|e: toml::de::Error| (k.clone(), v.clone(), one_line(e.message())))
    })
}

fn hash_json<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_string(value).expect("configs serialise");
    crate::text::short_hex(&Sha256::digest(json.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_parses_toml_values_and_rejects_unknown_keys() {
        let mut c = RunConfig::default();
        c.set("layer_norm=true").unwrap();
        c.set("train_fraction=0.5").unwrap();
        c.set("op=ring:12").unwrap();
        c.set("op=\"s4\"").unwrap();
        assert!(c.layer_norm);
        assert_eq!((c.train_fraction, c.op.as_str()), (0.5, "s4"));
        let e = c.set("weight_decy=1").unwrap_err().to_string();
        assert!(
            e.ends_with("unknown field `weight_decy`; did you mean `weight_decay`?"),
            "{e}"
        );
        let e = c.set("lerning_rate=1").unwrap_err().to_string();
        assert!(
            e.contains("unknown field `lerning_rate`") && !e.contains('\n'),
            "{e}"
        );
        let e = c.set("epochs=many").unwrap_err().to_string();
        assert!(e.contains("epochs"), "{e}");
        assert!(c.set("epochs").is_err());
    }

    #[test]
    fn validation_rejects_bad_values_with_one_line_errors() {
        for (k, v, needle) in [
            ("train_fraction", "0", "outside (0, 1)"),
            ("train_fraction", "1.5", "outside (0, 1)"),
            ("epochs", "0", "epochs must be at least 1"),
            ("op", "s6", "unknown operation \"s6\""),
            ("op", "mul:100", "not prime"),
            ("n_heads", "5", "multiple of n_heads"),
        ] {
            let mut c = RunConfig::default();
            c.set(&format!("{k}={v}")).unwrap();
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(needle) && !e.contains('\n'), "{k}={v}: {e}");
        }
        RunConfig::default().validate().unwrap();
    }

    #[test]
    fn run_id_ignores_scheduling_but_not_science() {
        let a = RunConfig::default();
        let mut b = a.clone();
        b.threads = 2;
        b.checkpoint_every = 7;
        b.op = "add:113".into();
        assert_eq!(a.run_id(), b.run_id());
        b.lr = 2e-3;
        assert_ne!(a.run_id(), b.run_id());
        assert!(a.run_id().starts_with("add113-seed0-"));
    }

    #[test]
    fn new_keys_at_their_defaults_keep_the_stored_run_ids() {
        // The id of the default add run as stored by grokscope 0.1
        // (experiments/suite/results.csv) must not move.
        let mut c = RunConfig {
            op: "add".into(),
            ..RunConfig::default()
        };
        let before = c.run_id();
        assert_eq!(before, "add113-seed0-c4eb9137");
        assert_eq!(c.hash(), "fc990f5a7f38f106");
        c.allow_long = true;
        assert_eq!(c.run_id(), before, "allow_long schedules only");
        c.stop_after_grok = true;
        assert_ne!(c.run_id(), before);
        c.stop_after_grok = false;
        c.step = Step::Autograd;
        assert_ne!(c.run_id(), before);
        c.step = Step::Fused;
        c.freeze_biases = true;
        assert_ne!(c.run_id(), before);
        c.freeze_biases = false;
        c.init = Init::TransformerLens;
        assert_ne!(c.run_id(), before);
        c.init = Init::FanIn;
        assert_eq!(c.run_id(), before);
    }

    #[test]
    fn stop_after_grok_needs_a_window_on_the_evaluation_grid() {
        let mut c = RunConfig {
            stop_after_grok: true,
            eval_every: 30,
            ..RunConfig::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("multiple of eval_every"), "{e}");
        c.eval_every = 50;
        c.validate().unwrap();
    }

    #[test]
    fn toml_files_are_read_with_unknown_keys_rejected() {
        let dir = std::env::temp_dir().join(format!("grokscope-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.toml");
        std::fs::write(&good, "op = \"s3\"\nepochs = 20\n").unwrap();
        let c = RunConfig::from_toml_file(&good).unwrap();
        assert_eq!((c.op.as_str(), c.epochs, c.lr), ("s3", 20, 1e-3));
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "op = \"s3\"\nepoch = 20\n").unwrap();
        let e = RunConfig::from_toml_file(&bad).unwrap_err().to_string();
        assert!(
            e.contains("unknown field `epoch`") && !e.contains('\n'),
            "{e}"
        );
        let e = RunConfig::from_toml_file(&dir.join("missing.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("cannot read config"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
