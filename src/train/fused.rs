//! The fused training step: the exact fast path's forward pass with its
//! backward pass derived by hand (no autograd graph), and grokscope's own
//! AdamW, whose moments are plain vectors that can be stored, so a run can
//! be extended or resumed exactly.
//!
//! The forward pass is [`Transformer::forward_last`]'s algebra: per-token
//! score and value tables are built once per step from the embeddings and
//! shared by every chunk of pairs; the backward pass accumulates the
//! gradients of those tables over the chunks (scatter-adds by token) and
//! pushes them back to the weights once per step. Every gradient is checked
//! against autograd's in `tests/fused_step.rs` (relative error ≤ 1e-5).
//! With LayerNorm on, gradients fall back to autograd (the optimiser is
//! still this one).
//!
//! AdamW follows PyTorch's definition (decoupled weight decay applied
//! first, bias-corrected moments, ε added after the square root) in plain
//! f32 Rust, element by element, so the update itself is the same on every
//! CPU.

use super::attention;
use crate::model::{ModelError, Transformer};
use tch::{Kind, Tensor};

/// Per-pair results of one pass over a set of pairs.
pub struct PassStats {
    /// Σ cross-entropy per model, f64.
    pub loss_sum: Vec<f64>,
    /// Correct predictions per model.
    pub correct: Vec<f64>,
}

impl PassStats {
    /// Zero sums for `models` models.
    pub fn new(models: usize) -> Self {
        Self {
            loss_sum: vec![0.0; models],
            correct: vec![0.0; models],
        }
    }

    /// Adds one chunk: cross-entropy `ce` `[S, B]` summed in f64, and the
    /// pairs whose `logits` `[S, B, n]` pick the label `y` `[S, B]`.
    fn add(&mut self, ce: &Tensor, logits: &Tensor, y: &Tensor) -> Result<(), tch::TchError> {
        let l = Vec::<f64>::try_from(ce.f_detach()?.f_to_kind(Kind::Double)?.f_sum_dim_intlist(
            1,
            false,
            Kind::Double,
        )?)?;
        let r = Vec::<f64>::try_from(
            logits
                .f_argmax(-1, false)?
                .f_eq_tensor(y)?
                .f_to_kind(Kind::Double)?
                .f_sum_dim_intlist(1, false, Kind::Double)?,
        )?;
        for (acc, v) in self.loss_sum.iter_mut().zip(l) {
            *acc += v;
        }
        for (acc, v) in self.correct.iter_mut().zip(r) {
            *acc += v;
        }
        Ok(())
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
            out.push(Chunk {
                ga_idx: Vec::<i64>::try_from(&ga)?,
                gb_idx: Vec::<i64>::try_from(&gb)?,
                ga,
                gb,
                a: ca,
                b: cb,
                y: y.f_narrow(1, start, len)?,
            });
            start += len;
        }
        Ok(out)
    }
}

/// The per-step tables of the fast path (see [`Transformer::forward_last`]).
struct Tables {
    x0: Tensor, // [S, n, D] residual at position 0 per token
    x1: Tensor, // [S, n, D]
    x2: Tensor, // [S, D] "=" at position 2
    q: Tensor,  // [S, H, Dh]
    ut: Tensor, // [S, D, H] keys folded with the query, / sqrt(d_head)
    wv: Tensor, // [S, D, H·Dh]
    wo: Tensor, // [S, H·Dh, D]
    s0: Tensor, // [S·n, H] score tables
    s1: Tensor,
    s2: Tensor, // [S, 1, H]
    v0: Tensor, // [S·n, H·Dh] value tables
    v1: Tensor,
    v2: Tensor, // [S, 1, H·Dh]
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
    let wo = m.w_o.f_reshape([s, hv, d])?;
    let x2r = x2.f_unsqueeze(1)?; // [S, 1, D]
    Ok(Tables {
        s0: x0.f_bmm(&ut)?.f_reshape([s * n, h])?,
        s1: x1.f_bmm(&ut)?.f_reshape([s * n, h])?,
        s2: x2r.f_bmm(&ut)?,
        v0: x0.f_bmm(&wv)?.f_reshape([s * n, hv])?,
        v1: x1.f_bmm(&wv)?.f_reshape([s * n, hv])?,
        v2: x2r.f_bmm(&wv)?,
        x0,
        x1,
        x2,
        q,
        ut,
        wv,
        wo,
    })
}

/// The attention loops' sizes for a chunk of `batch` pairs per model.
fn dims(m: &Transformer, batch: i64) -> attention::Dims {
    attention::Dims {
        batch: batch as usize,
        heads: m.cfg.n_heads,
        d_head: m.cfg.d_head(),
    }
}

/// Activations of one chunk that the backward pass reuses.
struct Fwd {
    w: Vec<f32>,    // [S·B, H, 3] attention weights on a, b, "="
    z: Tensor,      // [S, B, H·Dh]
    resid: Tensor,  // [S, B, D] after attention
    pre: Tensor,    // [S, B, M]
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
    if t.kind() != Kind::Float || !t.is_contiguous() {
        return Err(tch::TchError::Kind(
            "expected a contiguous f32 tensor".into(),
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
                s0: view(&self.s0)?,
                s1: view(&self.s1)?,
                s2: view(&self.s2)?,
                v0: view(&self.v0)?,
                v1: view(&self.v1)?,
                v2: view(&self.v2)?,
            })
        }
    }
}

fn chunk_forward(m: &Transformer, t: &Tables, c: &Chunk) -> Result<Fwd, tch::TchError> {
    let s = m.n_models as i64;
    let (h, dh) = (m.cfg.n_heads as i64, m.cfg.d_head() as i64);
    let batch = c.a.size()[1];
    let rows = (s * batch) as usize;
    let mut z = vec![0f32; rows * (h * dh) as usize];
    let mut w = vec![0f32; rows * h as usize * 3];
    let views = t.views()?;
    attention::forward(&views, &c.ga_idx, &c.gb_idx, dims(m, batch), &mut z, &mut w);
    let z = tensor(&z, &[s, batch, h * dh])?;
    let resid = z.f_bmm(&t.wo)?.f_add(&t.x2.f_unsqueeze(1)?)?;
    let pre = resid.f_bmm(&m.w_in)?.f_add(&m.b_in.f_unsqueeze(1)?)?;
    let post = pre.f_relu()?;
    let r2 = resid
        .f_add(&post.f_bmm(&m.w_out)?)?
        .f_add(&m.b_out.f_unsqueeze(1)?)?;
    let logits = r2.f_bmm(&m.w_u)?;
    Ok(Fwd {
        w,
        z,
        resid,
        pre,
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
pub fn per_pair(m: &Transformer, chunks: &[Chunk]) -> Result<(Tensor, Tensor), ModelError> {
    tch::no_grad(|| -> Result<(Tensor, Tensor), ModelError> {
        let t = if m.ln.is_none() {
            Some(tables(m)?)
        } else {
            None
        };
        let (mut ces, mut oks) = (Vec::new(), Vec::new());
        for c in chunks {
            let logits = match &t {
                Some(t) => chunk_forward(m, t, c)?.logits,
                None => m.forward_last(&c.a, &c.b)?,
            };
            ces.push(
                logits
                    .f_log_softmax(-1, Kind::Float)?
                    .f_gather(-1, &c.y.f_unsqueeze(-1)?, false)?
                    .f_squeeze_dim(-1)?
                    .f_neg()?,
            );
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

/// Gradients of the tables, accumulated over chunks.
struct TableGrads {
    dx2: Tensor, // [S, D] through the residual
    dwo: Tensor, // [S, H·Dh, D]
    dw_in: Tensor,
    db_in: Tensor,
    dw_out: Tensor,
    db_out: Tensor,
    dw_u: Tensor,
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
) -> Result<(PassStats, Option<Grads>), ModelError> {
    if m.ln.is_some() {
        return Err(ModelError::Config(
            "the fused step has no LayerNorm backward; use autograd gradients".into(),
        ));
    }
    tch::no_grad(|| pass_inner(m, chunks, total_rows, backward))
}

fn pass_inner(
    m: &Transformer,
    chunks: &[Chunk],
    total_rows: i64,
    backward: bool,
) -> Result<(PassStats, Option<Grads>), ModelError> {
    let (s, n) = (m.n_models as i64, m.cfg.d_vocab_out as i64);
    let (d, h, dh) = (
        m.cfg.d_model as i64,
        m.cfg.n_heads as i64,
        m.cfg.d_head() as i64,
    );
    let hv = h * dh;
    let t = tables(m)?;
    let opts = (Kind::Float, m.w_e.device());
    let zeros = |shape: &[i64]| Tensor::f_zeros(shape, opts);
    let (sn, su) = ((s * n) as usize, s as usize);
    let (hu, hvu) = (h as usize, hv as usize);
    // Attention table gradients live in Rust vectors until the chunks are done.
    let mut att = if backward {
        Some((
            vec![0f32; sn * hu],
            vec![0f32; sn * hu],
            vec![0f32; su * hu],
            vec![0f32; sn * hvu],
            vec![0f32; sn * hvu],
            vec![0f32; su * hvu],
        ))
    } else {
        None
    };
    let mut g = if backward {
        Some(TableGrads {
            dx2: zeros(&[s, d])?,
            dwo: zeros(&[s, hv, d])?,
            dw_in: zeros(&m.w_in.size())?,
            db_in: zeros(&m.b_in.size())?,
            dw_out: zeros(&m.w_out.size())?,
            db_out: zeros(&m.b_out.size())?,
            dw_u: zeros(&m.w_u.size())?,
        })
    } else {
        None
    };
    let mut stats = PassStats::new(s as usize);
    let wot = t.wo.f_transpose(1, 2)?;
    let w_ut = m.w_u.f_transpose(1, 2)?;
    let w_outt = m.w_out.f_transpose(1, 2)?;
    let w_int = m.w_in.f_transpose(1, 2)?;
    for c in chunks {
        let batch = c.a.size()[1];
        let Fwd {
            w,
            z,
            resid,
            pre,
            post,
            r2,
            logits,
        } = chunk_forward(m, &t, c)?;
        let logp = logits.f_log_softmax(-1, Kind::Float)?;
        let yy = c.y.f_unsqueeze(-1)?;
        let ce = logp.f_gather(-1, &yy, false)?.f_squeeze_dim(-1)?.f_neg()?; // [S, B]
        stats.add(&ce, &logits, &c.y)?;
        let (Some(g), Some(att)) = (g.as_mut(), att.as_mut()) else {
            continue;
        };
        // d(Σ_s mean_s CE)/d logits = (softmax − onehot) / total_rows
        let dlogits = logp
            .f_exp()?
            .f_scatter_add(-1, &yy, &Tensor::f_full([s, batch, 1], -1.0, opts)?)?
            .f_div_scalar(total_rows as f64)?;
        g.dw_u += r2.f_transpose(1, 2)?.f_bmm(&dlogits)?;
        let dr2 = dlogits.f_bmm(&w_ut)?; // [S, B, D]
        g.dw_out += post.f_transpose(1, 2)?.f_bmm(&dr2)?;
        g.db_out += dr2.f_sum_dim_intlist(1, false, Kind::Float)?;
        let dpre = pre.f_threshold_backward(&dr2.f_bmm(&w_outt)?, 0.0)?; // [S, B, M]
        g.dw_in += resid.f_transpose(1, 2)?.f_bmm(&dpre)?;
        g.db_in += dpre.f_sum_dim_intlist(1, false, Kind::Float)?;
        let dresid = dr2.f_add(&dpre.f_bmm(&w_int)?)?; // [S, B, D]
        g.dx2 += dresid.f_sum_dim_intlist(1, false, Kind::Float)?;
        g.dwo += z.f_transpose(1, 2)?.f_bmm(&dresid)?;
        let dz = dresid.f_bmm(&wot)?.f_contiguous()?; // [S, B, H·Dh]
        let views = t.views()?;
        // SAFETY: `dz` is a contiguous f32 tensor alive for this block, not written.
        let dzv = unsafe { view(&dz)? };
        let mut grads = attention::TableGrads {
            s0: &mut att.0,
            s1: &mut att.1,
            s2: &mut att.2,
            v0: &mut att.3,
            v1: &mut att.4,
            v2: &mut att.5,
        };
        attention::backward(
            &views,
            &mut grads,
            &c.ga_idx,
            &c.gb_idx,
            dims(m, batch),
            &w,
            dzv,
        );
    }
    let Some(g) = g else {
        return Ok((stats, None));
    };
    let att = att.expect("allocated with g");
    // The tables' gradients, back to the weights.
    let ds0 = tensor(&att.0, &[s, n, h])?;
    let ds1 = tensor(&att.1, &[s, n, h])?;
    let ds2 = tensor(&att.2, &[s, h])?;
    let dv0 = tensor(&att.3, &[s, n, hv])?;
    let dv1 = tensor(&att.4, &[s, n, hv])?;
    let dv2 = tensor(&att.5, &[s, hv])?;
    let x2c = t.x2.f_unsqueeze(-1)?; // [S, D, 1]
    let utt = t.ut.f_transpose(1, 2)?; // [S, H, D]
    let wvt = t.wv.f_transpose(1, 2)?; // [S, H·Dh, D]
    let dut =
        t.x0.f_transpose(1, 2)?
            .f_bmm(&ds0)?
            .f_add(&t.x1.f_transpose(1, 2)?.f_bmm(&ds1)?)?
            .f_add(&x2c.f_bmm(&ds2.f_unsqueeze(1)?)?)?; // [S, D, H]
    let dwv =
        t.x0.f_transpose(1, 2)?
            .f_bmm(&dv0)?
            .f_add(&t.x1.f_transpose(1, 2)?.f_bmm(&dv1)?)?
            .f_add(&x2c.f_bmm(&dv2.f_unsqueeze(1)?)?)?; // [S, D, H·Dh]
    let dx0 = ds0.f_bmm(&utt)?.f_add(&dv0.f_bmm(&wvt)?)?; // [S, n, D]
    let dx1 = ds1.f_bmm(&utt)?.f_add(&dv1.f_bmm(&wvt)?)?;
    let mut dx2 = g
        .dx2
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
    let dw_o = g.dwo.f_view([s, h, dh, d])?;
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
        de, dpos, dw_q, dw_k, dw_v, dw_o, g.dw_in, g.db_in, g.dw_out, g.db_out, g.dw_u,
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
}

/// AdamW over S stacked models, with its moments as plain vectors: one
/// `Vec<f32>` per weight (in [`Transformer::named_weights`] order) covering
/// all S models, model s's entries contiguous (the leading dimension).
#[derive(Debug, Clone, PartialEq)]
pub struct AdamW {
    /// Hyperparameters.
    pub cfg: AdamWConfig,
    /// Steps taken.
    pub step: u64,
    /// First moments.
    pub m: Vec<Vec<f32>>,
    /// Second moments.
    pub v: Vec<Vec<f32>>,
}

impl AdamW {
    /// Zero moments for weights of these element counts.
    pub fn new(cfg: AdamWConfig, sizes: &[usize]) -> Self {
        Self {
            cfg,
            step: 0,
            m: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            v: sizes.iter().map(|&n| vec![0.0; n]).collect(),
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
        for (k, (w, g)) in weights.iter().zip(grads).enumerate() {
            let n = self.m[k].len();
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
            let (p, gr) = unsafe {
                (
                    std::slice::from_raw_parts_mut(w.data_ptr() as *mut f32, n),
                    std::slice::from_raw_parts(g.data_ptr() as *const f32, n),
                )
            };
            for (((p, &g), m), v) in p
                .iter_mut()
                .zip(gr)
                .zip(self.m[k].iter_mut())
                .zip(self.v[k].iter_mut())
            {
                *p *= decay;
                *m = b1 * *m + ob1 * g;
                *v = b2 * *v + ob2 * (g * g);
                let denom = v.sqrt() / sqrt_bc2 + eps;
                *p -= step_size * *m / denom;
            }
        }
        Ok(())
    }

    /// Model s's moments (`m` then `v` per weight), for storing with its run.
    pub fn model_slice(&self, s: usize, n_models: usize) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
        let cut = |all: &Vec<Vec<f32>>| {
            all.iter()
                .map(|x| {
                    let per = x.len() / n_models;
                    x[s * per..(s + 1) * per].to_vec()
                })
                .collect()
        };
        (cut(&self.m), cut(&self.v))
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
) -> Result<(PassStats, Option<Grads>), ModelError> {
    if !backward {
        // The same per-chunk statistics, without a graph.
        return tch::no_grad(|| autograd_stats(m, chunks, total_rows, false));
    }
    autograd_stats(m, chunks, total_rows, true)
}

fn autograd_stats(
    m: &Transformer,
    chunks: &[Chunk],
    total_rows: i64,
    backward: bool,
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
        let ce = logits
            .f_log_softmax(-1, Kind::Float)?
            .f_gather(-1, &c.y.f_unsqueeze(-1)?, false)?
            .f_squeeze_dim(-1)?
            .f_neg()?;
        tch::no_grad(|| stats.add(&ce, &logits, &c.y))?;
        if backward {
            ce.f_sum(Kind::Float)?
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
