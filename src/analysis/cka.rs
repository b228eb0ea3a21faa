//! Centered kernel alignment (Kornblith et al. 2019) on row-paired matrices
//! X (n × p), Y (n × q): linear CKA, RBF CKA (bandwidth = median pairwise
//! distance × factor) and debiased linear CKA (the unbiased HSIC of Song et
//! al. 2012), each with a permutation null (rows of Y shuffled).
//!
//! Small n inflates biased CKA: for independent 6 × 64 Gaussian matrices it
//! is about 0.9. That is why every value here comes with its null, and why
//! the debiased estimator exists (its null mean is about 0).
//!
//! ```
//! use grokscope::analysis::cka::{cka, Estimator, Kernel};
//! use nalgebra::DMatrix;
//! let x = DMatrix::from_fn(10, 3, |i, j| ((i * 7 + j * 3) % 5) as f64);
//! let v = cka(&x, &(&x * 2.0), Kernel::Linear, Estimator::Biased).unwrap();
//! assert!((v - 1.0).abs() < 1e-12);
//! ```

use super::AnalysisError;
use crate::rng::SplitMix64;
use nalgebra::DMatrix;

/// Which kernel builds the Gram matrices.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum Kernel {
    /// K = X Xᵀ.
    Linear,
    /// K_ij = exp(−‖x_i − x_j‖² / (2σ²)), σ = factor × median pairwise distance.
    Rbf {
        /// Multiplier of the median distance.
        factor: f64,
    },
}

/// Which HSIC estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Estimator {
    /// tr(K H L H): the usual CKA.
    Biased,
    /// The unbiased HSIC (Song et al. 2012); needs n >= 4.
    Debiased,
}

/// A CKA value with its permutation null.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CkaWithNull {
    /// CKA of X and Y.
    pub value: f64,
    /// Mean CKA over row-shuffled Y.
    pub null_mean: f64,
    /// 95th percentile of the null.
    pub null_p95: f64,
    /// (1 + #{null >= value}) / (1 + draws).
    pub p_value: f64,
    /// Number of shuffles.
    pub draws: usize,
}

fn check(x: &DMatrix<f64>, y: &DMatrix<f64>, est: Estimator) -> Result<usize, AnalysisError> {
    if x.nrows() != y.nrows() {
        return Err(AnalysisError::RowMismatch {
            x: x.nrows(),
            y: y.nrows(),
        });
    }
    let n = x.nrows();
    let (min, what) = match est {
        Estimator::Biased => (2, "CKA"),
        Estimator::Debiased => (4, "debiased CKA"),
    };
    if n < min {
        return Err(AnalysisError::TooFewRows { what, min, n });
    }
    Ok(n)
}

/// The Gram matrix of the rows of `x`.
///
/// # Errors
/// RBF on rows that are all equal (no bandwidth).
pub fn gram(x: &DMatrix<f64>, kernel: Kernel) -> Result<DMatrix<f64>, AnalysisError> {
    match kernel {
        Kernel::Linear => Ok(x * x.transpose()),
        Kernel::Rbf { factor } => {
            let n = x.nrows();
            let sq = DMatrix::from_fn(n, n, |i, j| (x.row(i) - x.row(j)).norm_squared());
            let mut d: Vec<f64> = (0..n)
                .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
                .map(|(i, j)| sq[(i, j)].sqrt())
                .collect();
            d.sort_by(f64::total_cmp);
            let median = if d.is_empty() {
                0.0
            } else if d.len() % 2 == 1 {
                d[d.len() / 2]
            } else {
                0.5 * (d[d.len() / 2 - 1] + d[d.len() / 2])
            };
            let sigma = factor * median;
            if sigma <= 0.0 {
                return Err(AnalysisError::Constant("the matrix (all rows equal)"));
            }
            Ok(sq.map(|s| (-s / (2.0 * sigma * sigma)).exp()))
        }
    }
}

/// The parts of a Gram matrix the estimators need, invariant under a
/// simultaneous permutation of its rows and columns.
struct Prepared {
    /// Biased: H K H. Debiased: K with a zero diagonal.
    m: DMatrix<f64>,
    /// Debiased: row sums of the zero-diagonal K.
    row_sums: Vec<f64>,
    /// Debiased: 1ᵀ K̃ 1.
    total: f64,
    self_hsic: f64,
}

fn prepare(k: &DMatrix<f64>, est: Estimator) -> Prepared {
    let n = k.nrows();
    match est {
        Estimator::Biased => {
            let row_means: Vec<f64> = (0..n).map(|i| k.row(i).mean()).collect();
            let mean = row_means.iter().sum::<f64>() / n as f64;
            let m = DMatrix::from_fn(n, n, |i, j| k[(i, j)] - row_means[i] - row_means[j] + mean);
            let self_hsic = m.norm_squared();
            Prepared {
                m,
                row_sums: vec![],
                total: 0.0,
                self_hsic,
            }
        }
        Estimator::Debiased => {
            let mut m = k.clone();
            m.fill_diagonal(0.0);
            let row_sums: Vec<f64> = (0..n).map(|i| m.row(i).sum()).collect();
            let total = row_sums.iter().sum();
            let mut p = Prepared {
                m,
                row_sums,
                total,
                self_hsic: 0.0,
            };
            p.self_hsic = cross(&p, &p, None);
            p
        }
    }
}

/// HSIC(K, L_π) up to a constant factor shared by all terms of one CKA,
/// where L_π[i, j] = L[π i, π j] (π = identity when `perm` is None).
fn cross(k: &Prepared, l: &Prepared, perm: Option<&[usize]>) -> f64 {
    let n = k.m.nrows();
    let p = |i: usize| perm.map_or(i, |p| p[i]);
    let mut tr = 0.0;
    for j in 0..n {
        let pj = p(j);
        for i in 0..n {
            tr += k.m[(i, j)] * l.m[(p(i), pj)];
        }
    }
    if l.row_sums.is_empty() {
        return tr; // biased: tr(HKH · HLH)
    }
    let nf = n as f64;
    let kl: f64 = (0..n).map(|i| k.row_sums[i] * l.row_sums[p(i)]).sum();
    (tr + k.total * l.total / ((nf - 1.0) * (nf - 2.0)) - 2.0 * kl / (nf - 2.0)) / (nf * (nf - 3.0))
}

fn ratio(k: &Prepared, l: &Prepared, perm: Option<&[usize]>) -> Result<f64, AnalysisError> {
    if k.self_hsic <= 0.0 {
        return Err(AnalysisError::Constant("X"));
    }
    if l.self_hsic <= 0.0 {
        return Err(AnalysisError::Constant("Y"));
    }
    Ok(cross(k, l, perm) / (k.self_hsic * l.self_hsic).sqrt())
}

/// CKA of X and Y (rows paired).
///
/// # Shapes
/// `x: [n, p]`, `y: [n, q]` -> scalar.
///
/// # Errors
/// Different row counts, too few rows (2; 4 for debiased), or a constant matrix.
pub fn cka(
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    kernel: Kernel,
    est: Estimator,
) -> Result<f64, AnalysisError> {
    check(x, y, est)?;
    let (k, l) = (
        prepare(&gram(x, kernel)?, est),
        prepare(&gram(y, kernel)?, est),
    );
    ratio(&k, &l, None)
}

/// CKA with a permutation null: `draws` seeded shuffles of Y's rows.
///
/// # Errors
/// As [`cka`].
pub fn cka_with_null(
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    kernel: Kernel,
    est: Estimator,
    draws: usize,
    seed: u64,
) -> Result<CkaWithNull, AnalysisError> {
    let n = check(x, y, est)?;
    let (k, l) = (
        prepare(&gram(x, kernel)?, est),
        prepare(&gram(y, kernel)?, est),
    );
    let value = ratio(&k, &l, None)?;
    let mut rng = SplitMix64::derived(seed, "cka-null");
    let mut null = Vec::with_capacity(draws);
    for _ in 0..draws {
        let perm = rng.permutation(n);
        null.push(ratio(&k, &l, Some(&perm))?);
    }
    null.sort_by(f64::total_cmp);
    let exceed = null.iter().filter(|&&v| v >= value).count();
    Ok(CkaWithNull {
        value,
        null_mean: if draws > 0 {
            null.iter().sum::<f64>() / draws as f64
        } else {
            f64::NAN
        },
        null_p95: if draws > 0 {
            null[((0.95 * draws as f64).ceil() as usize).clamp(1, draws) - 1]
        } else {
            f64::NAN
        },
        p_value: (1 + exceed) as f64 / (1 + draws) as f64,
        draws,
    })
}

/// The reference study's statistic: biased linear CKA between the first
/// `k` rows of two embeddings (k = 6, the order of its smallest group).
///
/// # Errors
/// Fewer than `k` rows in either matrix.
pub fn reference_first_rows(
    e1: &DMatrix<f64>,
    e2: &DMatrix<f64>,
    k: usize,
) -> Result<f64, AnalysisError> {
    if e1.nrows() < k || e2.nrows() < k {
        return Err(AnalysisError::TooFewRows {
            what: "the reference CKA",
            min: k,
            n: e1.nrows().min(e2.nrows()),
        });
    }
    cka(
        &e1.rows(0, k).into_owned(),
        &e2.rows(0, k).into_owned(),
        Kernel::Linear,
        Estimator::Biased,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaussian(n: usize, d: usize, rng: &mut SplitMix64) -> DMatrix<f64> {
        DMatrix::from_fn(n, d, |_, _| rng.normal())
    }

    const VARIANTS: [(Kernel, Estimator); 3] = [
        (Kernel::Linear, Estimator::Biased),
        (Kernel::Rbf { factor: 1.0 }, Estimator::Biased),
        (Kernel::Linear, Estimator::Debiased),
    ];

    #[test]
    fn cka_of_a_matrix_with_itself_is_one() {
        let mut rng = SplitMix64::new(1);
        let x = gaussian(20, 8, &mut rng);
        for (k, e) in VARIANTS {
            assert!(
                (cka(&x, &x, k, e).unwrap() - 1.0).abs() < 1e-12,
                "{k:?} {e:?}"
            );
        }
    }

    #[test]
    fn invariant_to_orthogonal_maps_and_isotropic_scaling_of_either_matrix() {
        let mut rng = SplitMix64::new(2);
        let (x, y) = (gaussian(30, 10, &mut rng), gaussian(30, 6, &mut rng));
        let q = gaussian(10, 10, &mut rng).qr().q();
        let r = gaussian(6, 6, &mut rng).qr().q();
        for (k, e) in VARIANTS {
            let base = cka(&x, &y, k, e).unwrap();
            for (xa, ya) in [
                (&x * &q, y.clone()),
                (x.clone(), &y * &r),
                (&x * 3.7, y.clone()),
                (x.clone(), &y * 0.01),
            ] {
                let v = cka(&xa, &ya, k, e).unwrap();
                assert!((v - base).abs() < 1e-10, "{k:?} {e:?}: {v} vs {base}");
            }
        }
    }

    #[test]
    fn debiased_cka_of_independent_gaussians_is_near_zero_and_biased_is_not() {
        let mut rng = SplitMix64::new(2024);
        let (mut biased, mut debiased) = (0.0, 0.0);
        for _ in 0..200 {
            let (x, y) = (gaussian(24, 64, &mut rng), gaussian(24, 64, &mut rng));
            biased += cka(&x, &y, Kernel::Linear, Estimator::Biased).unwrap() / 200.0;
            debiased += cka(&x, &y, Kernel::Linear, Estimator::Debiased).unwrap() / 200.0;
        }
        assert!(debiased.abs() < 0.05, "debiased mean {debiased}");
        assert!(biased > 0.5, "biased mean {biased}");
    }

    #[test]
    fn the_reference_statistic_is_about_0_9_on_random_6_by_64_matrices() {
        let mut rng = SplitMix64::new(6);
        let mean = (0..200)
            .map(|_| {
                reference_first_rows(&gaussian(10, 64, &mut rng), &gaussian(24, 64, &mut rng), 6)
                    .unwrap()
            })
            .sum::<f64>()
            / 200.0;
        assert!((0.85..0.95).contains(&mean), "mean {mean}");
    }

    #[test]
    fn permutation_null_separates_related_from_unrelated() {
        let mut rng = SplitMix64::new(3);
        let x = gaussian(40, 5, &mut rng);
        let related = &x * gaussian(5, 7, &mut rng) + gaussian(40, 7, &mut rng) * 0.1;
        for (k, e) in VARIANTS {
            let r = cka_with_null(&x, &related, k, e, 1000, 0).unwrap();
            assert!(
                r.p_value < 0.01 && r.value > r.null_p95,
                "{k:?} {e:?} {r:?}"
            );
            let un = cka_with_null(&x, &gaussian(40, 7, &mut rng), k, e, 1000, 0).unwrap();
            assert!(un.p_value > 0.01, "{k:?} {e:?} {un:?}");
            assert!(un.null_mean <= un.null_p95);
        }
        // The null of the linear biased estimator matches a direct recomputation.
        let y = gaussian(40, 7, &mut rng);
        let r = cka_with_null(&x, &y, Kernel::Linear, Estimator::Biased, 50, 9).unwrap();
        let mut rng = SplitMix64::derived(9, "cka-null");
        let direct: f64 = (0..50)
            .map(|_| {
                let p = rng.permutation(40);
                let yp = DMatrix::from_fn(40, 7, |i, j| y[(p[i], j)]);
                cka(&x, &yp, Kernel::Linear, Estimator::Biased).unwrap()
            })
            .sum::<f64>()
            / 50.0;
        assert!((direct - r.null_mean).abs() < 1e-12);
    }

    #[test]
    fn bad_input_gives_one_line_errors() {
        let a = DMatrix::<f64>::zeros(24, 3);
        let b = DMatrix::<f64>::zeros(23, 3);
        let e = cka(&a, &b, Kernel::Linear, Estimator::Biased)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("X has 24 rows but Y has 23") && !e.contains('\n'),
            "{e}"
        );
        let small = DMatrix::from_fn(3, 2, |i, j| (i + j) as f64);
        let e = cka(&small, &small, Kernel::Linear, Estimator::Debiased)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "debiased CKA needs at least 4 rows, got 3");
        let e = cka(
            &DMatrix::from_element(5, 2, 1.0),
            &DMatrix::from_fn(5, 2, |i, _| i as f64),
            Kernel::Linear,
            Estimator::Biased,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("X is constant"), "{e}");
    }
}
