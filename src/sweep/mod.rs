//! Sweeps as files: `experiments/<name>.toml` expands operations × grid ×
//! seeds into runs ([`SweepSpec`]), and [`plan`] groups them into batched
//! jobs and shards, from the file alone. Nothing here needs libtorch, so a
//! sweep's plan (which runs it owes) reads the same in every build;
//! `train::sweep` runs the plan.
//!
//! ```toml
//! ops = ["add", "s4"]
//! seeds = [0, 1, 2]
//! [set]            # applied to every run
//! epochs = 3000
//! [grid]           # every combination of these values
//! weight_decay = [0.1, 1.0]
//! ```

pub mod plan;

pub use plan::{assign_shards, batch_label, batch_size, plan, plan_with, Batch, Shard};

use crate::config::{ConfigError, RunConfig};
use serde::Deserialize;
use std::path::Path;

/// The TOML description of a sweep.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Operations to train.
    pub ops: Vec<String>,
    /// Seeds per configuration.
    pub seeds: Vec<u64>,
    /// Settings applied to every run.
    #[serde(default)]
    pub set: toml::Table,
    /// Keys with lists of values; every combination is run.
    #[serde(default)]
    pub grid: toml::Table,
    /// Arms of the experiment (`[[variants]]` tables of settings): every
    /// grid point is run under each, for comparisons that are not a grid
    /// (a baseline, one intervention, a baseline at a matched learning
    /// rate). A variant may hold `ops = [...]` or `seeds = [...]`: it then
    /// applies to those operations or seeds only (a learning rate matched
    /// per operation, a budget per run). None: one arm, the `set` settings
    /// alone.
    #[serde(default)]
    pub variants: Vec<toml::Table>,
    /// Keep every k-th epoch's metrics in the aggregated curves (and each
    /// run's last), so a large sweep's committed curves stay small; the
    /// run directories keep every evaluation. None: every evaluation.
    #[serde(default)]
    pub curves_every: Option<usize>,
    /// Keep the aggregated curves' model-state metrics (weight and update
    /// norms, logit scale, softmax collapse share) to single precision,
    /// about 7 significant digits, which nearly halves a large sweep's
    /// committed curves; loss and accuracy, from which grok epochs are
    /// read, stay exact, and the run directories keep every value.
    /// Default: false (every value exact).
    #[serde(default)]
    pub curves_single: bool,
}

/// `smallgroup:n,*` in a sweep's `ops`: every group of order n in GAP's
/// library, as `smallgroup:n,1` ... `smallgroup:n,N`.
fn expand_ops(ops: &[String], origin: &str) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::new();
    for op in ops {
        let every = op
            .strip_prefix("smallgroup:")
            .and_then(|r| r.strip_suffix(",*"));
        match every {
            None => out.push(op.clone()),
            Some(n) => {
                let n: usize = n
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (2..=crate::groups::small::MAX_ORDER).contains(n))
                    .ok_or_else(|| {
                        ConfigError::Invalid(format!(
                            "{origin}: {op}: n must be an order from 2 to {}",
                            crate::groups::small::MAX_ORDER
                        ))
                    })?;
                let count = crate::groups::small::count(n);
                out.extend((1..=count).map(|i| format!("smallgroup:{n},{i}")));
            }
        }
    }
    Ok(out)
}

impl SweepSpec {
    /// Reads and checks a sweep file.
    ///
    /// # Errors
    /// Unreadable or invalid TOML, unknown keys, or an empty list.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Reads a sweep from TOML text; `origin` names it in errors.
    ///
    /// # Errors
    /// Invalid TOML, unknown keys, or an empty list.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let mut spec: SweepSpec = toml::from_str(text).map_err(|e| ConfigError::Parse {
            origin: origin.to_string(),
            reason: crate::config::one_line(e.message()),
        })?;
        spec.ops = expand_ops(&spec.ops, origin)?;
        if spec.curves_every == Some(0) {
            return Err(ConfigError::Invalid(format!(
                "{origin}: curves_every must be at least 1 (or left out: every evaluation)"
            )));
        }
        if spec.ops.is_empty() || spec.seeds.is_empty() {
            return Err(ConfigError::Invalid(format!(
                "{origin}: `ops` and `seeds` must be non-empty"
            )));
        }
        Ok(spec)
    }

    /// Every configuration, grouped: one group per (operation, variant,
    /// grid point), each holding one config per seed. Order: ops, then
    /// variants as listed, then grid (keys sorted, values as listed), then
    /// seeds. A variant's settings override `set`; the grid's override both.
    ///
    /// # Errors
    /// A setting that is not a config key or a value of the wrong type; an
    /// invalid configuration.
    pub fn expand(&self) -> Result<Vec<Vec<RunConfig>>, ConfigError> {
        let invalid = ConfigError::Invalid;
        for (table, name) in [(&self.set, "[set]"), (&self.grid, "[grid]")] {
            for key in ["op", "seed"] {
                if table.contains_key(key) {
                    return Err(invalid(format!(
                        "{name} {key}: a sweep's {key}s come from its `{key}s` list; remove it there"
                    )));
                }
            }
        }
        let mut points = 1usize;
        for (key, values) in &self.grid {
            let n = values.as_array().map_or(1, Vec::len);
            if n == 0 {
                return Err(invalid(format!(
                    "grid.{key} is empty: give it at least one value, e.g. {key} = [0.1, 1.0]"
                )));
            }
            points = points.saturating_mul(n);
        }
        let runs = points
            .saturating_mul(self.ops.len())
            .saturating_mul(self.variants.len().max(1))
            .saturating_mul(self.seeds.len());
        if runs > crate::limits::MAX_SWEEP_RUNS {
            return Err(invalid(format!(
                "the sweep expands to {runs} runs: at most {}; split it into several sweep files",
                crate::limits::MAX_SWEEP_RUNS
            )));
        }
        let mut grid: Vec<Vec<(String, toml::Value)>> = vec![vec![]];
        for (key, values) in &self.grid {
            let values = values.as_array().ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "grid.{key} must be a list of values, e.g. {key} = [0.1, 1.0]"
                ))
            })?;
            grid = grid
                .iter()
                .flat_map(|p| {
                    values
                        .iter()
                        .map(move |v| [p.clone(), vec![(key.clone(), v.clone())]].concat())
                })
                .collect();
        }
        let arms = if self.variants.is_empty() {
            vec![toml::Table::new()]
        } else {
            self.variants.clone()
        };
        // Each arm's settings and the operations and seeds it is restricted to.
        let mut restricted = Vec::new();
        for arm in &arms {
            let mut settings = arm.clone();
            let only_ops = restriction(&mut settings, "ops", &self.ops, |v| {
                v.as_str().map(String::from)
            })?;
            let only_seeds = restriction(&mut settings, "seeds", &self.seeds, |v| {
                v.as_integer().and_then(|s| u64::try_from(s).ok())
            })?;
            restricted.push((settings, only_ops, only_seeds));
        }
        let mut groups = Vec::new();
        // Which entry of the file made each run id, to name a duplicate.
        let mut seen = std::collections::HashMap::new();
        let mut model_epochs = 0.0;
        for op in &self.ops {
            let points = restricted
                .iter()
                .filter(|(_, ops, _)| ops.as_ref().is_none_or(|o| o.contains(op)))
                .flat_map(|(arm, _, seeds)| {
                    grid.iter().map(move |g| {
                        let point = [arm.clone().into_iter().collect::<Vec<_>>(), g.clone()];
                        (point.concat(), seeds)
                    })
                });
            for (point, only_seeds) in points {
                let mut group = Vec::new();
                let seeds = self
                    .seeds
                    .iter()
                    .filter(|s| only_seeds.as_ref().is_none_or(|o| o.contains(s)));
                for &seed in seeds {
                    let mut table =
                        toml::Table::try_from(RunConfig::default()).expect("serialises");
                    table.extend(self.set.clone());
                    table.extend(point.iter().cloned());
                    table.insert("op".into(), toml::Value::String(op.clone()));
                    table.insert("seed".into(), toml::Value::Integer(seed as i64));
                    let cfg: RunConfig =
                        table
                            .try_into()
                            .map_err(|e: toml::de::Error| ConfigError::Parse {
                                origin: "sweep".into(),
                                reason: crate::config::one_line(e.message()),
                            })?;
                    crate::budget::admit(&cfg)?;
                    let what = format!("{op} seed {seed}{}", describe(&point));
                    if let Some(first) = seen.insert(cfg.run_id(), what.clone()) {
                        return Err(invalid(format!(
                            "\"{first}\" and \"{what}\" are the same run ({}); list each operation, seed and variant once",
                            cfg.run_id()
                        )));
                    }
                    model_epochs += cfg.epochs as f64;
                    if model_epochs > crate::limits::MAX_SWEEP_MODEL_EPOCHS && !cfg.allow_long {
                        return Err(invalid(format!(
                            "the sweep asks for more than {:.0e} model-epochs (runs × epochs); set allow_long = true in [set] to go ahead, or split it",
                            crate::limits::MAX_SWEEP_MODEL_EPOCHS
                        )));
                    }
                    group.push(cfg);
                }
                groups.push(group);
            }
        }
        Ok(groups)
    }
}

/// A variant's `key = [...]` restriction (its `ops` or `seeds`), removed
/// from its settings: `None` when it has none, else the values, each read
/// by `read` and each one of the sweep's own (`all`).
fn restriction<T: PartialEq + std::fmt::Debug>(
    settings: &mut toml::Table,
    key: &str,
    all: &[T],
    read: impl Fn(&toml::Value) -> Option<T>,
) -> Result<Option<Vec<T>>, ConfigError> {
    let Some(v) = settings.remove(key) else {
        return Ok(None);
    };
    v.as_array()
        .and_then(|a| a.iter().map(&read).collect::<Option<Vec<T>>>())
        .filter(|x| !x.is_empty() && x.iter().all(|x| all.contains(x)))
        .map(Some)
        .ok_or_else(|| {
            ConfigError::Invalid(format!(
                "a variant's {key} must be a list of the sweep's {key} {all:?}, got {v}"
            ))
        })
}

/// A grid point or variant's settings as ` (key=value, ...)`, or nothing.
fn describe(point: &[(String, toml::Value)]) -> String {
    if point.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = point.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(" ({})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_of_an_order_is_named_by_a_star() {
        let spec = SweepSpec::parse(
            "ops = [\"s3\", \"smallgroup:8,*\", \"smallgroup:64,*\"]\nseeds = [0]\n",
            "t",
        )
        .unwrap();
        // GAP: NrSmallGroups(8) = 5, NrSmallGroups(64) = 267.
        assert_eq!(spec.ops.len(), 1 + 5 + 267);
        assert_eq!(spec.ops[1], "smallgroup:8,1");
        assert_eq!(spec.ops[5], "smallgroup:8,5");
        assert_eq!(spec.ops[272], "smallgroup:64,267");
        for bad in ["smallgroup:65,*", "smallgroup:x,*", "smallgroup:1,*"] {
            let e = SweepSpec::parse(&format!("ops = [\"{bad}\"]\nseeds = [0]\n"), "t")
                .unwrap_err()
                .to_string();
            assert!(e.contains("n must be an order from 2 to 64"), "{e}");
        }
        // The atlas file names every group once: 585 groups, 1755 runs.
        let atlas = SweepSpec::from_file(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/atlas.toml"),
        )
        .unwrap();
        assert_eq!(atlas.ops.len(), 585);
        assert_eq!(atlas.curves_every, Some(100));
        assert!(atlas.curves_single);
    }

    #[test]
    fn variants_are_arms_crossed_with_the_grid() {
        let spec = SweepSpec::parse(
            r#"
ops = ["s3"]
seeds = [0, 1]
[set]
epochs = 50
lr = 0.002
[grid]
weight_decay = [0.5, 1.0]
[[variants]]
[[variants]]
loss_precision = "f64"
[[variants]]
lr = 0.004
"#,
            "test",
        )
        .unwrap();
        let groups = spec.expand().unwrap();
        // 3 arms x 2 grid points, 2 seeds each, arms outermost.
        assert_eq!(groups.len(), 6);
        assert!(groups.iter().all(|g| g.len() == 2 && g[0].epochs == 50));
        let arm = |g: &Vec<RunConfig>| (g[0].loss_precision, g[0].lr, g[0].weight_decay);
        use crate::config::LossPrecision::{F32, F64};
        assert_eq!(
            groups.iter().map(arm).collect::<Vec<_>>(),
            vec![
                (F32, 0.002, 0.5),
                (F32, 0.002, 1.0),
                (F64, 0.002, 0.5),
                (F64, 0.002, 1.0),
                (F32, 0.004, 0.5),
                (F32, 0.004, 1.0),
            ]
        );
        // A variant's key must be a config key.
        let bad = SweepSpec::parse(
            "ops = [\"s3\"]\nseeds = [0]\n[[variants]]\nlearning_rate = 1.0\n",
            "t",
        )
        .unwrap()
        .expand()
        .unwrap_err()
        .to_string();
        assert!(bad.contains("learning_rate"), "{bad}");
        // A variant restricted to some operations runs only on those.
        let spec = SweepSpec::parse(
            "ops = [\"s3\", \"d5\"]\nseeds = [0]\n[[variants]]\n[[variants]]\nops = [\"d5\"]\nlr = 0.004\n",
            "t",
        )
        .unwrap();
        let runs: Vec<(String, f64)> = spec
            .expand()
            .unwrap()
            .iter()
            .map(|g| (g[0].op.clone(), g[0].lr))
            .collect();
        assert_eq!(
            runs,
            vec![
                ("s3".into(), 0.001),
                ("d5".into(), 0.001),
                ("d5".into(), 0.004)
            ]
        );
        let bad = SweepSpec::parse(
            "ops = [\"s3\"]\nseeds = [0]\n[[variants]]\nops = [\"a4\"]\n",
            "t",
        )
        .unwrap()
        .expand()
        .unwrap_err()
        .to_string();
        assert!(bad.contains("a variant's ops"), "{bad}");
    }

    #[test]
    fn a_variant_restricted_to_some_seeds_gives_each_seed_its_own_budget() {
        let spec = SweepSpec::parse(
            "ops = [\"s3\", \"d5\"]\nseeds = [0, 1, 2]\n[[variants]]\nseeds = [0, 2]\nepochs = 70\n[[variants]]\nops = [\"d5\"]\nseeds = [1]\nepochs = 90\n",
            "t",
        )
        .unwrap();
        let runs: Vec<Vec<(String, u64, usize)>> = spec
            .expand()
            .unwrap()
            .iter()
            .map(|g| g.iter().map(|c| (c.op.clone(), c.seed, c.epochs)).collect())
            .collect();
        assert_eq!(
            runs,
            vec![
                vec![("s3".into(), 0, 70), ("s3".into(), 2, 70)],
                vec![("d5".into(), 0, 70), ("d5".into(), 2, 70)],
                vec![("d5".into(), 1, 90)],
            ]
        );
        for bad in ["seeds = [3]", "seeds = []", "seeds = [\"0\"]"] {
            let e = SweepSpec::parse(
                &format!("ops = [\"s3\"]\nseeds = [0]\n[[variants]]\n{bad}\n"),
                "t",
            )
            .unwrap()
            .expand()
            .unwrap_err()
            .to_string();
            assert!(
                e.contains("a variant's seeds must be a list of the sweep's seeds"),
                "{bad}: {e}"
            );
        }
    }
}
