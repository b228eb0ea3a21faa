//! Peter–Weyl spectra (docs/design.md): for f: G -> R^d, power(ρ) =
//! ‖Π_ρ f‖² / ‖f − mean‖², Π_ρ the projector onto ρ's isotypic component
//! of the real regular representation. The trivial component is the mean
//! and is excluded, so the shares of the non-trivial irreps sum to 1.
//!
//! Functions on G × G (an MLP neuron's activation over all pairs) are
//! decomposed over products Π_ρ ⊗ Π_σ. For two real irreps of complex type
//! the product component holds two real irreps of G × G (on Z/n: the (k, l)
//! and (k, −l) frequencies); they are reported together.
//!
//! ```
//! use grokscope::analysis::peter_weyl::IrrepSpectrum;
//! use grokscope::groups::FiniteGroup;
//! use nalgebra::DMatrix;
//! let s3 = FiniteGroup::symmetric(3).unwrap();
//! // The sign character as a 1-column function: all power in [1,1,1].
//! let sign = DMatrix::from_fn(6, 1, |g, _| s3.representations().real[2].character[s3.class_of(g)]);
//! let spec = IrrepSpectrum::of_rows(&s3, &sign).unwrap();
//! assert_eq!(spec.dominant().0, "[1,1,1]");
//! ```

use super::fourier::is_key;
use super::AnalysisError;
use crate::groups::{AnalysisView, FiniteGroup};
use nalgebra::DMatrix;

/// Share of the non-constant power per non-trivial real irrep.
#[derive(Debug, Clone, PartialEq)]
pub struct IrrepSpectrum {
    /// Names of the non-trivial real irreps, in the group's order.
    pub irreps: Vec<String>,
    /// Real dimension of each.
    pub real_dims: Vec<usize>,
    /// Share of the non-constant power in each (sums to 1).
    pub share: Vec<f64>,
    /// The share an isotropic random function would put there:
    /// dim(isotypic component) / (|G| − 1).
    pub expected: Vec<f64>,
}

impl IrrepSpectrum {
    /// The spectrum of `rows` (|G| × d, row g = f(g) in element order).
    ///
    /// # Shapes
    /// `rows: [|G|, d]` -> one share per non-trivial real irrep.
    ///
    /// # Errors
    /// A row count other than |G|, or a constant function.
    pub fn of_rows(group: &FiniteGroup, rows: &DMatrix<f64>) -> Result<Self, AnalysisError> {
        let n = group.order();
        if rows.nrows() != n {
            return Err(AnalysisError::Shape(format!(
                "{} has {n} elements but the function has {} rows",
                group.name(),
                rows.nrows()
            )));
        }
        let reps = group.representations();
        let mut power = Vec::new();
        let (mut irreps, mut real_dims, mut expected) = (Vec::new(), Vec::new(), Vec::new());
        for r in reps.real.iter().filter(|r| !r.is_trivial()) {
            let coeff = r.basis.transpose() * rows; // [dim isotypic, d]
            power.push(coeff.norm_squared());
            irreps.push(r.name.clone());
            real_dims.push(r.real_dim());
            expected.push(r.basis.ncols() as f64 / (n as f64 - 1.0));
        }
        let total: f64 = power.iter().sum();
        // Relative test: projecting a constant leaks about 1e-30 of its energy.
        if total <= 1e-20 * rows.norm_squared() {
            return Err(AnalysisError::Constant("the function"));
        }
        Ok(Self {
            irreps,
            real_dims,
            share: power.iter().map(|p| p / total).collect(),
            expected,
        })
    }

    /// The spectrum of a function given per token (rows of an embedding or
    /// columns of an unembedding), read through an operation's analysis view.
    ///
    /// # Errors
    /// As [`Self::of_rows`], or tokens out of range.
    pub fn of_token_rows(
        view: &AnalysisView,
        token_rows: &DMatrix<f64>,
    ) -> Result<Self, AnalysisError> {
        Self::of_rows(&view.group, &select_rows(view, token_rows)?)
    }

    /// The non-trivial irrep with the largest share, and that share.
    pub fn dominant(&self) -> (&str, f64) {
        let i = (0..self.share.len())
            .max_by(|&a, &b| self.share[a].total_cmp(&self.share[b]))
            .expect("non-trivial irreps exist");
        (&self.irreps[i], self.share[i])
    }

    /// Key irreps (by [`is_key`]), strongest first, as indices into `irreps`.
    pub fn key(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.share.len())
            .filter(|&i| is_key(self.share[i], self.expected[i]))
            .collect();
        idx.sort_by(|&a, &b| self.share[b].total_cmp(&self.share[a]));
        idx
    }
}

/// The rows of `token_rows` for the group's elements, in group order.
///
/// # Errors
/// A token beyond the matrix.
pub fn select_rows(
    view: &AnalysisView,
    token_rows: &DMatrix<f64>,
) -> Result<DMatrix<f64>, AnalysisError> {
    if let Some(&t) = view.tokens.iter().find(|&&t| t >= token_rows.nrows()) {
        return Err(AnalysisError::Shape(format!(
            "token {t} is beyond the {} rows given",
            token_rows.nrows()
        )));
    }
    Ok(DMatrix::from_fn(
        view.tokens.len(),
        token_rows.ncols(),
        |g, c| token_rows[(view.tokens[g], c)],
    ))
}

/// Power of functions on G × G per product of real irreps (ρ, σ).
#[derive(Debug, Clone, PartialEq)]
pub struct PairSpectrum {
    /// All real irreps of G, trivial first.
    pub irreps: Vec<String>,
    /// `share[(i, j)]`: share of the non-constant power in Π_i ⊗ Π_j; the
    /// (trivial, trivial) entry is 0. Sums to 1.
    pub share: DMatrix<f64>,
    /// For each function (neuron), its dominant (i, j) and that pair's share
    /// of the function's own non-constant power.
    pub dominant_per_function: Vec<(usize, usize, f64)>,
}

impl PairSpectrum {
    /// Decomposes each |G| × |G| matrix `f[(g, h)]` (group order on both
    /// axes) over Π_ρ ⊗ Π_σ; power is summed over the functions.
    ///
    /// # Errors
    /// A matrix of the wrong size, or all functions constant.
    pub fn of_functions(
        group: &FiniteGroup,
        functions: &[DMatrix<f64>],
    ) -> Result<Self, AnalysisError> {
        let n = group.order();
        let (u, ranges) = group.representations().adapted_basis();
        let r = ranges.len();
        let mut total = DMatrix::zeros(r, r);
        let mut dominant_per_function = Vec::with_capacity(functions.len());
        for f in functions {
            if f.shape() != (n, n) {
                return Err(AnalysisError::Shape(format!(
                    "a function on G × G needs {n} × {n} values, got {:?}",
                    f.shape()
                )));
            }
            let c = u.transpose() * f * &u; // coefficients in the adapted basis on both axes
            let mut p = DMatrix::zeros(r, r);
            for (i, ri) in ranges.iter().enumerate() {
                for (j, rj) in ranges.iter().enumerate() {
                    if i + j > 0 {
                        p[(i, j)] = c
                            .view((ri.start, rj.start), (ri.len(), rj.len()))
                            .norm_squared();
                    }
                }
            }
            // A constant neuron leaks float noise (~1e-30 of its energy): count it as nothing.
            if p.sum() <= 1e-20 * f.norm_squared() {
                p.fill(0.0);
            }
            let own = p.sum();
            let (mut bi, mut bj) = (0, 1.min(r - 1));
            for i in 0..r {
                for j in 0..r {
                    if p[(i, j)] > p[(bi, bj)] {
                        (bi, bj) = (i, j);
                    }
                }
            }
            dominant_per_function.push((bi, bj, if own > 0.0 { p[(bi, bj)] / own } else { 0.0 }));
            total += p;
        }
        let sum = total.sum();
        if sum <= 0.0 {
            return Err(AnalysisError::Constant("every function"));
        }
        let irreps = group
            .representations()
            .real
            .iter()
            .map(|x| x.name.clone())
            .collect();
        Ok(Self {
            irreps,
            share: total / sum,
            dominant_per_function,
        })
    }

    /// The (ρ, σ) with the largest total share.
    pub fn dominant(&self) -> (usize, usize, f64) {
        let mut best = (0, 0, -1.0);
        for i in 0..self.share.nrows() {
            for j in 0..self.share.ncols() {
                if self.share[(i, j)] > best.2 {
                    best = (i, j, self.share[(i, j)]);
                }
            }
        }
        best
    }

    /// Share on the diagonal (ρ, ρ), ρ non-trivial: where a function of
    /// g·h alone puts its power on an abelian group.
    pub fn diagonal_share(&self) -> f64 {
        (1..self.share.nrows()).map(|i| self.share[(i, i)]).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fourier::FourierSpectrum;

    use crate::analysis::gaussian as random;

    #[test]
    fn shares_sum_to_one() {
        for g in [
            FiniteGroup::symmetric(4).unwrap(),
            FiniteGroup::dihedral(5).unwrap(),
            FiniteGroup::alternating(4).unwrap(),
        ] {
            let s = IrrepSpectrum::of_rows(&g, &random(g.order(), 16, 1)).unwrap();
            assert!((s.share.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!((s.expected.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn on_cyclic_groups_it_is_the_dft_spectrum() {
        for n in [2usize, 5, 12, 100, 113] {
            let g = FiniteGroup::cyclic(n).unwrap();
            let e = random(n, 7, n as u64);
            let pw = IrrepSpectrum::of_rows(&g, &e).unwrap();
            let ft = FourierSpectrum::of_rows(&e).unwrap().shares();
            assert_eq!(pw.share.len(), ft.len());
            for (k, (a, b)) in pw.share.iter().zip(&ft).enumerate() {
                assert_eq!(pw.irreps[k], format!("f{}", k + 1));
                assert!((a - b).abs() < 1e-12, "Z/{n} f{}: {a} vs {b}", k + 1);
            }
        }
    }

    #[test]
    fn a_matrix_coefficient_lives_in_its_irrep() {
        let g = FiniteGroup::symmetric(4).unwrap();
        let reps = g.representations();
        let i = reps.find("[2,1,1]").unwrap();
        let f = DMatrix::from_fn(24, 9, |x, c| reps.real[i].matrices[x][(c / 3, c % 3)]);
        let s = IrrepSpectrum::of_rows(&g, &f).unwrap();
        assert_eq!(s.dominant(), ("[2,1,1]", 1.0 - 0.0));
        assert!((s.dominant().1 - 1.0).abs() < 1e-12);
        assert_eq!(s.key(), vec![i - 1]);
    }

    #[test]
    fn a_function_of_the_product_lives_on_the_diagonal() {
        // cos(2πk(a+b)/n) on Z/n × Z/n is in (f_k, f_k).
        let n = 23;
        let g = FiniteGroup::cyclic(n).unwrap();
        let f = DMatrix::from_fn(n, n, |a, b| {
            (2.0 * std::f64::consts::PI * 4.0 * (a + b) as f64 / n as f64).cos()
        });
        let s = PairSpectrum::of_functions(&g, &[f]).unwrap();
        let (i, j, share) = s.dominant();
        assert_eq!((s.irreps[i].as_str(), s.irreps[j].as_str()), ("f4", "f4"));
        assert!((share - 1.0).abs() < 1e-12);
        assert!((s.diagonal_share() - 1.0).abs() < 1e-12);
        // A non-abelian example: χ(g h) for the standard irrep of S3.
        let s3 = FiniteGroup::symmetric(3).unwrap();
        let reps = s3.representations();
        let std = reps.find("[2,1]").unwrap();
        let f = DMatrix::from_fn(6, 6, |a, b| {
            reps.real[std].character[s3.class_of(s3.op(a, b))]
        });
        let p = PairSpectrum::of_functions(&s3, &[f]).unwrap();
        assert_eq!((p.dominant().0, p.dominant().1), (std, std));
        assert!((p.share.sum() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn wrong_shapes_are_rejected() {
        let g = FiniteGroup::symmetric(3).unwrap();
        let e = IrrepSpectrum::of_rows(&g, &DMatrix::zeros(5, 2))
            .unwrap_err()
            .to_string();
        assert!(e.contains("6 elements but the function has 5 rows"), "{e}");
        assert!(PairSpectrum::of_functions(&g, &[DMatrix::zeros(6, 5)]).is_err());
        assert_eq!(
            IrrepSpectrum::of_rows(&g, &DMatrix::from_element(6, 2, 3.0)),
            Err(AnalysisError::Constant("the function"))
        );
    }
}
