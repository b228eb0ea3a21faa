//! Stable names and order for irreps, per family (docs/design.md):
//! Z/n and F_p^x by frequency `f{k}`; (Z/2)^k by character vector `chi{v}`;
//! D_n as `trivial`, `sign`, `sign_r`, `sign_sr`, `rho_k`; S_n by partition
//! (`[3,1]`), identified by Murnaghan–Nakayama characters; A4 as `1`,
//! `omega`, `3`, other A_n by dimension; anything else by type and dimension
//! (`R2`, `C2`, `H4`, with `_a`, `_b` when several share a name).

use super::construct::permutations;
use super::irreps::{ComplexIrrep, FsType, RealIrrep};
use super::{FiniteGroup, GroupKind};
use std::f64::consts::PI;

/// Sort key: family rank first, then the character values (for determinism).
type Key = (i64, Vec<i64>);

pub(super) fn name_and_sort(group: &FiniteGroup, real: &mut Vec<RealIrrep>) {
    let mut keyed: Vec<(Key, String, RealIrrep)> = real
        .drain(..)
        .map(|r| {
            let (rank, name) = family_name(group, &r);
            let chars = r
                .character
                .iter()
                .map(|x| (x * 1e6).round() as i64)
                .collect();
            ((rank, chars), name, r)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    disambiguate(&mut keyed);
    real.extend(keyed.into_iter().map(|(_, name, mut r)| {
        r.name = name;
        r
    }));
}

/// Appends `_a`, `_b`, ... (or `a`, `b` after a digit) where names repeat.
fn disambiguate(keyed: &mut [(Key, String, RealIrrep)]) {
    let names: Vec<String> = keyed.iter().map(|k| k.1.clone()).collect();
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    for (i, name) in names.iter().enumerate() {
        if names.iter().filter(|m| *m == name).count() > 1 {
            let k = seen.entry(name.clone()).or_insert(0);
            let letter = (b'a' + *k as u8) as char;
            let sep = if name.ends_with(|c: char| c.is_ascii_digit()) && !name.contains('_') {
                ""
            } else {
                "_"
            };
            keyed[i].1 = format!("{name}{sep}{letter}");
            *k += 1;
        }
    }
}

/// Value of the real character at element g.
fn chi(group: &FiniteGroup, r: &RealIrrep, g: usize) -> f64 {
    r.character[group.class_of(g)]
}

/// The frequency k of a cyclic-group irrep from its value at a generator of order n.
fn frequency(value: f64, dim: usize, n: usize) -> usize {
    let c = (value / dim as f64).clamp(-1.0, 1.0);
    (c.acos() * n as f64 / (2.0 * PI)).round() as usize
}

fn family_name(group: &FiniteGroup, r: &RealIrrep) -> (i64, String) {
    if r.is_trivial() {
        let name = match group.kind() {
            GroupKind::Alternating(_) => "1",
            GroupKind::Symmetric(n) => return (0, partition_name(&[*n])),
            _ => "trivial",
        };
        return (0, name.to_string());
    }
    let d = r.real_dim();
    match group.kind() {
        GroupKind::Cyclic(n) => {
            let k = frequency(chi(group, r, 1 % n), d, *n);
            (k as i64, format!("f{k}"))
        }
        GroupKind::Units { p, generator } => {
            let k = frequency(chi(group, r, generator - 1), d, p - 1);
            (k as i64, format!("f{k}"))
        }
        GroupKind::ElementaryAbelian(bits) => {
            let v: usize = (0..*bits)
                .filter(|&i| chi(group, r, 1 << i) < 0.0)
                .map(|i| 1 << i)
                .sum();
            (v as i64, format!("chi{v}"))
        }
        GroupKind::Dihedral(n) => {
            let (rot, s) = (1 % n, *n);
            if d == 1 {
                let (cr, cs) = (chi(group, r, rot) > 0.0, chi(group, r, s) > 0.0);
                match (cr, cs) {
                    (true, false) => (1, "sign".into()),
                    (false, true) => (2, "sign_r".into()),
                    _ => (3, "sign_sr".into()),
                }
            } else {
                let k = frequency(chi(group, r, rot), d, *n);
                (3 + k as i64, format!("rho_{k}"))
            }
        }
        GroupKind::Dicyclic(n) => {
            // a (index 1) has order 2n, x is index 2n.
            let (a, x) = (1, 2 * n);
            if d == 1 {
                let (ca, cx) = (chi(group, r, a) > 0.0, chi(group, r, x) > 0.0);
                match (ca, cx) {
                    (true, false) => (1, "sign".into()),
                    (false, true) => (2, "sign_a".into()),
                    _ => (3, "sign_ax".into()),
                }
            } else if r.fs_type == FsType::Complex && r.complex_dim() == 1 {
                // Odd n: the abelianisation is Z/4, whose faithful pair is this.
                (4, "chi_i".into())
            } else {
                let k = frequency(
                    chi(group, r, a) * r.complex_dim() as f64 / d as f64,
                    r.complex_dim(),
                    2 * n,
                );
                (4 + k as i64, format!("rho_{k}"))
            }
        }
        GroupKind::Symmetric(n) => {
            let parts = partitions(*n);
            let perms = permutations(*n);
            let classes = group.conjugacy_classes();
            let types: Vec<Vec<usize>> = classes
                .iter()
                .map(|c| cycle_type(&perms[c.representative]))
                .collect();
            let (i, lambda) = parts
                .iter()
                .enumerate()
                .find(|(_, lam)| {
                    types
                        .iter()
                        .zip(&r.character)
                        .all(|(mu, &x)| (mn_character(lam, mu) as f64 - x).abs() < 1e-6)
                })
                .expect("every real irrep of S_n matches a Murnaghan–Nakayama character");
            (i as i64, partition_name(lambda))
        }
        GroupKind::Alternating(4) if r.fs_type == FsType::Complex => (1, "omega".into()),
        GroupKind::Alternating(_) => {
            let suffix = if r.fs_type == FsType::Complex {
                "c"
            } else {
                ""
            };
            (
                r.complex_dim() as i64,
                format!("{}{suffix}", r.complex_dim()),
            )
        }
        GroupKind::Product(..) | GroupKind::Table => {
            let t = match r.fs_type {
                FsType::Real => 'R',
                FsType::Complex => 'C',
                FsType::Quaternionic => 'H',
            };
            (d as i64, format!("{t}{d}"))
        }
    }
}

/// Names the complex irreps: cyclic groups by the frequency of each
/// character (χ(generator) = e^{2πik/n}); otherwise the real names stand.
pub(super) fn name_complex(group: &FiniteGroup, irreps: &mut [ComplexIrrep]) {
    let (generator, n) = match group.kind() {
        GroupKind::Cyclic(n) => (1 % n, *n),
        GroupKind::Units { p, generator } => (generator - 1, p - 1),
        _ => return,
    };
    let class = group.class_of(generator);
    for irrep in irreps.iter_mut() {
        let z = irrep.character[class];
        let k = (z.im.atan2(z.re) * n as f64 / (2.0 * PI)).round() as i64;
        let k = k.rem_euclid(n as i64);
        irrep.name = if k == 0 {
            "trivial".into()
        } else {
            format!("f{k}")
        };
    }
}

fn partition_name(lambda: &[usize]) -> String {
    let parts: Vec<String> = lambda.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(","))
}

/// Partitions of n in reverse lexicographic order: [n], [n-1,1], [n-2,2], ...
pub(crate) fn partitions(n: usize) -> Vec<Vec<usize>> {
    fn rec(rest: usize, max: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if rest == 0 {
            out.push(cur.clone());
            return;
        }
        for part in (1..=rest.min(max)).rev() {
            cur.push(part);
            rec(rest - part, part, cur, out);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    rec(n, n, &mut Vec::new(), &mut out);
    out
}

/// Cycle lengths of a permutation, descending.
pub(crate) fn cycle_type(perm: &[usize]) -> Vec<usize> {
    let mut seen = vec![false; perm.len()];
    let mut lengths = Vec::new();
    for start in 0..perm.len() {
        let mut len = 0;
        let mut x = start;
        while !seen[x] {
            seen[x] = true;
            x = perm[x];
            len += 1;
        }
        if len > 0 {
            lengths.push(len);
        }
    }
    lengths.sort_unstable_by(|a, b| b.cmp(a));
    lengths
}

/// χ^λ(μ) by the Murnaghan–Nakayama rule on beta-sets: removing a rim hook
/// of length r moves a bead from b to b − r, with sign (−1)^(beads between).
pub(crate) fn mn_character(lambda: &[usize], mu: &[usize]) -> i64 {
    let len = lambda.len();
    let beta: Vec<usize> = lambda
        .iter()
        .enumerate()
        .map(|(i, &l)| l + len - 1 - i)
        .collect();
    fn rec(beta: &[usize], mu: &[usize]) -> i64 {
        let Some((&r, rest)) = mu.split_first() else {
            return 1;
        };
        let mut total = 0;
        for (i, &b) in beta.iter().enumerate() {
            if b < r || beta.contains(&(b - r)) {
                continue;
            }
            let between = beta.iter().filter(|&&c| b - r < c && c < b).count();
            let mut next = beta.to_vec();
            next[i] = b - r;
            let sign = if between % 2 == 0 { 1 } else { -1 };
            total += sign * rec(&next, rest);
        }
        total
    }
    rec(&beta, mu)
}
