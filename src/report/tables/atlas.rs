//! The atlas' tables: one row per complete order and the verdict row of
//! A1–A4, with the exploratory numbers beside them.

use crate::analysis::atlas::{decide, Decision, Verdict, MIN_GROUPS};
use crate::analysis::stats::{kendall_tau_b, median};
use crate::report::atlas::Atlas;
use crate::report::atlas::{ranges, AtlasGroup, GroupClass, IrrepKind};
use crate::report::claims::atlas::{SEED, STATEMENTS};
use crate::report::latex::{tex, Numbers};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The four invariants as the A1–A4 table heads them (LaTeX), with the
/// predicted direction of time to grok.
pub(crate) const HEADERS: [&str; 4] = [
    "A1: $|G/G'|$ (earlier)",
    "A2: $b(G)$ (later)",
    "A3: $F_1$ (later)",
    "A4: $k(G)/|G|$ (earlier)",
];

/// The atlas' exploratory numbers, none of them a pre-registered test:
/// among the cyclic groups of the complete orders, Kendall's tau-b between
/// order and time, the least order from which every cyclic group groks
/// in some seed, the median time of those that grok, and in how many of
/// the orders with a non-abelian group the cyclic group's time is below
/// the non-abelian groups' median (`atlas/cyclic/...`); within each
/// 2-group order with at least 5 groups, tau-b between nilpotency class
/// and time (`atlas/nilpotency/<n>/tau`, and all of them for a sentence,
/// `atlas/nilpotency/taus`).
pub(crate) fn exploratory(atlas: &Atlas, n: &mut Numbers) {
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
    let grokked_times: Vec<f64> = cyclic
        .iter()
        .filter(|g| grokked(g))
        .map(|g| g.time())
        .collect();
    n.set(
        "atlas/cyclic/median_time",
        if grokked_times.is_empty() {
            "none".to_string()
        } else {
            format!("{:.0}", median(&grokked_times))
        },
    );
    // Per order with a non-abelian group: is the cyclic group's time
    // below the median of that order's non-abelian groups' times?
    let (mut orders_with, mut sooner) = (0, 0);
    for c in &cyclic {
        let nonabelian: Vec<f64> = atlas
            .groups
            .iter()
            .filter(|g| g.order == c.order && g.class != GroupClass::Abelian)
            .map(AtlasGroup::time)
            .collect();
        if !nonabelian.is_empty() {
            orders_with += 1;
            sooner += usize::from(c.time() < median(&nonabelian));
        }
    }
    n.set("atlas/cyclic/with_nonabelian", orders_with.to_string());
    n.set("atlas/cyclic/sooner", sooner.to_string());
    let mut two_groups: BTreeMap<usize, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for g in atlas.groups.iter().filter(|g| g.order.is_power_of_two()) {
        let e = two_groups.entry(g.order).or_default();
        e.0.push(g.nilpotency_class as f64);
        e.1.push(g.time());
    }
    let mut taus = Vec::new();
    for (order, (class, time)) in two_groups {
        if class.len() >= MIN_GROUPS {
            let tau =
                kendall_tau_b(&class, &time).map_or("undefined".into(), |t| format!("${t:.2}$"));
            taus.push(format!("{tau} at order {order}"));
            n.set(format!("atlas/nilpotency/{order}/tau"), tau);
        }
    }
    // For a sentence: "$0.62$ at order 8, $0.76$ at order 16 and ...".
    n.set("atlas/nilpotency/taus", and_list(&taus));
}

/// Items joined for a sentence: "a", "a and b", "a, b and c"; "none".
fn and_list(items: &[String]) -> String {
    match items {
        [] => "none".to_string(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The kind of the embedding's dominant irrep in the grokked runs whose
/// row records it (exploratory; `atlas/irrep/...`): grokked stored runs
/// (`grokked`), those analysed (`analysed`) and their orders (`orders`,
/// "order 64" or "orders 60--64");
/// of the analysed runs of non-abelian groups, how many (`nonabelian`),
/// of complex degree 1 (`nonabelian_degree1`) and faithful
/// (`nonabelian_faithful`), and of a group that has a faithful irrep at
/// all (`nonabelian_can_be_faithful`); of abelian groups, how many (`abelian`) and
/// faithful (`abelian_faithful`: only a cyclic group has a faithful
/// irrep of degree 1); and those counts as the paper's sentences
/// (`text`), which leave out a kind of group with no analysed run.
pub(crate) fn irreps(atlas: &Atlas, n: &mut Numbers) {
    let analysed: Vec<(usize, IrrepKind)> = atlas
        .grokked_irreps
        .iter()
        .filter_map(|g| g.kind.map(|k| (g.order, k)))
        .collect();
    // The rows come in run-id order, not group order.
    let mut orders: Vec<usize> = analysed.iter().map(|(order, _)| *order).collect();
    orders.sort_unstable();
    orders.dedup();
    let count = |abelian: bool, pick: &dyn Fn(&IrrepKind) -> bool| {
        analysed
            .iter()
            .filter(|(_, k)| k.abelian == abelian && pick(k))
            .count()
    };
    let grokked = atlas.grokked_irreps.len();
    let nonabelian = count(false, &|_| true);
    let degree1 = count(false, &|k| k.degree == 1);
    let faithful = count(false, &|k| k.faithful);
    let can_be_faithful = count(false, &|k| k.group_has_faithful);
    let abelian = count(true, &|_| true);
    let abelian_faithful = count(true, &|k| k.faithful);
    let orders = if orders.is_empty() {
        "none".to_string()
    } else {
        orders_phrase(&orders)
    };
    for (key, value) in [
        ("grokked", grokked),
        ("analysed", analysed.len()),
        ("nonabelian", nonabelian),
        ("nonabelian_degree1", degree1),
        ("nonabelian_faithful", faithful),
        ("nonabelian_can_be_faithful", can_be_faithful),
        ("abelian", abelian),
        ("abelian_faithful", abelian_faithful),
    ] {
        n.set(format!("atlas/irrep/{key}"), value.to_string());
    }
    n.set("atlas/irrep/orders", orders.as_str());
    // The sentences, without "0 of the 0" where a kind has no analysed run.
    let have = match analysed.len() {
        0 if grokked == 0 => "No stored run has grokked.".to_string(),
        0 => format!(
            "None of the {grokked} grokked stored runs has it: their directories were gone before it was recorded."
        ),
        a if a == grokked => format!("Every grokked stored run ({grokked}) has it ({orders})."),
        a => format!(
            "{a} of the {grokked} grokked stored runs have it ({orders}; the other runs' directories were gone before it was recorded)."
        ),
    };
    let mut kinds = Vec::new();
    if nonabelian > 0 {
        let faithful = if can_be_faithful > 0 {
            format!("is faithful in {faithful} of the {can_be_faithful} whose group has a faithful irrep at all")
        } else {
            "none of their groups has a faithful irrep".to_string()
        };
        kinds.push(format!(
            "those of non-abelian groups ({nonabelian}), the dominant irrep has degree 1, and so factors through $G/G'$, in {degree1}, and {faithful} (a 2-group has one only if its centre is cyclic)"
        ));
    }
    if abelian > 0 {
        kinds.push(format!(
            "those of abelian groups ({abelian}), it is a faithful character, which only a cyclic group has, in {abelian_faithful}"
        ));
    }
    let text = match kinds.as_slice() {
        [] => have,
        [first, rest @ ..] => {
            let rest: String = rest.iter().map(|k| format!("; of {k}")).collect();
            format!("{have} Of {first}{rest}.")
        }
    };
    n.set("atlas/irrep/text", text);
}

/// Where and how long the stored atlas runs trained, complete order or
/// not: every stored run (`atlas/cpu/runs`), those whose row names its
/// CPU (`atlas/cpu/recorded`), each CPU model with its runs
/// (`atlas/cpu/models`, "none" when no row records one), and their summed
/// wall-clock hours (`atlas/wall_hours`; one job per core, so core-hours).
pub(crate) fn provenance(atlas: &Atlas, n: &mut Numbers) {
    let runs: usize = atlas.cpus.values().sum();
    n.num("atlas/wall_hours", atlas.wall_hours, 1);
    let recorded: Vec<String> = atlas
        .cpus
        .iter()
        .filter_map(|(cpu, k)| {
            cpu.as_ref()
                .map(|c| format!("{} ({k} runs)", tex(c.trim())))
        })
        .collect();
    n.set("atlas/cpu/runs", runs.to_string());
    n.set(
        "atlas/cpu/recorded",
        (runs - atlas.cpus.get(&None).copied().unwrap_or(0)).to_string(),
    );
    n.set(
        "atlas/cpu/models",
        crate::report::latex::list_or_none(&recorded),
    );
}

/// How the pooled statistic's weight (each order's number of groups)
/// falls: the two orders with the most groups (`atlas/weight/largest`,
/// "32 and 48") and their share of the weight in percent
/// (`atlas/weight/largest_share`); "none" and 0 with fewer than two orders;
/// and what the orders still pending will weigh (`atlas/weight/pending`).
fn weights(atlas: &Atlas, orders: &[crate::analysis::atlas::OrderTau], n: &mut Numbers) {
    let total: usize = orders.iter().map(|o| o.groups).sum();
    let mut largest: Vec<_> = orders.iter().collect();
    // The most groups first; of equal counts, the smaller order.
    largest.sort_by_key(|o| (std::cmp::Reverse(o.groups), o.order));
    largest.truncate(2);
    largest.sort_by_key(|o| o.order);
    let (names, share) = match largest.as_slice() {
        [a, b] => (
            format!("{} and {}", a.order, b.order),
            100.0 * (a.groups + b.groups) as f64 / total as f64,
        ),
        _ => ("none".to_string(), 0.0),
    };
    n.set("atlas/weight/largest", names);
    n.num("atlas/weight/largest_share", share, 0);
    n.set("atlas/weight/pending", pending_weight(atlas, total));
}

/// What the planned orders not yet complete (with at least
/// [`MIN_GROUPS`] groups) will weigh once they are, as a clause that
/// follows the complete orders' weight ("; order 64, with 267 groups, will
/// carry 52\% of it once complete"); empty when none is pending.
fn pending_weight(atlas: &Atlas, complete_groups: usize) -> String {
    let pending: Vec<usize> = atlas
        .pending_orders()
        .into_iter()
        .filter(|&o| crate::groups::small::count(o) >= MIN_GROUPS)
        .collect();
    if pending.is_empty() {
        return String::new();
    }
    let groups: usize = pending
        .iter()
        .map(|&o| crate::groups::small::count(o))
        .sum();
    let share = 100.0 * groups as f64 / (complete_groups + groups) as f64;
    let names = orders_phrase(&pending);
    format!("; {names}, with {groups} groups, will carry {share:.0}\\% of it once complete")
}

/// Where each claim's pooled statistic comes from, per order
/// (`atlas/<claim>/...`): the orders whose tau-b is positive
/// (`orders_positive`) and negative (`orders_negative`), those whose
/// bootstrap interval spans zero or is undefined (`intervals_span_zero`),
/// the orders from 32 up (`orders_from_32`), how many of them have a
/// positive tau-b (`positive_from_32`) and their weighted sum of tau-b
/// (`statistic_from_32`, the part of the statistic they give), and the
/// order with the largest tau-b and its number of groups (`highest`,
/// `highest_groups`).
fn signs(d: &Decision, claim: &str, n: &mut Numbers) {
    let k = |x: &str| format!("atlas/{claim}/{x}");
    let count = |pick: &dyn Fn(&crate::analysis::atlas::OrderTau) -> bool| {
        d.orders.iter().filter(|o| pick(o)).count().to_string()
    };
    n.set(
        k("orders_positive"),
        count(&|o| o.tau_b.is_some_and(|t| t > 0.0)),
    );
    n.set(
        k("orders_negative"),
        count(&|o| o.tau_b.is_some_and(|t| t < 0.0)),
    );
    n.set(
        k("intervals_span_zero"),
        count(&|o| o.interval.is_none_or(|(lo, hi)| lo <= 0.0 && 0.0 <= hi)),
    );
    let large: Vec<_> = d.orders.iter().filter(|o| o.order >= 32).collect();
    n.set(k("orders_from_32"), large.len().to_string());
    n.set(
        k("positive_from_32"),
        large
            .iter()
            .filter(|o| o.tau_b.is_some_and(|t| t > 0.0))
            .count()
            .to_string(),
    );
    let from_32: f64 = large
        .iter()
        .map(|o| o.groups as f64 * o.tau_b.unwrap_or(0.0))
        .sum();
    n.num(k("statistic_from_32"), from_32, 1);
    // The largest tau-b; of equal ones, the smaller order.
    let highest = d
        .orders
        .iter()
        .filter_map(|o| o.tau_b.map(|t| (t, o)))
        .fold(None, |best: Option<(f64, _)>, (t, o)| match best {
            Some((b, _)) if b >= t => best,
            _ => Some((t, o)),
        });
    n.set(
        k("highest"),
        highest.map_or("none".to_string(), |(_, o)| o.order.to_string()),
    );
    n.set(
        k("highest_groups"),
        highest.map_or("0".to_string(), |(_, o)| o.groups.to_string()),
    );
}

/// What the pre-registered test finds, for the abstract (`atlas/summary`,
/// completing "a test fixed before its runs ..."): the one sentence the
/// four agreeing verdicts allow when all are supported, otherwise each
/// verdict.
fn summary(decisions: &[Decision]) -> String {
    if !decisions.is_empty() && decisions.iter().all(|d| d.verdict == Verdict::Supported) {
        return "supports all four of its hypotheses: within an order, a group with a larger \
                abelianisation or commuting probability, or a smaller largest irrep degree or \
                smallest faithful real representation, groks sooner---one finding, closer to \
                abelian groks sooner, seen four ways, since the four invariants move together"
            .to_string();
    }
    let verdicts: Vec<String> = decisions
        .iter()
        .map(|d| format!("{} {}", d.hypothesis.id, d.verdict))
        .collect();
    format!("finds {}", and_list(&verdicts))
}

/// The orders still training, as a clause for the abstract
/// (`atlas/pending`): "; order 64 is still training, so the verdicts are
/// interim", or empty once every planned order is complete.
fn pending(atlas: &Atlas) -> String {
    let pending = atlas.pending_orders();
    let verb = if pending.len() == 1 { "is" } else { "are" };
    if pending.is_empty() {
        String::new()
    } else {
        format!(
            "; {} {verb} still training, so the verdicts are interim",
            orders_phrase(&pending)
        )
    }
}

/// Orders for a sentence: "order 64", "orders 62--64" (not empty).
fn orders_phrase(orders: &[usize]) -> String {
    match orders {
        [o] => format!("order {o}"),
        _ => format!("orders {}", ranges(orders).replace('-', "--")),
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
    let complete = atlas.complete_orders().replace('-', "--");
    n.set("atlas/orders_complete", complete.as_str());
    n.set(
        "atlas/orders_planned",
        ranges(&atlas.planned).replace('-', "--"),
    );
    n.set("atlas/groups", atlas.groups.len().to_string());
    n.set("atlas/runs", runs.to_string());
    n.set("atlas/runs_grokked", grokked.to_string());
    n.set(
        "atlas/status",
        if atlas.is_final() {
            "has finished"
        } else {
            "is still running"
        },
    );
    n.set(
        "atlas/strata",
        decisions.first().map_or(0, |d| d.orders.len()).to_string(),
    );
    weights(atlas, decisions.first().map_or(&[][..], |d| &d.orders), n);
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
        signs(d, claim, n);
    }
    n.set("atlas/summary", summary(&decisions));
    let still_training = pending(atlas);
    // The abstract's "On ..., a test fixed before its runs ...".
    let scope = if atlas.is_final() {
        format!("all {} groups", atlas.groups.len())
    } else {
        format!(
            "the {} groups of its complete orders ({complete}{still_training})",
            atlas.groups.len()
        )
    };
    n.set("atlas/pending", still_training);
    n.set("atlas/scope", scope);
    // Exploratory: the same test on the time to the first crossing.
    let first = decide(&atlas.strata_first_crossing(), SEED);
    for (d, (claim, _)) in first.iter().zip(STATEMENTS) {
        let k = |x: &str| format!("atlas/first/{claim}/{x}");
        n.set(k("verdict"), d.verdict.to_string());
        n.num(k("statistic"), d.statistic, 1);
        n.set(k("p_holm"), stat_p(d.p_holm));
    }

    exploratory(atlas, n);
    irreps(atlas, n);
    provenance(atlas, n);

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
    use crate::report::atlas::tests::group;
    use crate::report::atlas::GrokkedIrrep;

    /// A grokked run whose irrep is (degree, faithful, group abelian,
    /// group has a faithful irrep), or not recorded.
    fn irrep(order: usize, kind: Option<(u32, bool, bool, bool)>) -> GrokkedIrrep {
        GrokkedIrrep {
            order,
            kind: kind.map(
                |(degree, faithful, abelian, group_has_faithful)| IrrepKind {
                    degree,
                    faithful,
                    abelian,
                    group_has_faithful,
                },
            ),
        }
    }

    #[test]
    fn the_weight_goes_to_the_orders_with_the_most_groups() {
        use crate::analysis::atlas::OrderTau;
        let o = |order, groups| OrderTau {
            order,
            groups,
            tau_b: None,
            interval: None,
        };
        let mut n = Numbers::default();
        let atlas = Atlas {
            complete: vec![16, 32, 40, 48],
            planned: vec![16, 32, 40, 48, 63, 64],
            groups: Vec::new(),
            cpus: Default::default(),
            wall_hours: 0.0,
            grokked_irreps: Vec::new(),
        };
        // 51 + 52 of 150 groups; order 16's 14 ties nothing.
        let orders = [o(16, 14), o(32, 51), o(40, 33), o(48, 52)];
        weights(&atlas, &orders, &mut n);
        assert_eq!(n.get("atlas/weight/largest"), Some("32 and 48"));
        assert_eq!(n.get("atlas/weight/largest_share"), Some("69"));
        // Order 64's 267 groups are pending (63's 4 are too few for a
        // stratum): 267 of 417 is 64%.
        assert_eq!(
            n.get("atlas/weight/pending"),
            Some("; order 64, with 267 groups, will carry 64\\% of it once complete")
        );
        let done = Atlas {
            complete: atlas.planned.clone(),
            ..atlas
        };
        weights(&done, &orders, &mut n);
        assert_eq!(n.get("atlas/weight/pending"), Some(""));
    }

    #[test]
    fn the_signs_say_where_a_statistic_comes_from() {
        use crate::analysis::atlas::{OrderTau, Verdict, HYPOTHESES};
        let o = |order, groups, tau_b: Option<f64>, interval| OrderTau {
            order,
            groups,
            tau_b,
            interval,
        };
        let d = Decision {
            hypothesis: HYPOTHESES[2],
            statistic: 0.0,
            p: 1.0,
            p_holm: 1.0,
            p_opposite_holm: 1.0,
            verdict: Verdict::NotDetected,
            orders: vec![
                o(16, 14, Some(-0.3), Some((-0.6, 0.1))),
                o(24, 15, None, None),
                o(32, 51, Some(0.2), Some((0.05, 0.4))),
                o(42, 6, Some(0.5), Some((-0.2, 0.9))),
                o(48, 52, Some(-0.1), Some((-0.3, -0.01))),
            ],
        };
        let mut n = Numbers::default();
        signs(&d, "A3", &mut n);
        for (key, want) in [
            ("orders_positive", "2"),
            ("orders_negative", "2"),
            // 16's and 42's intervals span zero; 24's is undefined.
            ("intervals_span_zero", "3"),
            ("orders_from_32", "3"),
            ("positive_from_32", "2"),
            // 51 * 0.2 + 6 * 0.5 - 52 * 0.1 = 8.0
            ("statistic_from_32", "8.0"),
            ("highest", "42"),
            ("highest_groups", "6"),
        ] {
            assert_eq!(n.get(&format!("atlas/A3/{key}")), Some(want), "{key}");
        }
    }

    #[test]
    fn the_tables_give_each_order_and_the_verdict_row() {
        let mut groups: Vec<AtlasGroup> = (0..5)
            .map(|k| group(8, k as f64, &[Some(1000 * (5 - k)), None]))
            .collect();
        groups.push(group(6, 1.0, &[None, None]));
        let cpus = BTreeMap::from([
            (None, 9),
            (Some("AMD EPYC".to_string()), 2),
            (Some("Intel Xeon".to_string()), 3),
        ]);
        let mut atlas = Atlas {
            complete: vec![6, 8],
            planned: vec![6, 7, 8],
            groups,
            cpus,
            wall_hours: 12.345,
            grokked_irreps: vec![
                irrep(8, Some((2, true, false, true))),
                irrep(8, Some((1, false, false, true))),
                irrep(12, Some((1, false, true, false))),
                irrep(8, Some((1, false, false, false))),
                irrep(8, Some((1, false, true, true))),
                irrep(8, None),
                irrep(12, None),
            ],
        };
        let mut n = Numbers::default();
        let files = tables(&atlas, &mut n);
        // First crossings equal the sustained epochs here: same verdicts.
        for claim in ["A1", "A2", "A3", "A4"] {
            assert_eq!(
                n.get(&format!("atlas/first/{claim}/verdict")),
                n.get(&format!("atlas/{claim}/verdict"))
            );
        }
        assert_eq!(n.get("atlas/first/A1/verdict"), Some("supported"));
        assert_eq!(n.get("atlas/cpu/runs"), Some("14"));
        assert_eq!(n.get("atlas/cpu/recorded"), Some("5"));
        assert_eq!(n.get("atlas/wall_hours"), Some("12.3"));
        for (key, want) in [
            ("grokked", "7"),
            ("analysed", "5"),
            ("orders", "orders 8, 12"),
            ("nonabelian", "3"),
            ("nonabelian_degree1", "2"),
            ("nonabelian_faithful", "1"),
            ("nonabelian_can_be_faithful", "2"),
            ("abelian", "2"),
            ("abelian_faithful", "0"),
        ] {
            assert_eq!(n.get(&format!("atlas/irrep/{key}")), Some(want), "{key}");
        }
        assert_eq!(
            n.get("atlas/irrep/text"),
            Some(
                "5 of the 7 grokked stored runs have it (orders 8, 12; the other runs' directories \
                 were gone before it was recorded). Of those of non-abelian groups (3), the dominant \
                 irrep has degree 1, and so factors through $G/G'$, in 2, and is faithful in 1 of \
                 the 2 whose group has a faithful irrep at all (a 2-group has one only if its centre \
                 is cyclic); of those of abelian groups (2), it is a faithful character, which only \
                 a cyclic group has, in 0."
            )
        );
        // One stratum (order 8): no pair of orders to weigh.
        assert_eq!(n.get("atlas/weight/largest"), Some("none"));
        assert_eq!(
            n.get("atlas/cpu/models"),
            Some("AMD EPYC (2 runs), Intel Xeon (3 runs)")
        );
        // A CPU's name is LaTeX text: its specials escaped.
        let mut named = atlas.clone();
        named.cpus = BTreeMap::from([(Some("A_B 50%".to_string()), 1)]);
        let mut m = Numbers::default();
        provenance(&named, &mut m);
        assert_eq!(m.get("atlas/cpu/models"), Some("A\\_B 50\\% (1 runs)"));
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
        assert_eq!(n.get("atlas/status"), Some("is still running"));
        assert_eq!(
            n.get("atlas/summary"),
            Some("finds A1 supported, A2 contradicted, A3 contradicted and A4 supported")
        );
        assert_eq!(
            n.get("atlas/pending"),
            Some("; order 7 is still training, so the verdicts are interim")
        );
        assert_eq!(n.get("atlas/runs_grokked"), Some("5"));
        assert_eq!(
            n.get("atlas/scope"),
            Some("the 6 groups of its complete orders (6, 8; order 7 is still training, so the verdicts are interim)")
        );
        // Order 7 is pending but has one group, no stratum.
        assert_eq!(n.get("atlas/weight/pending"), Some(""));
        // With nothing pending the verdicts are final and nothing says interim.
        atlas.planned = vec![6, 8];
        let mut n = Numbers::default();
        tables(&atlas, &mut n);
        assert_eq!(n.get("atlas/status"), Some("has finished"));
        assert_eq!(n.get("atlas/pending"), Some(""));
        assert_eq!(n.get("atlas/scope"), Some("all 6 groups"));
        assert_eq!(n.get("atlas/orders_planned"), Some("6, 8"));
    }

    #[test]
    fn the_irrep_sentences_leave_out_a_kind_with_no_analysed_run() {
        let text = |grokked: Vec<GrokkedIrrep>| {
            let atlas = Atlas {
                complete: vec![8],
                planned: vec![8],
                groups: Vec::new(),
                cpus: BTreeMap::new(),
                wall_hours: 0.0,
                grokked_irreps: grokked,
            };
            let mut n = Numbers::default();
            irreps(&atlas, &mut n);
            n.get("atlas/irrep/text").unwrap().to_string()
        };
        assert_eq!(text(vec![]), "No stored run has grokked.");
        assert_eq!(
            text(vec![irrep(8, None), irrep(8, None)]),
            "None of the 2 grokked stored runs has it: their directories were gone before it was recorded."
        );
        assert_eq!(
            text(vec![irrep(8, Some((1, true, true, true)))]),
            "Every grokked stored run (1) has it (order 8). Of those of abelian groups (1), it is a \
             faithful character, which only a cyclic group has, in 1."
        );
        // Non-abelian groups, none with a faithful irrep: no "0 of the 0".
        assert_eq!(
            text(vec![irrep(8, Some((2, false, false, false))), irrep(8, None)]),
            "1 of the 2 grokked stored runs have it (order 8; the other runs' directories were gone \
             before it was recorded). Of those of non-abelian groups (1), the dominant irrep has \
             degree 1, and so factors through $G/G'$, in 0, and none of their groups has a faithful \
             irrep (a 2-group has one only if its centre is cyclic)."
        );
    }

    #[test]
    fn a_cyclic_group_is_compared_with_its_orders_nonabelian_groups() {
        let cyclic = |order, epochs: &[Option<u32>]| AtlasGroup {
            cyclic: true,
            ..group(order, 1.0, epochs)
        };
        let nonabelian = |order, epochs: &[Option<u32>]| AtlasGroup {
            class: GroupClass::Nilpotent,
            ..group(order, 1.0, epochs)
        };
        let atlas = Atlas {
            complete: vec![5, 8, 9],
            planned: vec![5, 8, 9],
            groups: vec![
                // Order 5: no non-abelian group, no comparison.
                cyclic(5, &[None]),
                // Order 8: 1000 against a median of 3000: sooner.
                cyclic(8, &[Some(1000)]),
                nonabelian(8, &[Some(2000)]),
                nonabelian(8, &[Some(4000)]),
                // Order 9 (pretend): 5000 against 4000: not sooner.
                cyclic(9, &[Some(5000)]),
                nonabelian(9, &[Some(4000)]),
            ],
            cpus: Default::default(),
            wall_hours: 0.0,
            grokked_irreps: Vec::new(),
        };
        let mut n = Numbers::default();
        exploratory(&atlas, &mut n);
        assert_eq!(n.get("atlas/cyclic/groups"), Some("3"));
        assert_eq!(n.get("atlas/cyclic/grokked"), Some("2"));
        assert_eq!(n.get("atlas/cyclic/median_time"), Some("3000"));
        assert_eq!(n.get("atlas/cyclic/with_nonabelian"), Some("2"));
        assert_eq!(n.get("atlas/cyclic/sooner"), Some("1"));
        assert_eq!(n.get("atlas/cyclic/all_grok_from"), Some("8"));
    }

    #[test]
    fn the_nilpotency_sentence_lists_each_two_group_order_with_five_groups() {
        // Order 4: two groups, no tau. Orders 8 and 16: five groups each,
        // class rising with time at 8 (tau 1), falling at 16 (tau -1).
        let two_group = |order, class, epochs: &[Option<u32>]| AtlasGroup {
            nilpotency_class: class,
            ..group(order, 1.0, epochs)
        };
        let mut groups = vec![two_group(4, 1, &[Some(100)]), two_group(4, 1, &[None])];
        for k in 0..5u32 {
            groups.push(two_group(8, k as usize + 1, &[Some(1000 * (k + 1))]));
            groups.push(two_group(16, k as usize + 1, &[Some(1000 * (5 - k))]));
        }
        let atlas = Atlas {
            complete: vec![4, 8, 16],
            planned: vec![4, 8, 16],
            groups,
            cpus: Default::default(),
            wall_hours: 0.0,
            grokked_irreps: Vec::new(),
        };
        let mut n = Numbers::default();
        exploratory(&atlas, &mut n);
        assert_eq!(n.get("atlas/nilpotency/4/tau"), None);
        assert_eq!(n.get("atlas/nilpotency/8/tau"), Some("$1.00$"));
        assert_eq!(
            n.get("atlas/nilpotency/taus"),
            Some("$1.00$ at order 8 and $-1.00$ at order 16")
        );
        assert_eq!(and_list(&[]), "none");
        assert_eq!(and_list(&["a".into()]), "a");
        assert_eq!(
            and_list(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
    }

    #[test]
    fn the_abstract_reads_one_finding_only_when_all_four_are_supported() {
        use crate::analysis::atlas::HYPOTHESES;
        let decision = |h, verdict| Decision {
            hypothesis: h,
            statistic: 0.0,
            p: 0.0,
            p_holm: 0.0,
            p_opposite_holm: 1.0,
            verdict,
            orders: Vec::new(),
        };
        let mut all: Vec<Decision> = HYPOTHESES
            .iter()
            .map(|&h| decision(h, Verdict::Supported))
            .collect();
        assert!(summary(&all).starts_with("supports all four"));
        all[2].verdict = Verdict::NotDetected;
        assert_eq!(
            summary(&all),
            "finds A1 supported, A2 supported, A3 not detected and A4 supported"
        );
        // No strata yet: no claim of support.
        assert_eq!(summary(&[]), "finds none");
        let atlas = |complete: Vec<usize>| Atlas {
            complete,
            planned: vec![60, 62, 63, 64],
            groups: Vec::new(),
            cpus: Default::default(),
            wall_hours: 0.0,
            grokked_irreps: Vec::new(),
        };
        assert_eq!(pending(&atlas(vec![60, 62, 63, 64])), "");
        assert_eq!(
            pending(&atlas(vec![60])),
            "; orders 62--64 are still training, so the verdicts are interim"
        );
    }
}
