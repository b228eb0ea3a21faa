//! Analysis of a model trained elsewhere (a TransformerLens checkpoint read
//! by [`crate::interop::import`]): everything grokscope reads from weights
//! alone. What needs the run's history (the untrained null of the same
//! seed, the training split, progress over checkpoints) is absent: an
//! import has none of it.

use super::{
    embedding, neuron_functions, pair_rows, spectrum_rows, table_logits, unembedding,
    write_spectra, AnalyzeError,
};
use crate::analysis::fourier::FourierSpectrum;
use crate::analysis::peter_weyl::{select_rows, IrrepSpectrum, PairSpectrum};
use crate::analysis::progress::gini;
use crate::groups::{GroupKind, Operation};
use crate::interop::Imported;
use crate::results::rows::RunSpectrumRow;
use crate::store::write_json;
use serde::Serialize;
use std::path::Path;
use tch::Tensor;

/// What `grokscope analyze --import` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedAnalysis {
    /// The directory read.
    pub source: String,
    /// The operation the model was read for.
    pub op: String,
    /// The analysis group.
    pub group: String,
    /// Share of all n² pairs whose argmax logit at the last position is the
    /// table's answer.
    pub table_accuracy: f64,
    /// What import dropped or changed.
    pub import_notes: Vec<String>,
    /// Irrep with the largest share of the embedding's non-constant power.
    pub dominant_irrep: String,
    /// Its share.
    pub dominant_share: f64,
    /// Its isotropic share (the share of a random embedding, in expectation).
    pub dominant_expected: f64,
    /// Key irreps of the embedding.
    pub key_irreps: Vec<String>,
    /// Dominant irrep of the unembedding and its share.
    pub unembed_dominant: (String, f64),
    /// Dominant (ρ, σ) of the MLP neurons over G × G and its share.
    pub neurons_dominant: (String, String, f64),
    /// The neurons' share on (ρ, ρ) pairs.
    pub neurons_diagonal_share: f64,
    /// Gini of the embedding irrep spectrum.
    pub gini: f64,
    /// Fourier concentration(1) and (5) of the embedding and its key
    /// frequencies (cyclic analysis groups only).
    pub fourier: Option<(f64, f64, Vec<usize>)>,
}

/// Analyses an imported model for `op` and writes `out/`: `spectra.parquet`
/// and `neurons.parquet` (checkpoint `final`), `summary.json`
/// ([`ImportedAnalysis`]) and `logits.safetensors` (`logits` [n², n] at the
/// last position, pair a·n + b).
///
/// # Errors
/// Weights that do not fit, analysis or I/O errors.
pub fn analyze_imported(
    source: &Path,
    imported: &Imported,
    op: &Operation,
    out: &Path,
) -> Result<ImportedAnalysis, AnalyzeError> {
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let model = imported
        .model(&vs.root())
        .map_err(|e| AnalyzeError::NotARun(e.to_string()))?;
    let n = op.order();
    let view = &op.analysis;
    let embed = embedding(&model, 0, n as i64)?;
    let e = IrrepSpectrum::of_token_rows(view, &embed)?;
    let u = IrrepSpectrum::of_token_rows(view, &unembedding(&model, 0)?)?;
    let mut spectra: Vec<RunSpectrumRow> = Vec::new();
    spectrum_rows("embed", "final", &view.relabelling, &e, &mut spectra);
    spectrum_rows("unembed", "final", &view.relabelling, &u, &mut spectra);
    let pairs = PairSpectrum::of_functions(&view.group, &neuron_functions(&model, view, n, 0)?)?;
    let mut neurons = Vec::new();
    pair_rows("final", &pairs, &mut neurons);
    let logits = &table_logits(&model, n)?[0];
    let correct = (0..n * n)
        .filter(|&p| logits.row(p).transpose().argmax().0 == op.table[p])
        .count();
    let fourier = if matches!(view.group.kind(), GroupKind::Cyclic(_)) {
        let f = FourierSpectrum::of_rows(&select_rows(view, &embed)?)?;
        Some((f.concentration(1), f.concentration(5), f.key_frequencies()))
    } else {
        None
    };

    write_spectra(out, &spectra, &neurons)?;
    let flat: Vec<f32> = logits.iter().map(|&x| x as f32).collect(); // column-major [n², n]
    let table = Tensor::f_from_slice(&flat)?
        .f_view([n as i64, (n * n) as i64])?
        .f_transpose(0, 1)?
        .f_contiguous()?;
    let path = out.join("logits.safetensors");
    crate::store::write_file_atomic(&path, |tmp| {
        Tensor::write_safetensors(&[("logits", &table)], tmp)
            .map_err(|e| crate::store::error_line(&e.to_string()))
    })?;

    let (dom, dom_share) = e.dominant();
    let di = e
        .irreps
        .iter()
        .position(|x| x == dom)
        .expect("dominant is listed");
    let (na, nb, ns) = pairs.dominant();
    let analysis = ImportedAnalysis {
        source: source.display().to_string(),
        op: op.name.clone(),
        group: view.group.name().to_string(),
        table_accuracy: correct as f64 / (n * n) as f64,
        import_notes: imported.notes.clone(),
        dominant_irrep: dom.to_string(),
        dominant_share: dom_share,
        dominant_expected: e.expected[di],
        key_irreps: e.key().iter().map(|&i| e.irreps[i].clone()).collect(),
        unembed_dominant: (u.dominant().0.to_string(), u.dominant().1),
        neurons_dominant: (pairs.irreps[na].clone(), pairs.irreps[nb].clone(), ns),
        neurons_diagonal_share: pairs.diagonal_share(),
        gini: gini(&e.share),
        fourier,
    };
    write_json(&out.join("summary.json"), &analysis)?;
    Ok(analysis)
}
