//! Analyses that read a model through representation theory. They take
//! `nalgebra` matrices and plain slices, never tch tensors, so they build and
//! test without libtorch and work on weights from anywhere.
//!
//! - [`fourier`]: DFT spectra of functions Z/n -> R^d, concentration, key
//!   frequencies, a linear probe of the discrete log;
//! - [`peter_weyl`]: power per real irrep for any group (and G × G);
//! - [`abelianisation`]: the coset test (is a prediction right in G/[G, G]?);
//! - [`cka`]: linear, RBF and debiased CKA with permutation nulls;
//! - [`progress`]: restricted/excluded loss and Gini coefficients;
//! - [`complexity`]: C1, C2, F1, F2 and their rank correlation with grok epochs;
//! - [`across_runs`]: which runs CKA pairs and the complexity subsets;
//! - [`mechanism`]: clock or pizza, neuron irrep purity, irrep ablation;
//! - [`stats`]: Kendall's tau-b and Holm's adjustment;
//! - [`atlas`]: the grokking atlas' pre-registered test (A1–A4).
//!
//! Rows are indexed by group elements in the group's element order unless a
//! function says otherwise.

pub mod abelianisation;
pub mod across_runs;
pub mod atlas;
pub mod cka;
pub mod complexity;
pub mod fourier;
pub mod mechanism;
pub mod peter_weyl;
pub mod progress;
pub mod stats;
pub mod survival;

/// An n × d matrix of independent standard normals from a seed, for tests.
#[cfg(test)]
pub(crate) fn gaussian(n: usize, d: usize, seed: u64) -> nalgebra::DMatrix<f64> {
    let mut rng = crate::rng::SplitMix64::new(seed);
    nalgebra::DMatrix::from_fn(n, d, |_, _| rng.normal())
}

/// Bad input to an analysis.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalysisError {
    /// Row-paired matrices with different row counts.
    #[error("X has {x} rows but Y has {y}; CKA pairs rows, so give both matrices the same rows (e.g. the same group elements)")]
    RowMismatch {
        /// Rows of X.
        x: usize,
        /// Rows of Y.
        y: usize,
    },
    /// Too few rows for the statistic.
    #[error("{what} needs at least {min} rows, got {n}")]
    TooFewRows {
        /// The statistic.
        what: &'static str,
        /// Its minimum.
        min: usize,
        /// Rows given.
        n: usize,
    },
    /// A matrix without variance, so the statistic is undefined.
    #[error("{0} is constant (no variance), so the statistic is undefined")]
    Constant(&'static str),
    /// Rows that do not match the group.
    #[error("{0}")]
    Shape(String),
}
