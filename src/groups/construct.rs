//! Constructors for the group families of docs/design.md, with the element order
//! it fixes: integers in natural order; permutations in lexicographic order
//! of their one-line notation; dihedral elements as r^k, then s·r^k.

use super::{FiniteGroup, GroupError, GroupKind};

/// Largest n accepted by `symmetric`/`alternating`: S7 has 5040 elements and
/// a 25-million-entry table, far beyond what the model trains on.
pub const MAX_PERMUTATION_DEGREE: usize = 6;

/// Whether `n` is prime (trial division; n is small here).
pub fn is_prime(n: usize) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

fn prime_factors(mut n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut d = 2;
    while d * d <= n {
        if n.is_multiple_of(d) {
            out.push(d);
            while n.is_multiple_of(d) {
                n /= d;
            }
        }
        d += 1;
    }
    if n > 1 {
        out.push(n);
    }
    out
}

fn pow_mod(mut b: usize, mut e: usize, m: usize) -> usize {
    let mut r = 1 % m;
    b %= m;
    while e > 0 {
        if e & 1 == 1 {
            r = r * b % m;
        }
        b = b * b % m;
        e >>= 1;
    }
    r
}

/// The smallest primitive root modulo the prime `p` (3 for p = 113).
///
/// # Errors
/// If `p` is not a prime ≥ 3.
pub fn smallest_primitive_root(p: usize) -> Result<usize, GroupError> {
    if !is_prime(p) || p < 3 {
        return Err(GroupError::Parameter(format!(
            "{p} is not an odd prime; the multiplicative group needs a prime modulus p >= 3 (e.g. 113)"
        )));
    }
    let factors = prime_factors(p - 1);
    Ok((2..p)
        .find(|&g| factors.iter().all(|&q| pow_mod(g, (p - 1) / q, p) != 1))
        .expect("every prime has a primitive root"))
}

/// `log[a]` = j with g^j ≡ a (mod p), for a in 1..p (`log[0]` is unused).
///
/// # Errors
/// If `p` is not an odd prime or `g` is not a primitive root mod p.
pub fn discrete_log_table(p: usize, g: usize) -> Result<Vec<usize>, GroupError> {
    smallest_primitive_root(p)?;
    let mut log = vec![usize::MAX; p];
    let mut x = 1;
    for j in 0..p - 1 {
        if log[x] != usize::MAX {
            return Err(GroupError::Parameter(format!(
                "{g} is not a primitive root mod {p} (its order is {j}); use {} or another generator",
                smallest_primitive_root(p)?
            )));
        }
        log[x] = j;
        x = x * g % p;
    }
    Ok(log)
}

/// All permutations of 0..n in lexicographic order of one-line notation.
pub(crate) fn permutations(n: usize) -> Vec<Vec<usize>> {
    let mut cur: Vec<usize> = (0..n).collect();
    let mut out = vec![cur.clone()];
    // Narayana's next-permutation.
    loop {
        let Some(i) = (1..n).rev().find(|&i| cur[i - 1] < cur[i]) else {
            return out;
        };
        let j = (i..n).rev().find(|&j| cur[j] > cur[i - 1]).expect("exists");
        cur.swap(i - 1, j);
        cur[i..].reverse();
        out.push(cur.clone());
    }
}

pub(crate) fn is_even(perm: &[usize]) -> bool {
    let mut seen = vec![false; perm.len()];
    let mut transpositions = 0usize;
    for start in 0..perm.len() {
        let mut len = 0usize;
        let mut x = start;
        while !seen[x] {
            seen[x] = true;
            x = perm[x];
            len += 1;
        }
        transpositions += len.saturating_sub(1);
    }
    transpositions.is_multiple_of(2)
}

fn perm_label(p: &[usize]) -> String {
    // One-line notation, 1-based: "2134" maps 1->2, 2->1, 3->3, 4->4.
    p.iter().map(|x| (x + 1).to_string()).collect()
}

/// A group of permutations closed under composition, (a∘b)(i) = a(b(i)).
fn permutation_group(name: String, kind: GroupKind, perms: Vec<Vec<usize>>) -> FiniteGroup {
    let index: std::collections::HashMap<&[usize], usize> = perms
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_slice(), i))
        .collect();
    let n = perms.len();
    let mut table = vec![0; n * n];
    for (a, pa) in perms.iter().enumerate() {
        for (b, pb) in perms.iter().enumerate() {
            let c: Vec<usize> = pb.iter().map(|&x| pa[x]).collect();
            table[a * n + b] = index[c.as_slice()];
        }
    }
    let labels = perms.iter().map(|p| perm_label(p)).collect();
    FiniteGroup::with_kind(name, kind, labels, table).expect("permutations form a group")
}

impl FiniteGroup {
    /// Z/n under addition mod n, elements 0..n.
    ///
    /// # Errors
    /// If n = 0.
    pub fn cyclic(n: usize) -> Result<Self, GroupError> {
        if n == 0 {
            return Err(GroupError::Parameter(
                "Z/0 is not finite; use n >= 1".into(),
            ));
        }
        let table = (0..n * n).map(|i| (i / n + i % n) % n).collect();
        let labels = (0..n).map(|i| i.to_string()).collect();
        Self::with_kind(format!("Z/{n}"), GroupKind::Cyclic(n), labels, table)
    }

    /// The units of Z/p under multiplication, element i is the residue i+1;
    /// discrete logs use the smallest primitive root.
    ///
    /// # Errors
    /// If p is not an odd prime.
    pub fn units_mod_prime(p: usize) -> Result<Self, GroupError> {
        let generator = smallest_primitive_root(p)?;
        let n = p - 1;
        let table = (0..n * n)
            .map(|i| ((i / n + 1) * (i % n + 1) % p) - 1)
            .collect();
        let labels = (1..p).map(|i| i.to_string()).collect();
        Self::with_kind(
            format!("F_{p}^x"),
            GroupKind::Units { p, generator },
            labels,
            table,
        )
    }

    /// (Z/2)^k under bitwise XOR, elements 0..2^k as integers.
    ///
    /// # Errors
    /// If k = 0 or k > 10.
    pub fn elementary_abelian(k: u32) -> Result<Self, GroupError> {
        if !(1..=10).contains(&k) {
            return Err(GroupError::Parameter(format!(
                "(Z/2)^{k} is not supported; use 1 <= k <= 10"
            )));
        }
        let n = 1usize << k;
        let table = (0..n * n).map(|i| (i / n) ^ (i % n)).collect();
        let labels = (0..n).map(|i| i.to_string()).collect();
        Self::with_kind(
            format!("(Z/2)^{k}"),
            GroupKind::ElementaryAbelian(k),
            labels,
            table,
        )
    }

    /// The dihedral group of order 2n: index k is r^k, index n+k is s·r^k,
    /// with r s = s r^{-1}.
    ///
    /// # Errors
    /// If n = 0.
    pub fn dihedral(n: usize) -> Result<Self, GroupError> {
        if n == 0 {
            return Err(GroupError::Parameter(
                "dihedral:0 has no elements; use dihedral:n with n >= 1 (order 2n)".into(),
            ));
        }
        let m = 2 * n;
        let mut table = vec![0; m * m];
        for x in 0..m {
            for y in 0..m {
                let (a, i) = (x / n, x % n);
                let (b, j) = (y / n, y % n);
                // s^a r^i · s^b r^j = s^(a+b) r^((-1)^b i + j)
                let k = if b == 0 { (i + j) % n } else { (n - i + j) % n };
                table[x * m + y] = ((a + b) % 2) * n + k;
            }
        }
        let rot = |k: usize| match k {
            0 => String::new(),
            1 => "r".to_string(),
            _ => format!("r^{k}"),
        };
        let labels = (0..m)
            .map(|x| match (x / n, x % n) {
                (0, 0) => "e".to_string(),
                (0, k) => rot(k),
                (_, k) => format!("s{}", rot(k)),
            })
            .collect();
        Self::with_kind(format!("D{n}"), GroupKind::Dihedral(n), labels, table)
    }

    /// The dicyclic group Dic_n of order 4n, ⟨a, x | a^{2n} = 1, x² = a^n,
    /// x a x⁻¹ = a⁻¹⟩: index k is a^k, index 2n + k is a^k x. Dic_2 is the
    /// quaternion group Q8. For even n it has the character table of the
    /// dihedral group of the same order, D_{2n}.
    ///
    /// # Errors
    /// If n = 0.
    pub fn dicyclic(n: usize) -> Result<Self, GroupError> {
        if n == 0 {
            return Err(GroupError::Parameter(
                "dicyclic:0 has no elements; use dicyclic:n with n >= 1 (order 4n; dicyclic:2 is Q8)"
                    .into(),
            ));
        }
        let m = 2 * n; // the order of a
        let order = 2 * m;
        let mut table = vec![0; order * order];
        for x in 0..order {
            for y in 0..order {
                let (p, i) = (x / m, x % m);
                let (q, j) = (y / m, y % m);
                // a^i x^p · a^j x^q, with x a^j = a^-j x and x² = a^n.
                let (k, t) = match (p, q) {
                    (0, 0) => ((i + j) % m, 0),
                    (0, _) => ((i + j) % m, 1),
                    (_, 0) => ((i + m - j) % m, 1),
                    _ => ((i + m - j + n) % m, 0),
                };
                table[x * order + y] = t * m + k;
            }
        }
        let pow = |k: usize| match k {
            0 => String::new(),
            1 => "a".to_string(),
            _ => format!("a^{k}"),
        };
        let labels = (0..order)
            .map(|x| match (x / m, x % m) {
                (0, 0) => "e".to_string(),
                (0, k) => pow(k),
                (_, k) => format!("{}x", pow(k)),
            })
            .collect();
        let name = if n == 2 {
            "Q8".to_string()
        } else {
            format!("Dic{n}")
        };
        Self::with_kind(name, GroupKind::Dicyclic(n), labels, table)
    }

    /// Z/n ⋊ Z/m with the generator b of Z/m acting on Z/n = ⟨a⟩ by
    /// multiplication by k (b a b⁻¹ = a^k): index j·n + i is a^i b^j, and
    /// (a^i b^j)(a^i' b^j') = a^(i + k^j i') b^(j + j').
    ///
    /// # Errors
    /// n or m zero, or k^m ≠ 1 mod n (the action would not be one of Z/m).
    pub fn semidirect(n: usize, m: usize, k: usize) -> Result<Self, GroupError> {
        if n == 0 || m == 0 {
            return Err(GroupError::Parameter(format!(
                "semidirect:{n},{m},{k} has no elements; use n, m >= 1 (e.g. semidirect:7,3,2)"
            )));
        }
        let k = k % n;
        let mut power = vec![1 % n; m + 1]; // k^j mod n
        for j in 1..=m {
            power[j] = power[j - 1] * k % n;
        }
        if power[m] != 1 % n {
            return Err(GroupError::Parameter(format!(
                "semidirect:{n},{m},{k}: {k}^{m} = {} mod {n}, not 1, so multiplication by {k} is not an action of Z/{m}; choose k with k^m = 1 mod n (e.g. semidirect:7,3,2)",
                power[m]
            )));
        }
        let order = n * m;
        let mut table = vec![0; order * order];
        for x in 0..order {
            for y in 0..order {
                let (i, j) = (x % n, x / n);
                let (i2, j2) = (y % n, y / n);
                let a = (i + power[j] * i2) % n;
                table[x * order + y] = ((j + j2) % m) * n + a;
            }
        }
        let labels = (0..order)
            .map(|x| match (x % n, x / n) {
                (0, 0) => "e".to_string(),
                (i, 0) => format!("a^{i}"),
                (0, j) => format!("b^{j}"),
                (i, j) => format!("a^{i}b^{j}"),
            })
            .collect();
        Self::with_kind(format!("Z{n}⋊Z{m}[{k}]"), GroupKind::Table, labels, table)
    }

    /// The Heisenberg group mod p: upper unitriangular 3×3 matrices over
    /// Z/p, (x, y, z) at index x·p² + y·p + z, with
    /// (x, y, z)(x', y', z') = (x + x', y + y', z + z' + x y').
    ///
    /// # Errors
    /// p < 2.
    pub fn heisenberg(p: usize) -> Result<Self, GroupError> {
        if p < 2 {
            return Err(GroupError::Parameter(format!(
                "heisenberg:{p}: use a prime p >= 2 (order p^3; heisenberg:3 has order 27)"
            )));
        }
        let order = p * p * p;
        let split = |v: usize| (v / (p * p), v / p % p, v % p);
        let mut table = vec![0; order * order];
        for u in 0..order {
            for v in 0..order {
                let ((x, y, z), (x2, y2, z2)) = (split(u), split(v));
                let w = ((x + x2) % p, (y + y2) % p, (z + z2 + x * y2) % p);
                table[u * order + v] = w.0 * p * p + w.1 * p + w.2;
            }
        }
        let labels = (0..order)
            .map(|v| {
                let (x, y, z) = split(v);
                format!("({x},{y},{z})")
            })
            .collect();
        Self::with_kind(format!("Heis({p})"), GroupKind::Table, labels, table)
    }

    /// S_n, permutations of {1..n} in lexicographic order of their one-line
    /// notation; (a∘b)(i) = a(b(i)).
    ///
    /// # Errors
    /// If n = 0 or n > 6.
    pub fn symmetric(n: usize) -> Result<Self, GroupError> {
        check_degree("symmetric", n, 1)?;
        Ok(permutation_group(
            format!("S{n}"),
            GroupKind::Symmetric(n),
            permutations(n),
        ))
    }

    /// A_n, the even permutations of {1..n} in lexicographic order.
    ///
    /// # Errors
    /// If n < 3 (A_1 and A_2 are trivial) or n > 6.
    pub fn alternating(n: usize) -> Result<Self, GroupError> {
        check_degree("alternating", n, 3)?;
        let perms = permutations(n).into_iter().filter(|p| is_even(p)).collect();
        Ok(permutation_group(
            format!("A{n}"),
            GroupKind::Alternating(n),
            perms,
        ))
    }
}

fn check_degree(family: &str, n: usize, min: usize) -> Result<(), GroupError> {
    if n < min || n > MAX_PERMUTATION_DEGREE {
        return Err(GroupError::Parameter(format!(
            "{family}:{n} is not supported; use {min} <= n <= {MAX_PERMUTATION_DEGREE}"
        )));
    }
    Ok(())
}
