//! Mechanism probes: which circuit a model runs.
//!
//! - Clock or pizza (Zhong et al. 2023), for cyclic groups with elements
//!   indexed by their residue. **Gradient symmetricity** is the mean cosine
//!   similarity between the gradients of the correct logit `Q(a, b, a + b)`
//!   with respect to the two input embeddings `E_a` and `E_b`: a pizza
//!   reads `E_a + E_b`, so its two gradients are equal (1); a clock
//!   multiplies the two angles, so its gradients are rotated against each
//!   other by the angle between a and b (about 0 on average). **Distance
//!   irrelevance** is the mean over distances d = a − b of the standard
//!   deviation of the correct logit among pairs at distance d, divided by
//!   its standard deviation over all pairs: a clock's correct logit does
//!   not depend on the distance (near 1), a pizza's does (near 0).
//! - **Neuron irrep purity**: the share of a neuron's non-constant power
//!   (its pre-activation over G × G) in its strongest product of irreps
//!   `Π_ρ ⊗ Π_σ` ([`PairSpectrum`]), averaged over neurons; and the share of
//!   neurons whose strongest pair lies in the given key irreps on both axes
//!   (neurons clustered by the circuit's irreps).
//! - **Irrep ablation**: an embedding (one row per group element) with one
//!   isotypic component removed, or with only the trivial and key
//!   components kept ([`project`]); the caller evaluates the model on it.

use super::peter_weyl::PairSpectrum;
use super::AnalysisError;
use crate::groups::FiniteGroup;
use nalgebra::DMatrix;

/// Paired gradients `(∂Q/∂E_a, ∂Q/∂E_b)`, one pair per sampled (a, b).
pub type GradientPairs = Vec<(Vec<f64>, Vec<f64>)>;

/// Mean cosine similarity of paired gradients `(∂Q/∂E_a, ∂Q/∂E_b)`; pairs
/// where either gradient is zero are skipped.
///
/// # Errors
/// No pair with two non-zero gradients of equal length.
pub fn gradient_symmetricity(grads: &[(Vec<f64>, Vec<f64>)]) -> Result<f64, AnalysisError> {
    let mut cosines = Vec::new();
    for (a, b) in grads {
        if a.len() != b.len() {
            return Err(AnalysisError::Shape(format!(
                "gradients of lengths {} and {} cannot be compared",
                a.len(),
                b.len()
            )));
        }
        let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let (na, nb) = (
            a.iter().map(|x| x * x).sum::<f64>().sqrt(),
            b.iter().map(|x| x * x).sum::<f64>().sqrt(),
        );
        if na > 0.0 && nb > 0.0 {
            cosines.push(dot / (na * nb));
        }
    }
    if cosines.is_empty() {
        return Err(AnalysisError::Constant("every gradient pair"));
    }
    Ok(cosines.iter().sum::<f64>() / cosines.len() as f64)
}

/// Distance irrelevance of the correct logits `correct[(a, b)]` of Z/n
/// (residues on both axes): mean over d of std{L(a, a − d)} / std{L}
/// (population standard deviations).
///
/// # Errors
/// A matrix that is not square, or constant correct logits.
pub fn distance_irrelevance(correct: &DMatrix<f64>) -> Result<f64, AnalysisError> {
    let n = correct.nrows();
    if correct.ncols() != n || n < 2 {
        return Err(AnalysisError::Shape(format!(
            "correct logits of Z/n need an n × n matrix with n >= 2, got {:?}",
            correct.shape()
        )));
    }
    let std = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
    };
    let all = std(correct.as_slice());
    if all <= 1e-12 * correct.amax().max(1e-300) {
        return Err(AnalysisError::Constant("the correct logits"));
    }
    let within: f64 = (0..n)
        .map(|d| {
            std(&(0..n)
                .map(|a| correct[(a, (a + n - d) % n)])
                .collect::<Vec<_>>())
        })
        .sum::<f64>()
        / n as f64;
    Ok(within / all)
}

/// How the neurons sit in the irreps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NeuronPurity {
    /// Mean over neurons of the share of a neuron's power in its strongest
    /// `(ρ, σ)` (neurons with no non-constant power count 0).
    pub mean_purity: f64,
    /// Share of neurons whose strongest `(ρ, σ)` has both ρ and σ among the
    /// key irreps.
    pub key_share: f64,
}

/// Purity of the neurons of `spectrum`, with `key` the key irreps as
/// indices into `spectrum.irreps` (trivial is index 0).
pub fn neuron_purity(spectrum: &PairSpectrum, key: &[usize]) -> NeuronPurity {
    let per = &spectrum.dominant_per_function;
    let n = per.len().max(1) as f64;
    NeuronPurity {
        mean_purity: per.iter().map(|d| d.2).sum::<f64>() / n,
        key_share: per
            .iter()
            .filter(|d| d.2 > 0.0 && key.contains(&d.0) && key.contains(&d.1))
            .count() as f64
            / n,
    }
}

/// What [`project`] keeps of a function on G.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ablation<'a> {
    /// Remove this irrep's isotypic component (index into the group's real
    /// irreps).
    Remove(usize),
    /// Keep the trivial component (the mean) and these irreps' only.
    KeepOnly(&'a [usize]),
}

/// `rows` (|G| × d, group element order) with isotypic components removed
/// or kept as `ablation` says.
///
/// # Errors
/// A row count other than |G|, or an irrep index out of range.
pub fn project(
    group: &FiniteGroup,
    rows: &DMatrix<f64>,
    ablation: Ablation,
) -> Result<DMatrix<f64>, AnalysisError> {
    let reps = group.representations();
    if rows.nrows() != group.order() {
        return Err(AnalysisError::Shape(format!(
            "{} has {} elements but the function has {} rows",
            group.name(),
            group.order(),
            rows.nrows()
        )));
    }
    let component = |i: usize| -> Result<DMatrix<f64>, AnalysisError> {
        let r = reps.real.get(i).ok_or_else(|| {
            AnalysisError::Shape(format!(
                "irrep {i} does not exist ({} has {})",
                group.name(),
                reps.real.len()
            ))
        })?;
        Ok(&r.basis * (r.basis.transpose() * rows))
    };
    match ablation {
        Ablation::Remove(i) => Ok(rows - component(i)?),
        Ablation::KeepOnly(keep) => {
            let mut out = component(0)?;
            for &i in keep.iter().filter(|&&i| i != 0) {
                out += component(i)?;
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::TAU;

    /// All ordered pairs (a, b), a ≠ b, of Z/n.
    fn pairs(n: usize) -> impl Iterator<Item = (usize, usize)> {
        (0..n).flat_map(move |a| (0..n).filter(move |&b| b != a).map(move |b| (a, b)))
    }

    #[test]
    fn a_hand_built_pizza_is_symmetric_and_a_clock_is_not() {
        let (n, k) = (11usize, 3.0);
        let w = TAU * k / n as f64;
        let e = |a: usize| [(w * a as f64).cos(), (w * a as f64).sin()];
        // Clock: Q = Re(z_a z_b conj(z_c)), z = cos + i sin. ∂Q/∂E_a is
        // z_b conj(z_c) conjugated, i.e. the angle c − b = a at c = a + b:
        // the gradients are E_a and E_b, whose cosine is cos(w(a − b)),
        // which averages to −1/(n − 1) over the pairs a ≠ b.
        let clock: Vec<(Vec<f64>, Vec<f64>)> = pairs(n)
            .map(|(a, b)| (e(a).to_vec(), e(b).to_vec()))
            .collect();
        let s = gradient_symmetricity(&clock).unwrap();
        assert!((s + 1.0 / (n as f64 - 1.0)).abs() < 1e-12, "{s}");
        // Pizza: Q = ((E_a + E_b) · u_c)², so both gradients are
        // 2 ((E_a + E_b) · u_c) u_c: equal, cosine 1 (where non-zero).
        let pizza: Vec<(Vec<f64>, Vec<f64>)> = pairs(n)
            .map(|(a, b)| {
                let (x, u) = (e(a), e((a + b) % n));
                let y = e(b);
                let dot = (x[0] + y[0]) * u[0] + (x[1] + y[1]) * u[1];
                let g = vec![2.0 * dot * u[0], 2.0 * dot * u[1]];
                (g.clone(), g)
            })
            .collect();
        assert!((gradient_symmetricity(&pizza).unwrap() - 1.0).abs() < 1e-12);
        assert!(gradient_symmetricity(&[(vec![0.0], vec![1.0])]).is_err());
    }

    #[test]
    fn distance_irrelevance_is_one_for_a_clock_and_zero_for_a_pizza() {
        let n = 13;
        let w = TAU * 2.0 / n as f64;
        // A clock's correct logit may vary with a + b but not with a − b:
        // at each distance, a + b = 2a − d runs over every residue (n odd),
        // so each distance's spread is the whole spread.
        let clock = DMatrix::from_fn(n, n, |a, b| (w * ((a + b) % n) as f64).cos());
        let q = distance_irrelevance(&clock).unwrap();
        assert!((q - 1.0).abs() < 1e-12, "{q}");
        // A pizza's correct logit is |cos(w(a − b)/2)|: a function of the
        // distance alone, so nothing varies within a distance.
        let pizza = DMatrix::from_fn(n, n, |a, b| {
            (w * ((a + n - b) % n) as f64 / 2.0).cos().abs()
        });
        assert!(distance_irrelevance(&pizza).unwrap().abs() < 1e-12);
        assert!(distance_irrelevance(&DMatrix::from_element(n, n, 2.0)).is_err());
        assert!(distance_irrelevance(&DMatrix::zeros(3, 4)).is_err());
    }

    #[test]
    fn ablating_a_frequency_from_a_single_frequency_embedding() {
        let n = 12;
        let z = FiniteGroup::cyclic(n).unwrap();
        let reps = z.representations();
        // A pure frequency-5 embedding plus a constant column.
        let w = TAU * 5.0 / n as f64;
        let e = DMatrix::from_fn(n, 3, |g, c| match c {
            0 => (w * g as f64).cos(),
            1 => (w * g as f64).sin(),
            _ => 1.0,
        });
        let five = (0..reps.real.len())
            .find(|&i| {
                let p = &reps.real[i].basis;
                (p * (p.transpose() * e.columns(0, 2))).norm() > 1e-9
            })
            .expect("some irrep holds frequency 5");
        // Removing it leaves the constant column alone.
        let off = project(&z, &e, Ablation::Remove(five)).unwrap();
        assert!(off.columns(0, 2).norm() < 1e-12);
        assert!((off.column(2) - e.column(2)).norm() < 1e-12);
        // Removing any other frequency changes nothing.
        let other = if five == 1 { 2 } else { 1 };
        assert!((project(&z, &e, Ablation::Remove(other)).unwrap() - &e).norm() < 1e-12);
        // Keeping only it (and the mean) keeps everything; keeping only
        // another leaves just the mean.
        assert!((project(&z, &e, Ablation::KeepOnly(&[five])).unwrap() - &e).norm() < 1e-12);
        let kept = project(&z, &e, Ablation::KeepOnly(&[other])).unwrap();
        assert!(kept.columns(0, 2).norm() < 1e-12 && (kept.column(2) - e.column(2)).norm() < 1e-12);
        assert!(project(&z, &e, Ablation::Remove(99)).is_err());
        assert!(project(&z, &DMatrix::zeros(5, 2), Ablation::Remove(1)).is_err());
    }

    #[test]
    fn neurons_in_one_key_pair_are_pure_and_random_ones_are_not() {
        let n = 12;
        let z = FiniteGroup::cyclic(n).unwrap();
        let w = TAU * 5.0 / n as f64;
        // Neurons cos(w(g + h) + φ): all power in (ρ_5, ρ_5).
        let pure: Vec<DMatrix<f64>> = (0..4)
            .map(|k| DMatrix::from_fn(n, n, |g, h| (w * (g + h) as f64 + k as f64).cos()))
            .collect();
        let spectrum = PairSpectrum::of_functions(&z, &pure).unwrap();
        let (five, _, share) = spectrum.dominant();
        assert!((share - 1.0).abs() < 1e-12);
        let p = neuron_purity(&spectrum, &[five]);
        assert!(
            (p.mean_purity - 1.0).abs() < 1e-12 && p.key_share == 1.0,
            "{p:?}"
        );
        // Random neurons spread over the 49 non-constant pairs.
        let noise: Vec<DMatrix<f64>> = (0..40)
            .map(|s| {
                let g = crate::analysis::gaussian(n * n, 1, s);
                DMatrix::from_fn(n, n, |a, b| g[(a * n + b, 0)])
            })
            .collect();
        let q = neuron_purity(&PairSpectrum::of_functions(&z, &noise).unwrap(), &[five]);
        assert!(q.mean_purity < 0.3 && q.key_share < 0.2, "{q:?}");
    }
}
