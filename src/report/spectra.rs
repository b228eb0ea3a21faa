//! The stored irrep spectra shaped for reading: per seed, per operation,
//! layer, checkpoint and ordering, each irrep's share of the non-trivial
//! power (figures, the R5 rule and the shuffled-label nulls read these).

use super::{ReportError, Result};
use crate::analysis::stats::mean_min_max;
use polars::prelude::DataFrame;
use std::collections::BTreeMap;

pub(crate) use crate::results::rows::SpectrumRow;

/// Every row of a sweep's spectra table.
pub(crate) fn spectrum_rows(spectra: &DataFrame) -> Result<Vec<SpectrumRow>> {
    SpectrumRow::read_all(spectra).map_err(ReportError::Data)
}

/// A component of a spectrum summarised over seeds: (component, mean,
/// min, max, expected share).
pub(crate) type MeanShare = (String, f64, f64, f64, f64);

/// Mean share per component over seeds, keeping the components' order.
pub(crate) fn mean_spectrum(
    rows: &[SpectrumRow],
    op: &str,
    source: &str,
    checkpoint: &str,
    order: Option<&str>,
) -> Vec<MeanShare> {
    let mut by: Vec<(String, Vec<f64>, f64)> = Vec::new();
    for r in rows.iter().filter(|r| {
        r.op == op
            && r.row.source == source
            && r.row.checkpoint == checkpoint
            && order.is_none_or(|o| r.row.order == o)
    }) {
        match by.iter_mut().find(|(c, _, _)| *c == r.row.component) {
            Some((_, v, _)) => v.push(r.row.share),
            None => by.push((r.row.component.clone(), vec![r.row.share], r.row.expected)),
        }
    }
    by.into_iter()
        .map(|(c, v, ex)| {
            let (m, lo, hi) = mean_min_max(&v);
            (c, m, lo, hi, ex)
        })
        .collect()
}

/// The spectrum of each seed: seed -> (component, share, expected).
pub(crate) fn seed_spectra(
    rows: &[SpectrumRow],
    op: &str,
    source: &str,
    checkpoint: &str,
    order: &str,
) -> BTreeMap<u64, Vec<MeanShare>> {
    let mut out: BTreeMap<u64, Vec<MeanShare>> = BTreeMap::new();
    for r in rows.iter().filter(|r| {
        r.op == op
            && r.row.source == source
            && r.row.checkpoint == checkpoint
            && r.row.order == order
    }) {
        out.entry(r.seed).or_default().push((
            r.row.component.clone(),
            r.row.share,
            r.row.share,
            r.row.share,
            r.row.expected,
        ));
    }
    out
}

/// Mean over seeds of each seed's top-k concentration.
pub(crate) fn mean_top_k(spectra: &BTreeMap<u64, Vec<MeanShare>>, k: usize) -> f64 {
    spectra.values().map(|s| top_k(s, k)).sum::<f64>() / spectra.len().max(1) as f64
}

/// Share of the top-k components of a spectrum.
pub(crate) fn top_k(spec: &[MeanShare], k: usize) -> f64 {
    let mut v: Vec<f64> = spec.iter().map(|s| s.1).collect();
    v.sort_by(|a, b| b.total_cmp(a));
    v.iter().take(k).sum::<f64>() / v.iter().sum::<f64>().max(f64::MIN_POSITIVE)
}
