//! R7: complexity scores predict the abelian grokking order (operations
//! as the unit), with the first rule's bootstrap kept for disclosure.

use super::ops::{abelian_ops, OpStats};
use super::Claim;
use crate::report::data::{family, group_of, SweepData};
use crate::report::latex::Numbers;
use crate::report::Result;
use crate::results::rows::ComplexityRow;

/// The claim and the rule fixed for it.
pub const CLAIM: Claim = Claim {
    id: "R7",
    statement: "Complexity scores (C1, C2) predict the abelian grokking order.",
    rule: "Spearman's rho between a score and the median sustained grok epoch (never grokked: censored, tied last) over the abelian operations, exact one-sided permutation test over operations. Confirmed if C1's or C2's p < 0.05; refuted if both are undefined or rho <= 0; otherwise not decided.",
};

/// R7, with operations as the unit (docs/design.md): Spearman's ρ between a
/// score and the median sustained grok epoch (never grokked: censored,
/// tied last) over the abelian operations, with an exact one-sided
/// permutation test over operations. Confirmed if C1's or C2's p < 0.05;
/// refuted if both are undefined (the score ties on every operation) or
/// ρ ≤ 0; otherwise "not decided". The numbers say n and the smallest
/// attainable p, so the paper can say what n operations can decide.
///
/// The rule before this one (`R7/verdict_bootstrap_rule`) took runs as
/// the unit with a bootstrap over seeds: confirmed if C1's or C2's 95%
/// interval lay above 0; it is still computed and reported.
pub fn r7(suite: &SweepData, stats: &[OpStats], n: &mut Numbers) -> Result<&'static str> {
    use crate::analysis::complexity::{median_grok, operation_rank_test};
    // op, scores (C1, C2, F1, F2), median grok epoch
    let mut rows: Vec<(String, [f64; 4], f64)> = Vec::new();
    let groups = suite.groups()?;
    for s in abelian_ops(stats) {
        let sc = group_of(&groups, &s.op)?.scores();
        n.num(format!("R7/{}/C1", s.op), sc.c1, 2);
        n.num(format!("R7/{}/C2", s.op), sc.c2, 4);
        // `stats` carry sustained grok epochs (op_stats_sustained).
        let epochs: Vec<Option<u32>> = s.grokked.iter().map(|g| g.map(|v| v as u32)).collect();
        let median = median_grok(&epochs);
        n.set(
            format!("R7/{}/median", s.op),
            if median.is_finite() {
                format!("{median:.0}")
            } else {
                "never".into()
            },
        );
        rows.push((
            s.op.clone(),
            [sc.c1, sc.c2, sc.f1 as f64, sc.f2.unwrap_or(f64::NAN)],
            median,
        ));
    }
    let n_ops = rows.len();
    n.set("R7/ops/n", n_ops.to_string());
    n.num(
        "R7/ops/min_p",
        1.0 / (1..=n_ops).product::<usize>().max(1) as f64,
        3,
    );
    let mut deciding = Vec::new();
    for (subset, keep) in [("ops", None), ("ops_without_sub", Some("sub"))] {
        let sel: Vec<&(String, [f64; 4], f64)> = rows
            .iter()
            .filter(|r| keep.is_none_or(|k| family(&r.0) != k))
            .collect();
        n.set(format!("R7/{subset}/n"), sel.len().to_string());
        for (j, score) in ["C1", "C2", "F1", "F2"].iter().enumerate() {
            let x: Vec<f64> = sel.iter().map(|r| r.1[j]).collect();
            let y: Vec<f64> = sel.iter().map(|r| r.2).collect();
            let t = operation_rank_test(&x, &y);
            let key = format!("R7/{subset}/{score}");
            match &t {
                Some(t) => {
                    n.num(format!("{key}/rho"), t.rho, 2);
                    n.num(format!("{key}/p"), t.p_value, 3);
                }
                None => {
                    n.set(format!("{key}/rho"), "undefined (tied)");
                    n.set(format!("{key}/p"), "--");
                }
            }
            if subset == "ops" && (*score == "C1" || *score == "C2") {
                deciding.push(t.map(|t| (t.rho, t.p_value)));
            }
        }
    }
    let first = r7_bootstrap(suite, n)?;
    n.set("R7/verdict_bootstrap_rule", first);
    Ok(r7_decide(&deciding))
}

/// R7's thresholds on C1's and C2's rank tests, each (rho, one-sided
/// p) or `None` when the score ties on every operation.
pub fn r7_decide(tests: &[Option<(f64, f64)>]) -> &'static str {
    if tests.iter().flatten().any(|&(_, p)| p < 0.05) {
        "confirmed"
    } else if tests.iter().all(|t| t.is_none_or(|(rho, _)| rho <= 0.0)) {
        "refuted"
    } else {
        "not decided"
    }
}

/// The first R7 rule (runs as the unit, bootstrap over seeds), kept for
/// disclosure: `R7/<subset>/<score>/rho` and `/ci` from the sweep's
/// complexity table.
pub(crate) fn r7_bootstrap(suite: &SweepData, n: &mut Numbers) -> Result<&'static str> {
    if suite.complexity.is_none() {
        return Ok("not measured");
    }
    let rows: Vec<ComplexityRow> = suite.need_rows(&suite.complexity, "complexity")?;
    let mut above = false;
    let mut all_below_or_tied = true;
    for r in &rows {
        let key = format!("R7/{}/{}", r.subset, r.score);
        n.set(
            format!("{key}/rho"),
            r.spearman_rho
                .map_or("undefined (tied)".to_string(), |r| format!("{r:.2}")),
        );
        n.set(
            format!("{key}/ci"),
            match (r.ci_low, r.ci_high) {
                (Some(l), Some(h)) => format!("[{l:.2}, {h:.2}]"),
                _ => "--".into(),
            },
        );
        if r.subset == "abelian" && (r.score == "C1" || r.score == "C2") {
            above |= r.ci_low.is_some_and(|l| l > 0.0);
            all_below_or_tied &= r.spearman_rho.is_none() || r.ci_high.is_some_and(|h| h <= 0.0);
        }
    }
    Ok(if above {
        "confirmed"
    } else if all_below_or_tied {
        "refuted"
    } else {
        "inconclusive"
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn r7_is_confirmed_by_either_score_and_refuted_only_by_both() {
        use super::r7_decide;
        assert_eq!(r7_decide(&[Some((0.9, 0.04)), None]), "confirmed");
        assert_eq!(r7_decide(&[None, Some((0.9, 0.04))]), "confirmed");
        assert_eq!(r7_decide(&[Some((0.9, 0.05)), None]), "not decided");
        assert_eq!(r7_decide(&[Some((0.0, 0.6)), Some((-0.5, 0.9))]), "refuted");
        assert_eq!(
            r7_decide(&[Some((0.1, 0.4)), Some((-0.5, 0.9))]),
            "not decided"
        );
        assert_eq!(r7_decide(&[None, None]), "refuted");
    }
}
