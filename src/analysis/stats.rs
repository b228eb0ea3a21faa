//! General statistics the analyses and the report share: mean and
//! standard deviation, Wilson intervals, binomial tails, Kendall's tau-b,
//! Holm's step-down adjustment, and the seed-level reading of per-seed accuracies
//! against chance (a sign test over seeds, the unit that is independent).
//! Each is tested against hand-worked values.
//!
//! ```
//! use grokscope::analysis::stats::{holm, kendall_tau_b};
//! assert_eq!(kendall_tau_b(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
//! assert_eq!(holm(&[0.25, 0.5]), vec![0.5, 0.5]);
//! ```

/// Kendall's tau-b of paired samples (ties corrected):
/// (C − D) / √((n₀ − n₁)(n₀ − n₂)), with C and D the concordant and
/// discordant pairs, n₀ = n(n−1)/2 and n₁, n₂ the pairs tied in x and in
/// y. `None` when it is undefined: fewer than two pairs, or every value of
/// x or of y tied.
///
/// # Panics
/// If `x` and `y` differ in length.
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Option<f64> {
    assert_eq!(x.len(), y.len(), "kendall_tau_b: paired samples");
    let n = x.len();
    let (mut s, mut tied_x, mut tied_y) = (0i64, 0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            let dx = (x[i] - x[j]).partial_cmp(&0.0)? as i64;
            let dy = (y[i] - y[j]).partial_cmp(&0.0)? as i64;
            s += dx * dy;
            tied_x += i64::from(dx == 0);
            tied_y += i64::from(dy == 0);
        }
    }
    let n0 = (n * n.saturating_sub(1) / 2) as i64;
    let denom = ((n0 - tied_x) as f64 * (n0 - tied_y) as f64).sqrt();
    (denom > 0.0).then(|| s as f64 / denom)
}

/// Holm's step-down adjustment of `p` (family-wise error control): the
/// i-th smallest p-value becomes max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎).
/// Returned in the order given.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let mut out = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// The median of the finite values of `v` (the mean of the middle two for
/// an even count); NaN when there are none.
pub fn median(v: &[f64]) -> f64 {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// One-sided sign test: P(X ≥ k) for X ~ Binomial(n, 1/2), exactly.
pub fn sign_test_p(k: usize, n: usize) -> f64 {
    // C(n, i) / 2^n summed from i = k, term by term in f64 (n is a handful
    // of seeds; exact to rounding for n well past 1000).
    let mut term = 0.5f64.powi(n as i32); // C(n, 0) / 2^n
    let mut total = if k == 0 { term } else { 0.0 };
    for i in 1..=n {
        term *= (n - i + 1) as f64 / i as f64;
        if i >= k {
            total += term;
        }
    }
    total.min(1.0)
}

/// Per-seed accuracies against a chance rate, read with the seed as the
/// unit: pairs of one model are not independent, seeds are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedLevel {
    /// Seeds with at least one pair.
    pub seeds: usize,
    /// Seeds whose rate is above chance, and below it (a seed exactly at
    /// chance counts in neither and is dropped from the sign test).
    pub above: usize,
    /// See `above`.
    pub below: usize,
    /// The lowest and highest per-seed rate.
    pub min: f64,
    /// See `min`.
    pub max: f64,
    /// One-sided sign-test p that seeds sit above chance, and below it.
    pub p_above: f64,
    /// See `p_above`.
    pub p_below: f64,
    /// One-sided one-sample t-test p of the per-seed rates against chance
    /// (above, below; seeds − 1 degrees of freedom); `None` with fewer than
    /// two seeds or no spread between them.
    pub t_p: Option<(f64, f64)>,
}

/// One-sided one-sample t-test of `x` against `mu`: (p that the mean is
/// above `mu`, p that it is below); `None` with fewer than two values or
/// none of them different.
pub fn t_test_p(x: &[f64], mu: f64) -> Option<(f64, f64)> {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    let n = x.len();
    if n < 2 {
        return None;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    // Equal values leave rounding noise, not a spread.
    if var <= 1e-24 * mean.abs().max(1.0).powi(2) {
        return None;
    }
    let t = (mean - mu) / (var / n as f64).sqrt();
    let dist = StudentsT::new(0.0, 1.0, (n - 1) as f64).ok()?;
    Some((dist.sf(t), dist.cdf(t)))
}

/// The seed-level reading of per-seed `(correct, pairs)` against `chance`;
/// `None` when no seed has a pair.
pub fn seed_level(counts: &[(usize, usize)], chance: f64) -> Option<SeedLevel> {
    let rates: Vec<f64> = counts
        .iter()
        .filter(|(_, t)| *t > 0)
        .map(|&(c, t)| c as f64 / t as f64)
        .collect();
    if rates.is_empty() {
        return None;
    }
    let above = rates.iter().filter(|&&r| r > chance).count();
    let below = rates.iter().filter(|&&r| r < chance).count();
    let untied = above + below;
    Some(SeedLevel {
        seeds: rates.len(),
        above,
        below,
        min: rates.iter().copied().fold(f64::INFINITY, f64::min),
        max: rates.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        p_above: sign_test_p(above, untied),
        p_below: sign_test_p(below, untied),
        t_p: t_test_p(&rates, chance),
    })
}

/// Mean, minimum and maximum of values (mean 0, minimum +inf and maximum
/// -inf for none).
pub fn mean_min_max(v: &[f64]) -> (f64, f64, f64) {
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (mean, min, max)
}

/// Mean and sample standard deviation.
pub fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n.max(1.0);
    let sd = if v.len() > 1 {
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (m, sd)
}

/// The Wilson score interval for k successes in n trials at 95%
/// (z = 1.959964): (0, 0) for n = 0.
pub fn wilson(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 0.0);
    }
    let z = 1.959_963_984_540_054_f64;
    let (nf, p) = (n as f64, k as f64 / n as f64);
    let d = 1.0 + z * z / nf;
    let centre = (p + z * z / (2.0 * nf)) / d;
    let half = z * (p * (1.0 - p) / nf + z * z / (4.0 * nf * nf)).sqrt() / d;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// P(X ≤ k) and P(X ≥ k) for X ~ Binomial(n, p), summed in log space.
pub fn binomial_tails(k: usize, n: usize, p: f64) -> (f64, f64) {
    // ln P(X = i) for every i, by the ratio of consecutive terms.
    let mut ln = Vec::with_capacity(n + 1);
    let mut cur = n as f64 * (1.0 - p).ln();
    ln.push(cur);
    for i in 1..=n {
        cur += ((n - i + 1) as f64 / i as f64).ln() + (p / (1.0 - p)).ln();
        ln.push(cur);
    }
    let sum = |terms: &[f64]| {
        let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if m == f64::NEG_INFINITY {
            0.0
        } else {
            (terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln() + m)
                .exp()
                .min(1.0)
        }
    };
    (sum(&ln[..=k.min(n)]), sum(&ln[k.min(n)..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_of_the_finite_values() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[f64::NAN, 5.0, 1.0]), 3.0);
        assert!(median(&[f64::NAN]).is_nan());
    }

    #[test]
    fn the_sign_test_and_seed_level_reading_match_hand_counts() {
        // n = 5: P(X >= 5) = 1/32, P(X >= 4) = 6/32, P(X >= 0) = 1.
        assert!((sign_test_p(5, 5) - 1.0 / 32.0).abs() < 1e-15);
        assert!((sign_test_p(4, 5) - 6.0 / 32.0).abs() < 1e-15);
        assert!((sign_test_p(0, 5) - 1.0).abs() < 1e-15);
        // n = 3, all three: 1/8 -- three seeds can never reach 0.05.
        assert!((sign_test_p(3, 3) - 0.125).abs() < 1e-15);
        // n = 0: nothing to test, p = 1.
        assert_eq!(sign_test_p(0, 0), 1.0);
        // Seeds 3/10, 6/10, 5/10, 9/10 and one without pairs, chance 0.5:
        // rates 0.3, 0.6, 0.5, 0.9; above 2, below 1, one tie dropped: n = 3.
        let s = seed_level(&[(3, 10), (6, 10), (5, 10), (9, 10), (0, 0)], 0.5).unwrap();
        assert_eq!((s.seeds, s.above, s.below), (4, 2, 1));
        assert_eq!((s.min, s.max), (0.3, 0.9));
        assert!((s.p_above - 0.5).abs() < 1e-15, "P(X >= 2 | 3) = 4/8");
        assert!((s.p_below - 0.875).abs() < 1e-15, "P(X >= 1 | 3) = 7/8");
        assert_eq!(seed_level(&[(0, 0)], 0.5), None);
        // t = (0.575 - 0.5) / (sd / 2): sd of (0.3, 0.6, 0.5, 0.9) is
        // 0.25 exactly, so t = 0.6 on 3 degrees of freedom.
        let (above, below) = s.t_p.unwrap();
        assert!((above + below - 1.0).abs() < 1e-12);
        // pt(0.6, 3, lower.tail = FALSE) = 0.29540 (numerical integration
        // of the t density in an independent script).
        assert!((above - 0.295_40).abs() < 1e-4, "{above}");
    }

    #[test]
    fn the_t_test_matches_published_critical_values() {
        // Student's t tables: the one-sided 5% points are 2.920 (2 df),
        // 2.132 (4 df) and 1.833 (9 df). A sample with mean = t * sd / sqrt(n)
        // above mu has p = 0.05.
        for (n, crit) in [(3usize, 2.919_986), (5, 2.131_847), (10, 1.833_113)] {
            // Values symmetric about the mean with sample sd exactly 1:
            // half at -a, half at +a (and 0 for odd n), scaled.
            let half = n / 2;
            let mut x: Vec<f64> = Vec::new();
            x.extend(std::iter::repeat_n(-1.0, half));
            x.extend(std::iter::repeat_n(1.0, half));
            if n % 2 == 1 {
                x.push(0.0);
            }
            let sd = (x.iter().map(|v| v * v).sum::<f64>() / (n - 1) as f64).sqrt();
            let shift = crit * sd / (n as f64).sqrt();
            let shifted: Vec<f64> = x.iter().map(|v| v + shift).collect();
            let (above, _) = t_test_p(&shifted, 0.0).unwrap();
            assert!((above - 0.05).abs() < 1e-5, "n {n}: {above}");
        }
        assert_eq!(t_test_p(&[0.7, 0.7, 0.7], 0.5), None, "no spread");
        assert_eq!(t_test_p(&[0.7], 0.5), None, "one seed");
    }

    #[test]
    fn tau_b_matches_hand_worked_examples_with_ties() {
        // x = (1, 2, 2, 3), y = (1, 3, 2, 3). Pairs (i<j): (1,2) dx+ dy+ C;
        // (1,3) + + C; (1,4) + + C; (2,3) dx 0 (tie in x); (2,4) + dy 0
        // (tie in y); (3,4) + + C. C = 4, D = 0, n0 = 6, n1 = 1, n2 = 1:
        // tau_b = 4 / sqrt(5 * 5) = 0.8.
        let t = kendall_tau_b(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 3.0]).unwrap();
        assert!((t - 0.8).abs() < 1e-12, "{t}");
        // x = (1, 2, 3, 4, 5), y = (2, 1, 4, 3, 5): D = 2 of 10, tau = 0.6.
        let t = kendall_tau_b(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap();
        assert!((t - 0.6).abs() < 1e-12, "{t}");
        // x with a tie against y all distinct: x = (1, 1, 2), y = (1, 2, 3):
        // C = 2, D = 0, n0 = 3, n1 = 1: 2 / sqrt(2 * 3).
        let t = kendall_tau_b(&[1.0, 1.0, 2.0], &[1.0, 2.0, 3.0]).unwrap();
        assert!((t - 2.0 / 6f64.sqrt()).abs() < 1e-12, "{t}");
        // Undefined: all tied, or too short.
        assert_eq!(kendall_tau_b(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
        assert_eq!(kendall_tau_b(&[1.0], &[2.0]), None);
        // Symmetric, and antisymmetric under reversing one variable.
        let (x, y) = (
            [3.0, 1.0, 4.0, 1.0, 5.0, 9.0],
            [2.0, 6.0, 5.0, 3.0, 5.0, 8.0],
        );
        let neg: Vec<f64> = y.iter().map(|v| -v).collect();
        let t = kendall_tau_b(&x, &y).unwrap();
        assert!((kendall_tau_b(&y, &x).unwrap() - t).abs() < 1e-12);
        assert!((kendall_tau_b(&x, &neg).unwrap() + t).abs() < 1e-12);
    }

    #[test]
    fn holm_matches_a_worked_example() {
        // p = (0.01, 0.04, 0.03, 0.005), m = 4. Sorted: 0.005 (×4 = 0.02),
        // 0.01 (×3 = 0.03), 0.03 (×2 = 0.06), 0.04 (×1 = 0.04 -> running
        // maximum 0.06).
        let adj = holm(&[0.01, 0.04, 0.03, 0.005]);
        let want = [0.03, 0.06, 0.06, 0.02];
        for (a, w) in adj.iter().zip(want) {
            assert!((a - w).abs() < 1e-12, "{adj:?}");
        }
        // Capped at 1.
        assert_eq!(holm(&[0.6, 0.9]), vec![1.0, 1.0]);
    }

    #[test]
    fn wilson_intervals_match_newcombes_published_examples() {
        // Newcombe (1998), Statistics in Medicine 17:857, Table I: 81/263
        // gives 0.2553-0.3662, 15/148 gives 0.0624-0.1605; 0/20 has upper
        // bound z²/(n + z²) = 0.1611.
        for (k, n, lo, hi) in [
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
        ] {
            let (a, b) = wilson(k, n);
            assert!(
                (a - lo).abs() < 5e-5 && (b - hi).abs() < 5e-5,
                "{k}/{n}: {a} {b}"
            );
        }
    }

    #[test]
    fn binomial_tails_match_hand_computed_values() {
        // n = 4, p = 1/2: P(X <= 1) = 5/16, P(X >= 1) = 15/16.
        let (lo, hi) = binomial_tails(1, 4, 0.5);
        assert!((lo - 5.0 / 16.0).abs() < 1e-12 && (hi - 15.0 / 16.0).abs() < 1e-12);
        // scipy.stats.binom.cdf(0, 64, 1/10) = 0.9**64 = 1.179e-3.
        let (lo, _) = binomial_tails(0, 64, 0.1);
        assert!((lo - 0.9f64.powi(64)).abs() < 1e-15);
        // A deep upper tail; the value is an independent lgamma sum in Python:
        // sum(exp(lgamma(n+1)-lgamma(i+1)-lgamma(n-i+1)+i*log(p)+(n-i)*log(1-p))
        //     for i in range(113, n+1)) with n = 3072, p = 1/60.
        let (_, hi) = binomial_tails(113, 3072, 1.0 / 60.0);
        assert!((hi / 3.501302693846007e-14 - 1.0).abs() < 1e-9, "{hi}");
        // Both tails together count P(X = k) twice.
        let (lo, hi) = binomial_tails(7, 430, 1.0 / 24.0);
        let (lo6, _) = binomial_tails(6, 430, 1.0 / 24.0);
        assert!((lo + hi - 1.0 - (lo - lo6)).abs() < 1e-12);
    }
}
