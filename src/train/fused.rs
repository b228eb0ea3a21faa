//! The fused training step: the exact fast path's forward pass with its
//! backward pass derived by hand (no autograd graph), and grokscope's own
//! AdamW, whose moments are plain vectors that can be stored, so a run can
//! be extended or resumed exactly.
//!
//! The forward pass is [`Transformer::forward_last`]'s algebra: per-token
//! tables (scores, values through W_O, and those through W_in, see
//! [`attention`]) are built once per step from the weights and shared by
//! every chunk of pairs, so a pair's attention output and the first MLP
//! layer's pre-activations are weighted sums of table rows; the backward
//! pass accumulates the gradients of those tables over the chunks
//! (scatter-adds by token) and pushes them back to the weights once per
//! step. Every gradient is checked
//! against autograd's in `tests/fused_step.rs` (relative error ≤ 1e-5).
//! With LayerNorm on, gradients fall back to autograd (the optimiser is
//! still this one).
//!
//! AdamW follows PyTorch's definition (decoupled weight decay applied
//! first, bias-corrected moments, ε added after the square root) in plain
//! f32 Rust, element by element, so the update itself is the same on every
//! CPU.

use super::attention;
use super::loss::{self, LossKind};
use crate::model::{ModelError, Transformer};
use tch::{Kind, Tensor};

/// The revision of the fused step's arithmetic, recorded in every run's
/// manifest. A run is extended or resumed only by the revision that
/// trained it, since another rounds differently and the continuation would
/// not equal a run trained from scratch.
///
/// 1. grokscope 0.2's first fused step: the attention's weighted sum of
///    value rows in Rust, the MLP's first layer as a product per pair.
/// 2. The first MLP layer folded into per-token tables, the chunk loop in
///    two parts on two threads, subnormals flushed in the chunk loop.
pub const STEP_REVISION: u32 = 2;

/// Per-pair results of one pass over a set of pairs.
pub struct PassStats {
    /// Σ loss per model, f64.
    pub loss_sum: Vec<f64>,
    /// Correct predictions per model.
    pub correct: Vec<f64>,
    /// Pairs whose loss is exactly zero in the working precision (softmax
    /// collapse), per model.
    pub collapsed: Vec<f64>,
    /// Σ (max logit − mean logit) per model.
    pub logit_scale_sum: Vec<f64>,
}

impl PassStats {
    /// Adds another pass's sums (of the same models).
    fn merge(&mut self, other: &Self) {
        for (mine, theirs) in [
            (&mut self.loss_sum, &other.loss_sum),
            (&mut self.correct, &other.correct),
            (&mut self.collapsed, &other.collapsed),
            (&mut self.logit_scale_sum, &other.logit_scale_sum),
        ] {
            for (x, y) in mine.iter_mut().zip(theirs) {
                *x += y;
            }
        }
    }

    /// Zero sums for `models` models.
    pub fn new(models: usize) -> Self {
        Self {
            loss_sum: vec![0.0; models],
            correct: vec![0.0; models],
            collapsed: vec![0.0; models],
            logit_scale_sum: vec![0.0; models],
        }
    }

    /// Adds one chunk: the loss `loss` `[S, B]` summed in f64, and the
    /// pairs whose `logits` `[S, B, n]` pick the label `y` `[S, B]`.
    fn add(&mut self, loss: &Tensor, logits: &Tensor, y: &Tensor) -> Result<(), tch::TchError> {
        let per_model = |t: Tensor| -> Result<Vec<f64>, tch::TchError> {
            Vec::<f64>::try_from(t.f_to_kind(Kind::Double)?.f_sum_dim_intlist(
                1,
                false,
                Kind::Double,
            )?)
        };
        let loss = loss.f_detach()?;
        let logits = logits.f_detach()?.f_to_kind(Kind::Double)?;
        let sums = [
            per_model(loss.shallow_clone())?,
            per_model(logits.f_argmax(-1, false)?.f_eq_tensor(y)?)?,
            per_model(loss.f_eq(0.0)?)?,
            per_model(logits.f_amax(-1, false)?.f_sub(&logits.f_mean_dim(
                -1,
                false,
                Kind::Double,
            )?)?)?,
        ];
        for (acc, add) in [
            &mut self.loss_sum,
            &mut self.correct,
            &mut self.collapsed,
            &mut self.logit_scale_sum,
        ]
        .into_iter()
        .zip(sums)
        {
            for (a, v) in acc.iter_mut().zip(add) {
                *a += v;
            }
        }
        Ok(())
    }
}

/// The loss head of one chunk in one pass over its pairs: adds each
/// pair's loss (in f64), collapse, logit scale and correctness (the label
/// is the first maximum of its `logits` row, as `argmax`) to `stats` (row
/// `r` of model `first + r / batch`), and
/// writes the gradient of Σ_s mean loss_s into `grad` when given. With
/// the default loss, `logp` is libtorch's log-softmax and `grad` holds the
/// softmax, turned into `(probs − onehot(y)) / total` in place; otherwise
/// `logp` is `None` and [`loss::row`] computes both. All are `[rows, n]`.
#[allow(clippy::too_many_arguments)]
fn head(
    stats: &mut PassStats,
    kind: LossKind,
    logits: &[f32],
    logp: Option<&[f32]>,
    mut grad: Option<&mut [f32]>,
    y: &[i64],
    (first, batch): (usize, usize),
    total: f32,
) {
    let n = logits.len() / y.len().max(1);
    for (r, &label) in y.iter().enumerate() {
        let (row, label) = (r * n..(r + 1) * n, label as usize);
        let s = first + r / batch;
        let l = &logits[row.clone()];
        let (best, sum) = l.iter().enumerate().fold((0, 0.0), |(b, sum), (j, &v)| {
            (if v > l[b] { j } else { b }, sum + f64::from(v))
        });
        stats.logit_scale_sum[s] += f64::from(l[best]) - sum / n as f64;
        if best == label {
            stats.correct[s] += 1.0;
        }
        let g = grad.as_deref_mut().map(|g| &mut g[row.clone()]);
        let collapsed = match logp {
            Some(logp) => {
                let lp = logp[row.start + label];
                stats.loss_sum[s] -= f64::from(lp);
                if let Some(p) = g {
                    p[label] -= 1.0;
                    for v in p.iter_mut() {
                        *v /= total;
                    }
                }
                lp == 0.0
            }
            None => {
                let out = loss::row(kind, l, label, g, total);
                stats.loss_sum[s] += out.loss;
                out.collapsed
            }
        };
        if collapsed {
            stats.collapsed[s] += 1.0;
        }
    }
}

/// Gradients of every weight, in [`Transformer::named_weights`] order.
pub type Grads = Vec<Tensor>;

/// Index tensors of one chunk of pairs: `a`, `b` and labels `[S, len]`,
/// and `a`, `b` flattened with each model's token offset (`s·n + t`).
pub struct Chunk {
    /// Left tokens `[S, len]`.
    pub a: Tensor,
    /// Right tokens `[S, len]`.
    pub b: Tensor,
    /// Labels `[S, len]`.
    pub y: Tensor,
    /// `a` offset per model and flattened `[S·len]`.
    pub ga: Tensor,
    /// `b` offset per model and flattened `[S·len]`.
    pub gb: Tensor,
    /// `ga` as a vector, for the attention loops.
    pub ga_idx: Vec<i64>,
    /// `gb` as a vector.
    pub gb_idx: Vec<i64>,
    /// `y` flattened, as a vector.
    pub y_idx: Vec<i64>,
}

impl Chunk {
    /// Splits `[S, B]` index tensors into chunks of at most `rows` columns.
    ///
    /// # Errors
    /// libtorch errors.
    pub fn split(
        a: &Tensor,
        b: &Tensor,
        y: &Tensor,
        n: i64,
        rows: i64,
    ) -> Result<Vec<Chunk>, tch::TchError> {
        let (s, total) = (a.size()[0], a.size()[1]);
        let offset = Tensor::f_arange(s, (Kind::Int64, a.device()))?
            .f_mul_scalar(n)?
            .f_view([s, 1])?;
        let mut out = Vec::new();
        let mut start = 0;
        while start < total {
            let len = rows.min(total - start);
            let (ca, cb) = (a.f_narrow(1, start, len)?, b.f_narrow(1, start, len)?);
            let ga = ca.f_add(&offset)?.f_flatten(0, 1)?;
            let gb = cb.f_add(&offset)?.f_flatten(0, 1)?;
            let cy = y.f_narrow(1, start, len)?;
            out.push(Chunk {
                y_idx: Vec::<i64>::try_from(&cy.f_flatten(0, 1)?)?,
                ga_idx: Vec::<i64>::try_from(&ga)?,
                gb_idx: Vec::<i64>::try_from(&gb)?,
                ga,
                gb,
                a: ca,
                b: cb,
                y: cy,
            });
            start += len;
        }
        Ok(out)
    }
}

/// The per-step tables of the fast path (see [`attention`] for the algebra).
struct Tables {
    x0: Tensor,     // [S, n, D] residual at position 0 per token
    x1: Tensor,     // [S, n, D]
    x2: Tensor,     // [S, D] "=" at position 2
    q: Tensor,      // [S, H, Dh]
    ut: Tensor,     // [S, D, H] keys folded with the query, / sqrt(d_head)
    wv: Tensor,     // [S, D, H·Dh]
    v: [Tensor; 3], // values per position, [S, H, n, Dh] ([S, H, 1, Dh] for "=")
    // The attention loops' tables, positions stacked (attention::Dims::table_rows):
    s_all: Tensor, // scores
    a_all: Tensor, // [rows, D] the three `a` stacked
    t_all: Tensor, // [rows, M] a · W_in
    c: Tensor,     // [S, M] x2 · W_in + b_in
    x2b: Tensor,   // [S, D] x2 + b_out
}

fn tables(m: &Transformer) -> Result<Tables, tch::TchError> {
    let (s, n) = (m.n_models as i64, m.cfg.d_vocab_out as i64);
    let (d, h, dh) = (
        m.cfg.d_model as i64,
        m.cfg.n_heads as i64,
        m.cfg.d_head() as i64,
    );
    let e = m.w_e.f_narrow(1, 0, n)?;
    let pos = |i: i64| m.w_pos.f_select(1, i);
    let x0 = e.f_add(&pos(0)?.f_unsqueeze(1)?)?;
    let x1 = e.f_add(&pos(1)?.f_unsqueeze(1)?)?;
    let x2 = m.w_e.f_select(1, n)?.f_add(&pos(2)?)?;
    // [S,1,1,D] @ [S,H,D,Dh] -> [S,H,1,Dh]
    let q = x2
        .f_view([s, 1, 1, d])?
        .f_matmul(&m.w_q)?
        .f_squeeze_dim(2)?;
    let u = m
        .w_k
        .f_matmul(&q.f_unsqueeze(-1)?)?
        .f_squeeze_dim(-1)?
        .f_div_scalar((dh as f64).sqrt())?; // [S, H, D]
    let ut = u.f_transpose(1, 2)?.f_contiguous()?; // [S, D, H]
    let hv = h * dh;
    let wv = m.w_v.f_permute([0, 2, 1, 3])?.f_reshape([s, d, hv])?;
    let x2r = x2.f_unsqueeze(1)?; // [S, 1, D]

    // Values, values through W_O, and those through W_in, per position.
    let position = |x: &Tensor, rows: i64| -> Result<[Tensor; 3], tch::TchError> {
        // [S, rows, H·Dh] -> [S, H, rows, Dh]
        let vp = x
            .f_bmm(&wv)?
            .f_view([s, rows, h, dh])?
            .f_permute([0, 2, 1, 3])?;
        // [S, H, rows, D] -> [S, rows·H, D], row t·H + h
        let ap = vp
            .f_matmul(&m.w_o)?
            .f_permute([0, 2, 1, 3])?
            .f_contiguous()?
            .f_view([s, rows * h, d])?;
        let tp = ap.f_bmm(&m.w_in)?;
        Ok([vp, ap, tp])
    };
    let [v0, a0, t0] = position(&x0, n)?;
    let [v1, a1, t1] = position(&x1, n)?;
    let [v2, a2, t2] = position(&x2r, 1)?;
    let stack = |parts: [&Tensor; 3], width: i64| -> Result<Tensor, tch::TchError> {
        let rows: Vec<Tensor> = parts
            .iter()
            .map(|p| p.f_reshape([-1, width]))
            .collect::<Result<_, _>>()?;
        Tensor::f_cat(&rows, 0)
    };
    let a_all = stack([&a0, &a1, &a2], d)?;
    let t_all = stack([&t0, &t1, &t2], m.cfg.d_mlp as i64)?;
    let c = x2r
        .f_bmm(&m.w_in)?
        .f_squeeze_dim(1)?
        .f_add(&m.b_in)?
        .f_contiguous()?;
    Ok(Tables {
        s_all: stack([&x0.f_bmm(&ut)?, &x1.f_bmm(&ut)?, &x2r.f_bmm(&ut)?], 1)?,
        v: [v0, v1, v2],
        a_all,
        t_all,
        c,
        x2b: x2.f_add(&m.b_out)?.f_contiguous()?,
        x2: x2.f_contiguous()?,
        x0,
        x1,
        q,
        ut,
        wv,
    })
}

/// The attention loops' sizes for a chunk of `batch` pairs per model.
fn dims(m: &Transformer, batch: i64) -> attention::Dims {
    attention::Dims {
        models: m.n_models,
        first_model: 0,
        tokens: m.cfg.d_vocab_out,
        batch: batch as usize,
        heads: m.cfg.n_heads,
        d_model: m.cfg.d_model,
        d_mlp: m.cfg.d_mlp,
    }
}

/// Activations of one chunk that the backward pass reuses.
struct Fwd {
    w: Vec<f32>,    // [S·B, H, 3] attention weights on a, b, "="
    post: Tensor,   // [S, B, M]
    r2: Tensor,     // [S, B, D] after the MLP
    logits: Tensor, // [S, B, n]
}

/// A contiguous f32 tensor's elements.
///
/// # Safety
/// The slice aliases the tensor's storage: nothing may write the tensor
/// while it lives.
unsafe fn view(t: &Tensor) -> Result<&[f32], tch::TchError> {
    if t.kind() != Kind::Float || !t.is_contiguous() || t.device() != tch::Device::Cpu {
        return Err(tch::TchError::Kind(
            "the fused step reads tensors in place and needs contiguous f32 tensors on the CPU"
                .into(),
        ));
    }
    Ok(std::slice::from_raw_parts(
        t.data_ptr() as *const f32,
        t.numel(),
    ))
}

/// A tensor of `shape` holding `data`.
fn tensor(data: &[f32], shape: &[i64]) -> Result<Tensor, tch::TchError> {
    Tensor::f_from_slice(data)?.f_view(shape)
}

impl Tables {
    /// The tables as slices for the attention loops.
    fn views(&self) -> Result<attention::Tables<'_>, tch::TchError> {
        // SAFETY: the tables are contiguous f32 tensors owned by `self` and
        // never written after `tables` built them; the views borrow `self`.
        unsafe {
            Ok(attention::Tables {
                s: view(&self.s_all)?,
                a: view(&self.a_all)?,
                t: view(&self.t_all)?,
                x2b: view(&self.x2b)?,
                c: view(&self.c)?,
            })
        }
    }
}

/// What the chunk loop needs of a group of models (`count` models from
/// `dims.first_model`), owned, so a second thread can hold its own handles
/// (libtorch tensors are `Send`, not `Sync`; these are views sharing the
/// weights' storage).
struct HeadWeights {
    w_out: Tensor,  // [G, M, D]
    w_u: Tensor,    // [G, D, n]
    w_outt: Tensor, // [G, D, M]
    w_ut: Tensor,   // [G, n, D]
    dims: attention::Dims,
    count: usize,
}

/// A batch's chunk is computed a group of models at a time, each group's
/// activations at most about this many pairs (model by model where one
/// model's chunk is larger): so a batch keeps the activations a model alone
/// keeps in cache, instead of spilling them (measured at order 64: a batch
/// of 8 computed whole ran 9% slower per model than one model alone). Every
/// model's products are its own (libtorch's batched products compute each
/// matrix of the batch alone), so the grouping changes no result.
const GROUP_PAIRS: usize = 512;

impl HeadWeights {
    /// Models `first..first + count` of `m`.
    fn of(m: &Transformer, first: usize, count: usize) -> Result<Self, tch::TchError> {
        let (f, c) = (first as i64, count as i64);
        let w_out = m.w_out.f_narrow(0, f, c)?;
        let w_u = m.w_u.f_narrow(0, f, c)?;
        Ok(Self {
            w_outt: w_out.f_transpose(1, 2)?,
            w_ut: w_u.f_transpose(1, 2)?,
            w_out,
            w_u,
            dims: attention::Dims {
                first_model: first,
                ..dims(m, 0)
            },
            count,
        })
    }

    /// The groups of models the chunk loop takes in turn, for chunks of
    /// at most `batch` pairs per model.
    fn groups(m: &Transformer, batch: usize) -> Result<Vec<Self>, tch::TchError> {
        let per = (GROUP_PAIRS / batch.max(1)).max(1);
        (0..m.n_models)
            .step_by(per)
            .map(|first| Self::of(m, first, per.min(m.n_models - first)))
            .collect()
    }

    fn handles(&self) -> Self {
        Self {
            w_out: self.w_out.shallow_clone(),
            w_u: self.w_u.shallow_clone(),
            w_outt: self.w_outt.shallow_clone(),
            w_ut: self.w_ut.shallow_clone(),
            dims: self.dims,
            count: self.count,
        }
    }
}

/// A chunk as the chunk loop reads it: pairs per model and the flat index
/// vectors (plain slices, so both threads can read them).
#[derive(Clone, Copy)]
struct Rows<'a> {
    batch: usize,
    ga: &'a [i64],
    gb: &'a [i64],
    y: &'a [i64],
}

impl<'a> Rows<'a> {
    fn of(c: &'a Chunk) -> Self {
        Self {
            batch: c.a.size()[1] as usize,
            ga: &c.ga_idx,
            gb: &c.gb_idx,
            y: &c.y_idx,
        }
    }

    /// The rows of the models of `w`'s group.
    fn of_group(&self, w: &HeadWeights) -> Self {
        let rows = w.dims.first_model * self.batch..(w.dims.first_model + w.count) * self.batch;
        Self {
            batch: self.batch,
            ga: &self.ga[rows.clone()],
            gb: &self.gb[rows.clone()],
            y: &self.y[rows],
        }
    }
}

/// The chunk loop is split in two parts (even and odd chunks), each with
/// its own gradient sums, added at the end; the parts run at one libtorch
/// thread each, on two threads when the run has two or more and the pass
/// is large enough to pay for one more thread, else one after the other.
/// Either way the arithmetic is the same, so the result does not depend on
/// the thread count.
const PARTS: usize = 2;

/// Flushes subnormal floats to zero on this thread (x86-64's FTZ and DAZ
/// bits) until dropped. Once a run fits its training pairs, most of the
/// logits' gradients and much of what follows from them fall below f32's
/// smallest normal number (1.2e-38), where every GEMM and loop runs on
/// slow microcode paths: 300 epochs of `add` took 13.5 s instead of 4.
/// Flushed, they are zeros, which no float32 weight could tell apart. The
/// chunk loop runs under it; elsewhere it is not set.
struct FlushSubnormals(#[allow(dead_code)] u32);

impl FlushSubnormals {
    #[cfg(target_arch = "x86_64")]
    fn here() -> Self {
        const FTZ_DAZ: u32 = 0x8040;
        let old = mxcsr();
        set_mxcsr(old | FTZ_DAZ);
        Self(old)
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn here() -> Self {
        Self(0)
    }
}

#[cfg(target_arch = "x86_64")]
impl Drop for FlushSubnormals {
    fn drop(&mut self) {
        set_mxcsr(self.0);
    }
}

/// The SSE control and status register.
#[cfg(target_arch = "x86_64")]
fn mxcsr() -> u32 {
    let mut x = 0u32;
    // SAFETY: stores the register into a local u32.
    unsafe {
        std::arch::asm!("stmxcsr [{}]", in(reg) &mut x, options(nostack, preserves_flags));
    }
    x
}

#[cfg(target_arch = "x86_64")]
fn set_mxcsr(x: u32) {
    // SAFETY: loads a value read from the register with only the FTZ and
    // DAZ bits changed, which affect subnormal handling only.
    unsafe {
        std::arch::asm!("ldmxcsr [{}]", in(reg) &x, options(nostack, preserves_flags));
    }
}

/// Pairs (over all models) below which the parts run on one thread.
const PARALLEL_MIN_PAIRS: usize = 1024;

/// What one part of the chunk loop returns.
struct PartOut {
    stats: PassStats,
    grads: Option<(Tensor, Tensor, AttGrads)>, // dW_u, dW_out, the tables'
}

/// The chunk loop over `chunks`: forward, loss head and, when `backward`,
/// the gradients of W_u, W_out and the attention tables.
fn run_part(
    groups: &[HeadWeights],
    t: &attention::Tables,
    chunks: &[Rows],
    total_rows: i64,
    backward: bool,
    kind: LossKind,
) -> Result<PartOut, tch::TchError> {
    let _ftz = FlushSubnormals::here();
    let d = groups[0].dims;
    let mut stats = PassStats::new(d.models);
    let mut grads = if backward {
        let opts = (Kind::Float, tch::Device::Cpu);
        let all = |w: &Tensor| {
            let mut shape = w.size();
            shape[0] = d.models as i64;
            Tensor::f_zeros(&shape, opts)
        };
        Some((
            all(&groups[0].w_u)?,
            all(&groups[0].w_out)?,
            AttGrads::new(d),
        ))
    } else {
        None
    };
    let pieces = chunks
        .iter()
        .flat_map(|c| groups.iter().map(move |w| (w, c.of_group(w))));
    for (w, c) in pieces {
        let c = &c;
        let Fwd {
            w: att_w,
            post,
            r2,
            logits,
        } = chunk_forward(w, t, c)?;
        // The default loss keeps libtorch's log-softmax and softmax (its
        // results are grokscope's stored ones); the others are computed
        // row by row in Rust, gradient included.
        let logp = if kind.is_default() {
            Some(logits.f_log_softmax(-1, Kind::Float)?)
        } else {
            None
        };
        let probs = match (backward, &logp) {
            (false, _) => None,
            (true, Some(_)) => Some(logits.f_softmax(-1, Kind::Float)?),
            (true, None) => Some(Tensor::f_empty(
                logits.size(),
                (Kind::Float, tch::Device::Cpu),
            )?),
        };
        // SAFETY: `logits` and `logp` are contiguous f32 tensors only read
        // here; `probs` is new (or the softmax's fresh output) and written
        // only through its slice.
        unsafe {
            let probs_v = probs
                .as_ref()
                .map(|p| std::slice::from_raw_parts_mut(p.data_ptr() as *mut f32, p.numel()));
            let logp_v = match &logp {
                Some(l) => Some(view(l)?),
                None => None,
            };
            head(
                &mut stats,
                kind,
                view(&logits)?,
                logp_v,
                probs_v,
                c.y,
                (w.dims.first_model, c.batch),
                total_rows as f32,
            );
        }
        let (Some((dw_u, dw_out, att)), Some(dlogits)) = (grads.as_mut(), probs) else {
            continue;
        };
        let (first, count) = (w.dims.first_model as i64, w.count as i64);
        let _ = dw_u
            .f_narrow(0, first, count)?
            .f_baddbmm_(&r2.f_transpose(1, 2)?, &dlogits)?;
        let dr2 = dlogits.f_bmm(&w.w_ut)?; // [G, B, D]
        let _ = dw_out
            .f_narrow(0, first, count)?
            .f_baddbmm_(&post.f_transpose(1, 2)?, &dr2)?;
        let dpost = dr2.f_bmm(&w.w_outt)?; // [G, B, M]
        let pairs = attention::Pairs {
            ga: c.ga,
            gb: c.gb,
            dims: attention::Dims {
                batch: c.batch,
                ..w.dims
            },
        };
        // SAFETY: `post`, `dr2` and `dpost` are contiguous f32 tensors alive
        // for this block and not written while the slices live.
        unsafe {
            let from = attention::Backward {
                w: &att_w,
                post: view(&post)?,
                dr2: view(&dr2)?,
                dpost: view(&dpost)?,
            };
            attention::backward(t, pairs, from, &mut att.views());
        }
    }
    Ok(PartOut { stats, grads })
}

/// A new contiguous f32 tensor of `shape` and its elements, to be written.
///
/// # Safety
/// The slice aliases the tensor's storage: nothing may read or write the
/// tensor while it lives.
unsafe fn fresh<'a>(shape: &[i64]) -> Result<(Tensor, &'a mut [f32]), tch::TchError> {
    let t = Tensor::f_empty(shape, (Kind::Float, tch::Device::Cpu))?;
    let slice = std::slice::from_raw_parts_mut(t.data_ptr() as *mut f32, t.numel());
    Ok((t, slice))
}

fn chunk_forward(w: &HeadWeights, t: &attention::Tables, c: &Rows) -> Result<Fwd, tch::TchError> {
    let d = attention::Dims {
        batch: c.batch,
        ..w.dims
    };
    let (s, batch) = (w.count as i64, c.batch as i64);
    let rows = w.count * c.batch;
    let mut att_w = vec![0f32; rows * d.heads * 3];
    // SAFETY: both tensors are new, and only written through these slices
    // before the slices go out of scope.
    let (resid, post) = unsafe {
        let (resid, rv) = fresh(&[s, batch, d.d_model as i64])?;
        let (post, pv) = fresh(&[s, batch, d.d_mlp as i64])?;
        let pairs = attention::Pairs {
            ga: c.ga,
            gb: c.gb,
            dims: d,
        };
        let out = attention::Forward {
            resid: rv,
            post: pv,
            w: &mut att_w,
        };
        attention::forward(t, pairs, out);
        (resid, post)
    };
    // r2 = (resid + b_out) + post · W_out
    let r2 = resid.f_baddbmm(&post, &w.w_out, 1.0, 1.0)?;
    let logits = r2.f_bmm(&w.w_u)?;
    Ok(Fwd {
        w: att_w,
        post,
        r2,
        logits,
    })
}

/// Cross-entropy and correctness (1.0 or 0.0) of every pair of `chunks`,
/// concatenated in chunk order: `[S, total]` each. Forward only; with
/// LayerNorm it uses [`Transformer::forward_last`].
///
/// # Errors
/// libtorch errors.
pub fn per_pair(
    m: &Transformer,
    chunks: &[Chunk],
    kind: LossKind,
) -> Result<(Tensor, Tensor), ModelError> {
    tch::no_grad(|| -> Result<(Tensor, Tensor), ModelError> {
        let t = if m.ln.is_none() {
            Some((tables(m)?, HeadWeights::of(m, 0, m.n_models)?))
        } else {
            None
        };
        let (mut ces, mut oks) = (Vec::new(), Vec::new());
        for c in chunks {
            let logits = match &t {
                Some((t, w)) => chunk_forward(w, &t.views()?, &Rows::of(c))?.logits,
                None => m.forward_last(&c.a, &c.b)?,
            };
            ces.push(loss::per_pair(kind, &logits, &c.y)?.f_to_kind(Kind::Float)?);
            oks.push(
                logits
                    .f_argmax(-1, false)?
                    .f_eq_tensor(&c.y)?
                    .f_to_kind(Kind::Float)?,
            );
        }
        Ok((Tensor::f_cat(&ces, 1)?, Tensor::f_cat(&oks, 1)?))
    })
}

/// The attention tables' gradients as Rust vectors, accumulated over
/// chunks (layouts of [`attention::TableGrads`]).
struct AttGrads {
    s: Vec<f32>,
    a: Vec<f32>,
    t: Vec<f32>,
    b_in: Vec<f32>,
    b_out: Vec<f32>,
}

impl AttGrads {
    fn new(d: attention::Dims) -> Self {
        let rows = d.table_rows();
        Self {
            s: vec![0f32; rows],
            a: vec![0f32; rows * d.d_model],
            t: vec![0f32; rows * d.d_mlp],
            b_in: vec![0f32; d.models * d.d_mlp],
            b_out: vec![0f32; d.models * d.d_model],
        }
    }

    /// Adds another part's sums.
    fn add(&mut self, other: &Self) {
        for (x, y) in [
            (&mut self.s, &other.s),
            (&mut self.a, &other.a),
            (&mut self.t, &other.t),
            (&mut self.b_in, &other.b_in),
            (&mut self.b_out, &other.b_out),
        ] {
            for (x, y) in x.iter_mut().zip(y) {
                *x += y;
            }
        }
    }

    fn views(&mut self) -> attention::TableGrads<'_> {
        attention::TableGrads {
            s: &mut self.s,
            a: &mut self.a,
            t: &mut self.t,
            b_in: &mut self.b_in,
            b_out: &mut self.b_out,
        }
    }
}

/// One forward pass over `chunks` with the weights of `m`, and, when
/// `backward`, the gradient of Σ_s (mean cross-entropy of model s over
/// `total_rows` pairs) with respect to every weight. LayerNorm is not
/// supported here (the caller falls back to autograd).
///
/// # Errors
/// libtorch errors, or a model with LayerNorm.
pub fn pass(
    m: &Transformer,
    chunks: &[Chunk],
    total_rows: i64,
    backward: bool,
    kind: LossKind,
) -> Result<(PassStats, Option<Grads>), ModelError> {
    if m.ln.is_some() {
        return Err(ModelError::Config(
            "the fused step has no LayerNorm backward; use autograd gradients".into(),
        ));
    }
    tch::no_grad(|| pass_inner(m, chunks, total_rows, backward, kind))
}

fn pass_inner(
    m: &Transformer,
    chunks: &[Chunk],
    total_rows: i64,
    backward: bool,
    kind: LossKind,
) -> Result<(PassStats, Option<Grads>), ModelError> {
    let (s, n) = (m.n_models as i64, m.cfg.d_vocab_out as i64);
    let (d, h, dh) = (
        m.cfg.d_model as i64,
        m.cfg.n_heads as i64,
        m.cfg.d_head() as i64,
    );
    let mlp = m.cfg.d_mlp as i64;
    let hv = h * dh;
    // The whole pass runs at one libtorch thread (restored on return): the
    // chunk loop runs its own two threads, and a second libtorch thread
    // left spinning after a parallel region would compete with them.
    let threads = super::threads::here();
    let _restore = super::threads::Restore::set(1);
    let t = tables(m)?;
    let opts = (Kind::Float, m.w_e.device());
    let zeros = |shape: &[i64]| Tensor::f_zeros(shape, opts);
    let views = t.views()?;
    let rows: Vec<Rows> = chunks.iter().map(Rows::of).collect();
    let widest = rows.iter().map(|r| r.batch).max().unwrap_or(1);
    let groups = HeadWeights::groups(m, widest)?;
    let parts: [Vec<Rows>; PARTS] =
        std::array::from_fn(|p| rows.iter().skip(p).step_by(PARTS).copied().collect());
    let parallel = threads > 1 && (total_rows * s) as usize >= PARALLEL_MIN_PAIRS;
    let outs = if parallel {
        let second: Vec<HeadWeights> = groups.iter().map(HeadWeights::handles).collect();
        std::thread::scope(|scope| {
            let (views, part) = (&views, &parts[1]);
            let other = scope.spawn(move || {
                super::threads::use_here(1);
                run_part(&second, views, part, total_rows, backward, kind)
            });
            let first = run_part(&groups, views, &parts[0], total_rows, backward, kind);
            [first, other.join().expect("the chunk loop's second thread")]
        })
    } else {
        parts
            .each_ref()
            .map(|part| run_part(&groups, &views, part, total_rows, backward, kind))
    };
    let [first, second] = outs;
    let (first, second) = (first?, second?);
    let mut stats = first.stats;
    stats.merge(&second.stats);
    let (Some((dw_u, dw_out, mut att)), Some((dw_u1, dw_out1, att1))) = (first.grads, second.grads)
    else {
        return Ok((stats, None));
    };
    let (dw_out, dw_u) = (dw_out.f_add(&dw_out1)?, dw_u.f_add(&dw_u1)?);
    att.add(&att1);
    let db_in = tensor(&att.b_in, &[s, mlp])?;
    let db_out = tensor(&att.b_out, &[s, d])?;
    // The first MLP layer through its tables: T_p = A_p · W_in and
    // c = x2 · W_in + b_in.
    let w_int = m.w_in.f_transpose(1, 2)?; // [S, M, D]
    let x2c = t.x2.f_unsqueeze(-1)?; // [S, D, 1]
    let mut dw_in = x2c.f_bmm(&db_in.f_unsqueeze(1)?)?;
    let mut da = Vec::new();
    // Position p's rows of the stacked tables: the first, and how many per model.
    let span = |p: usize| -> (usize, i64) {
        let per = if p < 2 { n * h } else { h };
        (p * (s * n * h) as usize, per)
    };
    // Position p's part of a stacked table of `width`, as [S, rows, width].
    let part = |table: &[f32], p: usize, width: i64| {
        let (first, rows) = span(p);
        let (w, len) = (width as usize, (s * rows) as usize);
        tensor(&table[first * w..(first + len) * w], &[s, rows, width])
    };
    for p in 0..3 {
        let (first, rows) = span(p);
        let dt = part(&att.t, p, mlp)?;
        let ap = t
            .a_all
            .f_narrow(0, first as i64, s * rows)?
            .f_view([s, rows, d])?;
        dw_in += ap.f_transpose(1, 2)?.f_bmm(&dt)?;
        // dA_p = (residual path) + dT_p · W_inᵀ, as [S, H, rows/H, D]
        let dap = part(&att.a, p, d)?.f_add(&dt.f_bmm(&w_int)?)?;
        da.push(dap.f_view([s, rows / h, h, d])?.f_permute([0, 2, 1, 3])?);
    }
    // A_p = V_p · W_O per head.
    let w_ot = m.w_o.f_transpose(-1, -2)?; // [S, H, D, Dh]
    let mut dw_o = zeros(&m.w_o.size())?;
    let mut dv = Vec::new();
    for (vp, dap) in t.v.iter().zip(&da) {
        dw_o += vp.f_transpose(-1, -2)?.f_matmul(dap)?; // [S, H, Dh, D]
        let rows = vp.size()[2];
        dv.push(
            dap.f_matmul(&w_ot)? // [S, H, rows, Dh]
                .f_permute([0, 2, 1, 3])?
                .f_reshape([s, rows, hv])?,
        );
    }
    // The residual path of "=" and its path through c, [S, D].
    let mut dx2 = db_out.f_add(&db_in.f_unsqueeze(1)?.f_bmm(&w_int)?.f_squeeze_dim(1)?)?;
    // The score and value tables, back to the weights.
    let ds = |p: usize| part(&att.s, p, 1)?.f_view([s, -1, h]);
    let (ds0, ds1) = (ds(0)?, ds(1)?);
    let ds2 = ds(2)?.f_squeeze_dim(1)?; // [S, H]
    let (dv0, dv1) = (&dv[0], &dv[1]);
    let dv2 = dv[2].f_squeeze_dim(1)?; // [S, H·Dh]
    let utt = t.ut.f_transpose(1, 2)?; // [S, H, D]
    let wvt = t.wv.f_transpose(1, 2)?; // [S, H·Dh, D]
    let dut =
        t.x0.f_transpose(1, 2)?
            .f_bmm(&ds0)?
            .f_add(&t.x1.f_transpose(1, 2)?.f_bmm(&ds1)?)?
            .f_add(&x2c.f_bmm(&ds2.f_unsqueeze(1)?)?)?; // [S, D, H]
    let dwv =
        t.x0.f_transpose(1, 2)?
            .f_bmm(dv0)?
            .f_add(&t.x1.f_transpose(1, 2)?.f_bmm(dv1)?)?
            .f_add(&x2c.f_bmm(&dv2.f_unsqueeze(1)?)?)?; // [S, D, H·Dh]
    let dx0 = ds0.f_bmm(&utt)?.f_add(&dv0.f_bmm(&wvt)?)?; // [S, n, D]
    let dx1 = ds1.f_bmm(&utt)?.f_add(&dv1.f_bmm(&wvt)?)?;
    dx2 = dx2
        .f_add(&ds2.f_unsqueeze(1)?.f_bmm(&utt)?.f_squeeze_dim(1)?)?
        .f_add(&dv2.f_unsqueeze(1)?.f_bmm(&wvt)?.f_squeeze_dim(1)?)?; // [S, D]
    let scale = (dh as f64).sqrt();
    let du = dut.f_transpose(1, 2)?; // [S, H, D]
                                     // u_h = W_K[h] q_h / sqrt(d_head)
    let dw_k = du
        .f_unsqueeze(-1)?
        .f_matmul(&t.q.f_unsqueeze(2)?)?
        .f_div_scalar(scale)?; // [S, H, D, Dh]
    let dq = m
        .w_k
        .f_transpose(-1, -2)?
        .f_matmul(&du.f_unsqueeze(-1)?)?
        .f_div_scalar(scale)?; // [S, H, Dh, 1]
                               // q_h = x2 W_Q[h]
    let dw_q =
        t.x2.f_view([s, 1, d, 1])?
            .f_matmul(&dq.f_transpose(-1, -2)?)?; // [S, H, D, Dh]
    dx2 = dx2.f_add(&m.w_q.f_matmul(&dq)?.f_squeeze_dim(-1)?.f_sum_dim_intlist(
        1,
        false,
        Kind::Float,
    )?)?;
    let dw_v = dwv.f_view([s, d, h, dh])?.f_permute([0, 2, 1, 3])?;
    let de = Tensor::f_cat(&[dx0.f_add(&dx1)?, dx2.f_unsqueeze(1)?], 1)?; // [S, n+1, D]
    let dpos = Tensor::f_stack(
        &[
            dx0.f_sum_dim_intlist(1, false, Kind::Float)?,
            dx1.f_sum_dim_intlist(1, false, Kind::Float)?,
            dx2,
        ],
        1,
    )?; // [S, 3, D]
    let grads = vec![
        de, dpos, dw_q, dw_k, dw_v, dw_o, dw_in, db_in, dw_out, db_out, dw_u,
    ];
    Ok((
        stats,
        Some(
            grads
                .into_iter()
                .map(|t| t.f_contiguous())
                .collect::<Result<_, _>>()?,
        ),
    ))
}

/// Hyperparameters of [`AdamW`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate.
    pub lr: f64,
    /// β1.
    pub beta1: f64,
    /// β2.
    pub beta2: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// ε, added after the square root.
    pub eps: f64,
    /// Grokfast's EMA filter (α, λ) when on: the moments are fed
    /// `g + λ h` with `h = α h + (1 − α) g` (`h` starts at the first
    /// gradient, as Lee et al.'s code).
    pub grokfast: Option<(f64, f64)>,
    /// ⊥AdamW: the (filtered) gradient of each weight and model is
    /// projected orthogonal to that weight, `g − (⟨w, g⟩ / ⟨w, w⟩) w`,
    /// before the moments see it (left as it is where `w = 0`).
    pub orthogonal: bool,
}

impl AdamWConfig {
    /// The optimiser of a run's configuration (ε = 1e-8, PyTorch's default).
    pub fn of(cfg: &crate::config::RunConfig) -> Self {
        Self {
            lr: cfg.lr,
            beta1: cfg.beta1,
            beta2: cfg.beta2,
            weight_decay: cfg.weight_decay,
            eps: 1e-8,
            grokfast: (cfg.grokfast_lambda > 0.0)
                .then_some((cfg.grokfast_alpha, cfg.grokfast_lambda)),
            orthogonal: cfg.optimizer == crate::config::Optimizer::OrthogonalAdamw,
        }
    }
}

/// One model's optimiser state, per weight in [`Transformer::named_weights`]
/// order: AdamW's moments and, with Grokfast on, the gradient EMA (empty
/// otherwise).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Moments {
    /// First moments.
    pub m: Vec<Vec<f32>>,
    /// Second moments.
    pub v: Vec<Vec<f32>>,
    /// Grokfast's EMA of the gradient (empty when Grokfast is off).
    pub ema: Vec<Vec<f32>>,
}

/// AdamW over S stacked models, with its state as plain vectors: one
/// `Vec<f32>` per weight (in [`Transformer::named_weights`] order) covering
/// all S models, model s's entries contiguous (the leading dimension).
#[derive(Debug, Clone, PartialEq)]
pub struct AdamW {
    /// Hyperparameters.
    pub cfg: AdamWConfig,
    /// Steps taken.
    pub step: u64,
    /// Models stacked in each weight.
    pub models: usize,
    /// The moments (and Grokfast's EMA) of all models.
    pub state: Moments,
    /// Σ over weights of the last update's squared change, per model
    /// (`update_norm` is its square root).
    pub last_update_sq: Vec<f64>,
}

impl AdamW {
    /// Zero moments for weights of these element counts, each holding
    /// `models` stacked models.
    pub fn new(cfg: AdamWConfig, sizes: &[usize], models: usize) -> Self {
        let zeros = || sizes.iter().map(|&n| vec![0.0; n]).collect();
        Self {
            cfg,
            step: 0,
            models,
            state: Moments {
                m: zeros(),
                v: zeros(),
                ema: if cfg.grokfast.is_some() {
                    zeros()
                } else {
                    Vec::new()
                },
            },
            last_update_sq: vec![0.0; models],
        }
    }

    /// One update of every weight in place, from its gradient.
    ///
    /// # Errors
    /// A weight or gradient that is not a contiguous f32 tensor of the
    /// size the moments were made for.
    pub fn update(&mut self, weights: &[&Tensor], grads: &[Tensor]) -> Result<(), ModelError> {
        self.step += 1;
        let c = self.cfg;
        let t = self.step as i32;
        let decay = (1.0 - c.lr * c.weight_decay) as f32;
        let (b1, b2) = (c.beta1 as f32, c.beta2 as f32);
        let (ob1, ob2) = ((1.0 - c.beta1) as f32, (1.0 - c.beta2) as f32);
        let sqrt_bc2 = (1.0 - c.beta2.powi(t)).sqrt() as f32;
        let step_size = (c.lr / (1.0 - c.beta1.powi(t))) as f32;
        let eps = c.eps as f32;
        self.last_update_sq.iter_mut().for_each(|x| *x = 0.0);
        let (mut filtered, mut delta) = (Vec::new(), Vec::new());
        for (k, (w, g)) in weights.iter().zip(grads).enumerate() {
            let n = self.state.m[k].len();
            let check = |x: &Tensor, what: &str| -> Result<(), ModelError> {
                if x.kind() != Kind::Float || !x.is_contiguous() || x.numel() != n {
                    return Err(ModelError::Config(format!(
                        "AdamW: {what} {k} is not a contiguous f32 tensor of {n} elements"
                    )));
                }
                Ok(())
            };
            check(w, "weight")?;
            check(g, "gradient")?;
            // SAFETY: both are contiguous f32 tensors of n elements (checked
            // above) that live for this call; the weight is a leaf updated
            // outside autograd, as optimisers do, and `g` is a separate tensor.
            let (p, mut gr) = unsafe {
                (
                    std::slice::from_raw_parts_mut(w.data_ptr() as *mut f32, n),
                    std::slice::from_raw_parts(g.data_ptr() as *const f32, n),
                )
            };
            if c.grokfast.is_some() || c.orthogonal {
                filtered.clear();
                filtered.extend_from_slice(gr);
                if let Some((alpha, lambda)) = c.grokfast {
                    let ema = &mut self.state.ema[k];
                    let (a, oa, l) = (alpha as f32, (1.0 - alpha) as f32, lambda as f32);
                    for (h, g) in ema.iter_mut().zip(filtered.iter_mut()) {
                        *h = if self.step == 1 { *g } else { a * *h + oa * *g };
                        *g += l * *h;
                    }
                }
                if c.orthogonal {
                    let per = n / self.models;
                    for (w, g) in p.chunks(per).zip(filtered.chunks_mut(per)) {
                        project_out(w, g);
                    }
                }
                gr = &filtered;
            }
            // Element by element (each operation correctly rounded, so
            // vectorised or not the weights are the same), then each
            // model's squared change summed in element order.
            let per = n / self.models;
            delta.resize(per, 0.0);
            let moments = self.state.m[k]
                .chunks_mut(per)
                .zip(self.state.v[k].chunks_mut(per));
            for (s, ((p, g), (m, v))) in p
                .chunks_mut(per)
                .zip(gr.chunks(per))
                .zip(moments)
                .enumerate()
            {
                for ((((p, &g), m), v), d) in
                    p.iter_mut().zip(g).zip(m).zip(v).zip(delta.iter_mut())
                {
                    let before = *p;
                    *p *= decay;
                    *m = b1 * *m + ob1 * g;
                    *v = b2 * *v + ob2 * (g * g);
                    let denom = v.sqrt() / sqrt_bc2 + eps;
                    *p -= step_size * *m / denom;
                    *d = *p - before;
                }
                self.last_update_sq[s] = delta
                    .iter()
                    .fold(self.last_update_sq[s], |acc, &d| acc + f64::from(d).powi(2));
            }
        }
        Ok(())
    }

    /// Model s's state, for storing with its run.
    pub fn model_slice(&self, s: usize) -> Moments {
        let cut = |all: &Vec<Vec<f32>>| {
            all.iter()
                .map(|x| {
                    let per = x.len() / self.models;
                    x[s * per..(s + 1) * per].to_vec()
                })
                .collect()
        };
        Moments {
            m: cut(&self.state.m),
            v: cut(&self.state.v),
            ema: cut(&self.state.ema),
        }
    }
}

/// Removes from `g` its component along `w`: `g − (⟨w, g⟩ / ⟨w, w⟩) w`,
/// the products summed in f64; `g` is left as it is where `w = 0`.
pub fn project_out(w: &[f32], g: &mut [f32]) {
    let (wg, ww) = w
        .iter()
        .zip(g.iter())
        .fold((0.0, 0.0), |(wg, ww), (&w, &g)| {
            (
                wg + f64::from(w) * f64::from(g),
                ww + f64::from(w) * f64::from(w),
            )
        });
    if ww > 0.0 {
        let c = (wg / ww) as f32;
        for (g, &w) in g.iter_mut().zip(w) {
            *g -= c * w;
        }
    }
}

/// Gradients by autograd over the fast path (the reference, and the
/// LayerNorm fallback): the gradient of Σ_s mean CE_s over `total_rows`,
/// with the same per-chunk statistics as [`pass`]. Without `backward`,
/// only the statistics (and no graph is built).
///
/// # Errors
/// libtorch errors.
pub fn autograd_pass(
    m: &Transformer,
    chunks: &[Chunk],
    total_rows: i64,
    backward: bool,
    kind: LossKind,
) -> Result<(PassStats, Option<Grads>), ModelError> {
    if !backward {
        // The same per-chunk statistics, without a graph.
        return tch::no_grad(|| autograd_stats(m, chunks, total_rows, false, kind));
    }
    autograd_stats(m, chunks, total_rows, true, kind)
}

fn autograd_stats(
    m: &Transformer,
    chunks: &[Chunk],
    total_rows: i64,
    backward: bool,
    kind: LossKind,
) -> Result<(PassStats, Option<Grads>), ModelError> {
    let weights: Vec<&Tensor> = m.named_weights().into_iter().map(|(_, t)| t).collect();
    for w in weights.iter().filter(|_| backward) {
        let mut g = w.grad();
        if g.defined() {
            let _ = g.f_zero_()?;
        }
    }
    let mut stats = PassStats::new(m.n_models);
    for c in chunks {
        let logits = m.forward_last(&c.a, &c.b)?;
        let ce = loss::per_pair(kind, &logits, &c.y)?;
        tch::no_grad(|| stats.add(&ce, &logits, &c.y))?;
        if backward {
            ce.f_sum(ce.kind())?
                .f_div_scalar(total_rows as f64)?
                .f_backward()?;
        }
    }
    if !backward {
        return Ok((stats, None));
    }
    let grads = weights
        .iter()
        .map(|w| Ok(w.grad().f_detach()?.f_contiguous()?.copy()))
        .collect::<Result<Vec<_>, tch::TchError>>()?;
    Ok((stats, Some(grads)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LossPrecision, Softmax};

    #[test]
    fn the_loss_head_counts_collapse_and_logit_scale_by_hand() {
        // Two models of one pair each. Model 0: logits (30, 0), label 0:
        // −log p = ln(1 + e^−30) ≈ 9.4e−14, exactly 0 in float32
        // (collapsed); logit scale 30 − 15 = 15. Model 1: logits (1, 2),
        // label 1: −log p = ln(1 + e^−1) ≈ 0.313; scale 2 − 1.5 = 0.5.
        let logits = [30.0f32, 0.0, 1.0, 2.0];
        let y = [0i64, 1];
        // The default loss reads libtorch's log-softmax.
        let logp = Tensor::from_slice(&logits)
            .view([2, 2])
            .log_softmax(-1, Kind::Float);
        let logp = Vec::<f32>::try_from(logp.view([-1])).unwrap();
        let mut stats = PassStats::new(2);
        head(
            &mut stats,
            LossKind::default(),
            &logits,
            Some(&logp),
            None,
            &y,
            (0, 1),
            1.0,
        );
        assert_eq!(stats.collapsed, vec![1.0, 0.0]);
        assert_eq!(stats.logit_scale_sum, vec![15.0, 0.5]);
        assert_eq!(stats.correct, vec![1.0, 1.0]);
        assert_eq!(stats.loss_sum[0], 0.0);
        assert!((stats.loss_sum[1] - (1.0 + (-1.0f64).exp()).ln()).abs() < 1e-6);
        // In float64 the first pair is not collapsed.
        let mut stats = PassStats::new(2);
        let f64_loss = LossKind {
            precision: LossPrecision::F64,
            softmax: Softmax::Standard,
        };
        head(&mut stats, f64_loss, &logits, None, None, &y, (0, 1), 1.0);
        assert_eq!(stats.collapsed, vec![0.0, 0.0]);
        assert!(stats.loss_sum[0] > 0.0 && stats.loss_sum[0] < 1e-13);
        assert_eq!(stats.logit_scale_sum, vec![15.0, 0.5]);
    }
}
