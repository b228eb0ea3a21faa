//! General statistics the analyses share: Kendall's tau-b and Holm's
//! step-down adjustment. Each is tested against hand-worked values.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
