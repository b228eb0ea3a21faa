//! The verdict on each claim of the reference study as structured values:
//! the claim, the verdict word, the verdicts of earlier versions of its
//! rule, the numbers that decided it and the rule's text. The paper cites
//! the same numbers (`R2/...` in `paper/generated/numbers.tex`), `grokscope
//! claims` prints them and notebook 06 shows them; all three come from
//! [`verdicts`], which runs the rules in [`super::tables::verdicts`].

use super::tables::{compute_all, Numbers};
use super::{Experiments, Result};
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

/// Every claim the rules decide: (id, statement, rule).
pub const CLAIMS: &[(&str, &str, &str)] = &[
    (
        "R2",
        "All four abelian operations (add, sub, mul, ring) grok within 2000 epochs.",
        "Confirmed if every abelian run groks (sustained) by epoch 2000; partly confirmed if all grok but some later; refuted if any never groks.",
    ),
    (
        "R3",
        "The non-abelian groups (S3, D5, A4, S4) memorise but do not grok: commutativity is the boundary.",
        "The suite's non-abelian groups must memorise and not grok (refuted otherwise). The controls then decide: refuted as a commutativity boundary if at least 2/3 of the runs on non-abelian groups of order >= 60 grok; confirmed if those mostly fail (<= 1/3) while at least 2/3 of the runs on cyclic groups of the suite's small orders grok; partly confirmed if both mostly fail; otherwise inconclusive.",
    ),
    (
        "R3long",
        "R3 again, given ten times the epochs.",
        "Budget artefact if at least 2/3 of the runs of any decisive setting (S4, A5, S5 at the suite's settings; A5, S5 at Chughtai et al.'s) sustain-grok; a real boundary if no decisive run groks while at least 2/3 of the runs of each control (Z/24, D12) do; otherwise inconclusive.",
    ),
    (
        "R4",
        "Discrete-log relabelling concentrates multiplication's Fourier spectrum.",
        "Confirmed in direction if the discrete-log order concentrates the multiplication embedding more than raw order at k = 1 and k = 5 in every seed; refuted if it does in at most half; else inconclusive.",
    ),
    (
        "R5",
        "Each non-grokked non-abelian model concentrates on a named irrep.",
        "Per group, the claimed irrep must be the dominant irrep in every seed and hold more than its untrained share in every seed. Confirmed if all four groups pass, refuted if none does, else partly confirmed.",
    ),
    (
        "R6",
        "Cross-operation CKA is uniformly high (>= 0.80): a shared learned substrate.",
        "Reproduced if the mean biased linear CKA of trained seed-matched pairs is >= 0.80; evidence of a learned substrate only if it exceeds the untrained seed-matched and the trained seed-mismatched values by more than 0.05 and the debiased CKA exceeds its permutation null's 95th percentile. Confirmed (both), reproduced but not learned, refuted (neither), else inconclusive.",
    ),
    (
        "R7",
        "Complexity scores (C1, C2) predict the abelian grokking order.",
        "Spearman's rho between a score and the median sustained grok epoch (never grokked: censored, tied last) over the abelian operations, exact one-sided permutation test over operations. Confirmed if C1's or C2's p < 0.05; refuted if both are undefined or rho <= 0; otherwise not decided.",
    ),
    (
        "R8",
        "Across ablations (fraction, weight decay, size), ring groks later than add.",
        "In every ablation setting where both grokked or either failed, compare ring with add (never grokked counts as later). Confirmed if ring is later in every compared setting, refuted if it is later in at most half, else partly confirmed.",
    ),
];

/// The verdict of every claim whose inputs exist in `exp` (a claim whose
/// experiments have no results is left out).
///
/// # Errors
/// A table the rules need that cannot be read.
pub fn verdicts(exp: &Experiments) -> Result<Vec<Verdict>> {
    let (_, numbers) = compute_all(exp)?;
    Ok(from_numbers(&numbers))
}

/// The verdicts held in `numbers` (keys `<claim>/verdict`,
/// `<claim>/verdict_<version>` and `<claim>/<number>`).
pub fn from_numbers(numbers: &Numbers) -> Vec<Verdict> {
    CLAIMS
        .iter()
        .filter_map(|&(claim, statement, rule)| {
            let prefix = format!("{claim}/");
            let verdict = numbers
                .get(&format!("{prefix}verdict"))
                .filter(|v| *v != NOT_MEASURED)?
                .to_string();
            let (mut other_versions, mut values) = (Vec::new(), Vec::new());
            for (key, value) in numbers.iter().filter(|(k, _)| k.starts_with(&prefix)) {
                let key = &key[prefix.len()..];
                match key.strip_prefix("verdict_") {
                    Some(version) => other_versions.push((version.to_string(), value.to_string())),
                    None if key != "verdict" => values.push((key.to_string(), value.to_string())),
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
        })
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
