//! The claims our results answer, one file per rule: the reference
//! study's R2–R8 (and R3 at long budgets) and the atlas' A1–A4. Each file
//! holds its rule's text, its decision function and its tests.
//!
//! The verdict on each claim as structured values: the claim, the verdict
//! word, the verdicts of earlier versions of its rule, the numbers that
//! decided it and the rule's text. The paper cites the same numbers
//! (`R2/...` in `paper/generated/numbers.tex`), `grokscope claims` prints
//! them and notebook 06 shows them.

pub mod atlas;
#[cfg(test)]
mod fixtures;
pub mod ops;
pub mod r2;
pub mod r3;
pub mod r3_long;
pub mod r4;
pub mod r5;
pub mod r6;
pub mod r7;
pub mod r8;

use crate::report::experiments::Experiments;
use crate::report::latex::Numbers;
use crate::report::outcome;
use crate::report::Result;
use serde::Serialize;

/// One claim and how the rule fixed for it decides it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// `R2`, ..., `R8`, and `R3long` (R3 at long budgets).
    pub claim: &'static str,
    /// What the reference study claims.
    pub statement: &'static str,
    /// The verdict word, as the paper states it (`refuted`, `confirmed`,
    /// `partly confirmed`, ...).
    pub verdict: String,
    /// Verdicts of the rule's other versions: (version, verdict), e.g.
    /// (`first_crossing`, `refuted`).
    pub other_versions: Vec<(String, String)>,
    /// The numbers the rule read and wrote, as the paper cites them
    /// (key without the claim prefix, LaTeX text).
    pub numbers: Vec<(String, String)>,
    /// The rule.
    pub rule: &'static str,
}

/// The verdict word of a rule whose experiments have no results.
const NOT_MEASURED: &str = "not measured";

/// A claim and the rule fixed for it before the runs that decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// `R2`, ..., `R8`, `R3long`.
    pub id: &'static str,
    /// What the reference study claims.
    pub statement: &'static str,
    /// The rule.
    pub rule: &'static str,
}

/// Every claim of the reference study the rules decide, in paper order
/// (the atlas' A1–A4 are [`atlas`]'s).
pub const CLAIMS: &[Claim] = &[
    r2::CLAIM,
    r3::CLAIM,
    r3_long::CLAIM,
    r4::CLAIM,
    r5::CLAIM,
    r6::CLAIM,
    r7::CLAIM,
    r8::CLAIM,
];

/// The verdict of every claim whose inputs exist in `exp` (a claim whose
/// experiments have no results is left out), the atlas' A1–A4 last.
///
/// # Errors
/// A table the rules need that cannot be read.
pub fn verdicts(exp: &Experiments) -> Result<Vec<Verdict>> {
    let mut numbers = Numbers::default();
    decide_all(exp, &mut numbers)?;
    let mut out = from_numbers(&numbers);
    if let Some(a) = &exp.atlas {
        out.extend(atlas::verdicts(a));
    }
    Ok(out)
}

/// Runs every rule of the reference study's claims on `exp`, setting each
/// verdict (`<claim>/verdict`, `<claim>/verdict_<version>`) and the numbers
/// it rests on (`<claim>/...`). Every count uses the sustained criterion;
/// first crossings are kept beside it and the first-crossing verdicts
/// disclosed.
///
/// # Errors
/// A table a rule needs that cannot be read.
pub fn decide_all(exp: &Experiments, n: &mut Numbers) -> Result<()> {
    if let Some(suite) = &exp.suite {
        let stats = ops::op_stats_sustained(suite)?;
        let controls = exp
            .controls
            .as_ref()
            .map(ops::op_stats_sustained)
            .transpose()?;
        let v = r2::r2(&stats, n);
        n.set("R2/verdict", v);
        let v = r3::r3(&stats, controls.as_deref(), n);
        n.set("R3/verdict", v);
        r3::first_crossing_verdicts(&stats, controls.as_deref(), n);
        if suite.analysis.is_some() {
            let v = r4::r4(suite, n)?;
            n.set("R4/verdict", v);
            let v = r5::r5(suite, n)?;
            n.set("R5/verdict", v);
            r5::claimed_numbers(&r5::claimed_rows(suite)?, n);
        }
        if suite.cka.is_some() {
            let v = r6::r6(suite, n)?;
            n.set("R6/verdict", v);
        }
        let v = r7::r7(suite, &stats, n)?;
        n.set("R7/verdict", v);
    }
    let v = r8::r8(exp, outcome::Criterion::FirstCrossing, n)?;
    n.set("R8/verdict", v);
    r8::r8_sustained(exp, n)?;
    if !exp.long_budget.is_empty() {
        r3_long::numbers(&exp.long_budget, n);
    }
    Ok(())
}

/// The verdicts held in `numbers` (keys `<claim>/verdict`,
/// `<claim>/verdict_<version>` and `<claim>/<number>`).
pub fn from_numbers(numbers: &Numbers) -> Vec<Verdict> {
    CLAIMS
        .iter()
        .filter_map(
            |&Claim {
                 id: claim,
                 statement,
                 rule,
             }| {
                let prefix = format!("{claim}/");
                let verdict = numbers
                    .get(&format!("{prefix}verdict"))
                    .filter(|v| *v != NOT_MEASURED)?
                    .to_string();
                let (mut other_versions, mut values) = (Vec::new(), Vec::new());
                for (key, value) in numbers.iter().filter(|(k, _)| k.starts_with(&prefix)) {
                    let key = &key[prefix.len()..];
                    match key.strip_prefix("verdict_") {
                        Some(version) => {
                            other_versions.push((version.to_string(), value.to_string()))
                        }
                        None if key != "verdict" => {
                            values.push((key.to_string(), value.to_string()))
                        }
                        None => {}
                    }
                }
                Some(Verdict {
                    claim,
                    statement,
                    verdict,
                    other_versions,
                    numbers: values,
                    rule,
                })
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_gather_their_claims_numbers_and_versions_only() {
        let mut n = Numbers::default();
        n.set("R2/verdict", "refuted");
        n.set("R2/verdict_first_crossing", "confirmed");
        n.set("R2/abelian_grokked", "11");
        n.set("R3long/verdict", "budget artefact");
        n.set("R3long/status", "complete");
        n.set("suite/ops", "8");
        n.set("R8/verdict", "not measured");
        let v = from_numbers(&n);
        assert_eq!(
            v.len(),
            2,
            "claims without a verdict or inputs are left out"
        );
        assert_eq!((v[0].claim, v[0].verdict.as_str()), ("R2", "refuted"));
        assert_eq!(
            v[0].other_versions,
            vec![("first_crossing".to_string(), "confirmed".to_string())]
        );
        assert_eq!(
            v[0].numbers,
            vec![("abelian_grokked".to_string(), "11".to_string())]
        );
        // R3long's numbers are not R3's, and R3 has no verdict here.
        assert_eq!(v[1].claim, "R3long");
        assert_eq!(
            v[1].numbers,
            vec![("status".to_string(), "complete".to_string())]
        );
    }
}
