//! Does a model that fails on a group's table still get its abelianisation
//! right? For a test pair (a, b) with prediction c, the coset test asks
//! whether c lies in the coset (a ∘ b)[G, G] of the commutator subgroup:
//! whether the prediction is right in G/[G, G], the largest abelian quotient.
//! A prediction drawn uniformly from G lands there with probability
//! 1/|G/[G, G]|, the chance level.
//!
//! ```
//! use grokscope::{analysis::abelianisation::coset_accuracy, groups::Operation};
//! let op = Operation::parse("s3").unwrap();
//! let g = &op.analysis.group;
//! // Predict the pair's product times a 3-cycle: wrong in G, right in G/[G, G].
//! let r = (0..6).find(|&x| g.element_order(x) == 3).unwrap();
//! let pairs = [(0, 1), (2, 3), (4, 5)];
//! let predicted: Vec<Option<usize>> = pairs.iter().map(|&(a, b)| Some(g.op(g.op(a, b), r))).collect();
//! let c = coset_accuracy(g, &pairs, &predicted);
//! assert_eq!((c.accuracy, c.chance, c.pairs), (1.0, 0.5, 3));
//! ```

use crate::groups::FiniteGroup;

/// The coset test on a set of pairs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CosetAccuracy {
    /// Share of pairs whose prediction is in the right coset of [G, G].
    pub accuracy: f64,
    /// 1/|G/[G, G]|: the share a uniformly random prediction gets.
    pub chance: f64,
    /// Pairs counted.
    pub pairs: usize,
}

/// The coset test of predictions `predicted[i]` for pairs `pairs[i] = (a, b)`,
/// all group elements (indices into `group`'s element order); a prediction
/// that is no element of the group (`None`) is in the wrong coset. An empty
/// set gives accuracy NaN.
///
/// # Panics
/// If the slices differ in length or hold an index outside the group (a
/// caller's bug, not input).
pub fn coset_accuracy(
    group: &FiniteGroup,
    pairs: &[(usize, usize)],
    predicted: &[Option<usize>],
) -> CosetAccuracy {
    assert_eq!(pairs.len(), predicted.len(), "one prediction per pair");
    let coset = group.abelianisation();
    let index = coset.iter().max().map_or(1, |m| m + 1);
    let right = pairs
        .iter()
        .zip(predicted)
        .filter(|(&(a, b), c)| c.is_some_and(|c| coset[group.op(a, b)] == coset[c]))
        .count();
    CosetAccuracy {
        accuracy: right as f64 / pairs.len() as f64,
        chance: 1.0 / index as f64,
        pairs: pairs.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::Operation;

    #[test]
    fn a_transposition_off_is_the_wrong_coset_and_correct_answers_are_right() {
        let op = Operation::parse("s4").unwrap();
        let g = &op.analysis.group;
        let pairs: Vec<(usize, usize)> =
            (0..24).flat_map(|a| (0..24).map(move |b| (a, b))).collect();
        let exact: Vec<Option<usize>> = pairs.iter().map(|&(a, b)| Some(g.op(a, b))).collect();
        assert_eq!(coset_accuracy(g, &pairs, &exact).accuracy, 1.0);
        // An odd permutation (element order 2 outside A4) flips the sign.
        let coset = g.abelianisation();
        let t = (0..24)
            .find(|&x| coset[x] != 0 && g.element_order(x) == 2)
            .unwrap();
        let flipped: Vec<Option<usize>> = exact.iter().map(|c| c.map(|c| g.op(t, c))).collect();
        let c = coset_accuracy(g, &pairs, &flipped);
        assert_eq!((c.accuracy, c.chance, c.pairs), (0.0, 0.5, 576));
        // Predicting every element once for the same pair is chance exactly.
        let same = vec![(5, 17); 24];
        let all: Vec<Option<usize>> = (0..24).map(Some).collect();
        assert_eq!(coset_accuracy(g, &same, &all).accuracy, 0.5);
    }

    #[test]
    fn a_perfect_group_has_one_coset() {
        let op = Operation::parse("alternating:5").unwrap();
        let g = &op.analysis.group;
        let c = coset_accuracy(g, &[(3, 7), (10, 2)], &[Some(0), Some(59)]);
        assert_eq!((c.accuracy, c.chance), (1.0, 1.0));
        // A prediction outside the group is never in the right coset.
        assert_eq!(coset_accuracy(g, &[(3, 7)], &[None]).accuracy, 0.0);
    }
}
