//! R4: discrete-log relabelling concentrates multiplication's Fourier
//! spectrum.

use super::ops::analysis_of;
use super::Claim;
use crate::analysis::stats::mean_sd;
use crate::report::data::{family, SweepData};
use crate::report::latex::Numbers;
use crate::report::Result;

/// The claim and the rule fixed for it.
pub const CLAIM: Claim = Claim {
    id: "R4",
    statement: "Discrete-log relabelling concentrates multiplication's Fourier spectrum.",
    rule: "Confirmed in direction if the discrete-log order concentrates the multiplication embedding more than raw order at k = 1 and k = 5 in every seed; refuted if it does in at most half; else inconclusive.",
};

/// R4: confirmed in direction if the discrete-log order concentrates the
/// multiplication embedding more than raw order at k = 1 and k = 5 in
/// every seed; refuted if it does in at most half; else inconclusive.
pub fn r4(suite: &SweepData, n: &mut Numbers) -> Result<&'static str> {
    let Some(op) = suite.ops()?.into_iter().find(|o| family(o) == "mul") else {
        return Ok("not measured");
    };
    let rows = suite.analysis_rows()?;
    let (d1, d5) = (
        analysis_of(&rows, &op, |r| r.concentration_k1),
        analysis_of(&rows, &op, |r| r.concentration_k5),
    );
    let (r1, r5) = (
        analysis_of(&rows, &op, |r| r.raw_concentration_k1),
        analysis_of(&rows, &op, |r| r.raw_concentration_k5),
    );
    let (p, pr) = (
        analysis_of(&rows, &op, |r| r.probe_accuracy),
        analysis_of(&rows, &op, |r| r.raw_probe_accuracy),
    );
    for (k, v) in [
        ("dlog_k1", &d1),
        ("dlog_k5", &d5),
        ("raw_k1", &r1),
        ("raw_k5", &r5),
        ("probe_dlog", &p),
        ("probe_raw", &pr),
    ] {
        let (m, sd) = mean_sd(v);
        n.num(format!("R4/{k}"), 100.0 * m, 1);
        n.num(format!("R4/{k}_sd"), 100.0 * sd, 1);
    }
    let ratio = |a: &[f64], b: &[f64]| mean_sd(a).0 / mean_sd(b).0;
    n.num("R4/ratio_k1", ratio(&d1, &r1), 2);
    n.num("R4/ratio_k5", ratio(&d5, &r5), 2);
    let wins = d1
        .iter()
        .zip(&r1)
        .zip(d5.iter().zip(&r5))
        .filter(|((a, b), (c, d))| a > b && c > d)
        .count();
    n.set("R4/seeds_higher", wins.to_string());
    n.set("R4/seeds", d1.len().to_string());
    Ok(r4_decide(wins, d1.len()))
}

/// R4's thresholds: of `seeds` seeds, `wins` concentrate more in
/// discrete-log order at both k.
pub fn r4_decide(wins: usize, seeds: usize) -> &'static str {
    if wins == seeds && seeds > 0 {
        "confirmed in direction"
    } else if 2 * wins <= seeds {
        "refuted"
    } else {
        "inconclusive"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::claims::fixtures::sweep_with;
    use crate::results::rows::AnalysisRow;

    #[test]
    fn r4_counts_a_seed_only_when_both_k_favour_discrete_log_order() {
        // Seed 0 wins at k = 1 and 5; seed 1 wins at k = 1 only; seed 2 at both.
        let analysis = |k5_seed1: f64| {
            [0.95, k5_seed1, 0.95]
                .into_iter()
                .map(|k5| AnalysisRow {
                    op: "mul".into(),
                    concentration_k1: Some(0.9),
                    concentration_k5: Some(k5),
                    raw_concentration_k1: Some(0.1),
                    raw_concentration_k5: Some(0.5),
                    probe_accuracy: Some(1.0),
                    raw_probe_accuracy: Some(0.2),
                    ..Default::default()
                })
                .collect::<Vec<_>>()
        };
        let mut n = Numbers::default();
        let s = sweep_with(&["mul"], analysis(0.4), None);
        assert_eq!(r4(&s, &mut n).unwrap(), "inconclusive");
        assert_eq!(n.get("R4/seeds_higher"), Some("2"));
        let s = sweep_with(&["mul"], analysis(0.6), None);
        assert_eq!(r4(&s, &mut n).unwrap(), "confirmed in direction");
        // A suite without multiplication does not measure R4.
        let s = sweep_with(&["add"], analysis(0.6), None);
        assert_eq!(r4(&s, &mut n).unwrap(), "not measured");
        // The thresholds: all seeds; more than half; at most half.
        assert_eq!(r4_decide(3, 3), "confirmed in direction");
        assert_eq!(r4_decide(2, 3), "inconclusive");
        assert_eq!(r4_decide(2, 4), "refuted");
        assert_eq!(r4_decide(0, 0), "refuted");
    }
}
