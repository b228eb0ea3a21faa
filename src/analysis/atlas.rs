//! The grokking atlas' pre-registered test, as fixed before its data: for
//! each hypothesis (an invariant and the direction it should move the time
//! to grok), the statistic is the sum over orders with at least
//! [`MIN_GROUPS`] groups of each order's Kendall tau-b between the
//! invariant and the per-group restricted mean time, weighted by the
//! order's number of groups (an order where tau-b is undefined adds 0);
//! its one-sided p-value comes from permuting the invariant among the
//! groups of each order ([`PERMUTATIONS`] draws, a fixed seed); Holm's
//! correction runs across the hypotheses at family-wise 0.05. *Supported*
//! if the Holm-adjusted p < 0.05; *contradicted* if the same test in the
//! opposite direction gives a Holm-adjusted p < 0.05; otherwise *not
//! detected*, reported with each order's tau-b and a 95% bootstrap
//! interval (groups resampled within the order).
//!
//! The p-value is (1 + #{permuted statistics at least as extreme}) / (1 +
//! draws), the usual Monte Carlo permutation p-value, which never reports
//! 0 (the pre-registration says "permutation p-value" without the +1).
//!
//! ```
//! use grokscope::analysis::atlas::restricted_mean_time;
//! // Two seeds grok at 400 and 600, one never: (400 + 600 + 20000) / 3.
//! assert_eq!(restricted_mean_time(&[Some(400), Some(600), None], 20_000), 7000.0);
//! ```

use super::stats::{holm, kendall_tau_b};
use crate::rng::SplitMix64;

/// Orders with fewer groups than this do not enter the statistic.
pub const MIN_GROUPS: usize = 5;
/// Permutations of the pre-registered p-value.
pub const PERMUTATIONS: usize = 10_000;
/// Bootstrap resamples of each order's interval.
pub const BOOTSTRAP: usize = 2_000;
/// The family-wise level.
pub const ALPHA: f64 = 0.05;

/// The restricted mean time to sustained grok up to `budget` over a
/// group's seeds: a seed that did not grok counts `budget`.
pub fn restricted_mean_time(epochs: &[Option<u32>], budget: u32) -> f64 {
    let sum: f64 = epochs
        .iter()
        .map(|e| f64::from(e.map_or(budget, |e| e.min(budget))))
        .sum();
    sum / epochs.len().max(1) as f64
}

/// How a hypothesis says the invariant moves the time to grok.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Larger invariant, earlier grok: negative association with time.
    Earlier,
    /// Larger invariant, later grok: positive association.
    Later,
}

impl Direction {
    /// +1 when the hypothesis predicts a positive tau with time.
    fn sign(self) -> f64 {
        match self {
            Direction::Earlier => -1.0,
            Direction::Later => 1.0,
        }
    }

    fn opposite(self) -> Self {
        match self {
            Direction::Earlier => Direction::Later,
            Direction::Later => Direction::Earlier,
        }
    }
}

/// One order's groups: each group's invariant and restricted mean time.
#[derive(Debug, Clone, PartialEq)]
pub struct Stratum {
    /// The order.
    pub order: usize,
    /// Per group, the invariant.
    pub invariant: Vec<f64>,
    /// Per group, the restricted mean time.
    pub time: Vec<f64>,
}

/// The stratified statistic: Σ over strata with ≥ [`MIN_GROUPS`] groups of
/// n_s · tau_b (an undefined tau-b adds 0).
pub fn statistic(strata: &[Stratum]) -> f64 {
    strata
        .iter()
        .filter(|s| s.time.len() >= MIN_GROUPS)
        .map(|s| s.time.len() as f64 * kendall_tau_b(&s.invariant, &s.time).unwrap_or(0.0))
        .sum()
}

/// The one-sided permutation p-value of [`statistic`] in `direction`:
/// the invariant permuted among each order's groups `draws` times.
pub fn permutation_p(strata: &[Stratum], direction: Direction, draws: usize, seed: u64) -> f64 {
    let sign = direction.sign();
    let observed = sign * statistic(strata);
    let mut rng = SplitMix64::derived(seed, "atlas-permutation");
    let mut permuted: Vec<Stratum> = strata.to_vec();
    let mut extreme = 0usize;
    for _ in 0..draws {
        for (p, s) in permuted.iter_mut().zip(strata) {
            p.invariant.clone_from(&s.invariant);
            rng.shuffle(&mut p.invariant);
        }
        // A tolerance, so ties of the statistic count as extreme whatever
        // the summation order.
        if sign * statistic(&permuted) >= observed - 1e-9 {
            extreme += 1;
        }
    }
    (1 + extreme) as f64 / (1 + draws) as f64
}

/// One order's tau-b and its bootstrap interval.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OrderTau {
    /// The order.
    pub order: usize,
    /// Its number of groups.
    pub groups: usize,
    /// Kendall's tau-b (`None`: undefined).
    pub tau_b: Option<f64>,
    /// The 2.5% and 97.5% quantiles of tau-b over resamples of the order's
    /// groups (resamples where it is undefined are left out; `None` if all).
    pub interval: Option<(f64, f64)>,
}

/// Each order's tau-b with its 95% bootstrap interval.
pub fn order_taus(strata: &[Stratum], resamples: usize, seed: u64) -> Vec<OrderTau> {
    let mut rng = SplitMix64::derived(seed, "atlas-bootstrap");
    strata
        .iter()
        .map(|s| {
            let n = s.time.len();
            let mut taus: Vec<f64> = (0..resamples)
                .filter_map(|_| {
                    let pick: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
                    let x: Vec<f64> = pick.iter().map(|&i| s.invariant[i]).collect();
                    let y: Vec<f64> = pick.iter().map(|&i| s.time[i]).collect();
                    kendall_tau_b(&x, &y)
                })
                .collect();
            taus.sort_by(f64::total_cmp);
            let q = |p: f64| taus[((taus.len() - 1) as f64 * p).round() as usize];
            OrderTau {
                order: s.order,
                groups: n,
                tau_b: kendall_tau_b(&s.invariant, &s.time),
                interval: (!taus.is_empty()).then(|| (q(0.025), q(0.975))),
            }
        })
        .collect()
}

/// A hypothesis of the atlas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Hypothesis {
    /// `A1` ... `A4`.
    pub id: &'static str,
    /// The invariant, as named in the groups table.
    pub invariant: &'static str,
    /// Its predicted effect.
    pub direction: Direction,
}

/// The four pre-registered hypotheses.
pub const HYPOTHESES: [Hypothesis; 4] = [
    Hypothesis {
        id: "A1",
        invariant: "abelianisation order |G/G'|",
        direction: Direction::Earlier,
    },
    Hypothesis {
        id: "A2",
        invariant: "largest irrep degree b(G)",
        direction: Direction::Later,
    },
    Hypothesis {
        id: "A3",
        invariant: "smallest faithful real representation F1",
        direction: Direction::Later,
    },
    Hypothesis {
        id: "A4",
        invariant: "commuting probability k(G)/|G|",
        direction: Direction::Earlier,
    },
];

/// The verdict words, as pre-registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Holm-adjusted one-sided p < 0.05 in the stated direction.
    Supported,
    /// Holm-adjusted p < 0.05 in the opposite direction.
    Contradicted,
    /// Neither.
    NotDetected,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Supported => "supported",
            Verdict::Contradicted => "contradicted",
            Verdict::NotDetected => "not detected",
        })
    }
}

/// One hypothesis decided.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Decision {
    /// The hypothesis.
    pub hypothesis: Hypothesis,
    /// The stratified statistic.
    pub statistic: f64,
    /// One-sided p in the stated direction, and Holm-adjusted.
    pub p: f64,
    /// Holm-adjusted across the hypotheses.
    pub p_holm: f64,
    /// One-sided p in the opposite direction, Holm-adjusted across the
    /// hypotheses' opposite tests.
    pub p_opposite_holm: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// Each order's tau-b with its interval.
    pub orders: Vec<OrderTau>,
}

/// Decides every hypothesis: `strata[h]` holds hypothesis h's invariant
/// (the times are the same in each).
///
/// # Panics
/// If `strata` does not hold one set per hypothesis.
pub fn decide(strata: &[Vec<Stratum>], seed: u64) -> Vec<Decision> {
    assert_eq!(
        strata.len(),
        HYPOTHESES.len(),
        "one set of strata per hypothesis"
    );
    let p: Vec<f64> = HYPOTHESES
        .iter()
        .zip(strata)
        .map(|(h, s)| permutation_p(s, h.direction, PERMUTATIONS, seed))
        .collect();
    let opposite: Vec<f64> = HYPOTHESES
        .iter()
        .zip(strata)
        .map(|(h, s)| permutation_p(s, h.direction.opposite(), PERMUTATIONS, seed))
        .collect();
    let (p_holm, opposite_holm) = (holm(&p), holm(&opposite));
    HYPOTHESES
        .iter()
        .zip(strata)
        .enumerate()
        .map(|(i, (h, s))| Decision {
            hypothesis: *h,
            statistic: statistic(s),
            p: p[i],
            p_holm: p_holm[i],
            p_opposite_holm: opposite_holm[i],
            verdict: if p_holm[i] < ALPHA {
                Verdict::Supported
            } else if opposite_holm[i] < ALPHA {
                Verdict::Contradicted
            } else {
                Verdict::NotDetected
            },
            orders: order_taus(s, BOOTSTRAP, seed),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stratum(order: usize, invariant: &[f64], time: &[f64]) -> Stratum {
        Stratum {
            order,
            invariant: invariant.to_vec(),
            time: time.to_vec(),
        }
    }

    /// Every permutation of 0..n.
    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![vec![]];
        }
        let mut out = Vec::new();
        for p in permutations(n - 1) {
            for i in 0..n {
                let mut q = p.clone();
                q.insert(i, n - 1);
                out.push(q);
            }
        }
        out
    }

    #[test]
    fn the_permutation_p_value_agrees_with_exhaustive_enumeration() {
        // One order of 5 groups: 120 permutations enumerate the null
        // exactly; 20 000 random draws must land within 0.01 of it.
        let s = [stratum(
            8,
            &[1.0, 2.0, 2.0, 4.0, 8.0],
            &[900.0, 700.0, 800.0, 300.0, 100.0],
        )];
        let observed = -statistic(&s);
        let perms = permutations(5);
        let extreme = perms
            .iter()
            .filter(|p| {
                let x: Vec<f64> = p.iter().map(|&i| s[0].invariant[i]).collect();
                -statistic(&[stratum(8, &x, &s[0].time)]) >= observed - 1e-9
            })
            .count();
        let exact = extreme as f64 / perms.len() as f64;
        let mc = permutation_p(&s, Direction::Earlier, 20_000, 3);
        assert!((mc - exact).abs() < 0.01, "{mc} against {exact}");
        // Strongly in the stated direction: small p; the opposite: large.
        assert!(exact < 0.05, "{exact}");
        assert!(permutation_p(&s, Direction::Later, 2_000, 3) > 0.9);
    }

    #[test]
    fn small_orders_and_undefined_taus_add_nothing() {
        let big = stratum(8, &[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 4.0, 3.0, 2.0, 1.0]);
        // 5 groups, tau = -1: contributes -5.
        assert_eq!(statistic(std::slice::from_ref(&big)), -5.0);
        // Order with 4 groups: left out; every invariant tied: adds 0.
        let small = stratum(6, &[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0, 3.0, 4.0]);
        let tied = stratum(9, &[2.0; 5], &[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(statistic(&[big.clone(), small, tied]), -5.0);
        // The weights are the numbers of groups.
        let six = stratum(
            10,
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        );
        assert_eq!(statistic(&[big, six]), 1.0);
    }

    #[test]
    fn verdicts_follow_the_rule_on_both_sides() {
        // Four orders of 6 groups each, one invariant pattern per
        // hypothesis, against the same times.
        let time = [100.0, 200.0, 300.0, 400.0, 500.0, 600.0];
        let up = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let down = [6.0, 5.0, 4.0, 3.0, 2.0, 1.0];
        let noise = [3.0, 6.0, 1.0, 5.0, 2.0, 4.0];
        let make =
            |x: &[f64]| -> Vec<Stratum> { (0..4).map(|k| stratum(16 + k, x, &time)).collect() };
        // A1 (earlier): down -> supported. A2 (later): down -> contradicted.
        // A3: noise -> not detected. A4 (earlier): up -> contradicted.
        let d = decide(&[make(&down), make(&down), make(&noise), make(&up)], 7);
        let verdicts: Vec<Verdict> = d.iter().map(|x| x.verdict).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Supported,
                Verdict::Contradicted,
                Verdict::NotDetected,
                Verdict::Contradicted
            ]
        );
        assert_eq!(d[0].statistic, -24.0);
        assert_eq!(d[0].orders.len(), 4);
        assert_eq!(d[0].orders[0].tau_b, Some(-1.0));
        // A perfectly ordered order's resamples have tau -1 whenever defined.
        assert_eq!(d[0].orders[0].interval, Some((-1.0, -1.0)));
        assert_eq!(Verdict::NotDetected.to_string(), "not detected");
    }
}
