//! R2: the abelian operations grok within 2000 epochs.

use super::ops::{abelian_ops, OpStats};
use super::Claim;
use crate::report::latex::Numbers;

/// The claim and the rule fixed for it.
pub const CLAIM: Claim = Claim {
    id: "R2",
    statement: "All four abelian operations (add, sub, mul, ring) grok within 2000 epochs.",
    rule: "Confirmed if every abelian run groks (sustained) by epoch 2000; partly confirmed if all grok but some later; refuted if any never groks.",
};

/// R2: confirmed if every abelian run groks by epoch 2000; partly if all
/// grok but some later; refuted if any never groks.
pub fn r2(stats: &[OpStats], n: &mut Numbers) -> &'static str {
    let ab = abelian_ops(stats);
    let runs: Vec<Option<f64>> = ab.iter().flat_map(|s| s.grokked.clone()).collect();
    let grokked = runs.iter().flatten().count();
    let latest = runs.iter().flatten().copied().fold(0.0, f64::max);
    n.set("R2/runs", runs.len().to_string());
    n.set("R2/grokked", grokked.to_string());
    n.num("R2/latest", latest, 0);
    if grokked < runs.len() || runs.is_empty() {
        "refuted"
    } else if latest <= 2000.0 {
        "confirmed"
    } else {
        "partly confirmed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::claims::fixtures::suite;

    #[test]
    fn r2_needs_every_abelian_run_by_epoch_2000() {
        let mut n = Numbers::default();
        assert_eq!(r2(&suite(Some(700.0), None), &mut n), "confirmed");
        assert_eq!(n.get("R2/latest"), Some("700"));
        assert_eq!(r2(&suite(Some(2500.0), None), &mut n), "partly confirmed");
        // The threshold itself: epoch 2000 is in time, 2010 is not.
        assert_eq!(r2(&suite(Some(2000.0), None), &mut n), "confirmed");
        assert_eq!(r2(&suite(Some(2010.0), None), &mut n), "partly confirmed");
        assert_eq!(r2(&suite(None, None), &mut n), "refuted");
        assert_eq!(n.get("R2/grokked"), Some("11"));
        assert_eq!(n.get("R2/runs"), Some("12"));
    }
}
