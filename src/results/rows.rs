//! Typed rows of the stored tables the report reads row by row.

use super::columns::{floats, strings};
use polars::prelude::DataFrame;

/// One row of a sweep's `spectra.parquet`: one irrep's (or frequency's)
/// share of one run's embedding or unembedding power.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrumRow {
    /// The operation as configured.
    pub op: String,
    /// The run's seed.
    pub seed: u64,
    /// `embed` or `unembed`.
    pub source: String,
    /// `final` or `init`.
    pub checkpoint: String,
    /// The element order: `identity`, `discrete log, g = ...`, `raw label order`.
    pub order: String,
    /// The irrep's (or frequency's) name.
    pub component: String,
    /// Its share of the non-trivial power.
    pub share: f64,
    /// Its share under an isotropic (random) function.
    pub expected: f64,
}

impl SpectrumRow {
    /// Every row of a sweep's spectra table.
    ///
    /// # Errors
    /// A missing column or one of the wrong type.
    pub fn read_all(spectra: &DataFrame) -> Result<Vec<Self>, String> {
        let (op, seed, source, checkpoint, order, component, share, expected) = (
            strings(spectra, "op")?,
            floats(spectra, "seed")?,
            strings(spectra, "source")?,
            strings(spectra, "checkpoint")?,
            strings(spectra, "order")?,
            strings(spectra, "component")?,
            floats(spectra, "share")?,
            floats(spectra, "expected")?,
        );
        Ok((0..op.len())
            .map(|i| Self {
                op: op[i].clone(),
                seed: seed[i].unwrap_or(0.0) as u64,
                source: source[i].clone(),
                checkpoint: checkpoint[i].clone(),
                order: order[i].clone(),
                component: component[i].clone(),
                share: share[i].unwrap_or(0.0),
                expected: expected[i].unwrap_or(0.0),
            })
            .collect())
    }
}
