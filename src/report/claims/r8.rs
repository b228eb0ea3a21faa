//! R8: across the ablations, ring groks later than add.

use super::Claim;
use crate::analysis::stats::mean_sd;
use crate::report::data::{group_of, Swept};
use crate::report::experiments::Experiments;
use crate::report::latex::Numbers;
use crate::report::outcome::Criterion;
use crate::report::Result;
use crate::results::rows::{GroupRow, ResultRow};
use std::collections::BTreeMap;

/// The claim and the rule fixed for it.
pub const CLAIM: Claim = Claim {
    id: "R8",
    statement: "Across ablations (fraction, weight decay, size), ring groks later than add.",
    rule: "In every ablation setting where both grokked or either failed, compare ring with add (never grokked counts as later). Confirmed if ring is later in every compared setting, refuted if it is later in at most half, else partly confirmed.",
};

/// R8: in every ablation setting where both groked or either failed,
/// compare ring with add (never-grokked counts as later). Confirmed if
/// ring is later in every compared setting, refuted if it is later in at
/// most half, else partly confirmed. The rule was fixed on first
/// crossings ([`Criterion::FirstCrossing`]); [`r8_sustained`] re-reads it
/// on the sustained criterion.
pub fn r8(exp: &Experiments, criterion: Criterion, n: &mut Numbers) -> Result<&'static str> {
    let mut later = 0;
    let mut compared = 0;
    let mut duplicates = 0;
    // The run ids behind each comparison: ablation settings that reuse
    // the suite's runs (weight decay 1, fraction 0.7, add:113 against
    // ring:100) are one comparison, counted once.
    let mut seen: std::collections::BTreeSet<Vec<String>> = Default::default();
    let mut count = |add: &[(f64, String)], ring: &[(f64, String)]| {
        let g = |v: &[(f64, String)]| v.iter().map(|x| x.0).collect::<Vec<f64>>();
        let (a, r) = (mean_sd(&g(add)).0, mean_sd(&g(ring)).0);
        if add.is_empty() || ring.is_empty() || (a - r).abs() < 1e-9 {
            return; // nothing to compare, or both censored: no order
        }
        let mut ids: Vec<String> = add.iter().chain(ring).map(|x| x.1.clone()).collect();
        ids.sort();
        if !seen.insert(ids) {
            duplicates += 1;
            return;
        }
        compared += 1;
        if r > a {
            later += 1;
        }
    };
    for (sweep, swept) in [
        (&exp.fraction, Swept::TrainFraction),
        (&exp.weight_decay, Swept::WeightDecay),
        (&exp.size, Swept::Order),
    ] {
        let Some(sw) = sweep else { continue };
        let (runs, groups) = (sw.runs()?, sw.groups()?);
        let outcomes = match criterion {
            Criterion::FirstCrossing => sw.outcomes()?,
            Criterion::Sustained => sw.sustained_outcomes()?,
        };
        let rows: Vec<(&ResultRow, &GroupRow)> = runs
            .iter()
            .map(|r| Ok((r, group_of(&groups, &r.op)?)))
            .collect::<Result<_>>()?;
        // The setting each run belongs to: the swept value, or for the
        // size ablation the pair (add:p, nearest ring:n) by order.
        let rings: Vec<i64> = rows
            .iter()
            .filter(|(_, g)| g.family == "ring")
            .map(|(_, g)| i64::from(g.order))
            .collect();
        let setting = |(r, g): &(&ResultRow, &GroupRow)| -> i64 {
            if swept != Swept::Order {
                return (swept.of(r, g) * 1e6).round() as i64;
            }
            let o = i64::from(g.order);
            if g.family == "ring" {
                return o;
            }
            rings
                .iter()
                .copied()
                .min_by_key(|r| (r - o).abs())
                .unwrap_or(o)
        };
        type Side = Vec<(f64, String)>;
        let mut by: BTreeMap<i64, (Side, Side)> = BTreeMap::new();
        for (row, o) in rows.iter().zip(&outcomes) {
            let (r, g) = row;
            let grok = o
                .grok(criterion)
                .epoch()
                .map_or(f64::from(r.epochs) * 10.0, f64::from);
            let e = by.entry(setting(row)).or_default();
            match g.family.as_str() {
                "add" => e.0.push((grok, r.run_id.clone())),
                "ring" => e.1.push((grok, r.run_id.clone())),
                _ => {}
            }
        }
        for (add, ring) in by.values() {
            count(add, ring);
        }
    }
    n.set("R8/duplicates", duplicates.to_string());
    n.set("R8/ring_later", later.to_string());
    n.set("R8/compared", compared.to_string());
    Ok(r8_decide(later, compared))
}

/// R8's thresholds: ring later than add in `later` of `compared`
/// settings.
pub fn r8_decide(later: usize, compared: usize) -> &'static str {
    if compared == 0 {
        "not measured"
    } else if later == compared {
        "confirmed"
    } else if 2 * later <= compared {
        "refuted"
    } else {
        "partly confirmed"
    }
}

/// R8 re-read on the sustained criterion: the same rule on the
/// ablations with each run's sustained grok epoch (`R8/sustained_*`; the
/// verdict stays the first-crossing rule's, as fixed before the runs).
pub fn r8_sustained(exp: &Experiments, n: &mut Numbers) -> Result<()> {
    let mut scratch = Numbers::default();
    let v = r8(exp, Criterion::Sustained, &mut scratch)?;
    n.set("R8/sustained_verdict", v);
    for k in ["ring_later", "compared"] {
        if let Some(x) = scratch.get(&format!("R8/{k}")) {
            n.set(format!("R8/sustained_{k}"), x.to_string());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    #[test]
    fn r8_needs_ring_later_in_every_compared_setting() {
        use super::r8_decide;
        assert_eq!(r8_decide(4, 4), "confirmed");
        assert_eq!(r8_decide(3, 4), "partly confirmed");
        assert_eq!(r8_decide(2, 4), "refuted");
        assert_eq!(r8_decide(0, 0), "not measured");
    }
}
