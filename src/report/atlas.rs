//! The atlas' pre-registered claims A1–A4 read from its stored results
//! (`experiments/atlas/`): per group the restricted mean time to a
//! sustained grok over its seeds, each group's invariants computed from
//! its Cayley table, and [`crate::analysis::atlas::decide`] on the orders
//! that are complete. While some order is not, every verdict says which
//! orders it holds and is interim.

use super::claims::Verdict;
use super::tables::Numbers;
use super::{ReportError, Result, SweepData};
use crate::analysis::atlas::{decide, restricted_mean_time, Decision, Stratum, MIN_GROUPS};
use crate::analysis::complexity::smallest_faithful_dim;
use crate::analysis::stats::{kendall_tau_b, median};
use crate::groups::invariants::Invariants;
use std::collections::BTreeMap;
use std::fmt::Write as _;
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

/// The four invariants as the A1–A4 table heads them (LaTeX), with the
/// predicted direction of time to grok.
const HEADERS: [&str; 4] = [
    "A1: $|G/G'|$ (earlier)",
    "A2: $b(G)$ (later)",
    "A3: $F_1$ (later)",
    "A4: $k(G)/|G|$ (earlier)",
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
    /// Where it sits in abelian ⊂ nilpotent ⊂ solvable.
    pub class: GroupClass,
    /// Whether it is cyclic (an element generates it).
    pub cyclic: bool,
    /// Its nilpotency class (0: not nilpotent).
    pub nilpotency_class: usize,
}

/// The smallest of abelian ⊂ nilpotent ⊂ solvable a group belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum GroupClass {
    /// Abelian.
    #[default]
    Abelian,
    /// Nilpotent, not abelian.
    Nilpotent,
    /// Solvable, not nilpotent.
    Solvable,
    /// Not solvable (A5 is the only one up to order 64).
    NotSolvable,
}

impl GroupClass {
    /// The class of a group with these invariants.
    pub fn of(inv: &Invariants) -> Self {
        if inv.derived_order == 1 {
            Self::Abelian
        } else if inv.nilpotency_class > 0 {
            Self::Nilpotent
        } else if inv.derived_length > 0 {
            Self::Solvable
        } else {
            Self::NotSolvable
        }
    }

    /// Its name in figures and tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::Abelian => "abelian",
            Self::Nilpotent => "nilpotent, non-abelian",
            Self::Solvable => "solvable, not nilpotent",
            Self::NotSolvable => "not solvable",
        }
    }

    /// Every class, in order.
    pub const ALL: [Self; 4] = [
        Self::Abelian,
        Self::Nilpotent,
        Self::Solvable,
        Self::NotSolvable,
    ];
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
                class: GroupClass::Abelian,
                cyclic: false,
                nilpotency_class: 0,
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
            group.class = GroupClass::of(&inv);
            group.nilpotency_class = inv.nilpotency_class;
            group.cyclic = g.element_orders().into_iter().max() == Some(n);
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

    /// The longest budget any run had, in epochs (20 000 when there are
    /// no groups): where a group with no seed grokked sits.
    pub fn budget(&self) -> f64 {
        f64::from(self.groups.iter().map(|g| g.budget).max().unwrap_or(20_000))
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

/// The atlas' exploratory numbers, none of them a pre-registered test:
/// among the cyclic groups of the complete orders, Kendall's tau-b between
/// order and time and the least order from which every cyclic group groks
/// in some seed (`atlas/cyclic/...`); within each 2-group order, tau-b
/// between nilpotency class and time (`atlas/nilpotency/<n>/tau`).
fn exploratory(atlas: &Atlas, n: &mut Numbers) {
    let cyclic: Vec<&AtlasGroup> = atlas.groups.iter().filter(|g| g.cyclic).collect();
    let grokked = |g: &AtlasGroup| g.epochs.iter().any(Option::is_some);
    n.set("atlas/cyclic/groups", cyclic.len().to_string());
    n.set(
        "atlas/cyclic/grokked",
        cyclic.iter().filter(|g| grokked(g)).count().to_string(),
    );
    let orders: Vec<f64> = cyclic.iter().map(|g| g.order as f64).collect();
    let times: Vec<f64> = cyclic.iter().map(|g| g.time()).collect();
    n.set(
        "atlas/cyclic/tau",
        kendall_tau_b(&orders, &times).map_or("undefined".into(), |t| format!("${t:.2}$")),
    );
    // The least order n such that every cyclic group of order >= n groks.
    let from = cyclic
        .iter()
        .rev()
        .take_while(|g| grokked(g))
        .last()
        .map_or("none".to_string(), |g| g.order.to_string());
    n.set("atlas/cyclic/all_grok_from", from);
    let mut two_groups: BTreeMap<usize, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for g in atlas.groups.iter().filter(|g| g.order.is_power_of_two()) {
        let e = two_groups.entry(g.order).or_default();
        e.0.push(g.nilpotency_class as f64);
        e.1.push(g.time());
    }
    for (order, (class, time)) in two_groups {
        if class.len() >= MIN_GROUPS {
            n.set(
                format!("atlas/nilpotency/{order}/tau"),
                kendall_tau_b(&class, &time).map_or("undefined".into(), |t| format!("${t:.2}$")),
            );
        }
    }
}

/// The paper's atlas tables and numbers (`atlas/...`): the A1–A4 table
/// (each order's tau-b, the pooled statistic, p, Holm-adjusted p and the
/// verdict) and the per-order summary (groups, runs, grokked runs, median
/// of the groups' restricted mean times).
pub fn tables(atlas: &Atlas, n: &mut Numbers) -> Vec<(String, String)> {
    let decisions = decide(&atlas.strata(), SEED);
    let runs: usize = atlas.groups.iter().map(|g| g.epochs.len()).sum();
    let grokked: usize = atlas
        .groups
        .iter()
        .map(|g| g.epochs.iter().flatten().count())
        .sum();
    n.set(
        "atlas/orders_complete",
        atlas.complete_orders().replace('-', "--"),
    );
    n.set(
        "atlas/orders_planned",
        ranges(&atlas.planned).replace('-', "--"),
    );
    n.set("atlas/groups", atlas.groups.len().to_string());
    n.set("atlas/runs", runs.to_string());
    n.set("atlas/runs_grokked", grokked.to_string());
    n.set(
        "atlas/status",
        if atlas.is_final() { "final" } else { "interim" },
    );
    n.set(
        "atlas/strata",
        decisions.first().map_or(0, |d| d.orders.len()).to_string(),
    );
    let stat_p = |x: f64| {
        if x < 1e-3 {
            "$< 0.001$".to_string()
        } else {
            format!("{x:.3}")
        }
    };
    for (d, (claim, _)) in decisions.iter().zip(STATEMENTS) {
        let k = |x: &str| format!("atlas/{claim}/{x}");
        n.set(k("verdict"), d.verdict.to_string());
        n.num(k("statistic"), d.statistic, 1);
        n.set(k("p"), stat_p(d.p));
        n.set(k("p_holm"), stat_p(d.p_holm));
    }

    exploratory(atlas, n);

    let mut claims = String::from("% Generated; do not edit.\n\\begin{tabular}{rr");
    claims.push_str(&"r".repeat(decisions.len()));
    claims.push_str("}\n\\toprule\n$|G|$ & groups");
    for header in HEADERS {
        let _ = write!(claims, " & {header}");
    }
    claims.push_str(" \\\\\n\\midrule\n");
    let orders = decisions.first().map_or(&[][..], |d| d.orders.as_slice());
    for (i, o) in orders.iter().enumerate() {
        let _ = write!(claims, "{} & {}", o.order, o.groups);
        for d in &decisions {
            let cell = match (d.orders[i].tau_b, d.orders[i].interval) {
                (Some(t), Some((lo, hi))) => format!("${t:.2}$ [${lo:.2}$, ${hi:.2}$]"),
                (Some(t), None) => format!("${t:.2}$"),
                (None, _) => "--".into(),
            };
            let _ = write!(claims, " & {cell}");
        }
        claims.push_str(" \\\\\n");
    }
    claims.push_str("\\midrule\n");
    for (label, cell) in [
        (
            "statistic",
            &(|d: &Decision| format!("${:.1}$", d.statistic)) as &dyn Fn(&Decision) -> String,
        ),
        ("one-sided $p$", &|d: &Decision| stat_p(d.p)),
        ("Holm-adjusted $p$", &|d: &Decision| stat_p(d.p_holm)),
        ("verdict", &|d: &Decision| d.verdict.to_string()),
    ] {
        let _ = write!(claims, "\\multicolumn{{2}}{{l}}{{{label}}}");
        for d in &decisions {
            let _ = write!(claims, " & {}", cell(d));
        }
        claims.push_str(" \\\\\n");
    }
    claims.push_str("\\bottomrule\n\\end{tabular}\n");

    // Per complete order, three blocks side by side.
    let mut by_order: BTreeMap<usize, Vec<&AtlasGroup>> = BTreeMap::new();
    for g in &atlas.groups {
        by_order.entry(g.order).or_default().push(g);
    }
    let rows: Vec<String> = by_order
        .iter()
        .map(|(order, gs)| {
            let runs: usize = gs.iter().map(|g| g.epochs.len()).sum();
            let grokked: usize = gs.iter().map(|g| g.epochs.iter().flatten().count()).sum();
            let times: Vec<f64> = gs.iter().map(|g| g.time()).collect();
            let median = median(&times);
            format!("{order} & {} & {grokked}/{runs} & {median:.0}", gs.len())
        })
        .collect();
    let per_block = rows.len().div_ceil(3);
    let mut summary = String::from(
        "% Generated; do not edit.\n\\begin{tabular}{rrrr@{\\hspace{1.5em}}rrrr@{\\hspace{1.5em}}rrrr}\n\\toprule\n",
    );
    summary.push_str(&["$|G|$ & groups & grokked & median time"; 3].join(" & "));
    summary.push_str(" \\\\\n\\midrule\n");
    for i in 0..per_block {
        let cells: Vec<String> = (0..3)
            .map(|b| {
                rows.get(b * per_block + i)
                    .cloned()
                    .unwrap_or_else(|| " & & & ".into())
            })
            .collect();
        let _ = writeln!(summary, "{} \\\\", cells.join(" & "));
    }
    summary.push_str("\\bottomrule\n\\end{tabular}\n");
    vec![
        ("atlas-claims-table.tex".into(), claims),
        ("atlas-orders-table.tex".into(), summary),
    ]
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
            class: GroupClass::Abelian,
            cyclic: false,
            nilpotency_class: 1,
        }
    }

    #[test]
    fn classes_and_cyclicity_come_from_the_table() {
        use crate::groups::Operation;
        let class = |op: &str| {
            let g = Operation::parse(op).unwrap().group.unwrap();
            (
                GroupClass::of(&Invariants::of(&g)),
                g.element_orders().into_iter().max() == Some(g.order()),
            )
        };
        assert_eq!(class("ring:4"), (GroupClass::Abelian, true));
        assert_eq!(class("xor:2"), (GroupClass::Abelian, false));
        assert_eq!(class("smallgroup:8,4"), (GroupClass::Nilpotent, false)); // Q8
                                                                             // S3's exponent is its order, 6, yet it is not cyclic.
        assert_eq!(class("s3"), (GroupClass::Solvable, false));
        assert_eq!(class("alternating:5"), (GroupClass::NotSolvable, false));
    }

    #[test]
    fn the_tables_give_each_order_and_the_verdict_row() {
        let mut groups: Vec<AtlasGroup> = (0..5)
            .map(|k| group(8, k as f64, &[Some(1000 * (5 - k)), None]))
            .collect();
        groups.push(group(6, 1.0, &[None, None]));
        let atlas = Atlas {
            complete: vec![6, 8],
            planned: vec![6, 7, 8],
            groups,
        };
        let mut n = Numbers::default();
        let files = tables(&atlas, &mut n);
        let claims = &files[0].1;
        assert!(claims.contains("8 & 5 & $-1.00$"), "{claims}");
        assert!(
            claims.contains("{verdict} & supported & contradicted & contradicted & supported"),
            "{claims}"
        );
        // Order 6: one group, no grok; order 8: five groups, 5 of 10 runs,
        // times 12500, 12000, 11500, 11000, 10500 (a censored seed counts 20 000).
        let summary = &files[1].1;
        assert!(summary.contains("6 & 1 & 0/2 & 20000"), "{summary}");
        assert!(summary.contains("8 & 5 & 5/10 & 11500"), "{summary}");
        assert_eq!(n.get("atlas/orders_complete"), Some("6, 8"));
        assert_eq!(n.get("atlas/status"), Some("interim"));
        assert_eq!(n.get("atlas/runs_grokked"), Some("5"));
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
