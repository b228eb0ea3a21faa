//! Progress measures (Nanda et al. 2023), generalised from key frequencies
//! to key irreps.
//!
//! For each output class c, the logits over input pairs form a function
//! L_c on G × G. A circuit computing tr ρ(a) ρ(b) ρ(c)ᵀ puts it in
//! Π_ρ ⊗ Π_ρ (on Z/n: cos ω(a + b − c) is in (f_k, f_k)). So, with K the
//! key irreps:
//! - restricted logits keep the constant and the Π_ρ ⊗ Π_ρ components, ρ ∈ K;
//! - excluded logits remove the Π_ρ ⊗ Π_ρ components, ρ ∈ K.
//!
//! Restricted loss falls when the key-irrep circuit alone classifies;
//! excluded loss on training pairs rises when memorisation has been
//! replaced by that circuit.
//!
//! ```
//! use grokscope::analysis::progress::gini;
//! assert_eq!(gini(&[1.0, 1.0, 1.0, 1.0]), 0.0);
//! assert!((gini(&[0.0, 0.0, 0.0, 1.0]) - 0.75).abs() < 1e-12);
//! ```

use super::AnalysisError;
use crate::groups::AnalysisView;
use nalgebra::DMatrix;

/// Gini coefficient of non-negative values: Σ_i Σ_j |x_i − x_j| / (2 n Σ x).
/// 0 when all are equal; (n − 1)/n when one holds everything.
pub fn gini(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let total: f64 = values.iter().sum();
    if values.is_empty() || total <= 0.0 {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    // Σ_i Σ_j |x_i − x_j| = 2 Σ_i (2i − n + 1) x_(i) for sorted values.
    let s: f64 = sorted
        .iter()
        .enumerate()
        .map(|(i, x)| (2.0 * i as f64 - n + 1.0) * x)
        .sum();
    s / (n * total)
}

/// Restricted and excluded losses on the pairs of the analysis group.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ProgressLosses {
    /// Loss of the full logits on training pairs.
    pub train_loss: f64,
    /// Loss of the full logits on test pairs.
    pub test_loss: f64,
    /// Loss of the restricted logits on all pairs.
    pub restricted_loss: f64,
    /// Loss of the excluded logits on training pairs.
    pub excluded_loss: f64,
}

/// Computes the losses over the pairs whose inputs and output are all in
/// the analysis group (all pairs for a group operation).
///
/// `logits`: one row per token pair (a·n + b) and one column per output
/// token; `labels[a·n + b]` the true output token; `is_train` per token
/// pair; `key`: indices of key irreps in `view.group.representations().real`.
///
/// # Shapes
/// `logits: [n², n_out]`, `labels: [n²]`, `is_train: [n²]`.
///
/// # Errors
/// Shapes that do not match the view.
pub fn losses(
    view: &AnalysisView,
    logits: &DMatrix<f64>,
    labels: &[usize],
    is_train: &[bool],
    key: &[usize],
) -> Result<ProgressLosses, AnalysisError> {
    let g = view.group.order();
    let n_tok = (logits.nrows() as f64).sqrt().round() as usize;
    if n_tok * n_tok != logits.nrows()
        || labels.len() != logits.nrows()
        || is_train.len() != logits.nrows()
    {
        return Err(AnalysisError::Shape(format!(
            "logits need one row per pair ({} rows, {} labels, {} train flags)",
            logits.nrows(),
            labels.len(),
            is_train.len()
        )));
    }
    if view
        .tokens
        .iter()
        .any(|&t| t >= n_tok || t >= logits.ncols())
    {
        return Err(AnalysisError::Shape(
            "the analysis view names tokens beyond the logits".into(),
        ));
    }
    let reps = view.group.representations();
    let bases: Vec<&DMatrix<f64>> = key.iter().map(|&i| &reps.real[i].basis).collect();
    let pair = |a: usize, b: usize| view.tokens[a] * n_tok + view.tokens[b];
    // Output column c (group order) as a function on G × G, and its key part.
    let mut restricted = vec![DMatrix::<f64>::zeros(g, g); g];
    let mut excluded = vec![DMatrix::<f64>::zeros(g, g); g];
    for c in 0..g {
        let lc = DMatrix::from_fn(g, g, |a, b| logits[(pair(a, b), view.tokens[c])]);
        let mut key_part = DMatrix::zeros(g, g);
        for u in &bases {
            key_part += *u * (u.transpose() * &lc * *u) * u.transpose();
        }
        restricted[c] = DMatrix::from_element(g, g, lc.mean()) + &key_part;
        excluded[c] = lc - key_part;
    }
    let position: std::collections::HashMap<usize, usize> = view
        .tokens
        .iter()
        .enumerate()
        .map(|(i, &t)| (t, i))
        .collect();
    let (mut tr, mut te, mut rs, mut ex) = ((0.0, 0), (0.0, 0), (0.0, 0), (0.0, 0));
    for a in 0..g {
        for b in 0..g {
            let p = pair(a, b);
            let Some(&y) = position.get(&labels[p]) else {
                continue;
            };
            let ce = |col: &dyn Fn(usize) -> f64| {
                let m = (0..g).map(col).fold(f64::NEG_INFINITY, f64::max);
                let lse = m + (0..g).map(|c| (col(c) - m).exp()).sum::<f64>().ln();
                lse - col(y)
            };
            let full = ce(&|c| logits[(p, view.tokens[c])]);
            let add = |acc: &mut (f64, usize), v: f64| {
                acc.0 += v;
                acc.1 += 1;
            };
            add(&mut rs, ce(&|c| restricted[c][(a, b)]));
            if is_train[p] {
                add(&mut tr, full);
                add(&mut ex, ce(&|c| excluded[c][(a, b)]));
            } else {
                add(&mut te, full);
            }
        }
    }
    let mean = |acc: (f64, usize)| {
        if acc.1 > 0 {
            acc.0 / acc.1 as f64
        } else {
            f64::NAN
        }
    };
    Ok(ProgressLosses {
        train_loss: mean(tr),
        test_loss: mean(te),
        restricted_loss: mean(rs),
        excluded_loss: mean(ex),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::Operation;
    use std::f64::consts::PI;

    #[test]
    fn gini_identities() {
        assert_eq!(gini(&[]), 0.0);
        assert_eq!(gini(&[2.0; 5]), 0.0);
        assert!((gini(&[0.0, 0.0, 5.0]) - 2.0 / 3.0).abs() < 1e-12);
        // Brute force on an uneven vector.
        let v: [f64; 5] = [0.3, 1.7, 0.0, 4.2, 2.2];
        let brute: f64 = v
            .iter()
            .flat_map(|a| v.iter().map(move |b| (a - b).abs()))
            .sum::<f64>()
            / (2.0 * 5.0 * v.iter().sum::<f64>());
        assert!((gini(&v) - brute).abs() < 1e-12);
    }

    /// Logits of an ideal Fourier circuit on Z/n with frequencies `ks`:
    /// L(a, b, c) = Σ_k cos(2πk(a + b − c)/n) · scale.
    fn clock_logits(n: usize, ks: &[usize], scale: f64) -> DMatrix<f64> {
        DMatrix::from_fn(n * n, n, |p, c| {
            let (a, b) = (p / n, p % n);
            ks.iter()
                .map(|&k| (2.0 * PI * (k * (a + b + n - c)) as f64 / n as f64).cos())
                .sum::<f64>()
                * scale
        })
    }

    #[test]
    fn a_clock_circuit_has_low_restricted_and_high_excluded_loss() {
        let op = Operation::parse("add:13").unwrap();
        let n = 13;
        let labels: Vec<usize> = op.table.clone();
        let is_train: Vec<bool> = (0..n * n).map(|p| p % 3 != 0).collect();
        let logits = clock_logits(n, &[2, 5], 8.0);
        let reps = op.analysis.group.representations();
        let key: Vec<usize> = ["f2", "f5"].iter().map(|k| reps.find(k).unwrap()).collect();
        let l = losses(&op.analysis, &logits, &labels, &is_train, &key).unwrap();
        // Restricting to the key frequencies keeps the whole circuit ...
        assert!((l.restricted_loss - l.test_loss).abs() < 1e-9, "{l:?}");
        assert!(l.train_loss < 0.01);
        // ... and removing them leaves constant logits: loss ln(13).
        assert!((l.excluded_loss - (13f64).ln()).abs() < 1e-9, "{l:?}");
        // With the wrong key frequency it is the other way round.
        let wrong = [reps.find("f3").unwrap()];
        let l = losses(&op.analysis, &logits, &labels, &is_train, &wrong).unwrap();
        assert!(
            (l.restricted_loss - (13f64).ln()).abs() < 1e-9 && l.excluded_loss < 0.01,
            "{l:?}"
        );
    }

    #[test]
    fn shapes_are_checked() {
        let op = Operation::parse("add:5").unwrap();
        let e = losses(
            &op.analysis,
            &DMatrix::zeros(24, 5),
            &[0; 24],
            &[true; 24],
            &[],
        )
        .unwrap_err();
        assert!(e.to_string().contains("one row per pair"));
    }
}
