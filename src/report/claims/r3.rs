//! R3: the suite's non-abelian groups memorise but do not grok, and the
//! controls decide whether commutativity is the boundary; the first-crossing
//! versions of R2 and R3 kept for disclosure.

use super::ops::{non_abelian_ops, OpStats};
use super::r2::r2;
use super::Claim;
use crate::report::data::family;
use crate::report::latex::Numbers;

/// The claim and the rule fixed for it.
pub const CLAIM: Claim = Claim {
    id: "R3",
    statement: "The non-abelian groups (S3, D5, A4, S4) memorise but do not grok: commutativity is the boundary.",
    rule: "The suite's non-abelian groups must memorise and not grok (refuted otherwise). The controls then decide: refuted as a commutativity boundary if at least 2/3 of the runs on non-abelian groups of order >= 60 grok; confirmed if those mostly fail (<= 1/3) while at least 2/3 of the runs on cyclic groups of the suite's small orders grok; partly confirmed if both mostly fail; otherwise inconclusive.",
};

/// R3: the suite's non-abelian groups must memorise and not grok
/// (refuted otherwise). The controls then decide whether the boundary is
/// commutativity: refuted as a commutativity boundary if at least 2/3 of
/// the runs on non-abelian groups of order >= 60 grok (size explains it);
/// confirmed if they mostly fail (<= 1/3) while at least 2/3 of the runs
/// on cyclic groups of the suite's small orders grok; partly confirmed if
/// both mostly fail (the observation holds at every size tried, but at
/// the suite's orders cyclic groups fail too, so those cannot separate
/// commutativity from size); otherwise inconclusive. (The first version
/// called any failure of the small cyclic controls a refutation, even
/// when the large non-abelian controls failed as well.)
pub fn r3(stats: &[OpStats], controls: Option<&[OpStats]>, n: &mut Numbers) -> &'static str {
    let na = non_abelian_ops(stats);
    let runs = na.iter().map(|s| s.n()).sum::<usize>();
    let memorised = na
        .iter()
        .map(|s| s.memorised.iter().flatten().count())
        .sum::<usize>();
    let grokked = na.iter().map(|s| s.n_grokked()).sum::<usize>();
    n.set("R3/runs", runs.to_string());
    n.set("R3/memorised", memorised.to_string());
    n.set("R3/grokked", grokked.to_string());
    if grokked > 0 {
        return "refuted";
    }
    let Some(c) = controls else {
        return "inconclusive (controls not run)";
    };
    let rate = |pick: &dyn Fn(&OpStats) -> bool| {
        let sel: Vec<&OpStats> = c.iter().filter(|s| pick(s)).collect();
        let total: usize = sel.iter().map(|s| s.n()).sum();
        let g: usize = sel.iter().map(|s| s.n_grokked()).sum();
        (g, total)
    };
    let small_cyclic = rate(&|s| s.abelian && s.order <= 24 && family(&s.op) == "ring");
    let large_na = rate(&|s| !s.abelian && s.order >= 60);
    n.set("R3/small_cyclic_grokked", small_cyclic.0.to_string());
    n.set("R3/small_cyclic_runs", small_cyclic.1.to_string());
    n.set("R3/large_nonabelian_grokked", large_na.0.to_string());
    n.set("R3/large_nonabelian_runs", large_na.1.to_string());
    let frac = |(g, t): (usize, usize)| {
        if t == 0 {
            f64::NAN
        } else {
            g as f64 / t as f64
        }
    };
    let (sc, ln) = (frac(small_cyclic), frac(large_na));
    // The rule's first version, kept so the paper can state the verdict
    // each version gives on the same data.
    let first = if sc <= 1.0 / 3.0 || ln >= 2.0 / 3.0 {
        "refuted as a commutativity boundary"
    } else if sc >= 2.0 / 3.0 && ln <= 1.0 / 3.0 {
        "confirmed"
    } else {
        "inconclusive"
    };
    n.set("R3/verdict_first_rule", first);
    if ln >= 2.0 / 3.0 {
        "refuted as a commutativity boundary"
    } else if ln <= 1.0 / 3.0 && sc >= 2.0 / 3.0 {
        "confirmed"
    } else if ln <= 1.0 / 3.0 && sc <= 1.0 / 3.0 {
        "partly confirmed"
    } else {
        "inconclusive"
    }
}

/// R2 and R3 as their rules were fixed, on first crossings of 0.99:
/// `R2/verdict_first_crossing`, `R2/first_crossing_grokked`,
/// `R3/verdict_first_crossing`, `R3/first_crossing_small_cyclic_grokked`.
pub fn first_crossing_verdicts(suite: &[OpStats], controls: Option<&[OpStats]>, n: &mut Numbers) {
    // The same stats with each run's first crossing as its grok epoch.
    let crossing = |stats: &[OpStats]| -> Vec<OpStats> {
        stats
            .iter()
            .map(|s| OpStats {
                grokked: s.first_crossing.clone(),
                ..s.clone()
            })
            .collect()
    };
    let stats = crossing(suite);
    let controls = controls.map(crossing);
    let mut scratch = Numbers::default();
    n.set("R2/verdict_first_crossing", r2(&stats, &mut scratch));
    n.set(
        "R3/verdict_first_crossing",
        r3(&stats, controls.as_deref(), &mut scratch),
    );
    for (from, to) in [
        ("R2/grokked", "R2/first_crossing_grokked"),
        ("R2/latest", "R2/first_crossing_latest"),
        (
            "R3/small_cyclic_grokked",
            "R3/first_crossing_small_cyclic_grokked",
        ),
    ] {
        if let Some(v) = scratch.get(from) {
            n.set(to, v.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::claims::fixtures::stats;
    use crate::report::claims::fixtures::{controls, suite};

    #[test]
    fn r3_separates_size_from_commutativity_with_the_controls() {
        let mut n = Numbers::default();
        let s = suite(None, None);
        assert_eq!(
            r3(&suite(None, Some(900.0)), Some(&controls(3, 0)), &mut n),
            "refuted"
        );
        assert_eq!(r3(&s, None, &mut n), "inconclusive (controls not run)");
        assert_eq!(r3(&s, Some(&controls(3, 0)), &mut n), "confirmed");
        assert_eq!(n.get("R3/verdict_first_rule"), Some("confirmed"));
        assert_eq!(r3(&s, Some(&controls(1, 1)), &mut n), "partly confirmed");
        // The first version of the rule called this a refutation.
        assert_eq!(
            n.get("R3/verdict_first_rule"),
            Some("refuted as a commutativity boundary")
        );
        assert_eq!(n.get("R3/small_cyclic_grokked"), Some("1"));
        assert_eq!(n.get("R3/large_nonabelian_runs"), Some("3"));
        assert_eq!(
            r3(&s, Some(&controls(0, 2)), &mut n),
            "refuted as a commutativity boundary"
        );
        let mut half = controls(3, 1);
        half.push(stats(
            "symmetric:5",
            120,
            false,
            &[Some(900.0), Some(900.0), None],
        ));
        assert_eq!(r3(&s, Some(&half), &mut n), "inconclusive");
    }
}
