//! The attention of the fused step, and the first MLP layer folded into it,
//! as two plain loops over pairs.
//!
//! With the query fixed (it reads only the `=` token), the residual after
//! attention at the last position is
//! `resid = x2 + Σ_h (w_h0 A0_h[a] + w_h1 A1_h[b] + w_h2 A2_h)`, where
//! `w_h` are head h's softmax weights over the three positions and
//! `A_p,h[t] = V_p,h[t] · W_O[h]` is a per-token table (values through the
//! output projection). The first MLP layer is linear in `resid`, so its
//! pre-activations are the same weighted sum of the tables
//! `T_p,h = A_p,h · W_in` plus `c = x2 · W_in + b_in`. A pair then costs
//! 3H weighted rows of width `d_model` and `d_mlp` instead of a
//! `d_model × d_mlp` product; the tables cost one product per token.
//!
//! The backward pass accumulates the tables' gradients by scatter-adds
//! (`dT_p,h[t] += w · dpre`, `dA_p,h[t] += w · dr2`) and the attention
//! weights' gradients by dot products with the same rows; the caller
//! pushes the table gradients back to the weights once per step.
//!
//! The loops are sequential and sum in a fixed order (dot products over
//! 16 interleaved partial sums, with no fused multiply-add; on x86-64 with
//! AVX2 the same code is compiled for wider vectors, which does not change
//! a single operation), so their results do not depend on the CPU or the
//! thread count.
//!
//! Layout (all row-major f32): the tables of all three positions are
//! stacked in one array of rows per kind (see [`Dims::table_rows`]): row
//! `(s·n + t)·H + h` is token t of model s at position 0, head h; then
//! position 1's rows; then the `=` token's rows `s·H + h`. Scores have
//! width 1, `a` width D, `t` width M; `x2` is `[S, D]` and `c` `[S, M]`.
//! A chunk holds `rows = S·B` pairs, pair `r` of model `r / B`, with global
//! token rows `ga[r]`, `gb[r]` (`s·n + t`).

/// Sizes of one chunk's attention.
#[derive(Debug, Clone, Copy)]
pub struct Dims {
    /// Models S.
    pub models: usize,
    /// The model of the kernels' first row: they are given the rows of
    /// models `first_model..`, `batch` rows each.
    pub first_model: usize,
    /// Tokens n.
    pub tokens: usize,
    /// Pairs per model in the chunk.
    pub batch: usize,
    /// Heads.
    pub heads: usize,
    /// Residual width D.
    pub d_model: usize,
    /// MLP width M.
    pub d_mlp: usize,
}

impl Dims {
    /// Rows of a combined table: position 0's `S·n·H`, position 1's
    /// `S·n·H`, then the `=` token's `S·H`.
    pub fn table_rows(&self) -> usize {
        (2 * self.models * self.tokens + self.models) * self.heads
    }

    /// The model of the kernels' row `r`.
    fn model(&self, r: usize) -> usize {
        self.first_model + r / self.batch
    }

    /// The 3H table rows a pair of model `s` reads (head by head: a, b,
    /// `=`), given its global token rows `ga`, `gb` (`s·n + t`).
    fn rows(&self, s: usize, ga: usize, gb: usize, out: &mut [usize]) {
        let (h, sn) = (self.heads, self.models * self.tokens);
        for k in 0..h {
            out[3 * k] = ga * h + k;
            out[3 * k + 1] = (sn + gb) * h + k;
            out[3 * k + 2] = (2 * sn + s) * h + k;
        }
    }
}

/// Read-only views of the per-step tables.
pub struct Tables<'a> {
    /// Scores `[rows, 1]` in [`Dims::table_rows`] order.
    pub s: &'a [f32],
    /// Values through W_O `[rows, D]`.
    pub a: &'a [f32],
    /// `a · W_in` `[rows, M]`.
    pub t: &'a [f32],
    /// The `=` token's residual plus the MLP's output bias `[S, D]`.
    pub x2b: &'a [f32],
    /// `x2 · W_in + b_in` `[S, M]`.
    pub c: &'a [f32],
}

/// Gradients of the tables, accumulated over chunks (same layouts).
pub struct TableGrads<'a> {
    /// d s.
    pub s: &'a mut [f32],
    /// d a (the residual path only; the MLP path arrives through `t`).
    pub a: &'a mut [f32],
    /// d t.
    pub t: &'a mut [f32],
    /// d b_in `[S, M]` (the sum of the pre-activations' gradients).
    pub b_in: &'a mut [f32],
    /// d b_out `[S, D]` (the sum of the output residual's gradients).
    pub b_out: &'a mut [f32],
}

/// Softmax over a head's three scores.
fn softmax3(sc: [f32; 3]) -> [f32; 3] {
    let max = sc[0].max(sc[1]).max(sc[2]);
    let e = [
        (sc[0] - max).exp(),
        (sc[1] - max).exp(),
        (sc[2] - max).exp(),
    ];
    let sum = e[0] + e[1] + e[2];
    [e[0] / sum, e[1] / sum, e[2] / sum]
}

/// Width of the blocks the kernels work in (a multiple of every vector
/// width, so the arithmetic is the same whatever width the CPU runs).
const L: usize = 16;

/// `out = base + Σ_k p[k] · table[rows[k]]`, rows of `width`, summed in
/// the order of `rows`.
#[inline(always)]
fn gather_sum(
    out: &mut [f32],
    base: &[f32],
    table: &[f32],
    width: usize,
    rows: &[usize],
    p: &[f32],
) {
    let mut j = 0;
    while j + 2 * L <= width {
        let mut acc = [0f32; 2 * L];
        acc.copy_from_slice(&base[j..j + 2 * L]);
        for (&r, &pk) in rows.iter().zip(p) {
            let row = &table[r * width + j..r * width + j + 2 * L];
            for i in 0..2 * L {
                acc[i] += pk * row[i];
            }
        }
        out[j..j + 2 * L].copy_from_slice(&acc);
        j += 2 * L;
    }
    for jj in j..width {
        let mut v = base[jj];
        for (&r, &pk) in rows.iter().zip(p) {
            v += pk * table[r * width + jj];
        }
        out[jj] = v;
    }
}

/// Returns `g · row` (over L interleaved partial sums) and adds `p · g`
/// to `grad`.
#[inline(always)]
fn dot_scatter(g: &[f32], row: &[f32], grad: &mut [f32], p: f32) -> f32 {
    let n = g.len();
    let (row, grad) = (&row[..n], &mut grad[..n]);
    let mut acc = [0f32; L];
    let (gc, rc) = (g.chunks_exact(L), row.chunks_exact(L));
    let (gt, rt) = (gc.remainder(), rc.remainder());
    for (g, r) in gc.zip(rc) {
        let (g, r): (&[f32; L], &[f32; L]) = (g.try_into().unwrap(), r.try_into().unwrap());
        for i in 0..L {
            acc[i] += g[i] * r[i];
        }
    }
    let mut tail = 0f32;
    for (&g, &r) in gt.iter().zip(rt) {
        tail += g * r;
    }
    for (d, &g) in grad.iter_mut().zip(g) {
        *d += p * g;
    }
    acc.iter().sum::<f32>() + tail
}

/// A chunk's pairs as the kernels read them: global token rows
/// (`s·n + t`) of the left and right tokens, and the sizes.
#[derive(Clone, Copy)]
pub struct Pairs<'a> {
    /// Left tokens' rows `[rows]`.
    pub ga: &'a [i64],
    /// Right tokens' rows `[rows]`.
    pub gb: &'a [i64],
    /// Sizes.
    pub dims: Dims,
}

/// What [`forward`] writes for every pair.
pub struct Forward<'a> {
    /// The residual after attention plus the MLP's output bias `[rows, D]`
    /// (the output residual but for `post · W_out`).
    pub resid: &'a mut [f32],
    /// The MLP's activations (ReLU of the pre-activations) `[rows, M]`.
    pub post: &'a mut [f32],
    /// The attention weights `[rows, H, 3]`.
    pub w: &'a mut [f32],
}

/// What [`backward`] reads for every pair.
pub struct Backward<'a> {
    /// The attention weights of [`forward`] `[rows, H, 3]`.
    pub w: &'a [f32],
    /// The MLP's activations of [`forward`] `[rows, M]`.
    pub post: &'a [f32],
    /// The output residual's gradient `[rows, D]`, which is also the
    /// residual path's.
    pub dr2: &'a [f32],
    /// The MLP activations' gradient `[rows, M]`.
    pub dpost: &'a [f32],
}

/// The forward pass of every pair (see [`Forward`]).
pub fn forward(t: &Tables, pairs: Pairs, out: Forward) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked above).
        unsafe { forward_avx2(t, pairs, out) };
        return;
    }
    forward_impl(t, pairs, out);
}

/// [`forward`] compiled for AVX2 (without FMA, so it rounds as the
/// portable path does).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn forward_avx2(t: &Tables, pairs: Pairs, out: Forward) {
    forward_impl(t, pairs, out);
}

#[inline(always)]
fn forward_impl(t: &Tables, pairs: Pairs, out: Forward) {
    let Pairs { ga, gb, dims: d } = pairs;
    let Forward { resid, post, w } = out;
    let (h, dm, mm) = (d.heads, d.d_model, d.d_mlp);
    let mut rows = vec![0usize; 3 * h];
    for r in 0..ga.len() {
        let s = d.model(r);
        d.rows(s, ga[r] as usize, gb[r] as usize, &mut rows);
        let p = &mut w[r * 3 * h..(r + 1) * 3 * h];
        for k in 0..h {
            let q = &rows[3 * k..3 * k + 3];
            p[3 * k..3 * k + 3].copy_from_slice(&softmax3([t.s[q[0]], t.s[q[1]], t.s[q[2]]]));
        }
        let p = &w[r * 3 * h..(r + 1) * 3 * h];
        gather_sum(
            &mut resid[r * dm..(r + 1) * dm],
            &t.x2b[s * dm..(s + 1) * dm],
            t.a,
            dm,
            &rows,
            p,
        );
        let out = &mut post[r * mm..(r + 1) * mm];
        gather_sum(out, &t.c[s * mm..(s + 1) * mm], t.t, mm, &rows, p);
        for v in out.iter_mut() {
            // ReLU; NaN stays NaN, as in libtorch
            if *v < 0.0 {
                *v = 0.0;
            }
        }
    }
}

/// Accumulates the tables' and the MLP biases' gradients into `g` (see
/// [`Backward`]).
pub fn backward(t: &Tables, pairs: Pairs, from: Backward, g: &mut TableGrads) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked above).
        unsafe { backward_avx2(t, pairs, from, g) };
        return;
    }
    backward_impl(t, pairs, from, g);
}

/// [`backward`] compiled for AVX2 (without FMA).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn backward_avx2(t: &Tables, pairs: Pairs, from: Backward, g: &mut TableGrads) {
    backward_impl(t, pairs, from, g);
}

#[inline(always)]
fn backward_impl(t: &Tables, pairs: Pairs, from: Backward, g: &mut TableGrads) {
    let Pairs { ga, gb, dims: d } = pairs;
    let Backward {
        w,
        post,
        dr2,
        dpost,
    } = from;
    let (h, dm, mm) = (d.heads, d.d_model, d.d_mlp);
    let mut rows = vec![0usize; 3 * h];
    let mut dw = vec![0f32; 3 * h];
    let mut gp = vec![0f32; mm];
    for r in 0..ga.len() {
        let s = d.model(r);
        d.rows(s, ga[r] as usize, gb[r] as usize, &mut rows);
        let gr = &dr2[r * dm..(r + 1) * dm];
        // ReLU backward: the pre-activations' gradient
        for ((g, &x), &dx) in gp
            .iter_mut()
            .zip(&post[r * mm..(r + 1) * mm])
            .zip(&dpost[r * mm..(r + 1) * mm])
        {
            *g = if x > 0.0 { dx } else { 0.0 };
        }
        let gp = gp.as_slice();
        for (b, &g) in g.b_in[s * mm..(s + 1) * mm].iter_mut().zip(gp) {
            *b += g;
        }
        for (b, &g) in g.b_out[s * dm..(s + 1) * dm].iter_mut().zip(gr) {
            *b += g;
        }
        let p = &w[r * 3 * h..(r + 1) * 3 * h];
        for (i, &row) in rows.iter().enumerate() {
            dw[i] = dot_scatter(
                gr,
                &t.a[row * dm..(row + 1) * dm],
                &mut g.a[row * dm..(row + 1) * dm],
                p[i],
            ) + dot_scatter(
                gp,
                &t.t[row * mm..(row + 1) * mm],
                &mut g.t[row * mm..(row + 1) * mm],
                p[i],
            );
        }
        // softmax backward over each head's three positions
        for k in 0..h {
            let (p, dw) = (&p[3 * k..3 * k + 3], &dw[3 * k..3 * k + 3]);
            let mean = p[0] * dw[0] + p[1] * dw[1] + p[2] * dw[2];
            for i in 0..3 {
                g.s[rows[3 * k + i]] += p[i] * (dw[i] - mean);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_scatter_matches_a_plain_sum_and_handles_a_tail() {
        let x: Vec<f32> = (0..37).map(|i| i as f32 * 0.5).collect();
        let y: Vec<f32> = (0..37).map(|i| 1.0 - i as f32 * 0.25).collect();
        let plain: f64 = x.iter().zip(&y).map(|(a, b)| (a * b) as f64).sum();
        let mut grad = vec![1f32; 37];
        let got = dot_scatter(&x, &y, &mut grad, 2.0);
        assert!((got as f64 - plain).abs() < 1e-3, "{got}");
        assert!(grad.iter().zip(&x).all(|(g, x)| *g == 1.0 + 2.0 * x));
    }

    #[test]
    fn gather_sum_weights_rows_onto_a_base() {
        // three rows of width 35 (one full block of 32 and a tail)
        let table: Vec<f32> = (0..105).map(|i| i as f32).collect();
        let base = vec![1f32; 35];
        let mut out = vec![0f32; 35];
        gather_sum(&mut out, &base, &table, 35, &[2, 0], &[0.5, 2.0]);
        for (j, &v) in out.iter().enumerate() {
            assert_eq!(v, 1.0 + 0.5 * (70 + j) as f32 + 2.0 * j as f32);
        }
    }

    #[test]
    fn softmax3_sums_to_one_and_orders_like_its_scores() {
        let p = softmax3([1.0, 2.0, -30.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[1] > p[0] && p[0] > p[2]);
        // e / (1 + e) for a score difference of one
        assert!((p[1] - std::f32::consts::E / (1.0 + std::f32::consts::E)).abs() < 1e-6);
    }
}
