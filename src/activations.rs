//! Activations at hand, as TransformerLens' `run_with_cache` gives them: a
//! stored run's residual stream, attention scores and patterns, and MLP
//! activations on any batch of pairs, as named tensors a notebook cell can
//! list, slice and plot.
//!
//! ```ignore
//! let run = StoredRun::open("../scratch/notebooks/runs/<run-id>")?;
//! let cache = run.cache(&[(1, 2), (3, 4)])?;   // element indices a, b
//! cache                                        // names and shapes
//! cache.get("resid_post")?                     // [2, 3, d_model]
//! cache.pattern(0)?                            // attention of pair 0
//! ```
//!
//! Names are TransformerLens': `blocks.0.hook_resid_post`,
//! `blocks.0.attn.hook_pattern`, ...; the part after `hook_` is enough
//! (`resid_post`, `pattern`, `post`), as is any tail after a dot
//! (`mlp.hook_post`). Tensors are float32 on the CPU with
//! the batch first: positions are a, b and `=`.

use crate::config::RunConfig;
use crate::groups::Operation;
use crate::interop::{weights_file, InteropError};
use crate::model::{Transformer, TransformerConfig};
use crate::notebook::{escape_html, Figure, Table};
use crate::train::run::read_config;
use plotters::prelude::*;
use polars::prelude::{Column, DataFrame};
use std::collections::BTreeMap;

/// The figures' font family (registered by `report::register_fonts`).
const FONT: &str = "sans-serif";
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

/// A trained model read back from its run directory.
pub struct StoredRun {
    /// The run directory.
    pub dir: PathBuf,
    /// Its configuration.
    pub config: RunConfig,
    /// Its operation (group and tokens).
    pub op: Operation,
    /// The epoch of the weights loaded.
    pub epoch: u32,
    model: Transformer,
    _vs: tch::nn::VarStore,
}

impl std::fmt::Debug for StoredRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "StoredRun({}, {} at epoch {})",
            self.dir.display(),
            self.config.op,
            self.epoch
        )
    }
}

fn refused(m: String) -> InteropError {
    InteropError::Refused(m)
}

impl StoredRun {
    /// The run's final weights.
    ///
    /// # Errors
    /// Not a run directory, an incomplete run, or unreadable weights.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, InteropError> {
        Self::load(dir.as_ref(), None)
    }

    /// The run's checkpoint at `epoch` (a refusal lists the stored epochs).
    ///
    /// # Errors
    /// As [`Self::open`], or no checkpoint at that epoch.
    pub fn at_epoch(dir: impl AsRef<Path>, epoch: u32) -> Result<Self, InteropError> {
        Self::load(dir.as_ref(), Some(epoch))
    }

    fn load(dir: &Path, epoch: Option<u32>) -> Result<Self, InteropError> {
        let (file, epoch) = weights_file(dir, epoch)?;
        let config = read_config(dir).map_err(|e| refused(format!("{}: {e}", dir.display())))?;
        let op =
            Operation::parse(&config.op).map_err(|e| refused(format!("{}: {e}", dir.display())))?;
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let model = Transformer::load(
            &TransformerConfig::of(&config, op.order()),
            &vs.root(),
            &[file.as_path()],
        )?;
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            op,
            epoch,
            model,
            _vs: vs,
        })
    }

    /// Every activation on the pairs `(a, b)` of element indices. A pair's
    /// values agree with those of any other batch holding it to rounding,
    /// not bit for bit (libtorch's matrix kernels depend on the batch's size
    /// and the CPU).
    ///
    /// # Errors
    /// An index that is not an element (the message gives the order).
    pub fn cache(&self, pairs: &[(usize, usize)]) -> Result<Cache, InteropError> {
        let n = self.op.order();
        if let Some(&(a, b)) = pairs.iter().find(|&&(a, b)| a >= n || b >= n) {
            return Err(refused(format!(
                "({a}, {b}) is not a pair of elements: {} has elements 0 to {}",
                self.config.op,
                n - 1
            )));
        }
        if pairs.is_empty() {
            return Err(refused("give at least one pair (a, b)".into()));
        }
        let tokens: Vec<i64> = pairs
            .iter()
            .flat_map(|&(a, b)| [a as i64, b as i64, n as i64])
            .collect();
        let tokens = Tensor::f_from_slice(&tokens)?.f_view([-1, 3])?;
        let (_, cache) = tch::no_grad(|| self.model.run_with_cache(&tokens))?;
        let mut map = BTreeMap::new();
        for name in cache.names() {
            // One model: drop the leading model dimension.
            map.insert(name.clone(), cache.get(&name)?.f_get(0)?);
        }
        let labels = pairs
            .iter()
            .map(|&(a, b)| format!("{} ∘ {}", self.op.labels[a], self.op.labels[b]))
            .collect();
        Ok(Cache {
            pairs: pairs.to_vec(),
            labels,
            map,
        })
    }

    /// Every activation on every pair, in row-major order (a * n + b).
    ///
    /// # Errors
    /// As [`Self::cache`].
    pub fn cache_all(&self) -> Result<Cache, InteropError> {
        let n = self.op.order();
        let pairs: Vec<(usize, usize)> = (0..n * n).map(|p| (p / n, p % n)).collect();
        self.cache(&pairs)
    }
}

/// The activations of one forward pass (see the module docs for names).
pub struct Cache {
    /// The pairs, as element indices.
    pub pairs: Vec<(usize, usize)>,
    /// The pairs as `a ∘ b` with the group's labels.
    pub labels: Vec<String>,
    map: BTreeMap<String, Tensor>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Cache({} pairs: {})",
            self.pairs.len(),
            self.names().join(", ")
        )
    }
}

impl Cache {
    /// The recorded names (TransformerLens').
    pub fn names(&self) -> Vec<String> {
        self.map.keys().cloned().collect()
    }

    /// The full name of `name`, which may be given as the part after
    /// `hook_` (`resid_post`, `pattern`, `post`) or a tail after a dot
    /// (`mlp.hook_post`).
    fn resolve(&self, name: &str) -> Result<&str, InteropError> {
        if let Some((k, _)) = self.map.get_key_value(name) {
            return Ok(k);
        }
        let short: Vec<&String> = self
            .map
            .keys()
            .filter(|k| k.ends_with(&format!("hook_{name}")) || k.ends_with(&format!(".{name}")))
            .collect();
        match short.as_slice() {
            [one] => Ok(one.as_str()),
            _ => Err(refused(format!(
                "no activation {name}{}; recorded: {}",
                crate::suggest::closest(
                    name,
                    self.map
                        .keys()
                        .map(|k| k.rsplit("hook_").next().unwrap_or(k))
                )
                .map_or(String::new(), |s| format!(" (did you mean {s}?)")),
                self.names().join(", ")
            ))),
        }
    }

    /// The activation `name` (batch first), a shallow copy.
    ///
    /// # Errors
    /// An unknown name; the message lists the recorded ones.
    pub fn get(&self, name: &str) -> Result<Tensor, InteropError> {
        Ok(self.map[self.resolve(name)?].shallow_clone())
    }

    /// One row per activation: its name and shape.
    pub fn table(&self) -> Table {
        let names = self.names();
        let shapes: Vec<String> = names
            .iter()
            .map(|k| format!("{:?}", self.map[k].size()))
            .collect();
        let df = DataFrame::new(
            names.len(),
            vec![
                Column::new("activation".into(), names),
                Column::new("shape".into(), shapes),
            ],
        )
        .unwrap_or_default();
        Table::new(&df).max_rows(100)
    }

    /// Called by the evcxr kernel when a cell ends with a cache: its pairs
    /// and the table of names and shapes.
    pub fn evcxr_display(&self) {
        let shown: Vec<&str> = self.labels.iter().take(8).map(String::as_str).collect();
        let more = self.labels.len().saturating_sub(shown.len());
        let head = format!(
            "{} pairs: {}{}",
            self.labels.len(),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        println!("EVCXR_BEGIN_CONTENT text/plain\n{head}\n{self:?}\nEVCXR_END_CONTENT");
        println!(
            "EVCXR_BEGIN_CONTENT text/html\n<p>{}</p>{}\nEVCXR_END_CONTENT",
            escape_html(&head),
            self.table().html()
        );
    }

    /// The attention pattern of pair `i`, one panel per head: query
    /// position against key position (a, b, =), each cell's weight written
    /// in it.
    ///
    /// # Errors
    /// `i` out of range, or a drawing error.
    pub fn pattern(&self, i: usize) -> Result<Figure, InteropError> {
        if i >= self.pairs.len() {
            return Err(refused(format!(
                "pair {i} is out of range: the cache holds {} pairs",
                self.pairs.len()
            )));
        }
        let p = self
            .get("pattern")?
            .f_get(i as i64)?
            .f_to_kind(Kind::Double)?; // [H, P, P]
        let heads = p.size()[0] as usize;
        let values: Vec<Vec<Vec<f64>>> = (0..heads)
            .map(|h| -> Result<Vec<Vec<f64>>, tch::TchError> {
                (0..3)
                    .map(|q| {
                        (0..3)
                            .map(|k| Ok(p.f_get(h as i64)?.f_get(q)?.f_get(k)?.double_value(&[])))
                            .collect()
                    })
                    .collect()
            })
            .collect::<Result<_, _>>()?;
        let title = format!("attention of {} (row: query, column: key)", self.labels[i]);
        Figure::draw((230 * heads.max(2) as u32, 280), |area| {
            crate::report::register_fonts();
            let e = |err: DrawingAreaErrorKind<_>| crate::report::ReportError::Draw {
                figure: "pattern".into(),
                reason: err.to_string(),
            };
            area.fill(&WHITE).map_err(e)?;
            let (top, body) = area.split_vertically(34);
            top.draw(&Text::new(title.clone(), (8, 8), (FONT, 17)))
                .map_err(e)?;
            let positions = ["a", "b", "="];
            for (h, panel) in body.split_evenly((1, heads)).iter().enumerate() {
                panel
                    .draw(&Text::new(format!("head {h}"), (70, 0), (FONT, 15)))
                    .map_err(e)?;
                for (q, row) in values[h].iter().enumerate() {
                    let qy = 60 * q as i32;
                    panel
                        .draw(&Text::new(positions[q], (14, 42 + qy), (FONT, 15)))
                        .map_err(e)?;
                    for (k, &v) in row.iter().enumerate() {
                        let (x, y) = (34 + 60 * k as i32, 22 + qy);
                        let shade = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
                        panel
                            .draw(&Rectangle::new(
                                [(x, y), (x + 58, y + 58)],
                                RGBColor(shade, shade, 255).filled(),
                            ))
                            .map_err(e)?;
                        // Keys after the query are masked: no weight.
                        let text = if k > q {
                            "-".to_string()
                        } else {
                            format!("{v:.2}")
                        };
                        let ink = if v > 0.6 { WHITE } else { BLACK };
                        panel
                            .draw(&Text::new(
                                text,
                                (x + 12, y + 20),
                                (FONT, 15).into_font().color(&ink),
                            ))
                            .map_err(e)?;
                    }
                }
                for (k, name) in positions.iter().enumerate() {
                    panel
                        .draw(&Text::new(*name, (58 + 60 * k as i32, 204), (FONT, 15)))
                        .map_err(e)?;
                }
            }
            area.present().map_err(e)?;
            Ok(())
        })
        .map_err(|e| refused(e.to_string()))
    }
}
