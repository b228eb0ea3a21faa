//! The bridge to TransformerLens: a stored run exported as a
//! `HookedTransformer` checkpoint, and a `HookedTransformer` checkpoint read
//! back as a grokscope model.
//!
//! grokscope's model *is* TransformerLens' 1-layer `HookedTransformer` with
//! some parts absent: no attention biases (`b_Q`, `b_K`, `b_V`, `b_O`), no
//! unembedding bias (`b_U`), and optionally no LayerNorm
//! (`normalization_type = None`). Export writes those biases as zeros, so
//! `HookedTransformer(cfg).load_state_dict(...)` computes the same logits.
//! Import accepts exactly the models grokscope can compute: every absent
//! bias zero, except `b_K`, which is dropped (it adds `q · b_K` to every
//! score of a query alike, which the softmax removes).
//!
//! An export directory holds:
//! - `config.json`: keyword arguments of `HookedTransformerConfig`;
//! - `model.safetensors`: the state dict (TransformerLens names and shapes);
//! - `grokscope.json`: where it came from (run, epoch, operation, the table,
//!   which token is `=`, the softmax the run trained with);
//! - `reference_logits.safetensors`: grokscope's logits on every pair
//!   (`tokens` [n², 3] and `logits` [n², 3, n]), to check a load against;
//! - `load.py` and `README.md`: how to load it.
//!
//! TransformerLens 4 removed `HookedTransformer`; the export targets
//! TransformerLens 2 and 3 (tested with 3.9).

use crate::config::{RunConfig, Softmax};
use crate::groups::Operation;
use crate::model::{ModelError, Transformer, TransformerConfig};
use crate::train::run::{read_config, read_manifest, Status};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

/// Why an export or import cannot be done; every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum InteropError {
    /// The source cannot be represented on the other side, or is not what
    /// it should be.
    #[error("{0}")]
    Refused(String),
    /// Reading or writing a file failed.
    #[error("{path}: {reason}")]
    Io {
        /// The file or directory.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// Building or running the model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl From<tch::TchError> for InteropError {
    fn from(e: tch::TchError) -> Self {
        Self::Model(ModelError::Torch(e))
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> InteropError + '_ {
    move |e| InteropError::Io {
        path: path.display().to_string(),
        reason: crate::store::io_reason(&e),
    }
}

fn refused<T>(message: String) -> Result<T, InteropError> {
    Err(InteropError::Refused(message))
}

/// Options of [`export`].
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// The checkpoint to export (an epoch with a stored checkpoint); `None`:
    /// the final weights.
    pub epoch: Option<u32>,
    /// Export a StableMax run. Its logits export exactly, but
    /// TransformerLens' loss and probabilities use the softmax the run did
    /// not train with.
    pub allow_stablemax: bool,
}

/// What [`export`] wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The export directory.
    pub dir: PathBuf,
    /// The run's id.
    pub run_id: String,
    /// The epoch of the exported weights.
    pub epoch: u32,
    /// Largest |logit| on the table (the scale a comparison is read at).
    pub max_abs_logit: f64,
}

/// The `HookedTransformerConfig` keyword arguments of a grokscope model.
pub fn hooked_config(cfg: &TransformerConfig, model_name: &str) -> Value {
    json!({
        "n_layers": 1,
        "d_model": cfg.d_model,
        "d_head": cfg.d_head(),
        "n_heads": cfg.n_heads,
        "d_mlp": cfg.d_mlp,
        "d_vocab": cfg.d_vocab,
        "d_vocab_out": cfg.d_vocab_out,
        "n_ctx": cfg.n_ctx,
        "act_fn": "relu",
        "normalization_type": if cfg.layer_norm { Value::from("LN") } else { Value::Null },
        "eps": 1e-5,
        "positional_embedding_type": "standard",
        "attention_dir": "causal",
        "attn_only": false,
        "use_attn_scale": true,
        "default_prepend_bos": false,
        "model_name": model_name,
    })
}

/// The biases TransformerLens has and grokscope does not, with their shapes.
fn absent_biases(cfg: &TransformerConfig) -> [(&'static str, Vec<i64>); 5] {
    let (h, dh) = (cfg.n_heads as i64, cfg.d_head() as i64);
    let (d, vo) = (cfg.d_model as i64, cfg.d_vocab_out as i64);
    [
        ("blocks.0.attn.b_Q", vec![h, dh]),
        ("blocks.0.attn.b_K", vec![h, dh]),
        ("blocks.0.attn.b_V", vec![h, dh]),
        ("blocks.0.attn.b_O", vec![d]),
        ("unembed.b_U", vec![vo]),
    ]
}

/// Every pair as tokens `[a, b, =]`, pair p = a·n + b: [n², 3].
pub fn table_tokens(n: usize) -> Result<Tensor, tch::TchError> {
    let tokens: Vec<i64> = (0..n * n)
        .flat_map(|p| [(p / n) as i64, (p % n) as i64, n as i64])
        .collect();
    Tensor::f_from_slice(&tokens)?.f_view([-1, 3])
}

/// A run's weights file for `epoch` (`None`: the final weights).
pub(crate) fn weights_file(run: &Path, epoch: Option<u32>) -> Result<(PathBuf, u32), InteropError> {
    let manifest = read_manifest(run).map_err(|e| {
        InteropError::Refused(format!(
            "{}: not a grokscope run directory ({e})",
            run.display()
        ))
    })?;
    let last = manifest.summary.as_ref().map(|s| s.last_epoch).unwrap_or(0);
    match epoch {
        None if manifest.status != Status::Complete => refused(format!(
            "{}: the run is not complete, so it has no final weights; finish it, or export a checkpoint with --epoch",
            run.display()
        )),
        None => Ok((run.join("final.safetensors"), last)),
        Some(e) => {
            let path = run.join(format!("checkpoints/epoch_{e:06}.safetensors"));
            if path.exists() {
                Ok((path, e))
            } else {
                let stored = stored_checkpoints(run);
                refused(format!(
                    "{}: no checkpoint at epoch {e}; stored: {}",
                    run.display(),
                    if stored.is_empty() { "none".to_string() } else { stored }
                ))
            }
        }
    }
}

fn stored_checkpoints(run: &Path) -> String {
    let mut epochs: Vec<u32> = std::fs::read_dir(run.join("checkpoints"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.strip_prefix("epoch_")?
                .strip_suffix(".safetensors")?
                .parse()
                .ok()
        })
        .collect();
    epochs.sort_unstable();
    epochs
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Exports the run in `run` as a TransformerLens `HookedTransformer`
/// checkpoint in `out` (created; it must not exist yet). The directory is
/// filled under a temporary name and renamed into place, so a failed export
/// leaves nothing.
///
/// # Errors
/// [`InteropError::Refused`] for a directory that is not a run, an
/// incomplete run without `epoch`, a missing checkpoint, a StableMax run
/// without `allow_stablemax`, or an existing `out`; I/O and model errors.
pub fn export(run: &Path, out: &Path, options: &ExportOptions) -> Result<Exported, InteropError> {
    if out.exists() {
        return refused(format!(
            "{} already exists; give a new directory with --out (an export never overwrites)",
            out.display()
        ));
    }
    let (file, epoch) = weights_file(run, options.epoch)?;
    let cfg: RunConfig =
        read_config(run).map_err(|e| InteropError::Refused(format!("{}: {e}", run.display())))?;
    if cfg.softmax == Softmax::Stablemax && !options.allow_stablemax {
        return refused(format!(
            "{}: trained with StableMax; its logits export exactly, but TransformerLens' loss and probabilities would use softmax; pass --allow-stablemax to export it anyway",
            run.display()
        ));
    }
    let op = Operation::parse(&cfg.op)
        .map_err(|e| InteropError::Refused(format!("{}: {e}", run.display())))?;
    let n = op.order();
    let tcfg = TransformerConfig::of(&cfg, n);
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let model = Transformer::load(&tcfg, &vs.root(), &[file.as_path()])?;
    let run_id = run
        .file_name()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();

    let mut state: Vec<(String, Tensor)> = model.model_weights(0)?;
    for (name, shape) in absent_biases(&tcfg) {
        state.push((
            name.to_string(),
            Tensor::f_zeros(shape.as_slice(), (Kind::Float, tch::Device::Cpu))?,
        ));
    }
    let tokens = table_tokens(n)?;
    let logits = tch::no_grad(|| model.forward(&tokens))?.f_get(0)?; // [n², 3, n]
    let max_abs_logit = logits.f_abs()?.f_max()?.double_value(&[]);

    let provenance = json!({
        "exported_by": format!("grokscope {}", env!("CARGO_PKG_VERSION")),
        "run_id": run_id,
        "epoch": epoch,
        "op": cfg.op,
        "canonical": op.canonical,
        "description": op.description,
        "order": n,
        "equals_token": n,
        "token_labels": op.labels,
        "table": op.table,
        "softmax": cfg.softmax,
        "loss_precision": cfg.loss_precision,
        "freeze_biases": cfg.freeze_biases,
        "seed": cfg.seed,
        "train_fraction": cfg.train_fraction,
    });

    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let tmp = parent.join(format!(
        ".{}.partial-{}",
        out.file_name()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let written = (|| -> Result<(), InteropError> {
        std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        let write = |name: &str, text: String| {
            let path = tmp.join(name);
            std::fs::write(&path, text).map_err(io(&path))
        };
        let pretty =
            |v: &Value| serde_json::to_string_pretty(v).expect("JSON values serialise") + "\n";
        write(
            "config.json",
            pretty(&hooked_config(&tcfg, &format!("grokscope-{run_id}"))),
        )?;
        write("grokscope.json", pretty(&provenance))?;
        write("load.py", LOAD_PY.to_string())?;
        write(
            "README.md",
            export_readme(&run_id, epoch, &cfg.op, n, cfg.softmax),
        )?;
        let model_path = tmp.join("model.safetensors");
        Tensor::write_safetensors(&state, &model_path)?;
        let reference = [
            ("tokens".to_string(), tokens.shallow_clone()),
            ("logits".to_string(), logits.shallow_clone()),
        ];
        Tensor::write_safetensors(&reference, tmp.join("reference_logits.safetensors"))?;
        std::fs::rename(&tmp, out).map_err(io(out))
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    Ok(Exported {
        dir: out.to_path_buf(),
        run_id,
        epoch,
        max_abs_logit,
    })
}

const LOAD_PY: &str = r#""""Load a grokscope export as a TransformerLens HookedTransformer (TransformerLens 2 or 3).

    from load import load, check
    model, info = load("path/to/export")
    check(model, "path/to/export")   # grokscope's logits on every pair, to 1e-5 of their scale
"""
import json
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformer_lens import HookedTransformer, HookedTransformerConfig


def load(directory, device="cpu"):
    """The model and grokscope.json (operation, table, token labels, `=` token)."""
    d = Path(directory)
    cfg = HookedTransformerConfig(**json.loads((d / "config.json").read_text()), device=device)
    model = HookedTransformer(cfg)
    missing, unexpected = model.load_state_dict(load_file(d / "model.safetensors"), strict=False)
    # Only the attention's buffers (mask, IGNORE) are not stored.
    assert not unexpected, f"unexpected tensors: {unexpected}"
    assert all(k.endswith((".mask", ".IGNORE")) for k in missing), f"missing tensors: {missing}"
    model.eval()
    return model, json.loads((d / "grokscope.json").read_text())


def check(model, directory, tol=1e-5):
    """Largest |logit difference| from grokscope's own forward pass, relative to
    the largest |logit| (absolute below 1): float32 sums in another order
    differ by ~1e-7 of the scale. Raises above tol."""
    ref = load_file(Path(directory) / "reference_logits.safetensors")
    with torch.no_grad():
        logits = model(ref["tokens"].to(model.cfg.device))
    diff = (logits.cpu() - ref["logits"]).abs().max().item()
    relative = diff / max(1.0, ref["logits"].abs().max().item())
    if relative > tol:
        raise AssertionError(f"logits differ from grokscope's by {diff:.3g} ({relative:.3g} of the scale; tolerance {tol})")
    return relative
"#;

fn export_readme(run_id: &str, epoch: u32, op: &str, n: usize, softmax: Softmax) -> String {
    let stablemax = if softmax == Softmax::Stablemax {
        "\n**This run trained with StableMax.** Its logits are exact, but its \
probabilities are StableMax of the logits, not `softmax`: TransformerLens' \
`return_type=\"loss\"` is not the loss it trained on.\n"
    } else {
        ""
    };
    format!(
        r#"# grokscope run {run_id}, epoch {epoch}, as a TransformerLens model

The operation is `{op}` (order {n}). A model reads `[a, b, =]`: tokens
0..{last} are the elements (labels and the full table in `grokscope.json`,
`table[a * {n} + b]` = a ∘ b) and token {n} is `=`; the answer is read from
the logits at the last position.
{stablemax}
```python
from load import load, check          # load.py, next to this file
model, info = load(".")               # a HookedTransformer (TransformerLens 2 or 3)
check(model, ".")                     # grokscope's logits on every pair, to 1e-5 of their scale
tokens = torch.tensor([[3, 5, {n}]])
logits, cache = model.run_with_cache(tokens)
cache["blocks.0.attn.hook_pattern"]   # [batch, head, query, key]
```

`config.json` holds `HookedTransformerConfig`'s arguments and
`model.safetensors` the state dict. The attention and unembedding biases are
zeros: grokscope's model has none. `load_state_dict` keeps the logits
exactly; `load_and_process_state_dict` with its default folding shifts each
position's logits by a constant (centring), which changes no prediction.
TransformerLens 4 removed `HookedTransformer`; use a 3.x release.
"#,
        last = n - 1
    )
}

/// A TransformerLens model read for grokscope: its config and weights (one
/// model, no model dimension), with what import changed.
#[derive(Debug)]
pub struct Imported {
    /// The architecture.
    pub cfg: TransformerConfig,
    /// The weights under their TransformerLens names.
    pub weights: BTreeMap<String, Tensor>,
    /// What was dropped, e.g. a nonzero `b_K` (exactly, as the softmax
    /// removes it).
    pub notes: Vec<String>,
}

impl Imported {
    /// The model, as variables of `vs` (S = 1).
    ///
    /// # Errors
    /// Weights that do not fit the config.
    pub fn model(&self, vs: &tch::nn::Path) -> Result<Transformer, InteropError> {
        let mut weights = BTreeMap::new();
        for (name, t) in &self.weights {
            weights.insert(name.clone(), t.f_unsqueeze(0)?);
        }
        Ok(Transformer::from_tensors(self.cfg.clone(), vs, weights)?)
    }
}

fn config_value<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

/// Reads a TransformerLens checkpoint (`config.json` with
/// `HookedTransformerConfig`'s fields and `model.safetensors`) for the
/// operation `op`: a 1-layer, causal, standard-positional ReLU transformer
/// over `[a, b, =]` with `d_vocab` = |G| + 1 and `d_vocab_out` = |G|.
///
/// # Errors
/// [`InteropError::Refused`], one line naming the first thing grokscope's
/// model cannot compute (more layers, another activation or normalisation,
/// a nonzero `b_Q`, `b_V`, `b_O` or `b_U`, vocabularies that do not fit
/// `op`); I/O errors.
pub fn import(dir: &Path, op: &Operation) -> Result<Imported, InteropError> {
    let config_path = dir.join("config.json");
    let text = std::fs::read_to_string(&config_path).map_err(io(&config_path))?;
    let map: Map<String, Value> = serde_json::from_str(&text).map_err(|e| InteropError::Io {
        path: config_path.display().to_string(),
        reason: format!("not a JSON object of HookedTransformerConfig fields ({e})"),
    })?;
    let at = config_path.display().to_string();
    let int = |key: &str| -> Result<usize, InteropError> {
        config_value(&map, key)
            .and_then(Value::as_u64)
            .map(|v| v as usize)
            .ok_or_else(|| InteropError::Refused(format!("{at}: needs a positive integer {key}")))
    };
    let text_of = |key: &str, default: &str| -> String {
        config_value(&map, key)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_string()
    };
    let flag = |key: &str, default: bool| {
        config_value(&map, key)
            .and_then(Value::as_bool)
            .unwrap_or(default)
    };
    let n = op.order();
    let want = |ok: bool, what: String| {
        if ok {
            Ok(())
        } else {
            refused(format!("{at}: {what}; grokscope's model cannot compute it"))
        }
    };
    want(
        int("n_layers")? == 1,
        format!("n_layers is {}, not 1", int("n_layers")?),
    )?;
    want(
        int("n_ctx")? == 3,
        format!("n_ctx is {}, not 3 ([a, b, =])", int("n_ctx")?),
    )?;
    let act = text_of("act_fn", "");
    want(act == "relu", format!("act_fn is \"{act}\", not \"relu\""))?;
    let norm = config_value(&map, "normalization_type")
        .and_then(Value::as_str)
        .map(str::to_string);
    want(
        matches!(norm.as_deref(), None | Some("LN")),
        format!("normalization_type is {norm:?}, not None or \"LN\" (LNPre, RMS and folded norms are not supported)"),
    )?;
    let pos = text_of("positional_embedding_type", "standard");
    want(
        pos == "standard",
        format!("positional_embedding_type is \"{pos}\", not \"standard\""),
    )?;
    let dir_ = text_of("attention_dir", "causal");
    want(
        dir_ == "causal",
        format!("attention_dir is \"{dir_}\", not \"causal\""),
    )?;
    want(
        !flag("attn_only", false),
        "attn_only is true (no MLP)".into(),
    )?;
    want(!flag("gated_mlp", false), "gated_mlp is true".into())?;
    want(
        !flag("parallel_attn_mlp", false),
        "parallel_attn_mlp is true".into(),
    )?;
    want(
        flag("use_attn_scale", true),
        "use_attn_scale is false".into(),
    )?;
    let (d_model, n_heads) = (int("d_model")?, int("n_heads")?);
    let d_head = int("d_head")?;
    want(
        d_head * n_heads == d_model,
        format!("d_head {d_head} × n_heads {n_heads} is not d_model {d_model}"),
    )?;
    if let Some(scale) = config_value(&map, "attn_scale").and_then(Value::as_f64) {
        want(
            (scale - (d_head as f64).sqrt()).abs() < 1e-9,
            format!("attn_scale is {scale}, not sqrt(d_head)"),
        )?;
    }
    if norm.is_some() {
        let eps = config_value(&map, "eps")
            .and_then(Value::as_f64)
            .unwrap_or(1e-5);
        want(eps == 1e-5, format!("LayerNorm eps is {eps}, not 1e-5"))?;
    }
    let d_vocab = int("d_vocab")?;
    let d_vocab_out = config_value(&map, "d_vocab_out")
        .and_then(Value::as_i64)
        .unwrap_or(-1);
    if d_vocab != n + 1 || d_vocab_out != n as i64 {
        return refused(format!(
            "{at}: d_vocab {d_vocab} and d_vocab_out {d_vocab_out} do not fit {} (order {n}): they must be {} and {n} (the elements and `=`)",
            op.name,
            n + 1
        ));
    }
    let cfg = TransformerConfig {
        d_vocab,
        d_vocab_out: n,
        n_ctx: 3,
        d_model,
        n_heads,
        d_mlp: int("d_mlp")?,
        layer_norm: norm.is_some(),
        init: crate::config::Init::FanIn,
    };
    cfg.validate()?;

    let model_path = dir.join("model.safetensors");
    if !model_path.exists() {
        return refused(format!(
            "{}: not found; save the state dict with safetensors.torch.save_file(model.state_dict(), ...)",
            model_path.display()
        ));
    }
    let tensors = Tensor::read_safetensors(&model_path).map_err(|e| InteropError::Io {
        path: model_path.display().to_string(),
        reason: format!(
            "not a readable safetensors file ({})",
            crate::store::error_line(&e.to_string())
        ),
    })?;
    let mut tensors: BTreeMap<String, Tensor> = tensors.into_iter().collect();
    let mut notes = Vec::new();
    for (name, shape) in absent_biases(&cfg) {
        let Some(t) = tensors.remove(name) else {
            continue;
        };
        if t.size() != shape {
            return refused(format!(
                "{}: {name} has shape {:?}, expected {shape:?}",
                model_path.display(),
                t.size()
            ));
        }
        let max = t.f_abs()?.f_max()?.double_value(&[]);
        if max == 0.0 {
            continue;
        }
        if name == "blocks.0.attn.b_K" {
            notes.push(format!("{name} (max |b_K| = {max:.3e}) dropped: it shifts every score of a query alike, which the softmax removes"));
        } else {
            return refused(format!(
                "{}: {name} is nonzero (max {max:.3e}); grokscope's model has no such bias, so it cannot compute this model",
                model_path.display()
            ));
        }
    }
    tensors.retain(|name, _| !name.ends_with(".mask") && !name.ends_with(".IGNORE"));
    let mut weights = BTreeMap::new();
    for (name, shape, _) in cfg.parameter_specs() {
        let t = tensors.remove(name).ok_or_else(|| {
            InteropError::Refused(format!("{}: has no tensor {name}", model_path.display()))
        })?;
        if t.size() != shape {
            return refused(format!(
                "{}: {name} has shape {:?}, expected {shape:?}",
                model_path.display(),
                t.size()
            ));
        }
        weights.insert(name.to_string(), t.f_to_kind(Kind::Float)?);
    }
    if let Some(extra) = tensors.keys().next() {
        return refused(format!(
            "{}: has a tensor {extra} that a 1-layer HookedTransformer of this config does not",
            model_path.display()
        ));
    }
    Ok(Imported {
        cfg,
        weights,
        notes,
    })
}
