//! Time to grok as survival: the Kaplan–Meier estimate of the share of
//! runs not yet grokked (on the sustained criterion) at each epoch, with
//! runs that never grokked censored at their last epoch, the numbers at
//! risk, and the median time to grok with a 95% confidence interval
//! (Brookmeyer–Crowley: the epochs whose pointwise Greenwood interval of
//! S(t) contains 1/2).
//!
//! ```
//! use grokscope::analysis::survival::KaplanMeier;
//! // Three runs grokked at 100, 200, 300; one censored at 250.
//! let km = KaplanMeier::fit(&[(100.0, true), (200.0, true), (250.0, false), (300.0, true)]);
//! assert_eq!(km.steps[0].survival, 0.75);
//! assert_eq!(km.median(), Some(200.0));
//! ```

use std::collections::BTreeMap;

/// One step of the estimate: at `time`, `events` runs grokked out of
/// `at_risk` still ungrokked and uncensored just before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Epoch.
    pub time: f64,
    /// Runs at risk just before `time`.
    pub at_risk: usize,
    /// Runs that grokked at `time`.
    pub events: usize,
    /// Runs censored at `time` (after the events there).
    pub censored: usize,
    /// S(time): the estimated share not yet grokked after `time`.
    pub survival: f64,
    /// Greenwood's variance of S(time).
    pub variance: f64,
}

/// The Kaplan–Meier estimate of a set of runs.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    /// Runs.
    pub n: usize,
    /// One step per distinct time with an event or a censoring.
    pub steps: Vec<Step>,
}

impl KaplanMeier {
    /// Fits (time, grokked) pairs: `grokked = false` is censored at `time`.
    pub fn fit(runs: &[(f64, bool)]) -> Self {
        let mut sorted = runs.to_vec();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut at_risk = sorted.len();
        let (mut s, mut greenwood) = (1.0f64, 0.0f64);
        let mut steps = Vec::new();
        let mut i = 0;
        while i < sorted.len() {
            let t = sorted[i].0;
            let same: Vec<&(f64, bool)> = sorted[i..].iter().take_while(|r| r.0 == t).collect();
            let events = same.iter().filter(|r| r.1).count();
            let censored = same.len() - events;
            if events > 0 {
                s *= 1.0 - events as f64 / at_risk as f64;
                if at_risk > events {
                    greenwood += events as f64 / (at_risk as f64 * (at_risk - events) as f64);
                }
            }
            steps.push(Step {
                time: t,
                at_risk,
                events,
                censored,
                survival: s,
                variance: s * s * greenwood,
            });
            at_risk -= same.len();
            i += same.len();
        }
        Self {
            n: runs.len(),
            steps,
        }
    }

    /// Runs that grokked.
    pub fn events(&self) -> usize {
        self.steps.iter().map(|s| s.events).sum()
    }

    /// The first epoch at which S(t) ≤ 1/2, if the estimate gets there.
    pub fn median(&self) -> Option<f64> {
        self.steps
            .iter()
            .find(|s| s.events > 0 && s.survival <= 0.5)
            .map(|s| s.time)
    }

    /// The 95% interval of the median (Brookmeyer–Crowley with Greenwood's
    /// pointwise interval): the first and last event epochs whose interval
    /// of S contains 1/2, the upper end `None` when the estimate never
    /// falls clearly below 1/2 (not estimable from these runs).
    pub fn median_interval(&self) -> (Option<f64>, Option<f64>) {
        let z = 1.959_963_984_540_054;
        let inside: Vec<&Step> = self
            .steps
            .iter()
            .filter(|s| s.events > 0)
            .filter(|s| {
                let half = z * s.variance.sqrt();
                s.survival - half <= 0.5 && 0.5 <= s.survival + half
            })
            .collect();
        let lower = inside.first().map(|s| s.time);
        // The upper end is where the whole interval first lies below 1/2.
        let upper = self
            .steps
            .iter()
            .filter(|s| s.events > 0)
            .find(|s| s.survival + z * s.variance.sqrt() < 0.5)
            .map(|s| s.time);
        (lower.or(self.median()), upper)
    }
}

/// The verdict of the rule fixed before the long-budget runs for R3
/// ("non-abelian groups fail to grok").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum R3Verdict {
    /// At least two thirds of the runs of one of the decisive
    /// non-abelian settings reached sustained grokking.
    BudgetArtefact,
    /// None of those runs did, while at least two thirds of ring:24's and
    /// of dihedral:12's runs did.
    RealBoundary,
    /// Anything else (including decisive settings without runs yet).
    Inconclusive,
}

impl std::fmt::Display for R3Verdict {
    /// The verdict as `grokscope survival` and `grokscope claims` word it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            R3Verdict::BudgetArtefact => "budget artefact",
            R3Verdict::RealBoundary => "real boundary",
            R3Verdict::Inconclusive => "inconclusive",
        })
    }
}

/// Runs and sustained groks of one setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    /// The setting, e.g. `symmetric:4 (suite, 30 000 epochs)`.
    pub setting: String,
    /// Runs.
    pub runs: usize,
    /// Runs with a sustained grok.
    pub grokked: usize,
}

impl Tally {
    fn two_thirds(&self) -> bool {
        self.runs > 0 && 3 * self.grokked >= 2 * self.runs
    }
}

/// R3 by the rule written before the long-budget data: `decisive` are the
/// tallies of s4, alternating:5 and symmetric:5 at the suite's settings and
/// of alternating:5 and symmetric:5 at Chughtai et al.'s; `controls` those
/// of ring:24 and dihedral:12.
pub fn r3_long_budget(decisive: &[Tally], controls: &[Tally]) -> R3Verdict {
    if decisive.iter().any(Tally::two_thirds) {
        R3Verdict::BudgetArtefact
    } else if !decisive.is_empty()
        && decisive.iter().all(|t| t.runs > 0 && t.grokked == 0)
        && !controls.is_empty()
        && controls.iter().all(Tally::two_thirds)
    {
        R3Verdict::RealBoundary
    } else {
        R3Verdict::Inconclusive
    }
}

/// Two sets of (epoch, grokked) runs compared within one stratum.
pub type Stratum = (Vec<(f64, bool)>, Vec<(f64, bool)>);

/// Gehan's generalised Wilcoxon test of two sets of censored runs, with the
/// exact permutation p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GehanTest {
    /// W = Σ over pairs (a from the first set, b from the second) of +1 when
    /// a certainly grokked later than b, −1 when certainly earlier, 0 when
    /// censoring leaves the order open. W > 0: the first set groks later.
    pub statistic: i64,
    /// Two-sided: the share of the C(n_a + n_b, n_a) relabellings of the
    /// pooled runs whose |W| is at least the observed |W|.
    pub p: f64,
}

/// +1 if run x certainly grokked later than run y (y grokked first, or at
/// the same epoch at which x was censored), −1 for the reverse, else 0.
fn gehan_score(x: (f64, bool), y: (f64, bool)) -> i64 {
    let later = |x: (f64, bool), y: (f64, bool)| y.1 && (x.0 > y.0 || (x.0 == y.0 && !x.1));
    i64::from(later(x, y)) - i64::from(later(y, x))
}

/// Gehan's test of (epoch, grokked) runs `a` against `b`, exact by
/// enumerating every relabelling; `None` when either set is empty or the
/// two together exceed 20 runs (over a million relabellings).
///
/// ```
/// use grokscope::analysis::survival::gehan;
/// // Uncensored, it is the Mann–Whitney test: every a after every b.
/// let a = [(6.0, true), (7.0, true), (8.0, true)];
/// let b = [(1.0, true), (2.0, true), (3.0, true)];
/// let t = gehan(&a, &b).unwrap();
/// assert_eq!(t.statistic, 9);
/// assert!((t.p - 2.0 / 20.0).abs() < 1e-12);
/// ```
pub fn gehan(a: &[(f64, bool)], b: &[(f64, bool)]) -> Option<GehanTest> {
    gehan_stratified(&[(a.to_vec(), b.to_vec())])
}

/// Gehan's test stratified: W is the sum of each stratum's W (runs are
/// compared only within their stratum, e.g. twins of one order), and the
/// permutation null relabels within each stratum, so its distribution is the
/// convolution of the strata's exact distributions. `None` when a stratum has
/// an empty side or more than 20 runs, or there are no strata.
pub fn gehan_stratified(strata: &[Stratum]) -> Option<GehanTest> {
    if strata.is_empty() {
        return None;
    }
    let mut observed = 0;
    let mut null: BTreeMap<i64, f64> = BTreeMap::from([(0, 1.0)]);
    for (a, b) in strata {
        let (w, dist) = gehan_null(a, b)?;
        observed += w;
        let mut next: BTreeMap<i64, f64> = BTreeMap::new();
        for (x, px) in &null {
            for (y, py) in &dist {
                *next.entry(x + y).or_default() += px * py;
            }
        }
        null = next;
    }
    let p = null
        .iter()
        .filter(|(w, _)| w.abs() >= observed.abs())
        .map(|(_, p)| p)
        .sum::<f64>()
        .min(1.0);
    Some(GehanTest {
        statistic: observed,
        p,
    })
}

/// One stratum's observed W and the exact distribution of W over its
/// relabellings (probabilities).
fn gehan_null(a: &[(f64, bool)], b: &[(f64, bool)]) -> Option<(i64, BTreeMap<i64, f64>)> {
    let n = a.len() + b.len();
    if a.is_empty() || b.is_empty() || n > 20 {
        return None;
    }
    let pooled: Vec<(f64, bool)> = a.iter().chain(b).copied().collect();
    let score: Vec<Vec<i64>> = pooled
        .iter()
        .map(|&x| pooled.iter().map(|&y| gehan_score(x, y)).collect())
        .collect();
    let w = |mask: u32| -> i64 {
        let mut total = 0;
        for i in (0..n).filter(|i| mask >> i & 1 == 1) {
            for j in (0..n).filter(|j| mask >> j & 1 == 0) {
                total += score[i][j];
            }
        }
        total
    };
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for mask in (0..(1u32 << n)).filter(|m| m.count_ones() as usize == a.len()) {
        *counts.entry(w(mask)).or_default() += 1;
    }
    let total: usize = counts.values().sum();
    let dist = counts
        .into_iter()
        .map(|(w, c)| (w, c as f64 / total as f64))
        .collect();
    Some((w((1u32 << a.len()) - 1), dist))
}

/// The exact two-sided Mann–Whitney test of `a` against `b` (Gehan's test
/// without censoring), stratified: values are compared only within their
/// stratum. W > 0: the first sets' values are larger.
pub fn mann_whitney_stratified(strata: &[(Vec<f64>, Vec<f64>)]) -> Option<GehanTest> {
    let events = |v: &[f64]| v.iter().map(|&x| (x, true)).collect::<Vec<_>>();
    let strata: Vec<_> = strata.iter().map(|(a, b)| (events(a), events(b))).collect();
    gehan_stratified(&strata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_censoring_it_is_the_empirical_survival() {
        let km = KaplanMeier::fit(&[(10.0, true), (20.0, true), (30.0, true), (40.0, true)]);
        let s: Vec<f64> = km.steps.iter().map(|s| s.survival).collect();
        assert_eq!(s, vec![0.75, 0.5, 0.25, 0.0]);
        assert_eq!(km.median(), Some(20.0));
        assert_eq!(km.steps[2].at_risk, 2);
    }

    #[test]
    fn censored_runs_leave_the_risk_set_without_an_event() {
        // Hand-computed: S(1) = 4/5; censored at 2; S(3) = 4/5 · 2/3.
        let km = KaplanMeier::fit(&[
            (1.0, true),
            (2.0, false),
            (3.0, true),
            (4.0, false),
            (4.0, false),
        ]);
        assert!((km.steps[2].survival - 0.8 * 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(km.steps[2].at_risk, 3);
        assert_eq!(km.events(), 2);
        assert_eq!(km.median(), None, "S never reaches 1/2");
        // Greenwood at t = 1: S² · 1/(5·4).
        assert!((km.steps[0].variance - 0.64 / 20.0).abs() < 1e-12);
    }

    #[test]
    fn no_run_grokked_means_no_median_and_no_interval() {
        let km = KaplanMeier::fit(&[(30000.0, false), (30000.0, false)]);
        assert_eq!(km.median(), None);
        assert_eq!(km.median_interval(), (None, None));
        assert_eq!(km.steps[0].survival, 1.0);
    }

    fn t(runs: usize, grokked: usize) -> Tally {
        Tally {
            setting: String::new(),
            runs,
            grokked,
        }
    }

    #[test]
    fn the_r3_rule_on_both_sides_of_two_thirds() {
        let strong = [t(3, 3), t(3, 3)];
        // 2 of 3 is two thirds: a budget artefact.
        assert_eq!(
            r3_long_budget(&[t(3, 2), t(5, 0)], &strong),
            R3Verdict::BudgetArtefact
        );
        // 1 of 3 is not, and a single grok rules out a real boundary.
        assert_eq!(
            r3_long_budget(&[t(3, 1), t(5, 0)], &strong),
            R3Verdict::Inconclusive
        );
        // None grok and the controls do: a real boundary.
        assert_eq!(
            r3_long_budget(&[t(3, 0), t(5, 0)], &strong),
            R3Verdict::RealBoundary
        );
        // None grok but a control falls below two thirds (3 of 5).
        assert_eq!(
            r3_long_budget(&[t(3, 0)], &[t(5, 4), t(5, 3)]),
            R3Verdict::Inconclusive
        );
        // 4 of 5 controls is enough.
        assert_eq!(
            r3_long_budget(&[t(3, 0)], &[t(5, 4), t(5, 4)]),
            R3Verdict::RealBoundary
        );
        // A decisive setting without runs cannot support a real boundary.
        assert_eq!(
            r3_long_budget(&[t(3, 0), t(0, 0)], &strong),
            R3Verdict::Inconclusive
        );
    }
    #[test]
    fn gehan_without_censoring_matches_the_mann_whitney_table() {
        // W = (pairs with a later) - (pairs with a earlier) = 2U - n_a n_b.
        let a: Vec<(f64, bool)> = [1.0, 2.0, 3.0, 6.0, 7.0]
            .iter()
            .map(|&t| (t, true))
            .collect();
        let b: Vec<(f64, bool)> = [4.0, 5.0, 8.0, 9.0, 10.0]
            .iter()
            .map(|&t| (t, true))
            .collect();
        assert_eq!(gehan(&a, &b).unwrap().statistic, 2 * 4 - 25);
        // Mann & Whitney's (1947) table, n1 = n2 = 5: P(U <= 2) = 4/252, so
        // with U = 2 the two-sided exact p is 8/252.
        let a: Vec<(f64, bool)> = [1.0, 2.0, 3.0, 4.0, 7.0]
            .iter()
            .map(|&t| (t, true))
            .collect();
        let b: Vec<(f64, bool)> = [5.0, 6.0, 8.0, 9.0, 10.0]
            .iter()
            .map(|&t| (t, true))
            .collect();
        let t = gehan(&a, &b).unwrap();
        assert_eq!(t.statistic, 2 * 2 - 25);
        assert!((t.p - 8.0 / 252.0).abs() < 1e-12, "{}", t.p);
        // Complete separation, n1 = n2 = 4: P(U = 0) = 1/70 each side.
        let t = gehan(&a[..4], &b[1..]).unwrap();
        assert!((t.p - 2.0 / 70.0).abs() < 1e-12);
    }

    #[test]
    fn gehan_leaves_pairs_that_censoring_cannot_order_at_zero() {
        // a censored at 5 against b grokked at 3: a is later (+1); against b
        // grokked at 8: unknown (0); a and b both censored: unknown (0).
        assert_eq!(gehan_score((5.0, false), (3.0, true)), 1);
        assert_eq!(gehan_score((5.0, false), (8.0, true)), 0);
        assert_eq!(gehan_score((5.0, false), (5.0, false)), 0);
        assert_eq!(gehan_score((5.0, false), (5.0, true)), 1);
        assert_eq!(gehan_score((5.0, true), (5.0, true)), 0);
        // Every run of each set censored at the budget: nothing to tell apart.
        let never = [(100.0, false); 3];
        let t = gehan(&never, &never).unwrap();
        assert_eq!((t.statistic, t.p), (0, 1.0));
        assert!(gehan(&[], &never).is_none());
    }
    #[test]
    fn stratified_gehan_convolves_the_strata() {
        // Two strata of complete separation (n = 2 + 2 each): each W is ±4
        // with probability 1/6 each; together W = 8 has probability 1/36,
        // and |W| >= 8 has 2/36.
        let a = vec![(3.0, true), (4.0, true)];
        let b = vec![(1.0, true), (2.0, true)];
        let one = gehan(&a, &b).unwrap();
        assert_eq!(one.statistic, 4);
        assert!((one.p - 2.0 / 6.0).abs() < 1e-12);
        let two = gehan_stratified(&[(a.clone(), b.clone()), (a.clone(), b.clone())]).unwrap();
        assert_eq!(two.statistic, 8);
        assert!((two.p - 2.0 / 36.0).abs() < 1e-12);
        // Opposite strata cancel: W = 0, p = 1.
        let cancel = gehan_stratified(&[(a.clone(), b.clone()), (b, a)]).unwrap();
        assert_eq!((cancel.statistic, cancel.p), (0, 1.0));
        let mw = mann_whitney_stratified(&[(vec![0.9, 0.8], vec![0.1, 0.2])]).unwrap();
        assert_eq!(mw, one);
    }
}
