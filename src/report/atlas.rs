//! The atlas' pre-registered claims A1–A4 read from its stored results
//! (`experiments/atlas/`): per group the restricted mean time to a
//! sustained grok over its seeds, each group's invariants computed from
//! its Cayley table, and [`crate::analysis::atlas::decide`] on the orders
//! that are complete. While some order is not, every verdict says which
//! orders it holds and is interim.

use super::claims::Verdict;
use super::{ReportError, Result, SweepData};
use crate::analysis::atlas::{decide, restricted_mean_time, Decision, Stratum, MIN_GROUPS};
use crate::analysis::complexity::smallest_faithful_dim;
use crate::groups::invariants::Invariants;
use std::collections::BTreeMap;
use std::path::Path;

/// The fixed seed of the permutations and bootstrap resamples.
pub const SEED: u64 = 20_261_204;

/// What each hypothesis claims, and the rule that decides all four.
pub const STATEMENTS: [(&str, &str); 4] = [
    (
        "A1",
        "Within an order, groups with a larger abelianisation |G/G'| grok earlier.",
    ),
    (
        "A2",
        "Within an order, groups with a larger largest irrep degree b(G) grok later (the reference study's capacity reading).",
    ),
    (
        "A3",
        "Within an order, groups with a larger smallest faithful real representation F1 grok later.",
    ),
    (
        "A4",
        "Within an order, groups with a larger commuting probability k(G)/|G| grok earlier.",
    ),
];

/// The pre-registered rule, as fixed before the atlas' data.
pub const RULE: &str = "Per group, the restricted mean time to a sustained grok up to the 20 000-epoch budget over seeds 0-2 (a seed that does not grok counts 20 000). Statistic: the sum over orders with at least 5 groups of Kendall's tau-b between the invariant and that time, weighted by the order's number of groups (undefined tau-b: 0). One-sided p from 10 000 permutations of the invariant within each order (fixed seed); Holm across A1-A4. Supported if the Holm-adjusted p < 0.05; contradicted if the opposite direction's is; otherwise not detected. Interim until every order 2-64 is complete.";

/// One group of the atlas: its order, its invariants and its runs'
/// sustained grok epochs.
#[derive(Debug, Clone, PartialEq)]
pub struct AtlasGroup {
    /// `smallgroup:n,i`.
    pub op: String,
    /// n.
    pub order: usize,
    /// The invariants of A1–A4, in their order: |G/G'|, b(G), F1, k(G)/|G|.
    pub invariants: [f64; 4],
    /// Each seed's sustained grok epoch (`None`: not by its last epoch).
    pub epochs: Vec<Option<u32>>,
    /// The budget the runs had.
    pub budget: u32,
}

impl AtlasGroup {
    /// The restricted mean time to a sustained grok.
    pub fn time(&self) -> f64 {
        restricted_mean_time(&self.epochs, self.budget)
    }
}

/// The atlas as its claims read it: every group of the complete orders.
#[derive(Debug, Clone, PartialEq)]
pub struct Atlas {
    /// Orders whose every planned run is in the results.
    pub complete: Vec<usize>,
    /// Orders the sweep file plans.
    pub planned: Vec<usize>,
    /// The groups of the complete orders.
    pub groups: Vec<AtlasGroup>,
}

/// `smallgroup:n,i` as (n, i).
fn small_id(op: &str) -> Option<(usize, usize)> {
    let (n, i) = op.strip_prefix("smallgroup:")?.split_once(',')?;
    Some((n.trim().parse().ok()?, i.trim().parse().ok()?))
}

impl Atlas {
    /// Reads `experiments/atlas/` and the plan of `experiments/atlas.toml`;
    /// `None` when there are no atlas results.
    ///
    /// # Errors
    /// Unreadable tables or sweep file, results without the sustained
    /// record, or a run that is not a SmallGroups group.
    pub fn load(experiments: &Path) -> Result<Option<Self>> {
        let Some(sweep) = SweepData::load(experiments, "atlas")? else {
            return Ok(None);
        };
        let data = |e: String| ReportError::Data(format!("experiments/atlas: {e}"));
        let spec = crate::sweep::SweepSpec::from_file(&experiments.join("atlas.toml"))
            .map_err(|e| data(e.to_string()))?;
        // Runs planned per order, and per group the runs present.
        let mut planned: BTreeMap<usize, usize> = BTreeMap::new();
        for group in spec.expand().map_err(|e| data(e.to_string()))? {
            for cfg in group {
                let (n, _) = small_id(&cfg.op)
                    .ok_or_else(|| data(format!("{} is not smallgroup:n,i", cfg.op)))?;
                *planned.entry(n).or_default() += 1;
            }
        }
        // Each group's runs; its invariants are filled in once its order
        // is known to be complete.
        let mut runs: BTreeMap<(usize, usize), AtlasGroup> = BTreeMap::new();
        for r in sweep.runs_with_sustained()? {
            let (n, i) =
                small_id(&r.op).ok_or_else(|| data(format!("{} is not smallgroup:n,i", r.op)))?;
            let g = runs.entry((n, i)).or_insert_with(|| AtlasGroup {
                op: r.op.clone(),
                order: n,
                invariants: [0.0; 4],
                epochs: Vec::new(),
                budget: r.epochs,
            });
            g.epochs.push(r.sustained_grok_epoch);
            g.budget = g.budget.max(r.epochs);
        }
        let mut present: BTreeMap<usize, usize> = BTreeMap::new();
        for g in runs.values() {
            *present.entry(g.order).or_default() += g.epochs.len();
        }
        let complete: Vec<usize> = planned
            .iter()
            .filter(|(n, want)| present.get(n) == Some(want))
            .map(|(&n, _)| n)
            .collect();
        let mut groups = Vec::new();
        for ((n, i), mut group) in runs {
            if !complete.contains(&n) {
                continue;
            }
            let g = crate::groups::small::small_group(n, i).map_err(|e| data(e.to_string()))?;
            let inv = Invariants::of(&g);
            group.invariants = [
                inv.abelianisation_order() as f64,
                inv.max_degree as f64,
                smallest_faithful_dim(&g) as f64,
                inv.commuting_probability,
            ];
            groups.push(group);
        }
        Ok(Some(Self {
            complete,
            planned: planned.into_keys().collect(),
            groups,
        }))
    }

    /// Each hypothesis' strata: the complete orders with at least
    /// [`MIN_GROUPS`] groups, in increasing order.
    pub fn strata(&self) -> Vec<Vec<Stratum>> {
        let mut by_order: BTreeMap<usize, Vec<&AtlasGroup>> = BTreeMap::new();
        for g in &self.groups {
            by_order.entry(g.order).or_default().push(g);
        }
        (0..4)
            .map(|h| {
                by_order
                    .iter()
                    .filter(|(_, gs)| gs.len() >= MIN_GROUPS)
                    .map(|(&order, gs)| Stratum {
                        order,
                        invariant: gs.iter().map(|g| g.invariants[h]).collect(),
                        time: gs.iter().map(|g| g.time()).collect(),
                    })
                    .collect()
            })
            .collect()
    }

    /// Whether every planned order is complete.
    pub fn is_final(&self) -> bool {
        self.complete == self.planned
    }

    /// The complete orders as ranges, e.g. `2-29, 31`.
    pub fn complete_orders(&self) -> String {
        ranges(&self.complete)
    }
}

/// Sorted integers as comma-separated runs: `2-29, 31`.
fn ranges(xs: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < xs.len() {
        let mut j = i;
        while j + 1 < xs.len() && xs[j + 1] == xs[j] + 1 {
            j += 1;
        }
        out.push(if j > i {
            format!("{}-{}", xs[i], xs[j])
        } else {
            xs[i].to_string()
        });
        i = j + 1;
    }
    out.join(", ")
}

/// The verdicts of A1–A4 as claims, each with its numbers: the pooled
/// statistic, its p-values, and each order's tau-b with its interval.
pub fn verdicts(atlas: &Atlas) -> Vec<Verdict> {
    let decisions = decide(&atlas.strata(), SEED);
    decisions
        .iter()
        .zip(STATEMENTS)
        .map(|(d, (claim, statement))| verdict(atlas, d, claim, statement))
        .collect()
}

fn verdict(atlas: &Atlas, d: &Decision, claim: &'static str, statement: &'static str) -> Verdict {
    let status = if atlas.is_final() {
        "final".to_string()
    } else {
        format!(
            "interim: orders {} complete of {}",
            atlas.complete_orders(),
            ranges(&atlas.planned)
        )
    };
    let mut numbers = vec![
        ("status".to_string(), status.clone()),
        ("statistic".to_string(), format!("{:.3}", d.statistic)),
        ("p".to_string(), format!("{:.4}", d.p)),
        ("p_holm".to_string(), format!("{:.4}", d.p_holm)),
        (
            "p_opposite_holm".to_string(),
            format!("{:.4}", d.p_opposite_holm),
        ),
    ];
    for o in &d.orders {
        let tau = match (o.tau_b, o.interval) {
            (Some(t), Some((lo, hi))) => format!("{t:.2} [{lo:.2}, {hi:.2}]"),
            (Some(t), None) => format!("{t:.2}"),
            (None, _) => "undefined".to_string(),
        };
        numbers.push((
            format!("tau_b_order_{}", o.order),
            format!("{tau} ({} groups)", o.groups),
        ));
    }
    let word = d.verdict.to_string();
    Verdict {
        claim,
        statement,
        verdict: if atlas.is_final() {
            word
        } else {
            format!("{word} ({status})")
        },
        other_versions: Vec::new(),
        numbers,
        rule: RULE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_join_runs_of_consecutive_orders() {
        assert_eq!(ranges(&[2, 3, 4, 5, 7, 9, 10]), "2-5, 7, 9-10");
        assert_eq!(ranges(&[]), "");
    }

    fn group(order: usize, inv: f64, epochs: &[Option<u32>]) -> AtlasGroup {
        AtlasGroup {
            op: format!("smallgroup:{order},1"),
            order,
            invariants: [inv; 4],
            epochs: epochs.to_vec(),
            budget: 20_000,
        }
    }

    #[test]
    fn interim_verdicts_name_their_orders_and_small_orders_stay_out() {
        // Order 8: five groups whose time falls as the first invariant
        // rises (A1's direction); order 6 has two groups and stays out.
        let mut groups: Vec<AtlasGroup> = (0..5)
            .map(|k| group(8, k as f64, &[Some(1000 * (5 - k)), Some(1000 * (5 - k))]))
            .collect();
        groups.push(group(6, 1.0, &[None]));
        groups.push(group(6, 2.0, &[Some(100)]));
        let atlas = Atlas {
            complete: vec![6, 8],
            planned: vec![6, 7, 8],
            groups,
        };
        let strata = atlas.strata();
        assert_eq!(strata[0].len(), 1, "only order 8 has 5 groups");
        assert_eq!(
            strata[0][0].time,
            vec![5000.0, 4000.0, 3000.0, 2000.0, 1000.0]
        );
        let v = verdicts(&atlas);
        assert_eq!(v.len(), 4);
        assert!(
            v[0].verdict
                .contains("interim: orders 6, 8 complete of 6-8"),
            "{}",
            v[0].verdict
        );
        // A perfect ranking of five groups has p = 1/120 (about 0.008 from
        // the permutations); Holm over four gives about 0.034. A larger
        // invariant means earlier here: A1 and A4 (earlier) are supported,
        // A2 and A3 (later) contradicted.
        let words: Vec<&str> = v
            .iter()
            .map(|x| x.verdict.split(" (").next().unwrap())
            .collect();
        assert_eq!(
            words,
            ["supported", "contradicted", "contradicted", "supported"]
        );
        let p_holm: f64 = v[0]
            .numbers
            .iter()
            .find(|(k, _)| k == "p_holm")
            .unwrap()
            .1
            .parse()
            .unwrap();
        assert!((p_holm - 4.0 / 120.0).abs() < 0.01, "{p_holm}");
        let tau = v[0]
            .numbers
            .iter()
            .find(|(k, _)| k == "tau_b_order_8")
            .unwrap();
        assert!(tau.1.starts_with("-1.00"), "{}", tau.1);
    }
}
