//! The training loss: cross-entropy over softmax (the default) or over
//! StableMax (Prieto et al. 2025), computed in float32 (the default) or
//! with the logits upcast to float64 (as Nanda et al.'s code computes it).
//!
//! StableMax replaces `exp` by `s(x) = x + 1` for `x ≥ 0` and
//! `1 / (1 − x)` for `x < 0`: `p_j = s(x_j) / Σ_k s(x_k)`, so a large
//! logit gap cannot round a probability to exactly one. The gradient of
//! `−log p_y` is `s'(x_j) / Σ s − [j = y] · s'(x_y) / s(x_y)`, with
//! `s'(x) = 1` for `x ≥ 0` and `1 / (1 − x)²` below.
//!
//! Two implementations of each loss agree: [`row`], plain Rust over one
//! row of logits (the fused step's loss head), and [`per_pair`], libtorch
//! ops that autograd can differentiate (the LayerNorm fallback and the
//! evaluation of test pairs). The default (float32 softmax) keeps the
//! fused step's libtorch log-softmax, so its results are unchanged.

use crate::config::{LossPrecision, Softmax};
use tch::{Kind, Tensor};

/// The loss a run trains with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LossKind {
    /// Precision of the loss and its gradient.
    pub precision: LossPrecision,
    /// Softmax or StableMax.
    pub softmax: Softmax,
}

impl LossKind {
    /// The loss of a run's configuration.
    pub fn of(cfg: &crate::config::RunConfig) -> Self {
        Self {
            precision: cfg.loss_precision,
            softmax: cfg.softmax,
        }
    }

    /// Float32 softmax cross-entropy: grokscope's default, computed by the
    /// fused step with libtorch's log-softmax.
    pub fn is_default(self) -> bool {
        self == Self::default()
    }
}

/// The loss of one pair, in its working precision, widened to f64.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowLoss {
    /// `−log p_y`.
    pub loss: f64,
    /// The loss is exactly zero in the working precision: the label's
    /// probability rounded to one (softmax collapse).
    pub collapsed: bool,
}

/// The few operations the loss needs, in f32 or f64.
trait Real:
    Copy
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    fn of(x: f32) -> Self;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn f32(self) -> f32;
    fn f64(self) -> f64;
}

macro_rules! real {
    ($t:ty) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn of(x: f32) -> Self {
                x as $t
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            fn f32(self) -> f32 {
                self as f32
            }
            fn f64(self) -> f64 {
                self as f64
            }
        }
    };
}
real!(f32);
real!(f64);

/// StableMax's `s(x)` and `s'(x)`.
fn stable<F: Real>(x: F) -> (F, F) {
    if x >= F::ZERO {
        (x + F::ONE, F::ONE)
    } else {
        let r = F::ONE / (F::ONE - x);
        (r, r * r)
    }
}

fn row_in<F: Real>(
    softmax: Softmax,
    logits: &[f32],
    label: usize,
    grad: Option<&mut [f32]>,
    scale: f32,
) -> RowLoss {
    let x_y = F::of(logits[label]);
    let (loss, collapsed) = match softmax {
        Softmax::Standard => {
            let max = logits.iter().fold(F::of(logits[0]), |m, &v| {
                let v = F::of(v);
                if v > m {
                    v
                } else {
                    m
                }
            });
            let sum = logits
                .iter()
                .fold(F::ZERO, |acc, &v| acc + (F::of(v) - max).exp());
            let log_sum = sum.ln();
            // −log p_y as log-softmax computes it: (max − x_y) + log Σ.
            let loss = (max - x_y) + log_sum;
            if let Some(g) = grad {
                let scale = F::of(scale);
                for (j, (g, &v)) in g.iter_mut().zip(logits).enumerate() {
                    let p = (F::of(v) - max).exp() / sum;
                    let p = if j == label { p - F::ONE } else { p };
                    *g = (p / scale).f32();
                }
            }
            (loss, loss == F::ZERO)
        }
        Softmax::Stablemax => {
            let sum = logits
                .iter()
                .fold(F::ZERO, |acc, &v| acc + stable(F::of(v)).0);
            let (s_y, ds_y) = stable(x_y);
            let loss = sum.ln() - s_y.ln();
            if let Some(g) = grad {
                let scale = F::of(scale);
                for (j, (g, &v)) in g.iter_mut().zip(logits).enumerate() {
                    let d = stable(F::of(v)).1 / sum;
                    let d = if j == label { d - ds_y / s_y } else { d };
                    *g = (d / scale).f32();
                }
            }
            (loss, loss == F::ZERO)
        }
    };
    RowLoss {
        loss: loss.f64(),
        collapsed,
    }
}

/// The loss of one row of `logits` whose label is `label`, and, when
/// `grad` is given (same length as `logits`), its gradient divided by
/// `scale` (the number of pairs a mean runs over), rounded to f32.
pub fn row(
    kind: LossKind,
    logits: &[f32],
    label: usize,
    grad: Option<&mut [f32]>,
    scale: f32,
) -> RowLoss {
    match kind.precision {
        LossPrecision::F32 => row_in::<f32>(kind.softmax, logits, label, grad, scale),
        LossPrecision::F64 => row_in::<f64>(kind.softmax, logits, label, grad, scale),
    }
}

/// `−log p_y` of every pair as libtorch ops that autograd differentiates:
/// `logits [S, B, n]`, `labels [S, B]` -> `[S, B]`, float32 or float64 as
/// the precision says.
///
/// # Errors
/// libtorch errors.
pub fn per_pair(kind: LossKind, logits: &Tensor, labels: &Tensor) -> Result<Tensor, tch::TchError> {
    let k = match kind.precision {
        LossPrecision::F32 => Kind::Float,
        LossPrecision::F64 => Kind::Double,
    };
    let x = logits.f_to_kind(k)?;
    let logp = match kind.softmax {
        Softmax::Standard => x.f_log_softmax(-1, k)?,
        Softmax::Stablemax => {
            // Each branch clamped to its own side, so the branch not taken
            // has a finite gradient (0 · ∞ would be NaN).
            let pos = x.f_clamp_min(0.0)?.f_add_scalar(1.0)?;
            let neg = x
                .f_clamp_max(0.0)?
                .f_neg()?
                .f_add_scalar(1.0)?
                .f_reciprocal()?;
            let s = neg.f_where_self(&x.f_lt(0.0)?, &pos)?;
            s.f_log()?
                .f_sub(&s.f_sum_dim_intlist(-1, true, k)?.f_log()?)?
        }
    };
    logp.f_gather(-1, &labels.f_unsqueeze(-1)?, false)?
        .f_squeeze_dim(-1)?
        .f_neg()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STABLE_F64: LossKind = LossKind {
        precision: LossPrecision::F64,
        softmax: Softmax::Stablemax,
    };

    #[test]
    fn stablemax_on_a_hand_checked_row() {
        // x = (0, 1, −1): s = (1, 2, 1/2), Σ = 7/2, p = (2/7, 4/7, 1/7).
        // Label 1: loss = ln(7/4); gradient s'/Σ − [j=y] s'(x_y)/s(x_y) =
        // (2/7, 2/7 − 1/2, (1/4)/(7/2)) = (2/7, −3/14, 1/14).
        let mut g = [0f32; 3];
        let r = row(STABLE_F64, &[0.0, 1.0, -1.0], 1, Some(&mut g), 1.0);
        assert!((r.loss - (7.0f64 / 4.0).ln()).abs() < 1e-12);
        assert!(!r.collapsed);
        for (got, want) in g.iter().zip([2.0 / 7.0, -3.0 / 14.0, 1.0 / 14.0]) {
            assert!((f64::from(*got) - want).abs() < 1e-7, "{g:?}");
        }
        // The mean over 2 pairs halves the gradient.
        let mut h = [0f32; 3];
        row(STABLE_F64, &[0.0, 1.0, -1.0], 1, Some(&mut h), 2.0);
        assert!((h[0] - g[0] / 2.0).abs() < 1e-7);
    }

    #[test]
    fn softmax_collapses_in_f32_but_not_in_f64() {
        // Logits (30, 0), label 0: −log p = ln(1 + e^−30) = 9.3576e−14,
        // below f32's resolution at 1 but not f64's.
        let f32_kind = LossKind::default();
        let f64_kind = LossKind {
            precision: LossPrecision::F64,
            softmax: Softmax::Standard,
        };
        let a = row(f32_kind, &[30.0, 0.0], 0, None, 1.0);
        assert_eq!((a.loss, a.collapsed), (0.0, true));
        let b = row(f64_kind, &[30.0, 0.0], 0, None, 1.0);
        assert!(!b.collapsed);
        // log Σ of 1 + 9.36e−14 keeps f64's 2.2e−16 absolute resolution
        // at 1, so about three digits of the loss.
        let exact = (-30.0f64).exp().ln_1p();
        assert!((b.loss / exact - 1.0).abs() < 3e-3, "{} vs {exact}", b.loss);
        // StableMax keeps the same row away from collapse in f32:
        // s = (31, 1), −log p = ln(32/31).
        let stable32 = LossKind {
            precision: LossPrecision::F32,
            softmax: Softmax::Stablemax,
        };
        let c = row(stable32, &[30.0, 0.0], 0, None, 1.0);
        assert!((c.loss - (32.0f64 / 31.0).ln()).abs() < 1e-6);
    }

    #[test]
    fn softmax_gradient_is_probabilities_minus_onehot() {
        // x = (ln 1, ln 3): p = (1/4, 3/4); label 1: gradient (1/4, −1/4).
        let mut g = [0f32; 2];
        let kind = LossKind {
            precision: LossPrecision::F64,
            softmax: Softmax::Standard,
        };
        let r = row(kind, &[0.0, 3f32.ln()], 1, Some(&mut g), 1.0);
        assert!((r.loss - (4.0f64 / 3.0).ln()).abs() < 1e-7);
        assert!(
            (g[0] - 0.25).abs() < 1e-7 && (g[1] + 0.25).abs() < 1e-7,
            "{g:?}"
        );
    }

    #[test]
    fn rust_rows_equal_the_libtorch_loss_and_its_autograd_gradient() {
        let logits =
            Tensor::from_slice(&[0.3f32, -2.0, 1.5, 4.0, -0.5, 0.0, 2.5, -3.0]).view([1, 2, 4]);
        let labels = Tensor::from_slice(&[2i64, 0]).view([1, 2]);
        for precision in [LossPrecision::F32, LossPrecision::F64] {
            for softmax in [Softmax::Standard, Softmax::Stablemax] {
                let kind = LossKind { precision, softmax };
                let x = logits.copy().set_requires_grad(true);
                let loss = per_pair(kind, &x, &labels).unwrap();
                loss.sum(loss.kind()).divide_scalar(2.0).backward();
                let want_loss =
                    Vec::<f64>::try_from(loss.to_kind(Kind::Double).view([-1])).unwrap();
                let want_grad = Vec::<f32>::try_from(x.grad().view([-1])).unwrap();
                let values = Vec::<f32>::try_from(logits.view([-1])).unwrap();
                for (r, label) in [(0usize, 2usize), (1, 0)] {
                    let mut g = [0f32; 4];
                    let got = row(kind, &values[r * 4..r * 4 + 4], label, Some(&mut g), 2.0);
                    assert!((got.loss - want_loss[r]).abs() < 1e-6, "{kind:?}");
                    for (a, b) in g.iter().zip(&want_grad[r * 4..r * 4 + 4]) {
                        assert!((a - b).abs() < 1e-6, "{kind:?}: {g:?} vs {want_grad:?}");
                    }
                }
            }
        }
    }
}
