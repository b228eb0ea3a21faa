//! The operations grokscope trains on: a Cayley table over tokens 0..n, its
//! element labels, and the group (with relabelling) used to analyse it.
//!
//! Names are `family:n` (`add:113`, `dihedral:56`) or a short name of the
//! reference study (`add` = `add:113`, `s4` = `symmetric:4`, ...).

use super::construct::discrete_log_table;
use super::MAX_ORDER;
use super::{FiniteGroup, GroupError};

/// Short names and what they stand for.
pub const SHORT_NAMES: &[(&str, &str)] = &[
    ("add", "add:113"),
    ("sub", "sub:113"),
    ("mul", "mul:113"),
    ("mul0", "mul0:113"),
    ("ring", "ring:100"),
    ("s3", "symmetric:3"),
    ("d5", "dihedral:5"),
    ("a4", "alternating:4"),
    ("s4", "symmetric:4"),
    ("xor", "xor:7"),
    ("quaternion", "dicyclic:2"),
];

/// One family of operations: the pattern of its names, what it means, how
/// many integer parameters it takes and its constructor. [`FAMILIES`] is
/// the only list of families: parsing, `grokscope ops` and construction
/// all read it, so a family cannot be parsed without being built.
pub struct Family {
    /// `add:p`, `semidirect:n,m,k`, ...
    pub pattern: &'static str,
    /// What the family's tables are.
    pub description: &'static str,
    /// Integer parameters (0 for `product` and `table`, which take names).
    pub arity: usize,
    build: fn(&Build) -> Result<Operation, GroupError>,
}

impl Family {
    /// The family's name: the pattern before ':'.
    pub fn name(&self) -> &'static str {
        self.pattern.split(':').next().unwrap_or(self.pattern)
    }
}

/// Every family of operations, in the order `grokscope ops` lists them.
pub const FAMILIES: &[Family] = &[
    Family {
        pattern: "add:p",
        description: "(a + b) mod p on 0..p-1, p prime; analysed as Z/p",
        arity: 1,
        build: build_add,
    },
    Family {
        pattern: "sub:p",
        description: "(a - b) mod p on 0..p-1, p prime; not a group, analysed on Z/p labels",
        arity: 1,
        build: build_sub,
    },
    Family {
        pattern: "mul:p",
        description: "(a * b) mod p on 1..p-1, p prime; analysed as Z/(p-1) after discrete log",
        arity: 1,
        build: build_mul,
    },
    Family {
        pattern: "mul0:p",
        description: "(a * b) mod p on 0..p-1 (0 absorbing), p prime; not a group, analysed on 1..p-1 after discrete log",
        arity: 1,
        build: build_mul,
    },
    Family {
        pattern: "ring:n",
        description: "(a + b) mod n on 0..n-1, n >= 2; analysed as Z/n",
        arity: 1,
        build: build_ring,
    },
    Family {
        pattern: "dihedral:n",
        description: "the dihedral group of order 2n, n >= 1: r^k then s r^k",
        arity: 1,
        build: build_dihedral,
    },
    Family {
        pattern: "dicyclic:n",
        description: "the dicyclic group of order 4n, n >= 1: a^k then a^k x (dicyclic:2 = quaternion, Q8); for even n its character table is that of dihedral:2n",
        arity: 1,
        build: build_dicyclic,
    },
    Family {
        pattern: "symmetric:n",
        description: "S_n by composition, 2 <= n <= 6, permutations in lexicographic order",
        arity: 1,
        build: build_symmetric,
    },
    Family {
        pattern: "alternating:n",
        description: "A_n by composition, 3 <= n <= 6, even permutations in lexicographic order",
        arity: 1,
        build: build_alternating,
    },
    Family {
        pattern: "xor:k",
        description: "(Z/2)^k under bitwise XOR on 0..2^k-1, 1 <= k <= 10",
        arity: 1,
        build: build_xor,
    },
    Family {
        pattern: "semidirect:n,m,k",
        description: "Z/n ⋊ Z/m, the generator of Z/m acting by multiplication by k (k^m = 1 mod n, gcd(k, n) = 1): elements a^i b^j, index j*n + i",
        arity: 3,
        build: build_semidirect,
    },
    Family {
        pattern: "heisenberg:p",
        description: "the Heisenberg group mod p (upper unitriangular 3x3 matrices), order p^3, p prime",
        arity: 1,
        build: build_heisenberg,
    },
    Family {
        pattern: "product:A,B",
        description: "the direct product of the groups of two catalogue operations A and B (not products themselves), pairs (a, b) with a major",
        arity: 0,
        build: build_product,
    },
    Family {
        pattern: "smallgroup:n,i",
        description: "GAP's SmallGroup(n, i), 2 <= n <= 64 (every one of the 585 groups), from the GAP export shipped with grokscope",
        arity: 2,
        build: build_smallgroup,
    },
    Family {
        pattern: "table:PATH",
        description: "a group's Cayley table from a file: .csv of indices 0..n-1, or .json {\"labels\": [...], \"table\": [[...]]} of indices or labels",
        arity: 0,
        build: build_table,
    },
];

/// The family called `name`.
fn family(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.name() == name)
}

/// The parameterised families and what they mean: (pattern, description).
pub fn catalogue_families() -> impl Iterator<Item = (&'static str, &'static str)> {
    FAMILIES.iter().map(|f| (f.pattern, f.description))
}

/// What can go wrong naming an operation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OperationError {
    /// Neither a short name nor `family:n`.
    #[error("unknown operation \"{name}\"{hint}; known: {known}, or a family {families} (run `grokscope ops`)")]
    Unknown {
        /// What was asked for.
        name: String,
        /// ` (did you mean "dihedral:6"?)` for a near miss, else empty.
        hint: String,
        /// The short names.
        known: String,
        /// The family patterns.
        families: String,
    },
    /// A family with a bad parameter.
    #[error("operation \"{name}\": {source}")]
    Parameter {
        /// What was asked for.
        name: String,
        /// Why the parameter is bad (boxed: a table's violation names its
        /// elements, and every `Result` carrying this error stays small).
        source: Box<GroupError>,
    },
}

/// ` (did you mean "X"?)` when `name`'s family (or the whole name) is a
/// near miss of a family or a short name, else empty. Names shorter than
/// four letters get no guess (`s6` is no more `s3` than `symmetric:6`).
fn near_miss(name: &str) -> String {
    let (head, rest) = match name.split_once(':') {
        Some((f, r)) => (f, Some(r)),
        None => (name, None),
    };
    if head.chars().count() < 4 {
        return String::new();
    }
    let families = FAMILIES
        .iter()
        .map(|f| f.pattern.split(':').next().unwrap_or(f.pattern));
    let near = match rest {
        Some(rest) => crate::suggest::closest(head, families).map(|f| format!("{f}:{rest}")),
        None => {
            crate::suggest::closest(head, SHORT_NAMES.iter().map(|(s, _)| *s)).map(String::from)
        }
    };
    near.map_or_else(String::new, |n| format!(" (did you mean \"{n}\"?)"))
}

/// A parsed operation name: family and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationSpec {
    /// `add`, `sub`, `mul`, `mul0`, `ring`, `dihedral`, `dicyclic`,
    /// `symmetric`, `alternating`, `xor`, `semidirect`, `heisenberg`,
    /// `product` or `smallgroup`.
    pub family: String,
    /// The modulus, degree or exponent: the first integer parameter (0 for
    /// `product`).
    pub n: usize,
    /// The integer parameters (`semidirect:n,m,k` has three).
    pub params: Vec<usize>,
    /// The two factors of a `product`, as specs.
    pub factors: Vec<OperationSpec>,
    /// The file of a `table:PATH`.
    pub path: Option<String>,
}

impl OperationSpec {
    /// Parses `family:n` or a short name.
    ///
    /// # Errors
    /// [`OperationError::Unknown`] if the name fits neither form.
    pub fn parse(name: &str) -> Result<Self, OperationError> {
        let full = SHORT_NAMES
            .iter()
            .find(|(s, _)| *s == name)
            .map_or(name, |(_, f)| *f);
        let unknown = || OperationError::Unknown {
            name: name.to_string(),
            hint: near_miss(name),
            known: SHORT_NAMES
                .iter()
                .map(|(s, _)| *s)
                .collect::<Vec<_>>()
                .join(", "),
            families: FAMILIES
                .iter()
                .map(|f| f.pattern)
                .collect::<Vec<_>>()
                .join(", "),
        };
        let (family, rest) = full.split_once(':').ok_or_else(unknown)?;
        let entry = self::family(family).ok_or_else(unknown)?;
        let bad = |why: String| OperationError::Parameter {
            name: name.to_string(),
            source: Box::new(GroupError::Parameter(why)),
        };
        if family == "table" {
            if rest.is_empty() {
                return Err(bad("table: needs a file, e.g. table:my-group.csv".into()));
            }
            return Ok(Self {
                family: family.into(),
                n: 0,
                params: vec![],
                factors: vec![],
                path: Some(rest.to_string()),
            });
        }
        if family == "product" {
            // A factor's own name holds one ':' at most; the factors are
            // split at the first ',' that leaves two catalogue names.
            let split = rest
                .match_indices(',')
                .map(|(i, _)| (&rest[..i], &rest[i + 1..]))
                .find(|(a, b)| Self::parse(a).is_ok() && Self::parse(b).is_ok());
            let Some((a, b)) = split else {
                return Err(bad(format!(
                    "product:{rest} needs two catalogue operations, e.g. product:s3,ring:2"
                )));
            };
            let factors = [Self::parse(a)?, Self::parse(b)?];
            if factors.iter().any(|f| f.family == "product") {
                return Err(bad(
                    "a product's factors cannot be products; use a smallgroup or nest by hand"
                        .into(),
                ));
            }
            return Ok(Self {
                family: family.into(),
                n: 0,
                params: vec![],
                factors: factors.to_vec(),
                path: None,
            });
        }
        let params: Vec<usize> = rest
            .split(',')
            .map(|p| {
                p.trim().parse::<usize>().map_err(|_| {
                    bad(format!(
                        "{family}'s parameters are non-negative integers, got {:?}: write {}",
                        p.trim(),
                        entry.pattern
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        if params.len() != entry.arity {
            return Err(bad(format!(
                "{family} takes {} integer parameter(s), got {}: write {}",
                entry.arity,
                params.len(),
                entry.pattern
            )));
        }
        Ok(Self {
            family: family.to_string(),
            n: params[0],
            params,
            factors: vec![],
            path: None,
        })
    }

    /// The canonical name: `family:n`, `semidirect:n,m,k`, or
    /// `product:A,B` with canonical factors.
    pub fn canonical(&self) -> String {
        if let Some(path) = &self.path {
            return format!("table:{path}");
        }
        if self.family == "product" {
            let f: Vec<String> = self.factors.iter().map(Self::canonical).collect();
            return format!("product:{}", f.join(","));
        }
        let p: Vec<String> = self.params.iter().map(usize::to_string).collect();
        format!("{}:{}", self.family, p.join(","))
    }

    /// The canonical name as a run-id slug: no ':' or ',' (so no path
    /// separator either): `products3-ring2` style.
    pub fn slug(&self) -> String {
        if let Some(path) = &self.path {
            // By content, so the same table under two paths is one run.
            return super::table_file::read(path).map_or_else(
                |_| "table-unreadable".into(),
                |(_, t)| super::table_file::slug(&t),
            );
        }
        // A run id names a directory: a table path inside a product
        // (`product:s3,table:../x.csv`) must not reach outside it.
        self.canonical()
            .replace(':', "")
            .replace(',', "-")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }

    /// The number of tokens the operation will have, computed without
    /// building its table (`None` when it overflows). Parameters the
    /// constructors refuse still get a number here; [`Operation::parse`]
    /// reports them.
    pub fn order(&self) -> Option<usize> {
        let n = self.n;
        match self.family.as_str() {
            "mul" => Some(n.saturating_sub(1)),
            "dihedral" => n.checked_mul(2),
            "symmetric" => (1..=n).try_fold(1usize, |acc, k| acc.checked_mul(k)),
            "alternating" => (1..=n)
                .try_fold(1usize, |acc, k| acc.checked_mul(k))
                .map(|f| (f / 2).max(1)),
            "xor" => u32::try_from(n).ok().and_then(|k| 1usize.checked_shl(k)),
            "dicyclic" => n.checked_mul(4),
            "semidirect" => n.checked_mul(self.params[1]),
            "heisenberg" => n.checked_mul(n).and_then(|x| x.checked_mul(n)),
            // Read here only for the size check; a file that cannot be read
            // is reported by Operation::parse with its reason.
            "table" => Some(
                self.path
                    .as_deref()
                    .and_then(|p| super::table_file::read(p).ok())
                    .map_or(0, |(labels, _)| labels.len()),
            ),
            "product" => self.factors[0]
                .order()
                .zip(self.factors[1].order())
                .and_then(|(a, b)| a.checked_mul(b)),
            _ => Some(n),
        }
    }
}

/// A group with the token of each of its elements: `tokens[g]` is the token
/// (index into the operation's elements) that plays element g.
#[derive(Debug, Clone)]
pub struct AnalysisView {
    /// The group the analyses decompose over.
    pub group: FiniteGroup,
    /// Token of each group element, in the group's element order.
    pub tokens: Vec<usize>,
    /// How tokens were mapped to the group, for reports (`identity`, `discrete log, g = 3`, ...).
    pub relabelling: String,
}

/// A binary operation on tokens 0..n, with its analysis group.
#[derive(Debug, Clone)]
pub struct Operation {
    /// The name as given (`add`, `ring:6`).
    pub name: String,
    /// The canonical name (`add:113`).
    pub canonical: String,
    /// One line describing the table.
    pub description: String,
    /// Label of each token.
    pub labels: Vec<String>,
    /// Row-major table: `table[a * n + b] = a ∘ b`.
    pub table: Vec<usize>,
    /// The group, when the table is a group's Cayley table.
    pub group: Option<FiniteGroup>,
    /// The group and relabelling used to analyse the operation.
    pub analysis: AnalysisView,
    /// For `mul`/`mul0`: the same cyclic group in raw label order, to compare
    /// with the discrete-log order.
    pub raw: Option<AnalysisView>,
}

impl Operation {
    /// Builds an operation by name (`add`, `mul:7`, `dihedral:56`, ...).
    ///
    /// # Errors
    /// An unknown name (the message lists the known ones) or a bad parameter
    /// (`dihedral:0`, `mul:100`).
    pub fn parse(name: &str) -> Result<Self, OperationError> {
        let spec = OperationSpec::parse(name)?;
        // The same cap on every machine: whether this machine can train it
        // is asked where a run is admitted (crate::budget::admit).
        let too_big = |what: String| {
            OperationError::Parameter {
            name: name.to_string(),
            source: Box::new(GroupError::Parameter(format!(
                "{} {what}; grokscope builds groups of at most {MAX_ORDER} elements; choose a smaller parameter",
                spec.canonical()
            ))),
        }
        };
        match spec.order() {
            Some(n) if n <= MAX_ORDER => {}
            Some(n) => return Err(too_big(format!("has {n} elements"))),
            None => return Err(too_big("has more elements than a table can index".into())),
        }
        Self::from_spec(name, &spec).map_err(|source| OperationError::Parameter {
            name: name.to_string(),
            source: Box::new(source),
        })
    }

    fn from_spec(name: &str, spec: &OperationSpec) -> Result<Self, GroupError> {
        let family = family(&spec.family).ok_or_else(|| {
            GroupError::Parameter(format!(
                "unknown family {}; `grokscope ops` lists the families",
                spec.family
            ))
        })?;
        (family.build)(&Build {
            name,
            spec,
            canonical: spec.canonical(),
        })
    }

    /// Number of tokens that are elements (the vocabulary is this plus `=`).
    pub fn order(&self) -> usize {
        self.labels.len()
    }

    /// `a ∘ b` on tokens.
    pub fn apply(&self, a: usize, b: usize) -> usize {
        self.table[a * self.order() + b]
    }

    /// Whether the analysis group is abelian.
    pub fn is_abelian(&self) -> bool {
        self.analysis.group.is_abelian()
    }

    /// Tokens e with e ∘ x = x for every x.
    pub fn left_identities(&self) -> Vec<usize> {
        let n = self.order();
        (0..n)
            .filter(|&e| (0..n).all(|x| self.apply(e, x) == x))
            .collect()
    }

    /// Tokens e with x ∘ e = x for every x.
    pub fn right_identities(&self) -> Vec<usize> {
        let n = self.order();
        (0..n)
            .filter(|&e| (0..n).all(|x| self.apply(x, e) == x))
            .collect()
    }
}

/// What a family's constructor is given.
struct Build<'a> {
    name: &'a str,
    spec: &'a OperationSpec,
    canonical: String,
}

impl Build<'_> {
    fn n(&self) -> usize {
        self.spec.n
    }

    /// An operation that is its group's table, analysed on the group itself.
    fn group_table(&self, group: FiniteGroup, description: String) -> Operation {
        Operation {
            name: self.name.to_string(),
            canonical: self.canonical.clone(),
            description,
            labels: group.labels().to_vec(),
            table: group.table().to_vec(),
            analysis: identity_view(&group),
            group: Some(group),
            raw: None,
        }
    }

    fn require_prime(&self, what: &str) -> Result<(), GroupError> {
        let n = self.n();
        if super::is_prime(n) {
            Ok(())
        } else {
            Err(GroupError::Parameter(format!(
                "{what} needs a prime modulus, and {n} is not prime (e.g. {what}:113)"
            )))
        }
    }
}

/// A group analysed with its elements as they are.
fn identity_view(group: &FiniteGroup) -> AnalysisView {
    AnalysisView {
        tokens: (0..group.order()).collect(),
        group: group.clone(),
        relabelling: "identity".into(),
    }
}

fn build_add(b: &Build) -> Result<Operation, GroupError> {
    b.require_prime("add")?;
    let n = b.n();
    Ok(b.group_table(FiniteGroup::cyclic(n)?, format!("(a + b) mod {n}")))
}

fn build_ring(b: &Build) -> Result<Operation, GroupError> {
    let n = b.n();
    if n < 2 {
        return Err(GroupError::Parameter(format!(
            "ring:{n} has fewer than 2 elements; use ring:n with n >= 2"
        )));
    }
    Ok(b.group_table(FiniteGroup::cyclic(n)?, format!("(a + b) mod {n}")))
}

fn build_sub(b: &Build) -> Result<Operation, GroupError> {
    b.require_prime("sub")?;
    let n = b.n();
    let z = FiniteGroup::cyclic(n)?;
    Ok(Operation {
        name: b.name.to_string(),
        canonical: b.canonical.clone(),
        description: format!("(a - b) mod {n} (not a group operation)"),
        labels: z.labels().to_vec(),
        table: (0..n * n).map(|i| (i / n + n - i % n) % n).collect(),
        analysis: identity_view(&z),
        group: None,
        raw: None,
    })
}

/// `mul:p` (the units) and `mul0:p` (with 0 absorbing), both analysed as
/// Z/(p − 1) after the discrete log.
fn build_mul(b: &Build) -> Result<Operation, GroupError> {
    let family = b.spec.family.as_str();
    b.require_prime(family)?;
    let n = b.n();
    if n < 3 {
        return Err(GroupError::Parameter(
            "mul:2 has a single unit; use an odd prime such as 113".into(),
        ));
    }
    let units = FiniteGroup::units_mod_prime(n)?;
    let super::GroupKind::Units { generator: g, .. } = *units.kind() else {
        return Err(GroupError::Parameter(format!(
            "internal: the units mod {n} came without a generator"
        )));
    };
    let log = discrete_log_table(n, g)?;
    let z = FiniteGroup::cyclic(n - 1)?;
    // residue of g^j, for j in 0..p-1
    let mut power = vec![0; n - 1];
    for a in 1..n {
        power[log[a]] = a;
    }
    // mul tokens are residue - 1; mul0 tokens are the residues.
    let shift = if family == "mul" { 1 } else { 0 };
    let analysis = AnalysisView {
        group: z.clone(),
        tokens: power.iter().map(|&a| a - shift).collect(),
        relabelling: format!("discrete log, g = {g}"),
    };
    let raw = AnalysisView {
        group: z,
        tokens: (1..n).map(|a| a - shift).collect(),
        relabelling: "raw label order".into(),
    };
    Ok(if family == "mul" {
        let mut op = b.group_table(units, format!("(a * b) mod {n} on 1..{}", n - 1));
        op.analysis = analysis;
        op.raw = Some(raw);
        op
    } else {
        Operation {
            name: b.name.to_string(),
            canonical: b.canonical.clone(),
            description: format!("(a * b) mod {n} on 0..{} (0 absorbing; not a group)", n - 1),
            labels: (0..n).map(|a| a.to_string()).collect(),
            table: (0..n * n).map(|i| (i / n) * (i % n) % n).collect(),
            group: None,
            analysis,
            raw: Some(raw),
        }
    })
}

fn build_dihedral(b: &Build) -> Result<Operation, GroupError> {
    let n = b.n();
    Ok(b.group_table(
        FiniteGroup::dihedral(n)?,
        format!("dihedral group of order {}", 2 * n),
    ))
}

fn build_dicyclic(b: &Build) -> Result<Operation, GroupError> {
    let n = b.n();
    Ok(b.group_table(
        FiniteGroup::dicyclic(n)?,
        format!("dicyclic group of order {}", 4 * n),
    ))
}

fn build_symmetric(b: &Build) -> Result<Operation, GroupError> {
    let n = b.n();
    if n < 2 {
        return Err(GroupError::Parameter(
            "symmetric:1 has one element; use 2 <= n <= 6".into(),
        ));
    }
    Ok(b.group_table(FiniteGroup::symmetric(n)?, format!("S{n} by composition")))
}

fn build_alternating(b: &Build) -> Result<Operation, GroupError> {
    let n = b.n();
    Ok(b.group_table(FiniteGroup::alternating(n)?, format!("A{n} by composition")))
}

fn build_xor(b: &Build) -> Result<Operation, GroupError> {
    let n = b.n();
    let k = u32::try_from(n).unwrap_or(u32::MAX);
    Ok(b.group_table(
        FiniteGroup::elementary_abelian(k)?,
        format!("(Z/2)^{n} under XOR"),
    ))
}

fn build_semidirect(b: &Build) -> Result<Operation, GroupError> {
    let (n, m, k) = (b.n(), b.spec.params[1], b.spec.params[2]);
    Ok(b.group_table(
        FiniteGroup::semidirect(n, m, k)?,
        format!("Z/{n} ⋊ Z/{m}, acting by multiplication by {k}"),
    ))
}

fn build_heisenberg(b: &Build) -> Result<Operation, GroupError> {
    let n = b.n();
    if !super::is_prime(n) {
        return Err(GroupError::Parameter(format!(
            "heisenberg needs a prime p, and {n} is not prime (e.g. heisenberg:3, order 27)"
        )));
    }
    Ok(b.group_table(
        FiniteGroup::heisenberg(n)?,
        format!("Heisenberg group mod {n}, order {}", n * n * n),
    ))
}

fn build_product(b: &Build) -> Result<Operation, GroupError> {
    let group = |f: &OperationSpec| -> Result<FiniteGroup, GroupError> {
        Operation::from_spec(&f.canonical(), f)?
            .group
            .ok_or_else(|| {
                GroupError::Parameter(format!(
                    "{} is not a group operation; a product needs two groups",
                    f.canonical()
                ))
            })
    };
    let [first, second] = b.spec.factors.as_slice() else {
        return Err(GroupError::Parameter(
            "a product needs two factors, e.g. product:s3,ring:2".into(),
        ));
    };
    let (x, y) = (group(first)?, group(second)?);
    let description = format!("{} × {}", x.name(), y.name());
    Ok(b.group_table(x.direct_product(&y), description))
}

fn build_table(b: &Build) -> Result<Operation, GroupError> {
    let path = b.spec.path.as_deref().unwrap_or_default();
    let group = super::table_file::group(path)?;
    let description = format!("the group of {path} ({} elements)", group.order());
    Ok(b.group_table(group, description))
}

fn build_smallgroup(b: &Build) -> Result<Operation, GroupError> {
    let (n, i) = (b.n(), b.spec.params[1]);
    Ok(b.group_table(
        super::small::small_group(n, i)?,
        format!("GAP's SmallGroup({n}, {i})"),
    ))
}
