//! A sweep's jobs: runs of one order and configuration batched by measured
//! gain, and shards balanced by expected cost, both functions of the sweep
//! file alone.

use super::SweepSpec;
use crate::config::{ConfigError, RunConfig};

/// Per-model speed of S models trained as one batch against one model
/// alone, as `grokscope bench --atlas` measured it (Intel Xeon with
/// AVX-512, one libtorch thread, the default model): `(training pairs, S,
/// ratio)`. The fused step's cost grows with the pairs of every model, and
/// what a batch shares (building the per-step tables, libtorch's calls) is
/// a small part of an epoch, so batches are barely faster.
pub const MEASURED_BATCH_GAIN: &[(usize, usize, f64)] = &[
    (45, 3, 1.34),
    (45, 8, 1.59),
    (45, 16, 1.61),
    (403, 3, 1.21),
    (403, 8, 1.20),
    (403, 16, 1.20),
    (717, 3, 1.10),
    (717, 8, 1.09),
    (717, 16, 1.01),
    (1613, 3, 1.04),
    (1613, 8, 0.95),
    (1613, 16, 0.85),
    (2867, 3, 1.00),
    (2867, 8, 0.94),
    (2867, 16, 0.84),
];

/// A batch is formed when its models run at least this much faster each
/// than alone.
pub const MIN_BATCH_GAIN: f64 = 1.1;

/// With early stops on, a model whose run has stopped keeps computing
/// until its whole batch stops; a batch is formed only when it is this
/// much faster (a batch of 3 where one model runs to the end and two stop
/// at a third of it breaks even at 1.8).
pub const MIN_BATCH_GAIN_STOPPING: f64 = 1.8;

/// How many runs of one order and configuration to train as one batched
/// model: the measured batch size with the best gain at the measured table
/// size nearest `train_pairs` (on a log scale), if that gain reaches
/// [`MIN_BATCH_GAIN`] (or [`MIN_BATCH_GAIN_STOPPING`] when runs stop
/// early); else 1.
pub fn batch_size(train_pairs: usize, stops_early: bool) -> usize {
    let need = if stops_early {
        MIN_BATCH_GAIN_STOPPING
    } else {
        MIN_BATCH_GAIN
    };
    let distance = |p: usize| ((p.max(1) as f64).ln() - (train_pairs.max(1) as f64).ln()).abs();
    let Some(nearest) = MEASURED_BATCH_GAIN
        .iter()
        .map(|m| m.0)
        .min_by(|&a, &b| distance(a).total_cmp(&distance(b)))
    else {
        return 1;
    };
    MEASURED_BATCH_GAIN
        .iter()
        .filter(|m| m.0 == nearest && m.2 >= need)
        .max_by(|a, b| a.2.total_cmp(&b.2).then(b.1.cmp(&a.1)))
        .map_or(1, |m| m.1)
}

/// One training job of a sweep: runs of one order and configuration
/// (differing in operation and seed) trained as one batched model, and its
/// expected cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Configs differing only in operation (of one order) and seed.
    pub configs: Vec<RunConfig>,
    /// Expected cost (training FLOPs over the budget, all models): what
    /// shards balance.
    pub cost: f64,
}

/// Every batch of a sweep, from the sweep file alone: runs of the same
/// order and configuration (across operations and seeds, in expansion
/// order) in batches of [`batch_size`]. Which runs are complete does not
/// change it, so shards are the same however often a sweep is resumed;
/// a run's results do not depend on its batch (tests/batch_invariance.rs).
///
/// # Errors
/// An invalid spec.
pub fn plan(spec: &SweepSpec) -> Result<Vec<Batch>, ConfigError> {
    plan_with(spec, true)
}

/// [`plan`], or with `batching` off one run per batch.
///
/// # Errors
/// An invalid spec.
pub fn plan_with(spec: &SweepSpec, batching: bool) -> Result<Vec<Batch>, ConfigError> {
    // (order, the config without op and seed) -> its runs, in order of
    // first appearance; found through the key's serialisation, so a sweep
    // of many configurations is not a quadratic search.
    let mut groups: Vec<(usize, RunConfig, Vec<RunConfig>)> = Vec::new();
    let mut index: std::collections::HashMap<(usize, String), usize> =
        std::collections::HashMap::new();
    for group in spec.expand()? {
        for cfg in group {
            let n = crate::groups::OperationSpec::parse(&cfg.op)
                .map_err(ConfigError::from)?
                .order()
                .unwrap_or(0);
            let mut key = cfg.clone();
            key.op.clear();
            key.seed = 0;
            let text = serde_json::to_string(&key).map_err(|e| {
                ConfigError::Invalid(format!("a sweep's configuration does not serialise: {e}"))
            })?;
            match index.entry((n, text)) {
                std::collections::hash_map::Entry::Occupied(at) => groups[*at.get()].2.push(cfg),
                std::collections::hash_map::Entry::Vacant(at) => {
                    at.insert(groups.len());
                    groups.push((n, key, vec![cfg]));
                }
            }
        }
    }
    let mut batches = Vec::new();
    for (n, key, runs) in groups {
        let size = if batching {
            batch_size(
                crate::data::train_size(n, key.train_fraction),
                key.stop_after_grok,
            )
        } else {
            1
        };
        for chunk in runs.chunks(size) {
            let cost = crate::budget::Estimate::of(&chunk[0], chunk.len(), 1)?.run_seconds;
            batches.push(Batch {
                configs: chunk.to_vec(),
                cost,
            });
        }
    }
    Ok(batches)
}

/// A batch as progress lines name it: each operation with its seeds, e.g.
/// `s4 seeds 0,1,2` or `smallgroup:8,3 seed 0; smallgroup:8,5 seed 0`.
pub fn batch_label(batch: &[RunConfig]) -> String {
    let mut parts: Vec<(String, Vec<String>)> = Vec::new();
    for c in batch {
        match parts.last_mut() {
            Some((op, seeds)) if *op == c.op => seeds.push(c.seed.to_string()),
            _ => parts.push((c.op.clone(), vec![c.seed.to_string()])),
        }
    }
    parts
        .into_iter()
        .map(|(op, seeds)| {
            let word = if seeds.len() == 1 { "seed" } else { "seeds" };
            format!("{op} {word} {}", seeds.join(","))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Shard `i` of `count`: `--shard i/count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("--shard {s}: expected i/N with 0 <= i < N, e.g. --shard 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

/// The shard of every batch: longest expected cost first, each to the
/// shard with the least cost so far (ties to the lowest shard). A function
/// of the plan alone.
pub fn assign_shards(batches: &[Batch], count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..batches.len()).collect();
    order.sort_by(|&a, &b| batches[b].cost.total_cmp(&batches[a].cost).then(a.cmp(&b)));
    let mut load = vec![0.0f64; count.max(1)];
    let mut shard = vec![0; batches.len()];
    for i in order {
        let (best, _) = load
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
            .expect("at least one shard");
        shard[i] = best;
        load[best] += batches[i].cost;
    }
    shard
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> SweepSpec {
        SweepSpec::parse(text, "t").unwrap()
    }

    #[test]
    fn batch_sizes_follow_the_measured_gains() {
        // Order 8 (45 pairs): 16 models run 1.61x faster each; order 64
        // (2867): no batch is faster than one model.
        assert_eq!(batch_size(45, false), 16);
        assert_eq!(batch_size(2867, false), 1);
        assert_eq!(batch_size(403, false), 3);
        // Runs that stop early batch only where a batch pays for its
        // passengers, which no measured size does.
        for pairs in [45, 403, 717, 1613, 2867] {
            assert_eq!(batch_size(pairs, true), 1, "{pairs} pairs");
        }
        // The nearest measured size decides (on a log scale).
        assert_eq!(batch_size(100, false), batch_size(45, false));
        assert_eq!(batch_size(10_000, false), 1);
    }

    #[test]
    fn the_plan_batches_runs_of_one_order_across_operations() {
        // s3 and ring:6 have order 6; a4 has 12.
        let s = spec("ops = [\"s3\", \"a4\", \"ring:6\"]\nseeds = [0, 1]\n");
        let batches = plan(&s).unwrap();
        let ops: Vec<Vec<(String, u64)>> = batches
            .iter()
            .map(|b| b.configs.iter().map(|c| (c.op.clone(), c.seed)).collect())
            .collect();
        assert_eq!(
            ops,
            vec![
                vec![
                    ("s3".into(), 0),
                    ("s3".into(), 1),
                    ("ring:6".into(), 0),
                    ("ring:6".into(), 1)
                ],
                vec![("a4".into(), 0), ("a4".into(), 1)],
            ]
        );
        assert_eq!(
            batch_label(&batches[0].configs),
            "s3 seeds 0,1; ring:6 seeds 0,1"
        );
        // Without batching, one run per job, in expansion order.
        let single = plan_with(&s, false).unwrap();
        assert_eq!(single.len(), 6);
        assert!(single.iter().all(|b| b.configs.len() == 1));
        // Other settings are other batches.
        let s = spec("ops = [\"s3\", \"ring:6\"]\nseeds = [0]\n[[variants]]\nops = [\"s3\"]\n[[variants]]\nops = [\"ring:6\"]\nlr = 0.002\n");
        assert_eq!(plan(&s).unwrap().len(), 2);
    }

    #[test]
    fn shards_balance_the_plan_by_cost() {
        let s = spec("ops = [\"s3\", \"a4\", \"s4\", \"d5\"]\nseeds = [0]\n");
        let batches = plan(&s).unwrap();
        let shards = assign_shards(&batches, 2);
        let load = |k: usize| -> f64 {
            batches
                .iter()
                .zip(&shards)
                .filter(|(_, &s)| s == k)
                .map(|(b, _)| b.cost)
                .sum()
        };
        let costliest = batches.iter().map(|b| b.cost).fold(0.0, f64::max);
        assert!((load(0) - load(1)).abs() <= costliest);
        assert_eq!(shards, assign_shards(&batches, 2), "a function of the plan");
    }
}
