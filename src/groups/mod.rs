//! Finite groups as Cayley tables, their real irreducible representations and
//! character tables, and the catalogue of operations grokscope trains on.
//!
//! A [`FiniteGroup`] is built from a table and validated (closure, identity,
//! inverses, associativity), or from a constructor for the families of
//! docs/design.md. Element `i` is the token `i`; labels are for humans.
//!
//! ```
//! use grokscope::groups::FiniteGroup;
//! let s3 = FiniteGroup::symmetric(3).unwrap();
//! assert_eq!(s3.order(), 6);
//! assert!(!s3.is_abelian());
//! let reps = s3.representations();
//! let dims: Vec<usize> = reps.real.iter().map(|r| r.real_dim()).collect();
//! assert_eq!(dims, vec![1, 2, 1]); // [3], [2,1], [1,1,1]
//! ```
//!
//! This module never imports tch.

mod catalogue;
mod construct;
pub mod invariants;
mod irreps;
mod naming;
pub mod small;
pub mod table_file;

/// The largest group [`Operation::parse`] builds, on every machine: its
/// Cayley table then holds 67 million entries (537 MB). Whether a machine
/// can train an operation is decided where a run is admitted
/// ([`crate::budget::admit`]), not when its name is parsed.
pub const MAX_ORDER: usize = 8192;

pub use catalogue::{
    catalogue_families, AnalysisView, Family, Operation, OperationError, OperationSpec, FAMILIES,
    SHORT_NAMES,
};
pub use construct::{discrete_log_table, is_prime, smallest_primitive_root};
pub use irreps::{
    projector_from_character, CharacterTable, ComplexIrrep, FsType, RealIrrep, Representations,
};

use std::fmt;
use std::sync::{Arc, OnceLock};

/// What went wrong building a group or an operation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GroupError {
    /// The table does not have n² entries for n labels.
    #[error("Cayley table has {len} entries but {n} labels need {} (n×n); give one row per element", n * n)]
    Shape {
        /// Entries given.
        len: usize,
        /// Labels given.
        n: usize,
    },
    /// A group must have at least one element.
    #[error("a group needs at least one element")]
    Empty,
    /// An entry of the table is not an element.
    #[error("not closed: {a} ∘ {b} = {value}, which is not one of the {n} elements (entries must be indices 0..{n})")]
    NotClosed {
        /// Left operand label.
        a: String,
        /// Right operand label.
        b: String,
        /// The out-of-range entry.
        value: usize,
        /// Number of elements.
        n: usize,
    },
    /// No two-sided identity.
    #[error("no identity: no element e with e ∘ x = x ∘ e = x for every x")]
    NoIdentity,
    /// Some element has no two-sided inverse.
    #[error(
        "no inverse: element {element} has no y with {element} ∘ y = y ∘ {element} = {identity}"
    )]
    NoInverse {
        /// The element without inverse.
        element: String,
        /// The identity's label.
        identity: String,
    },
    /// The first triple (in index order) with (a∘b)∘c ≠ a∘(b∘c).
    #[error("not associative: ({a} ∘ {b}) ∘ {c} = {left} but {a} ∘ ({b} ∘ {c}) = {right}")]
    NotAssociative {
        /// First element.
        a: String,
        /// Second element.
        b: String,
        /// Third element.
        c: String,
        /// (a∘b)∘c.
        left: String,
        /// a∘(b∘c).
        right: String,
    },
    /// A constructor parameter out of range (e.g. `dihedral:0`).
    #[error("{0}")]
    Parameter(String),
}

/// Which family a group was constructed as; used to give irreps stable names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKind {
    /// Z/n under addition, elements 0..n.
    Cyclic(usize),
    /// The units of Z/p under multiplication, elements 1..p, with the
    /// primitive root used for discrete logs.
    Units {
        /// The prime modulus.
        p: usize,
        /// The primitive root.
        generator: usize,
    },
    /// (Z/2)^k under XOR, elements 0..2^k.
    ElementaryAbelian(u32),
    /// The dihedral group of order 2n: r^k (index k) then s·r^k (index n+k).
    Dihedral(usize),
    /// The dicyclic group of order 4n: a^k (index k) then a^k·x (index 2n+k).
    Dicyclic(usize),
    /// S_n, permutations in lexicographic order of one-line notation.
    Symmetric(usize),
    /// A_n, the even permutations in lexicographic order.
    Alternating(usize),
    /// G × H, pairs (g, h) with g's index major.
    Product(Box<GroupKind>, Box<GroupKind>),
    /// Given only by its table.
    Table,
}

/// One conjugacy class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConjugacyClass {
    /// The element of smallest index in the class.
    pub representative: usize,
    /// All elements, ascending.
    pub elements: Vec<usize>,
}

impl ConjugacyClass {
    /// Number of elements in the class.
    pub fn size(&self) -> usize {
        self.elements.len()
    }
}

/// A finite group given by its validated Cayley table.
#[derive(Clone)]
pub struct FiniteGroup {
    name: String,
    kind: GroupKind,
    labels: Vec<String>,
    /// Row-major: `table[a * n + b] = a ∘ b`.
    table: Vec<usize>,
    identity: usize,
    inverse: Vec<usize>,
    classes: Vec<ConjugacyClass>,
    class_of: Vec<usize>,
    reps: Arc<OnceLock<Arc<Representations>>>,
}

impl fmt::Debug for FiniteGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FiniteGroup({}, order {})", self.name, self.order())
    }
}

impl FiniteGroup {
    /// Builds and validates a group from its Cayley table (row-major,
    /// `table[a * n + b] = a ∘ b`, entries are element indices).
    ///
    /// # Errors
    /// The first violation found, checked in the order closure, identity,
    /// inverses, associativity; triples are scanned in index order.
    pub fn from_table(
        name: impl Into<String>,
        labels: Vec<String>,
        table: Vec<usize>,
    ) -> Result<Self, GroupError> {
        Self::with_kind(name.into(), GroupKind::Table, labels, table)
    }

    pub(crate) fn with_kind(
        name: String,
        kind: GroupKind,
        labels: Vec<String>,
        table: Vec<usize>,
    ) -> Result<Self, GroupError> {
        let n = labels.len();
        if n == 0 {
            return Err(GroupError::Empty);
        }
        if table.len() != n * n {
            return Err(GroupError::Shape {
                len: table.len(),
                n,
            });
        }
        let op = |a: usize, b: usize| table[a * n + b];
        for a in 0..n {
            for b in 0..n {
                if op(a, b) >= n {
                    return Err(GroupError::NotClosed {
                        a: labels[a].clone(),
                        b: labels[b].clone(),
                        value: op(a, b),
                        n,
                    });
                }
            }
        }
        let identity = (0..n)
            .find(|&e| (0..n).all(|x| op(e, x) == x && op(x, e) == x))
            .ok_or(GroupError::NoIdentity)?;
        let mut inverse = vec![0; n];
        for a in 0..n {
            inverse[a] = (0..n)
                .find(|&y| op(a, y) == identity && op(y, a) == identity)
                .ok_or_else(|| GroupError::NoInverse {
                    element: labels[a].clone(),
                    identity: labels[identity].clone(),
                })?;
        }
        for a in 0..n {
            for b in 0..n {
                let ab = op(a, b);
                for c in 0..n {
                    let (left, right) = (op(ab, c), op(a, op(b, c)));
                    if left != right {
                        return Err(GroupError::NotAssociative {
                            a: labels[a].clone(),
                            b: labels[b].clone(),
                            c: labels[c].clone(),
                            left: labels[left].clone(),
                            right: labels[right].clone(),
                        });
                    }
                }
            }
        }
        let (classes, class_of) = conjugacy_classes(n, &table, &inverse, identity);
        Ok(Self {
            name,
            kind,
            labels,
            table,
            identity,
            inverse,
            classes,
            class_of,
            reps: Arc::new(OnceLock::new()),
        })
    }

    /// The group's name, e.g. `S4` or `Z/113`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The family it was built as.
    pub fn kind(&self) -> &GroupKind {
        &self.kind
    }
    /// |G|.
    pub fn order(&self) -> usize {
        self.labels.len()
    }
    /// Human-readable labels, indexed by element.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }
    /// The label of element `a`.
    pub fn label(&self, a: usize) -> &str {
        &self.labels[a]
    }
    /// The Cayley table, row-major: `table()[a * n + b] = a ∘ b`.
    pub fn table(&self) -> &[usize] {
        &self.table
    }
    /// `a ∘ b`.
    ///
    /// # Panics
    /// If `a` or `b` is not an element index.
    #[inline]
    pub fn op(&self, a: usize, b: usize) -> usize {
        self.table[a * self.order() + b]
    }
    /// The identity element.
    pub fn identity(&self) -> usize {
        self.identity
    }
    /// The inverse of `a`.
    pub fn inverse(&self, a: usize) -> usize {
        self.inverse[a]
    }
    /// Whether `a ∘ b = b ∘ a`.
    pub fn commutes(&self, a: usize, b: usize) -> bool {
        self.op(a, b) == self.op(b, a)
    }
    /// Whether every pair commutes.
    pub fn is_abelian(&self) -> bool {
        let n = self.order();
        (0..n).all(|a| (a + 1..n).all(|b| self.commutes(a, b)))
    }
    /// The order of element `a`: the least k ≥ 1 with a^k = e.
    pub fn element_order(&self, a: usize) -> usize {
        let mut x = a;
        let mut k = 1;
        while x != self.identity {
            x = self.op(x, a);
            k += 1;
        }
        k
    }
    /// The element orders, indexed by element.
    pub fn element_orders(&self) -> Vec<usize> {
        (0..self.order()).map(|a| self.element_order(a)).collect()
    }
    /// Conjugacy classes: the identity's first, then by smallest element.
    pub fn conjugacy_classes(&self) -> &[ConjugacyClass] {
        &self.classes
    }
    /// The index (into [`Self::conjugacy_classes`]) of `a`'s class.
    pub fn class_of(&self, a: usize) -> usize {
        self.class_of[a]
    }

    /// The subgroup generated by `gens`, as a membership mask.
    pub fn generated_subgroup(&self, gens: &[usize]) -> Vec<bool> {
        let mut member = vec![false; self.order()];
        member[self.identity] = true;
        let mut frontier = vec![self.identity];
        while let Some(x) = frontier.pop() {
            for &g in gens {
                let y = self.op(x, g);
                if !member[y] {
                    member[y] = true;
                    frontier.push(y);
                }
            }
        }
        member
    }

    /// The commutator subgroup [G, G], generated by every a⁻¹b⁻¹ab, as a
    /// membership mask. Its index is |G/[G, G]|, the number of
    /// one-dimensional complex characters.
    pub fn commutator_subgroup(&self) -> Vec<bool> {
        let n = self.order();
        let mut commutators: Vec<usize> = (0..n)
            .flat_map(|a| (0..n).map(move |b| (a, b)))
            .map(|(a, b)| {
                let ab = self.op(a, b);
                self.op(self.op(self.inverse(a), self.inverse(b)), ab)
            })
            .collect();
        commutators.sort_unstable();
        commutators.dedup();
        self.generated_subgroup(&commutators)
    }

    /// The abelianisation G → G/[G, G]: the coset index of every element,
    /// numbered 0, 1, ... in order of each coset's smallest element (the
    /// identity's coset, [G, G] itself, is 0).
    pub fn abelianisation(&self) -> Vec<usize> {
        let member = self.commutator_subgroup();
        let mut coset = vec![usize::MAX; self.order()];
        let mut next = 0;
        for a in 0..self.order() {
            if coset[a] != usize::MAX {
                continue;
            }
            for (h, &m) in member.iter().enumerate() {
                if m {
                    coset[self.op(a, h)] = next;
                }
            }
            next += 1;
        }
        coset
    }

    /// d(G), the least number of elements that generate G.
    ///
    /// Exact: tries single elements, then pairs; abelian groups that need
    /// more use d(G) = max over primes p of log_p |G / G^p|; other groups
    /// that need three or more are searched by triples and beyond.
    pub fn min_generators(&self) -> usize {
        let n = self.order();
        if n == 1 {
            return 0;
        }
        if (0..n).any(|g| self.element_order(g) == n) {
            return 1;
        }
        let generates = |gens: &[usize]| self.generated_subgroup(gens).iter().all(|&m| m);
        if (0..n).any(|a| (a + 1..n).any(|b| generates(&[a, b]))) {
            return 2;
        }
        if self.is_abelian() {
            let mut best = 0;
            for p in 2..=n {
                if !n.is_multiple_of(p) || !is_prime(p) {
                    continue;
                }
                let mut powers = vec![false; n];
                for g in 0..n {
                    let mut x = self.identity;
                    for _ in 0..p {
                        x = self.op(x, g);
                    }
                    powers[x] = true;
                }
                let index = n / powers.iter().filter(|&&m| m).count();
                best = best.max((index as f64).log(p as f64).round() as usize);
            }
            return best;
        }
        // Non-abelian groups needing ≥ 3 generators: grow generating sets
        // greedily over subgroups, exhaustively by depth.
        let mut k = 3;
        loop {
            if any_k_subset(n, k, &mut |s| generates(s)) {
                return k;
            }
            k += 1;
        }
    }

    /// The direct product `self × other`, elements `(g, h)` with g major.
    pub fn direct_product(&self, other: &FiniteGroup) -> FiniteGroup {
        let (n, m) = (self.order(), other.order());
        let labels = (0..n * m)
            .map(|i| format!("({},{})", self.label(i / m), other.label(i % m)))
            .collect();
        let mut table = vec![0; n * n * m * m];
        for a in 0..n * m {
            for b in 0..n * m {
                let g = self.op(a / m, b / m);
                let h = other.op(a % m, b % m);
                table[a * n * m + b] = g * m + h;
            }
        }
        let kind = GroupKind::Product(Box::new(self.kind.clone()), Box::new(other.kind.clone()));
        FiniteGroup::with_kind(format!("{}×{}", self.name, other.name), kind, labels, table)
            .expect("a direct product of groups is a group")
    }

    /// The real irreducible representations, the complex character table and
    /// the isotypic projectors; computed once and cached. The handle is
    /// owned (a shared pointer to the cache), so a notebook can keep it in a
    /// variable of its own.
    pub fn representations(&self) -> Arc<Representations> {
        Arc::clone(self.reps.get_or_init(|| Arc::new(irreps::compute(self))))
    }
}

/// `x` rounded to 9 decimals, with −0 made 0: character values computed in
/// floating point, printed or exported without noise.
pub fn clean_float(x: f64) -> f64 {
    let r = (x * 1e9).round() / 1e9;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// A character value for a table: integers as integers, other parts to three
/// decimals, `i` for the imaginary part (`-1`, `0.618`, `-0.500+0.866i`).
///
/// ```
/// use grokscope::groups::format_character;
/// assert_eq!(format_character(-1.0, 0.0), "-1");
/// assert_eq!(format_character(-0.5, -0.8660254037844386), "-0.500-0.866i");
/// assert_eq!(format_character(1e-12, 1.0), "1i");
/// ```
pub fn format_character(re: f64, im: f64) -> String {
    let (re, im) = (clean_float(re), clean_float(im));
    let f = |x: f64| {
        if x.fract() == 0.0 {
            format!("{x}")
        } else {
            format!("{x:.3}")
        }
    };
    match (re, im) {
        (_, 0.0) => f(re),
        (0.0, _) => format!("{}i", f(im)),
        _ => format!(
            "{}{}{}i",
            f(re),
            if im < 0.0 { "-" } else { "+" },
            f(im.abs())
        ),
    }
}

/// Calls `f` on k-subsets of 0..n in lexicographic order until it returns true.
fn any_k_subset(n: usize, k: usize, f: &mut dyn FnMut(&[usize]) -> bool) -> bool {
    fn rec(
        start: usize,
        n: usize,
        k: usize,
        cur: &mut Vec<usize>,
        f: &mut dyn FnMut(&[usize]) -> bool,
    ) -> bool {
        if cur.len() == k {
            return f(cur);
        }
        for i in start..n {
            cur.push(i);
            if rec(i + 1, n, k, cur, f) {
                return true;
            }
            cur.pop();
        }
        false
    }
    rec(0, n, k, &mut Vec::with_capacity(k), f)
}

fn conjugacy_classes(
    n: usize,
    table: &[usize],
    inverse: &[usize],
    identity: usize,
) -> (Vec<ConjugacyClass>, Vec<usize>) {
    let mut class_of = vec![usize::MAX; n];
    let mut classes = Vec::new();
    let mut order: Vec<usize> = vec![identity];
    order.extend((0..n).filter(|&x| x != identity));
    for &x in &order {
        if class_of[x] != usize::MAX {
            continue;
        }
        let mut elements: Vec<usize> = (0..n)
            .map(|g| table[table[g * n + x] * n + inverse[g]])
            .collect();
        elements.sort_unstable();
        elements.dedup();
        for &y in &elements {
            class_of[y] = classes.len();
        }
        classes.push(ConjugacyClass {
            representative: elements[0],
            elements,
        });
    }
    (classes, class_of)
}

#[cfg(test)]
mod tests;
