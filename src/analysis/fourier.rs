//! Fourier spectra of functions on Z/n (docs/design.md): subtract the column
//! means, DFT each column along the element axis, P_k = Σ_columns |Ê_k|²,
//! merge k with n − k, giving frequencies 1..⌊n/2⌋.
//!
//! ```
//! use grokscope::analysis::fourier::FourierSpectrum;
//! use nalgebra::DMatrix;
//! // Two columns, both pure frequency 3 on Z/12.
//! let e = DMatrix::from_fn(12, 2, |x, j| (2.0 * std::f64::consts::PI * 3.0 * x as f64 / 12.0 + j as f64).cos());
//! let s = FourierSpectrum::of_rows(&e).unwrap();
//! assert_eq!(s.key_frequencies(), vec![3]);
//! assert!((s.concentration(1) - 1.0).abs() < 1e-12);
//! ```

use super::AnalysisError;
use crate::rng::SplitMix64;
use nalgebra::DMatrix;
use rustfft::{num_complex::Complex, FftPlanner};
use std::f64::consts::PI;

/// Factor over the isotropic share above which a frequency or irrep is
/// "key" (see [`is_key`]). Random matrices of the model's width stay well
/// below it; a grokked model's key frequencies are far above it.
pub const KEY_FACTOR: f64 = 3.0;

/// Whether a component holding `share` of the non-constant power is key,
/// given the share `expected` an isotropic random function would put there:
/// at least [`KEY_FACTOR`] times `expected`, or, where that is out of reach
/// (a component spanning more than a fifth of the space, as in S3 or S4),
/// more than halfway from `expected` to all of the power.
pub fn is_key(share: f64, expected: f64) -> bool {
    share >= (KEY_FACTOR * expected).min(0.5 * (1.0 + expected))
}

/// The DFT of a real sequence (rustfft, unnormalised: X_k = Σ_x f(x) e^{-2πikx/n}).
pub fn dft(f: &[f64]) -> Vec<Complex<f64>> {
    let mut buf: Vec<Complex<f64>> = f.iter().map(|&x| Complex::new(x, 0.0)).collect();
    FftPlanner::new()
        .plan_fft_forward(f.len())
        .process(&mut buf);
    buf
}

/// The inverse of [`dft`]: f(x) = (1/n) Σ_k X_k e^{2πikx/n}.
pub fn inverse_dft(spectrum: &[Complex<f64>]) -> Vec<Complex<f64>> {
    let mut buf = spectrum.to_vec();
    FftPlanner::new()
        .plan_fft_inverse(buf.len())
        .process(&mut buf);
    let n = buf.len() as f64;
    buf.iter().map(|z| z / n).collect()
}

/// Power per frequency of a function Z/n -> R^d.
#[derive(Debug, Clone, PartialEq)]
pub struct FourierSpectrum {
    /// n.
    pub n: usize,
    /// `power[k - 1]` for k = 1..=⌊n/2⌋ (k and n − k merged).
    pub power: Vec<f64>,
}

impl FourierSpectrum {
    /// The spectrum of the rows of `e` (n × d, row x = f(x)).
    ///
    /// # Shapes
    /// `e: [n, d]` -> `power: [⌊n/2⌋]`.
    ///
    /// # Errors
    /// Fewer than 2 rows, or constant columns (no non-constant power).
    pub fn of_rows(e: &DMatrix<f64>) -> Result<Self, AnalysisError> {
        let n = e.nrows();
        if n < 2 {
            return Err(AnalysisError::TooFewRows {
                what: "a Fourier spectrum",
                min: 2,
                n,
            });
        }
        let mut planner = FftPlanner::new();
        let fft = planner.plan_fft_forward(n);
        let mut raw = vec![0.0; n];
        let mut buf = vec![Complex::new(0.0, 0.0); n];
        for col in e.column_iter() {
            let mean = col.mean();
            for (b, &x) in buf.iter_mut().zip(col.iter()) {
                *b = Complex::new(x - mean, 0.0);
            }
            fft.process(&mut buf);
            for (r, z) in raw.iter_mut().zip(&buf) {
                *r += z.norm_sqr();
            }
        }
        let power: Vec<f64> = (1..=n / 2)
            .map(|k| {
                if 2 * k == n {
                    raw[k]
                } else {
                    raw[k] + raw[n - k]
                }
            })
            .collect();
        // Relative test: float noise leaks about 1e-30 of the energy.
        if power.iter().sum::<f64>() <= 1e-20 * n as f64 * e.norm_squared() {
            return Err(AnalysisError::Constant("the function"));
        }
        Ok(Self { n, power })
    }

    /// Σ_k P_k, the non-constant power.
    pub fn total(&self) -> f64 {
        self.power.iter().sum()
    }

    /// P_k / Σ P, for k = 1..=⌊n/2⌋.
    pub fn shares(&self) -> Vec<f64> {
        let t = self.total();
        self.power.iter().map(|p| p / t).collect()
    }

    /// Frequencies, strongest first (ties by frequency).
    pub fn ranked(&self) -> Vec<usize> {
        let mut ks: Vec<usize> = (1..=self.power.len()).collect();
        ks.sort_by(|&a, &b| {
            self.power[b - 1]
                .total_cmp(&self.power[a - 1])
                .then(a.cmp(&b))
        });
        ks
    }

    /// `concentration(k)`: the share of the non-constant power held by the k
    /// strongest frequencies.
    pub fn concentration(&self, k: usize) -> f64 {
        let t = self.total();
        self.ranked()
            .iter()
            .take(k)
            .map(|&f| self.power[f - 1])
            .sum::<f64>()
            / t
    }

    /// The share of frequency k for an isotropic random function: its
    /// dimension (2, or 1 for k = n/2) over n − 1.
    pub fn expected_share(&self, k: usize) -> f64 {
        let dim = if 2 * k == self.n { 1.0 } else { 2.0 };
        dim / (self.n as f64 - 1.0)
    }

    /// Key frequencies, strongest first: those passing [`is_key`] (for odd
    /// n, a share of at least 3/⌊n/2⌋). The same rule picks key irreps in
    /// Peter–Weyl spectra, so the two agree on Z/n.
    pub fn key_frequencies(&self) -> Vec<usize> {
        let shares = self.shares();
        self.ranked()
            .into_iter()
            .filter(|&k| is_key(shares[k - 1], self.expected_share(k)))
            .collect()
    }

    /// The frequencies the discrete-log probe regresses on: the key
    /// frequencies, or when none passes (an untrained or diffuse
    /// embedding) the three strongest, so the probe always has features.
    pub fn probe_frequencies(&self) -> Vec<usize> {
        let key = self.key_frequencies();
        if key.is_empty() {
            self.ranked().into_iter().take(3).collect()
        } else {
            key
        }
    }
}

/// Result of the discrete-log probe.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeResult {
    /// Share of held-out elements whose index was decoded exactly.
    pub accuracy: f64,
    /// Frequencies whose cos/sin were regressed.
    pub frequencies: Vec<usize>,
    /// Cross-validation folds.
    pub folds: usize,
}

/// A linear probe of the cyclic index j of each row: ridge regression from
/// the row to (cos 2πkj/n, sin 2πkj/n) for the given frequencies, trained
/// on the other folds; a held-out row is decoded to the j whose target is
/// nearest its prediction (inner product). Accuracy is the share of rows
/// decoded exactly, over `folds`-fold cross-validation with a seeded split.
///
/// With rows in discrete-log order (for `mul`) this asks whether the
/// embedding linearly encodes the discrete logarithm; rows in raw label
/// order ask the same of the labels.
///
/// # Errors
/// Fewer rows than folds, or no frequencies.
pub fn cyclic_probe(
    rows: &DMatrix<f64>,
    frequencies: &[usize],
    folds: usize,
    seed: u64,
) -> Result<ProbeResult, AnalysisError> {
    let (n, d) = (rows.nrows(), rows.ncols());
    if n < folds.max(2) {
        return Err(AnalysisError::TooFewRows {
            what: "the probe",
            min: folds.max(2),
            n,
        });
    }
    if frequencies.is_empty() {
        return Err(AnalysisError::Shape(
            "the probe needs at least one frequency".into(),
        ));
    }
    let m = 2 * frequencies.len();
    let target = |j: usize| -> Vec<f64> {
        frequencies
            .iter()
            .flat_map(|&k| {
                let t = 2.0 * PI * (k * j) as f64 / n as f64;
                [t.cos(), t.sin()]
            })
            .collect()
    };
    let targets: Vec<Vec<f64>> = (0..n).map(target).collect();
    let order = SplitMix64::derived(seed, "probe").permutation(n);
    let mut correct = 0;
    for fold in 0..folds {
        let test: Vec<usize> = order
            .iter()
            .enumerate()
            .filter(|(i, _)| i % folds == fold)
            .map(|(_, &j)| j)
            .collect();
        let train: Vec<usize> = order
            .iter()
            .enumerate()
            .filter(|(i, _)| i % folds != fold)
            .map(|(_, &j)| j)
            .collect();
        // Ridge with a bias column: W = (XᵀX + λI)⁻¹ XᵀY.
        let x = DMatrix::from_fn(train.len(), d + 1, |r, c| {
            if c == d {
                1.0
            } else {
                rows[(train[r], c)]
            }
        });
        let y = DMatrix::from_fn(train.len(), m, |r, c| targets[train[r]][c]);
        let xtx = x.transpose() * &x;
        let lambda = 1e-3 * xtx.trace() / (d + 1) as f64;
        let a = xtx + DMatrix::identity(d + 1, d + 1) * lambda.max(1e-12);
        let w = a
            .cholesky()
            .ok_or(AnalysisError::Constant("the probe's design matrix"))?
            .solve(&(x.transpose() * y));
        for &j in &test {
            let xr = DMatrix::from_fn(1, d + 1, |_, c| if c == d { 1.0 } else { rows[(j, c)] });
            let pred = xr * &w;
            let decoded = (0..n)
                .max_by(|&u, &v| {
                    let s = |t: usize| {
                        targets[t]
                            .iter()
                            .zip(pred.iter())
                            .map(|(a, b)| a * b)
                            .sum::<f64>()
                    };
                    s(u).total_cmp(&s(v))
                })
                .expect("n >= 2");
            correct += usize::from(decoded == j);
        }
    }
    Ok(ProbeResult {
        accuracy: correct as f64 / n as f64,
        frequencies: frequencies.to_vec(),
        folds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::analysis::gaussian as random;

    #[test]
    fn inversion_and_parseval() {
        for n in [1usize, 2, 7, 12, 113] {
            let f: Vec<f64> = random(n, 1, n as u64).column(0).iter().copied().collect();
            let spec = dft(&f);
            let back = inverse_dft(&spec);
            for (x, z) in f.iter().zip(&back) {
                assert!((x - z.re).abs() < 1e-12 && z.im.abs() < 1e-12);
            }
            let energy: f64 = f.iter().map(|x| x * x).sum();
            let spectral: f64 = spec.iter().map(|z| z.norm_sqr()).sum::<f64>() / n as f64;
            assert!((energy - spectral).abs() < 1e-9 * energy.max(1.0));
        }
    }

    #[test]
    fn spectrum_power_equals_the_centred_energy() {
        // Parseval for the merged spectrum: Σ_k P_k / n = ||E - mean||².
        for n in [2usize, 9, 12, 100] {
            let e = random(n, 5, 3);
            let s = FourierSpectrum::of_rows(&e).unwrap();
            let centred: f64 = e
                .column_iter()
                .map(|c| c.iter().map(|x| (x - c.mean()).powi(2)).sum::<f64>())
                .sum();
            assert!((s.total() / n as f64 - centred).abs() < 1e-9 * centred);
            assert_eq!(s.power.len(), n / 2);
        }
    }

    #[test]
    fn the_probe_falls_back_to_the_three_strongest_frequencies() {
        // One planted frequency is key and the probe uses it alone.
        let n = 31;
        let e = DMatrix::from_fn(n, 2, |x, j| {
            let t = 2.0 * std::f64::consts::PI * 4.0 * x as f64 / n as f64;
            if j == 0 {
                t.cos()
            } else {
                t.sin()
            }
        });
        let s = FourierSpectrum::of_rows(&e).unwrap();
        assert_eq!(s.probe_frequencies(), vec![4]);
        // Equal power at every frequency: none is key, the three strongest
        // (ties by frequency: 1, 2, 3) are used.
        let flat = FourierSpectrum {
            n,
            power: vec![1.0; n / 2],
        };
        assert!(flat.key_frequencies().is_empty());
        assert_eq!(flat.probe_frequencies(), vec![1, 2, 3]);
    }

    #[test]
    fn a_planted_frequency_is_found_and_concentrated() {
        let n = 113;
        let e = DMatrix::from_fn(n, 8, |x, j| {
            let t = 2.0 * PI * x as f64 / n as f64;
            (14.0 * t + j as f64).cos() + 0.5 * (35.0 * t).sin()
        });
        let s = FourierSpectrum::of_rows(&e).unwrap();
        assert_eq!(s.key_frequencies(), vec![14, 35]);
        // Amplitudes 1 and 1/2 in every column: shares 1/1.25 and 0.25/1.25.
        assert!((s.concentration(1) - 0.8).abs() < 1e-9);
        assert!((s.concentration(2) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn random_rows_have_no_key_frequency() {
        let s = FourierSpectrum::of_rows(&random(113, 64, 9)).unwrap();
        assert!(s.key_frequencies().is_empty(), "{:?}", s.key_frequencies());
        assert!(s.concentration(5) < 0.2);
    }

    #[test]
    fn the_probe_reads_a_linear_code_and_not_noise() {
        let n = 112;
        let mut rng = SplitMix64::new(1);
        let mix = DMatrix::from_fn(4, 32, |_, _| rng.normal());
        let code = DMatrix::from_fn(n, 4, |j, c| {
            let t = 2.0 * PI * ([3, 3, 17, 17][c] * j) as f64 / n as f64;
            if c % 2 == 0 {
                t.cos()
            } else {
                t.sin()
            }
        });
        let rows = code * mix + random(n, 32, 2) * 0.01;
        let good = cyclic_probe(&rows, &[3, 17], 5, 0).unwrap();
        assert!(good.accuracy > 0.95, "{good:?}");
        let noise = cyclic_probe(&random(n, 32, 4), &[3, 17], 5, 0).unwrap();
        assert!(noise.accuracy < 0.1, "{noise:?}");
    }

    #[test]
    fn bad_input_is_rejected() {
        assert!(FourierSpectrum::of_rows(&DMatrix::zeros(1, 3)).is_err());
        assert_eq!(
            FourierSpectrum::of_rows(&DMatrix::from_element(5, 2, 1.0)),
            Err(AnalysisError::Constant("the function"))
        );
    }
}
