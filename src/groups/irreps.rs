//! Real irreducible representations, complex characters and isotypic
//! projectors, for any group given by its table.
//!
//! Construction (generic): M_{x,y} = c(x⁻¹y) with random c(z) = c(z⁻¹) is a
//! symmetric matrix commuting with the left regular representation L. Its
//! commutant on each real isotypic component is M_m(R), M_m(C) or M_m(H), so
//! for generic c every eigenspace of M is exactly one copy of one real irrep.
//! ρ(g) = Bᵀ L_g B on an eigenspace basis B is then an orthogonal matrix.
//! Every eigenspace is validated: it must be invariant, and its character
//! must satisfy (⟨χ,χ⟩, ι(χ)) ∈ {(1,1), (2,0), (4,−2)} (real, complex,
//! quaternionic type; ι is the Frobenius–Schur indicator (1/|G|)Σχ(g²)).
//! An accidental degeneracy fails this test and the construction is retried
//! with a fresh matrix.

use super::{naming, FiniteGroup};
use crate::rng::SplitMix64;
use nalgebra::{Complex, DMatrix, SymmetricEigen};

/// Frobenius–Schur type of a real irrep: whether its complexification is one
/// complex irrep (real), a conjugate pair (complex) or two copies of a
/// quaternionic one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FsType {
    /// End_G = R; the complex irrep has a real form.
    Real,
    /// End_G = C; realification of a complex irrep χ ≠ χ̄.
    Complex,
    /// End_G = H; realification of a quaternionic irrep.
    Quaternionic,
}

impl FsType {
    /// `real`, `complex` or `quaternionic` (as serialised).
    pub fn name(self) -> &'static str {
        match self {
            FsType::Real => "real",
            FsType::Complex => "complex",
            FsType::Quaternionic => "quaternionic",
        }
    }
    /// dim_R End_G(V): 1, 2 or 4.
    pub fn endomorphism_dim(self) -> usize {
        match self {
            FsType::Real => 1,
            FsType::Complex => 2,
            FsType::Quaternionic => 4,
        }
    }
}

/// A real irreducible representation as explicit orthogonal matrices.
#[derive(Debug, Clone)]
pub struct RealIrrep {
    /// Stable name (docs/design.md): `[3,1]` for S_n, `rho_k` for D_n, `omega` for A4.
    pub name: String,
    /// ρ(g) for every element g, each `real_dim × real_dim` and orthogonal.
    pub matrices: Vec<DMatrix<f64>>,
    /// Frobenius–Schur type.
    pub fs_type: FsType,
    /// tr ρ(g) per conjugacy class (the group's class order).
    pub character: Vec<f64>,
    /// The complex character of one complex constituent, per class. For
    /// real type it equals `character`; for quaternionic type it is half of it.
    pub complex_character: Vec<Complex<f64>>,
    /// Orthonormal basis of the isotypic component in R^{|G|}
    /// (`|G| × multiplicity·real_dim`).
    pub basis: DMatrix<f64>,
    /// Elements g with ρ(g) = I, ascending.
    pub kernel: Vec<usize>,
}

impl RealIrrep {
    /// The real dimension of ρ.
    pub fn real_dim(&self) -> usize {
        self.matrices[0].nrows()
    }
    /// The dimension of each complex constituent.
    pub fn complex_dim(&self) -> usize {
        self.real_dim() / if self.fs_type == FsType::Real { 1 } else { 2 }
    }
    /// Whether ρ is the trivial representation.
    pub fn is_trivial(&self) -> bool {
        self.real_dim() == 1 && self.kernel.len() == self.matrices.len()
    }
    /// Whether ρ is injective (its kernel is {e}).
    pub fn is_faithful(&self) -> bool {
        self.kernel.len() == 1
    }
    /// The orthogonal projector onto the isotypic component, `basis·basisᵀ`.
    pub fn projector(&self) -> DMatrix<f64> {
        &self.basis * self.basis.transpose()
    }
}

/// One complex irreducible character.
#[derive(Debug, Clone)]
pub struct ComplexIrrep {
    /// Name: the real irrep's, with `_bar` for the conjugate of a complex pair
    /// (cyclic groups name every character by its frequency, `f{k}`).
    pub name: String,
    /// Complex dimension χ(e).
    pub dim: usize,
    /// χ per conjugacy class.
    pub character: Vec<Complex<f64>>,
    /// Index of the real irrep it belongs to.
    pub real_irrep: usize,
}

/// The character table of the complex irreps.
#[derive(Debug, Clone)]
pub struct CharacterTable {
    /// Size of each conjugacy class.
    pub class_sizes: Vec<usize>,
    /// The representative (smallest element) of each class.
    pub class_representatives: Vec<usize>,
    /// One row per complex irrep.
    pub irreps: Vec<ComplexIrrep>,
}

/// Everything representation-theoretic about one group.
#[derive(Debug, Clone)]
pub struct Representations {
    /// Real irreps, trivial first, in each family's stable order.
    pub real: Vec<RealIrrep>,
    /// The complex character table.
    pub complex: CharacterTable,
}

impl Representations {
    /// The index of the real irrep called `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.real.iter().position(|r| r.name == name)
    }

    /// The orthonormal basis of R^{|G|} adapted to the isotypic
    /// decomposition: the columns of `real[i].basis` for every i, in order,
    /// and the column range of each irrep.
    pub fn adapted_basis(&self) -> (DMatrix<f64>, Vec<std::ops::Range<usize>>) {
        let n = self.real[0].basis.nrows();
        let mut u = DMatrix::zeros(n, n);
        let mut ranges = Vec::with_capacity(self.real.len());
        let mut col = 0;
        for r in &self.real {
            let w = r.basis.ncols();
            u.columns_mut(col, w).copy_from(&r.basis);
            ranges.push(col..col + w);
            col += w;
        }
        (u, ranges)
    }
}

/// The isotypic projector of a real irrep from its character alone:
/// P_{x,y} = d_R / (ν |G|) · χ_R(x y⁻¹), ν = dim End_G (1, 2, 4). This is the
/// central idempotent formula; tests compare it with [`RealIrrep::projector`].
pub fn projector_from_character(group: &FiniteGroup, irrep: &RealIrrep) -> DMatrix<f64> {
    let n = group.order();
    let c = irrep.real_dim() as f64 / (irrep.fs_type.endomorphism_dim() * n) as f64;
    DMatrix::from_fn(n, n, |x, y| {
        c * irrep.character[group.class_of(group.op(x, group.inverse(y)))]
    })
}

/// A real irrep before naming: matrices, character, type, isotypic basis.
struct Unnamed {
    matrices: Vec<DMatrix<f64>>,
    character: Vec<f64>,
    fs_type: FsType,
    basis: DMatrix<f64>,
}

const TRIES: u64 = 8;

pub(super) fn compute(group: &FiniteGroup) -> Representations {
    for attempt in 0..TRIES {
        if let Some(unnamed) = try_decompose(group, attempt) {
            return finish(group, unnamed);
        }
    }
    panic!(
        "could not split the regular representation of {} into irreps in {TRIES} attempts; \
         this is a bug in grokscope, please report it",
        group.name()
    );
}

/// Character per class of ρ given by matrices.
fn class_character(group: &FiniteGroup, matrices: &[DMatrix<f64>]) -> Vec<f64> {
    group
        .conjugacy_classes()
        .iter()
        .map(|c| matrices[c.representative].trace())
        .collect()
}

fn try_decompose(group: &FiniteGroup, attempt: u64) -> Option<Vec<Unnamed>> {
    let n = group.order();
    let mut rng = SplitMix64::derived(attempt, "irreps");
    let mut c = vec![0.0; n];
    for z in 0..n {
        let zi = group.inverse(z);
        if z <= zi {
            c[z] = rng.normal();
            c[zi] = c[z];
        }
    }
    let m = DMatrix::from_fn(n, n, |x, y| c[group.op(group.inverse(x), y)]);
    let eig = SymmetricEigen::new(m);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[a].total_cmp(&eig.eigenvalues[b]));
    let scale = eig.eigenvalues.amax().max(1.0);
    let tol = 1e-7 * scale;

    // Cluster equal eigenvalues: each cluster should be one irreducible copy.
    let mut clusters: Vec<Vec<usize>> = Vec::new();
    for &i in &order {
        match clusters.last_mut() {
            Some(cl) if (eig.eigenvalues[i] - eig.eigenvalues[*cl.last().unwrap()]).abs() < tol => {
                cl.push(i)
            }
            _ => clusters.push(vec![i]),
        }
    }

    // Each copy: (matrices, character per class, basis, type).
    let mut copies: Vec<Unnamed> = Vec::new();
    for cl in &clusters {
        let d = cl.len();
        let b = DMatrix::from_fn(n, d, |x, j| eig.eigenvectors[(x, cl[j])]);
        // ρ(g)_{ij} = Σ_x B_{x,i} B_{g⁻¹x, j}, i.e. Bᵀ L_g B with (L_g f)(x) = f(g⁻¹x).
        let mut matrices = Vec::with_capacity(n);
        for g in 0..n {
            let gi = group.inverse(g);
            let shifted = DMatrix::from_fn(n, d, |x, j| b[(group.op(gi, x), j)]);
            let rho = b.transpose() * &shifted;
            // Invariance: L_g B = B ρ(g).
            if (&shifted - &b * &rho).amax() > 1e-6 {
                return None;
            }
            matrices.push(rho);
        }
        let character = class_character(group, &matrices);
        let sizes: Vec<f64> = group
            .conjugacy_classes()
            .iter()
            .map(|c| c.size() as f64)
            .collect();
        let norm: f64 = character
            .iter()
            .zip(&sizes)
            .map(|(x, s)| s * x * x)
            .sum::<f64>()
            / n as f64;
        let indicator: f64 = (0..n)
            .map(|g| character[group.class_of(group.op(g, g))])
            .sum::<f64>()
            / n as f64;
        let fs_type = match (norm.round() as i64, indicator.round() as i64) {
            (1, 1) => FsType::Real,
            (2, 0) => FsType::Complex,
            (4, -2) => FsType::Quaternionic,
            _ => return None, // reducible: an accidental degeneracy
        };
        if (norm - norm.round()).abs() > 1e-6 || (indicator - indicator.round()).abs() > 1e-6 {
            return None;
        }
        copies.push(Unnamed {
            matrices,
            character,
            fs_type,
            basis: b,
        });
    }

    // Group isomorphic copies (equal characters); the first is the representative.
    let mut irreps: Vec<Unnamed> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    for copy in copies {
        let same = irreps.iter().position(|r| {
            r.character
                .iter()
                .zip(&copy.character)
                .all(|(a, b)| (a - b).abs() < 1e-6)
        });
        match same {
            Some(i) => {
                let r = &mut irreps[i];
                let w = r.basis.ncols();
                let mut joined = DMatrix::zeros(n, w + copy.basis.ncols());
                joined.columns_mut(0, w).copy_from(&r.basis);
                joined
                    .columns_mut(w, copy.basis.ncols())
                    .copy_from(&copy.basis);
                r.basis = joined;
                counts[i] += 1;
            }
            None => {
                irreps.push(copy);
                counts.push(1);
            }
        }
    }
    // Multiplicity in the real regular representation: d / dim End_G.
    for (r, &count) in irreps.iter().zip(&counts) {
        let d = r.matrices[0].nrows();
        if count * r.fs_type.endomorphism_dim() != d {
            return None;
        }
    }
    Some(irreps)
}

/// The complex character of one constituent of a complex-type real irrep:
/// with J ∈ End_G(V), J² = −I, χ(g) = ½(tr ρ(g) − i tr(J ρ(g))).
fn complex_constituent(group: &FiniteGroup, r: &Unnamed) -> Vec<Complex<f64>> {
    let d = r.matrices[0].nrows();
    let n = group.order();
    let mut rng = SplitMix64::derived(d as u64, "complex-structure");
    let y = DMatrix::from_fn(d, d, |_, _| rng.normal());
    // Averaging projects onto End_G(V) = span{I, J}; the antisymmetric part is a multiple of J.
    let mut x = DMatrix::zeros(d, d);
    for m in &r.matrices {
        x += m * &y * m.transpose();
    }
    x /= n as f64;
    let a = &x - x.transpose();
    let scale = (-(&a * &a).trace() / d as f64).sqrt();
    let j = a / scale;
    group
        .conjugacy_classes()
        .iter()
        .map(|c| {
            let m = &r.matrices[c.representative];
            Complex::new(0.5 * m.trace(), -0.5 * (&j * m).trace())
        })
        .collect()
}

fn finish(group: &FiniteGroup, unnamed: Vec<Unnamed>) -> Representations {
    let n = group.order();
    let mut real: Vec<RealIrrep> = unnamed
        .into_iter()
        .map(|u| {
            let d = u.matrices[0].nrows() as f64;
            let complex_character = match u.fs_type {
                FsType::Real => u.character.iter().map(|&x| Complex::new(x, 0.0)).collect(),
                FsType::Quaternionic => u
                    .character
                    .iter()
                    .map(|&x| Complex::new(x / 2.0, 0.0))
                    .collect(),
                FsType::Complex => {
                    let mut chi = complex_constituent(group, &u);
                    // Convention: the first non-real value has positive imaginary part.
                    if let Some(z) = chi.iter().find(|z| z.im.abs() > 1e-9) {
                        if z.im < 0.0 {
                            chi.iter_mut().for_each(|z| *z = z.conj());
                        }
                    }
                    chi
                }
            };
            let kernel = (0..n)
                .filter(|&g| u.character[group.class_of(g)] > d - 1e-7)
                .collect();
            RealIrrep {
                name: String::new(),
                matrices: u.matrices,
                fs_type: u.fs_type,
                character: u.character,
                complex_character,
                basis: u.basis,
                kernel,
            }
        })
        .collect();
    naming::name_and_sort(group, &mut real);

    let mut irreps = Vec::new();
    for (i, r) in real.iter().enumerate() {
        let dim = r.complex_dim();
        irreps.push(ComplexIrrep {
            name: r.name.clone(),
            dim,
            character: r.complex_character.clone(),
            real_irrep: i,
        });
        if r.fs_type == FsType::Complex {
            irreps.push(ComplexIrrep {
                name: format!("{}_bar", r.name),
                dim,
                character: r.complex_character.iter().map(|z| z.conj()).collect(),
                real_irrep: i,
            });
        }
    }
    naming::name_complex(group, &mut irreps);
    let classes = group.conjugacy_classes();
    Representations {
        real,
        complex: CharacterTable {
            class_sizes: classes.iter().map(|c| c.size()).collect(),
            class_representatives: classes.iter().map(|c| c.representative).collect(),
            irreps,
        },
    }
}
