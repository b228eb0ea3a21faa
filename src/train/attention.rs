//! The attention of the fused step as two plain loops over pairs: the
//! forward pass (score tables gathered per pair, a softmax over the three
//! positions, the weighted sum of value-table rows) and its backward pass
//! (scatter-adds into the tables' gradients). Each replaces about a dozen
//! small libtorch operations per chunk, whose thread synchronisation cost
//! more than their arithmetic; the loops are sequential, so their results
//! do not depend on the CPU or the thread count.
//!
//! Layout (all row-major f32): score tables `s0`, `s1` are `[S·n, H]`
//! (row `s·n + t`: token t of model s), `s2` is `[S, H]`; value tables
//! `v0`, `v1` are `[S·n, H·Dh]`, `v2` is `[S, H·Dh]`. A chunk holds `rows =
//! S·B` pairs, pair `r` of model `r / B`, with table rows `ga[r]`, `gb[r]`.

/// Sizes of one chunk's attention.
#[derive(Debug, Clone, Copy)]
pub struct Dims {
    /// Pairs per model in the chunk.
    pub batch: usize,
    /// Heads.
    pub heads: usize,
    /// Width of a head.
    pub d_head: usize,
}

/// Read-only views of the per-step tables.
pub struct Tables<'a> {
    /// Scores of position 0 `[S·n, H]`.
    pub s0: &'a [f32],
    /// Scores of position 1 `[S·n, H]`.
    pub s1: &'a [f32],
    /// Scores of `=` `[S, H]`.
    pub s2: &'a [f32],
    /// Values of position 0 `[S·n, H·Dh]`.
    pub v0: &'a [f32],
    /// Values of position 1 `[S·n, H·Dh]`.
    pub v1: &'a [f32],
    /// Values of `=` `[S, H·Dh]`.
    pub v2: &'a [f32],
}

/// Gradients of the tables, accumulated over chunks (same layouts).
pub struct TableGrads<'a> {
    /// d s0.
    pub s0: &'a mut [f32],
    /// d s1.
    pub s1: &'a mut [f32],
    /// d s2.
    pub s2: &'a mut [f32],
    /// d v0.
    pub v0: &'a mut [f32],
    /// d v1.
    pub v1: &'a mut [f32],
    /// d v2.
    pub v2: &'a mut [f32],
}

/// Attention output `z` `[rows, H·Dh]` and weights `w` `[rows, H, 3]`.
pub fn forward(t: &Tables, ga: &[i64], gb: &[i64], d: Dims, z: &mut [f32], w: &mut [f32]) {
    let (h, dh) = (d.heads, d.d_head);
    let hv = h * dh;
    for r in 0..ga.len() {
        let s = r / d.batch;
        let (a, b) = (ga[r] as usize, gb[r] as usize);
        for k in 0..h {
            let sc = [t.s0[a * h + k], t.s1[b * h + k], t.s2[s * h + k]];
            let max = sc[0].max(sc[1]).max(sc[2]);
            let e = [
                (sc[0] - max).exp(),
                (sc[1] - max).exp(),
                (sc[2] - max).exp(),
            ];
            let sum = e[0] + e[1] + e[2];
            let p = [e[0] / sum, e[1] / sum, e[2] / sum];
            w[(r * h + k) * 3..(r * h + k) * 3 + 3].copy_from_slice(&p);
            let (va, vb, vc) = (
                &t.v0[a * hv + k * dh..a * hv + (k + 1) * dh],
                &t.v1[b * hv + k * dh..b * hv + (k + 1) * dh],
                &t.v2[s * hv + k * dh..s * hv + (k + 1) * dh],
            );
            let out = &mut z[r * hv + k * dh..r * hv + (k + 1) * dh];
            for i in 0..dh {
                out[i] = p[0] * va[i] + p[1] * vb[i] + p[2] * vc[i];
            }
        }
    }
}

/// Accumulates the tables' gradients from `dz` `[rows, H·Dh]`, with the
/// weights `w` of [`forward`].
pub fn backward(
    t: &Tables,
    g: &mut TableGrads,
    ga: &[i64],
    gb: &[i64],
    d: Dims,
    w: &[f32],
    dz: &[f32],
) {
    let (h, dh) = (d.heads, d.d_head);
    let hv = h * dh;
    for r in 0..ga.len() {
        let s = r / d.batch;
        let (a, b) = (ga[r] as usize, gb[r] as usize);
        for k in 0..h {
            let p = &w[(r * h + k) * 3..(r * h + k) * 3 + 3];
            let g_z = &dz[r * hv + k * dh..r * hv + (k + 1) * dh];
            let rows = [a * hv + k * dh, b * hv + k * dh, s * hv + k * dh];
            let (va, vb, vc) = (
                &t.v0[rows[0]..rows[0] + dh],
                &t.v1[rows[1]..rows[1] + dh],
                &t.v2[rows[2]..rows[2] + dh],
            );
            let mut dw = [0f32; 3];
            for i in 0..dh {
                dw[0] += g_z[i] * va[i];
                dw[1] += g_z[i] * vb[i];
                dw[2] += g_z[i] * vc[i];
            }
            for i in 0..dh {
                g.v0[rows[0] + i] += p[0] * g_z[i];
                g.v1[rows[1] + i] += p[1] * g_z[i];
                g.v2[rows[2] + i] += p[2] * g_z[i];
            }
            // softmax backward over the three positions
            let mean = p[0] * dw[0] + p[1] * dw[1] + p[2] * dw[2];
            g.s0[a * h + k] += p[0] * (dw[0] - mean);
            g.s1[b * h + k] += p[1] * (dw[1] - mean);
            g.s2[s * h + k] += p[2] * (dw[2] - mean);
        }
    }
}
