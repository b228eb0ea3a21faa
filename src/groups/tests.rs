use super::*;
use nalgebra::{Complex, DMatrix};

/// Every group the catalogue can build with order <= 128 (all parameters),
/// plus two products.
fn catalogue_groups() -> Vec<FiniteGroup> {
    let mut out = Vec::new();
    for n in 1..=128 {
        out.push(FiniteGroup::cyclic(n).unwrap());
    }
    for p in (3..=127).filter(|&p| is_prime(p)) {
        out.push(FiniteGroup::units_mod_prime(p).unwrap());
    }
    for n in 1..=64 {
        out.push(FiniteGroup::dihedral(n).unwrap());
    }
    for n in 1..=32 {
        out.push(FiniteGroup::dicyclic(n).unwrap());
    }
    for n in 2..=5 {
        out.push(FiniteGroup::symmetric(n).unwrap());
    }
    for n in 3..=5 {
        out.push(FiniteGroup::alternating(n).unwrap());
    }
    for k in 1..=7 {
        out.push(FiniteGroup::elementary_abelian(k).unwrap());
    }
    let s3 = FiniteGroup::symmetric(3).unwrap();
    out.push(s3.direct_product(&FiniteGroup::cyclic(4).unwrap()));
    out.push(
        FiniteGroup::alternating(4)
            .unwrap()
            .direct_product(&FiniteGroup::cyclic(3).unwrap()),
    );
    out
}

fn max_abs(m: &DMatrix<f64>) -> f64 {
    m.amax()
}

fn check_identities(g: &FiniteGroup) {
    let n = g.order();
    let reps = g.representations();
    let name = g.name();
    for r in &reps.real {
        let d = r.real_dim();
        for a in 0..n {
            let ra = &r.matrices[a];
            assert!(
                max_abs(&(ra * ra.transpose() - DMatrix::identity(d, d))) < 1e-9,
                "{name} {}: not orthogonal",
                r.name
            );
            for b in 0..n {
                let err = max_abs(&(&r.matrices[g.op(a, b)] - ra * &r.matrices[b]));
                assert!(
                    err < 1e-9,
                    "{name} {}: rho(gh) != rho(g)rho(h), error {err}",
                    r.name
                );
            }
        }
    }
    // Complex irreps: one per class, sum of squared dimensions = |G|.
    let table = &reps.complex;
    assert_eq!(
        table.irreps.len(),
        g.conjugacy_classes().len(),
        "{name}: #irreps != #classes"
    );
    let sum_sq: usize = table.irreps.iter().map(|i| i.dim * i.dim).sum();
    assert_eq!(sum_sq, n, "{name}: sum of d^2");
    // Row orthogonality (1/|G|) Σ |C| χ_i(C) conj(χ_j(C)) = δ_ij.
    for (i, x) in table.irreps.iter().enumerate() {
        for (j, y) in table.irreps.iter().enumerate() {
            let ip: Complex<f64> = x
                .character
                .iter()
                .zip(&y.character)
                .zip(&table.class_sizes)
                .map(|((a, b), &s)| a * b.conj() * s as f64)
                .sum::<Complex<f64>>()
                / n as f64;
            let expected = if i == j { 1.0 } else { 0.0 };
            assert!(
                (ip - Complex::new(expected, 0.0)).norm() < 1e-9,
                "{name}: <chi_{i}, chi_{j}> = {ip}"
            );
        }
    }
    // Column orthogonality Σ_i χ_i(C) conj(χ_i(C')) = δ |G|/|C|.
    let k = table.class_sizes.len();
    for c in 0..k {
        for c2 in 0..k {
            let s: Complex<f64> = table
                .irreps
                .iter()
                .map(|i| i.character[c] * i.character[c2].conj())
                .sum();
            let expected = if c == c2 {
                n as f64 / table.class_sizes[c] as f64
            } else {
                0.0
            };
            assert!(
                (s - Complex::new(expected, 0.0)).norm() < 1e-8,
                "{name}: column orthogonality {c},{c2}"
            );
        }
    }
    // Projectors: idempotent, mutually orthogonal, summing to I, equal to the
    // central-idempotent formula from the character alone.
    let mut sum = DMatrix::zeros(n, n);
    let projectors: Vec<DMatrix<f64>> = reps.real.iter().map(|r| r.projector()).collect();
    for (i, p) in projectors.iter().enumerate() {
        assert!(max_abs(&(p * p - p)) < 1e-9, "{name}: P^2 != P");
        let from_char = projector_from_character(g, &reps.real[i]);
        assert!(
            max_abs(&(p - from_char)) < 1e-9,
            "{name} {}: basis projector != character projector",
            reps.real[i].name
        );
        for q in &projectors[i + 1..] {
            assert!(max_abs(&(p * q)) < 1e-9, "{name}: P_i P_j != 0");
        }
        sum += p;
    }
    assert!(
        max_abs(&(sum - DMatrix::identity(n, n))) < 1e-9,
        "{name}: projectors do not sum to I"
    );
    // Exactly one trivial irrep, and it comes first.
    assert!(reps.real[0].is_trivial(), "{name}: trivial irrep first");
    assert_eq!(reps.real.iter().filter(|r| r.is_trivial()).count(), 1);
    // Names are unique.
    let mut names: Vec<&str> = reps.real.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        reps.real.len(),
        "{name}: duplicate irrep names"
    );
}

#[test]
fn identities_hold_for_every_catalogue_group_up_to_order_128() {
    let groups = catalogue_groups();
    // 128 cyclic + 30 unit groups (odd primes to 127) + 64 dihedral + 32
    // dicyclic + S2..S5 + A3..A5 + 7 (Z/2)^k + 2 products
    assert_eq!(groups.len(), 270);
    for g in &groups {
        assert!(g.order() <= 128);
        check_identities(g);
    }
}

#[test]
fn cyclic_projectors_are_the_cos_sin_frequency_projectors() {
    for n in [1usize, 2, 5, 6, 12, 100, 113] {
        let g = FiniteGroup::cyclic(n).unwrap();
        let reps = g.representations();
        assert_eq!(reps.real.len(), n / 2 + 1);
        for (k, r) in reps.real.iter().enumerate() {
            // Stable order: trivial, f1, f2, ...
            let expected_name = if k == 0 {
                "trivial".to_string()
            } else {
                format!("f{k}")
            };
            assert_eq!(r.name, expected_name);
            let c = if k == 0 || 2 * k == n { 1.0 } else { 2.0 };
            let p = DMatrix::from_fn(n, n, |x, y| {
                c / n as f64
                    * (2.0 * std::f64::consts::PI * k as f64 * (x as f64 - y as f64) / n as f64)
                        .cos()
            });
            assert!(max_abs(&(r.projector() - p)) < 1e-9, "Z/{n} f{k}");
        }
    }
}

/// Published character table: class sizes and rows (complex values).
struct Published {
    sizes: Vec<usize>,
    rows: Vec<Vec<Complex<f64>>>,
}

fn real_rows(sizes: &[usize], rows: &[&[f64]]) -> Published {
    Published {
        sizes: sizes.to_vec(),
        rows: rows
            .iter()
            .map(|r| r.iter().map(|&x| Complex::new(x, 0.0)).collect())
            .collect(),
    }
}

/// Whether the computed table equals the published one up to the order of
/// rows and columns: some column permutation preserving class sizes maps the
/// published rows onto the computed rows as a set.
fn same_table(g: &FiniteGroup, published: &Published) -> bool {
    let table = &g.representations().complex;
    let k = table.class_sizes.len();
    if k != published.sizes.len() || table.irreps.len() != published.rows.len() {
        return false;
    }
    let mut perm: Vec<usize> = (0..k).collect();
    loop {
        let sizes_match = (0..k).all(|c| table.class_sizes[perm[c]] == published.sizes[c]);
        if sizes_match {
            let mut used = vec![false; table.irreps.len()];
            let all = published.rows.iter().all(|row| {
                let found = table.irreps.iter().enumerate().position(|(i, irr)| {
                    !used[i] && (0..k).all(|c| (irr.character[perm[c]] - row[c]).norm() < 1e-9)
                });
                found.map(|i| used[i] = true).is_some()
            });
            if all {
                return true;
            }
        }
        // next permutation
        let Some(i) = (1..k).rev().find(|&i| perm[i - 1] < perm[i]) else {
            return false;
        };
        let j = (i..k).rev().find(|&j| perm[j] > perm[i - 1]).unwrap();
        perm.swap(i - 1, j);
        perm[i..].reverse();
    }
}

// Character tables as printed in James & Liebeck, "Representations and
// Characters of Groups" (2nd ed.), §18.1 (S3), §18.3 (D_2n), §18.2 (A4),
// §18.1 (S4); class sizes in the first vector.
#[test]
fn s3_character_table_is_the_published_one() {
    // classes: 1, (12), (123)
    let t = real_rows(&[1, 3, 2], &[&[1., 1., 1.], &[1., -1., 1.], &[2., 0., -1.]]);
    let g = FiniteGroup::symmetric(3).unwrap();
    assert!(same_table(&g, &t));
    let names: Vec<String> = g
        .representations()
        .real
        .iter()
        .map(|r| r.name.clone())
        .collect();
    assert_eq!(names, ["[3]", "[2,1]", "[1,1,1]"]);
}

#[test]
fn d5_character_table_is_the_published_one() {
    // classes: 1, {r, r^4}, {r^2, r^3}, reflections
    let (a, b) = ((5f64.sqrt() - 1.0) / 2.0, (-5f64.sqrt() - 1.0) / 2.0); // 2cos(2π/5), 2cos(4π/5)
    let t = real_rows(
        &[1, 2, 2, 5],
        &[
            &[1., 1., 1., 1.],
            &[1., 1., 1., -1.],
            &[2., a, b, 0.],
            &[2., b, a, 0.],
        ],
    );
    let g = FiniteGroup::dihedral(5).unwrap();
    assert!(same_table(&g, &t));
    let names: Vec<String> = g
        .representations()
        .real
        .iter()
        .map(|r| r.name.clone())
        .collect();
    assert_eq!(names, ["trivial", "sign", "rho_1", "rho_2"]);
}

#[test]
fn a4_character_table_is_the_published_one() {
    // classes: 1, (12)(34), (123), (132); ω = e^{2πi/3}
    let w = Complex::new(-0.5, 3f64.sqrt() / 2.0);
    let one = Complex::new(1.0, 0.0);
    let c = |x: f64| Complex::new(x, 0.0);
    let t = Published {
        sizes: vec![1, 3, 4, 4],
        rows: vec![
            vec![one, one, one, one],
            vec![one, one, w, w * w],
            vec![one, one, w * w, w],
            vec![c(3.), c(-1.), c(0.), c(0.)],
        ],
    };
    let g = FiniteGroup::alternating(4).unwrap();
    assert!(same_table(&g, &t));
    let reps = g.representations();
    let names: Vec<&str> = reps.real.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["1", "omega", "3"]);
    assert_eq!(reps.real[1].fs_type, FsType::Complex);
    assert_eq!(reps.real[1].real_dim(), 2);
}

#[test]
fn s4_character_table_is_the_published_one() {
    // classes: 1, (12), (12)(34), (123), (1234)
    let t = real_rows(
        &[1, 6, 3, 8, 6],
        &[
            &[1., 1., 1., 1., 1.],
            &[1., -1., 1., 1., -1.],
            &[2., 0., 2., -1., 0.],
            &[3., 1., -1., 0., -1.],
            &[3., -1., -1., 0., 1.],
        ],
    );
    let g = FiniteGroup::symmetric(4).unwrap();
    assert!(same_table(&g, &t));
    // [3,1] is the standard representation: character 3, 1, -1, 0, -1.
    let reps = g.representations();
    let std = &reps.real[reps.find("[3,1]").unwrap()];
    let transposition = g.labels().iter().position(|l| l == "2134").unwrap();
    assert_eq!(std.character[g.class_of(transposition)].round(), 1.0);
}

#[test]
fn a_table_that_differs_is_rejected_by_the_comparison() {
    // Guard against a comparison that always passes: S3 with a wrong row.
    let t = real_rows(&[1, 3, 2], &[&[1., 1., 1.], &[1., -1., 1.], &[2., 0., 1.]]);
    assert!(!same_table(&FiniteGroup::symmetric(3).unwrap(), &t));
}

#[test]
fn murnaghan_nakayama_matches_known_values() {
    // S4 standard [3,1] on (1234): -1; S5 [3,2] on (12)(345): 1 ... from the S5 table.
    assert_eq!(naming::mn_character(&[3, 1], &[4]), -1);
    assert_eq!(naming::mn_character(&[2, 2], &[2, 2]), 2);
    assert_eq!(naming::mn_character(&[3, 2], &[1, 1, 1, 1, 1]), 5);
    assert_eq!(naming::mn_character(&[3, 1, 1], &[1, 1, 1, 1, 1]), 6);
    assert_eq!(naming::mn_character(&[3, 1, 1], &[5]), 1);
    assert_eq!(naming::mn_character(&[3, 2], &[3, 2]), 1);
}

#[test]
fn element_orders_classes_and_commutativity() {
    let s4 = FiniteGroup::symmetric(4).unwrap();
    let sizes: Vec<usize> = s4.conjugacy_classes().iter().map(|c| c.size()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 24);
    let mut sorted = sizes.clone();
    sorted.sort();
    assert_eq!(sorted, [1, 3, 6, 6, 8]);
    let mut orders = s4.element_orders();
    orders.sort();
    assert_eq!(orders.iter().filter(|&&o| o == 4).count(), 6);
    assert!(!s4.is_abelian());
    assert!(FiniteGroup::units_mod_prime(113).unwrap().is_abelian());
    let d = FiniteGroup::dihedral(5).unwrap();
    assert_eq!(d.label(1), "r");
    assert_eq!(d.label(5), "s");
    assert_eq!(d.op(1, 5), d.op(5, 4)); // r s = s r^-1
}

#[test]
fn units_and_discrete_log() {
    assert_eq!(smallest_primitive_root(113).unwrap(), 3);
    let log = discrete_log_table(113, 3).unwrap();
    assert_eq!(log[1], 0);
    assert_eq!(log[3], 1);
    assert_eq!(log[9], 2);
    assert!(discrete_log_table(113, 2).is_err()); // 2 has order 28 mod 113
    let u = FiniteGroup::units_mod_prime(7).unwrap();
    assert_eq!(u.labels(), ["1", "2", "3", "4", "5", "6"]);
    assert_eq!(u.label(u.op(2, 3)), "5"); // 3 * 4 = 12 = 5 mod 7
}

/// A group's own character table, in the form published tables take.
fn own_table(g: &FiniteGroup) -> Published {
    let t = &g.representations().complex;
    Published {
        sizes: t.class_sizes.clone(),
        rows: t.irreps.iter().map(|r| r.character.clone()).collect(),
    }
}

#[test]
fn quaternion_group_has_the_published_table_and_is_d4s_twin() {
    // Q8 = {±1, ±i, ±j, ±k}; classes {1}, {-1}, {±i}, {±j}, {±k} (James &
    // Liebeck §18.3: the same table as D8, the dihedral group of order 8).
    let t = real_rows(
        &[1, 1, 2, 2, 2],
        &[
            &[1., 1., 1., 1., 1.],
            &[1., 1., 1., -1., -1.],
            &[1., 1., -1., 1., -1.],
            &[1., 1., -1., -1., 1.],
            &[2., -2., 0., 0., 0.],
        ],
    );
    let q8 = Operation::parse("quaternion").unwrap().analysis.group;
    assert_eq!((q8.name(), q8.order(), q8.is_abelian()), ("Q8", 8, false));
    assert!(same_table(&q8, &t));
    let d4 = FiniteGroup::dihedral(4).unwrap();
    assert!(same_table(&d4, &t));
    // What tells the twins apart: Q8's 2-dimensional irrep is quaternionic
    // (Frobenius–Schur indicator -1), D4's is real; Q8 has one involution,
    // D4 five.
    let two = |g: &FiniteGroup| {
        g.representations()
            .real
            .iter()
            .find(|r| r.complex_dim() == 2)
            .map(|r| r.fs_type)
            .unwrap()
    };
    assert_eq!((two(&q8), two(&d4)), (FsType::Quaternionic, FsType::Real));
    let involutions = |g: &FiniteGroup| g.element_orders().iter().filter(|&&o| o == 2).count();
    assert_eq!((involutions(&q8), involutions(&d4)), (1, 5));
}

#[test]
fn dicyclic_groups_share_the_dihedral_table_exactly_for_even_n() {
    // Dic_n and D_2n (both of order 4n) have equal character tables for even
    // n; for odd n, Dic_n's abelianisation is Z/4 and D_2n's is (Z/2)².
    for n in 2..=6 {
        let dic = FiniteGroup::dicyclic(n).unwrap();
        let dih = FiniteGroup::dihedral(2 * n).unwrap();
        assert_eq!(dic.order(), 4 * n);
        assert_eq!(same_table(&dic, &own_table(&dih)), n % 2 == 0, "n = {n}");
        let index = dic.abelianisation().iter().max().unwrap() + 1;
        assert_eq!(index, 4, "n = {n}: |Dic/[Dic, Dic]| = 4");
        let cyclic_quotient = (0..dic.order()).any(|g| {
            // Z/4 iff some element's coset generates all four cosets.
            let coset = dic.abelianisation();
            let mut x = g;
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..4 {
                seen.insert(coset[x]);
                x = dic.op(x, g);
            }
            seen.len() == 4
        });
        assert_eq!(cyclic_quotient, n % 2 == 1, "n = {n}");
    }
}

#[test]
fn multi_parameter_families_are_the_groups_they_name() {
    let group = |name: &str| Operation::parse(name).unwrap().analysis.group;
    // Z/n ⋊ Z/2 by inversion is the dihedral group D_n.
    for n in 3..=8 {
        let g = group(&format!("semidirect:{n},2,{}", n - 1));
        assert!(
            same_table(&g, &own_table(&FiniteGroup::dihedral(n).unwrap())),
            "n = {n}"
        );
    }
    // The non-abelian group of order 21 is GAP's SmallGroup(21, 1); the
    // Heisenberg group mod 3 is SmallGroup(27, 3), with p² + p - 1 = 11
    // classes; S3 × Z/2 is D6.
    let f21 = group("semidirect:7,3,2");
    assert_eq!((f21.order(), f21.is_abelian()), (21, false));
    assert!(same_table(&f21, &own_table(&group("smallgroup:21,1"))));
    let h = group("heisenberg:3");
    assert_eq!((h.order(), h.conjugacy_classes().len()), (27, 11));
    assert!(same_table(&h, &own_table(&group("smallgroup:27,3"))));
    assert!(h.element_orders().iter().all(|&o| o <= 3), "exponent 3");
    let p = group("product:s3,ring:2");
    assert!(same_table(
        &p,
        &own_table(&FiniteGroup::dihedral(6).unwrap())
    ));
    // GAP's SmallGroup(8, 4) is Q8.
    let q = group("smallgroup:8,4");
    assert_eq!(q.name(), "Q8");
    assert!(same_table(&q, &own_table(&group("quaternion"))));
    assert_eq!(small::count(32), 51);
}

#[test]
fn multi_parameter_names_have_canonical_forms_and_clean_slugs() {
    for (name, canonical, slug) in [
        (
            "product:s3,ring:2",
            "product:symmetric:3,ring:2",
            "productsymmetric3-ring2",
        ),
        ("semidirect:7,3,2", "semidirect:7,3,2", "semidirect7-3-2"),
        ("smallgroup:24,3", "smallgroup:24,3", "smallgroup24-3"),
        ("quaternion", "dicyclic:2", "dicyclic2"),
    ] {
        let spec = OperationSpec::parse(name).unwrap();
        assert_eq!(
            (spec.canonical().as_str(), spec.slug().as_str()),
            (canonical, slug)
        );
        assert_eq!(Operation::parse(name).unwrap().canonical, canonical);
    }
    for (bad, needle) in [
        ("semidirect:7,3,3", "not an action of Z/3"),
        ("semidirect:7,3", "takes 3 integer parameter(s)"),
        ("product:s3", "needs two catalogue operations"),
        ("product:s3,sub", "not a group operation"),
        ("smallgroup:8,6", "there are 5 groups of order 8"),
        ("smallgroup:65,1", "orders 2..64"),
        ("heisenberg:4", "not prime"),
    ] {
        let e = Operation::parse(bad).unwrap_err().to_string();
        assert!(e.contains(needle) && !e.contains('\n'), "{bad}: {e}");
    }
}

#[test]
fn abelianisations_have_the_known_orders() {
    // |G/[G, G]|: Z/n itself; 2 for S_n (n ≥ 2) and for D_n with n odd, 4 for
    // D_n with n even; 3 for A4 ([G, G] = V4); 1 for the perfect A5.
    for (name, index) in [
        ("ring:12", 12),
        ("s3", 2),
        ("s4", 2),
        ("symmetric:5", 2),
        ("d5", 2),
        ("dihedral:6", 4),
        ("a4", 3),
        ("alternating:5", 1),
    ] {
        let g = &Operation::parse(name).unwrap().analysis.group;
        let coset = g.abelianisation();
        let count = coset.iter().max().unwrap() + 1;
        assert_eq!(count, index, "{name}");
        // Cosets are equal-sized, [G, G] is coset 0, and the map is a
        // homomorphism onto an abelian group: it is constant on products
        // taken in either order.
        for c in 0..count {
            assert_eq!(
                coset.iter().filter(|&&x| x == c).count(),
                g.order() / count,
                "{name}"
            );
        }
        assert_eq!(coset[g.identity()], 0);
        for a in 0..g.order() {
            for b in 0..g.order() {
                assert_eq!(coset[g.op(a, b)], coset[g.op(b, a)], "{name}");
            }
        }
        // The number of one-dimensional characters is the index.
        let linear = g
            .representations()
            .complex
            .irreps
            .iter()
            .filter(|c| c.dim == 1)
            .count();
        assert_eq!(linear, index, "{name}: one-dimensional characters");
    }
}

#[test]
fn min_generators() {
    assert_eq!(FiniteGroup::cyclic(100).unwrap().min_generators(), 1);
    assert_eq!(FiniteGroup::symmetric(4).unwrap().min_generators(), 2);
    assert_eq!(FiniteGroup::alternating(4).unwrap().min_generators(), 2);
    assert_eq!(
        FiniteGroup::elementary_abelian(7).unwrap().min_generators(),
        7
    );
    assert_eq!(FiniteGroup::cyclic(1).unwrap().min_generators(), 0);
}

#[test]
fn validation_names_the_first_violation() {
    let labels = |n: usize| (0..n).map(|i| format!("x{i}")).collect::<Vec<_>>();
    // Subtraction mod 3: has a right identity only.
    let sub: Vec<usize> = (0..9).map(|i| (i / 3 + 3 - i % 3) % 3).collect();
    let err = FiniteGroup::from_table("sub3", labels(3), sub).unwrap_err();
    assert_eq!(err, GroupError::NoIdentity);
    // Out-of-range entry.
    let err = FiniteGroup::from_table("bad", labels(2), vec![0, 1, 1, 2]).unwrap_err();
    assert!(err.to_string().contains("x1 ∘ x1 = 2"), "{err}");
    // Identity and inverses but not associative: a Latin square loop of order 5.
    #[rustfmt::skip]
    let loop5 = vec![
        0, 1, 2, 3, 4,
        1, 0, 3, 4, 2,
        2, 4, 0, 1, 3,
        3, 2, 4, 0, 1,
        4, 3, 1, 2, 0,
    ];
    let err = FiniteGroup::from_table("loop", labels(5), loop5).unwrap_err();
    assert!(matches!(err, GroupError::NotAssociative { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("not associative: (x1 ∘ x1) ∘ x2"),
        "{err}"
    );
    // Wrong shape.
    assert!(matches!(
        FiniteGroup::from_table("s", labels(2), vec![0; 3]),
        Err(GroupError::Shape { .. })
    ));
}

#[test]
fn constructor_parameters_are_checked() {
    assert!(FiniteGroup::dihedral(0)
        .unwrap_err()
        .to_string()
        .contains("dihedral:0"));
    assert!(FiniteGroup::units_mod_prime(100).is_err());
    assert!(FiniteGroup::symmetric(7).is_err());
    assert!(FiniteGroup::alternating(2).is_err());
}

#[test]
fn operations_parse_with_one_line_errors() {
    let e = Operation::parse("s6").unwrap_err().to_string();
    assert!(
        e.starts_with("unknown operation \"s6\"; known: add, sub, mul"),
        "{e}"
    );
    // A near miss of a family or a short name gets a guess.
    for (typo, guess) in [
        ("dihedal:6", "dihedral:6"),
        ("quaternon", "quaternion"),
        ("smallgrop:8,3", "smallgroup:8,3"),
    ] {
        let e = Operation::parse(typo).unwrap_err().to_string();
        assert!(e.contains(&format!("(did you mean \"{guess}\"?)")), "{e}");
    }
    assert!(!e.contains('\n'));
    let e = Operation::parse("mul:100").unwrap_err().to_string();
    assert!(e.contains("100 is not prime"), "{e}");
    let e = Operation::parse("dihedral:0").unwrap_err().to_string();
    assert!(e.contains("dihedral:0"), "{e}");
    assert!(Operation::parse("add:x").is_err());
    assert!(Operation::parse("ring:1").is_err());
}

#[test]
fn catalogue_operations_have_the_documented_tables() {
    let add = Operation::parse("add").unwrap();
    assert_eq!((add.canonical.as_str(), add.order()), ("add:113", 113));
    assert_eq!(add.apply(100, 20), 7);
    let sub = Operation::parse("sub").unwrap();
    assert_eq!(sub.apply(3, 5), 111);
    assert!(sub.group.is_none());
    assert_eq!(sub.right_identities(), [0]);
    assert!(sub.left_identities().is_empty());
    let mul = Operation::parse("mul").unwrap();
    assert_eq!(mul.order(), 112);
    assert_eq!(mul.labels[mul.apply(1, 2)], "6"); // 2 * 3
                                                  // discrete-log view: token of g^j is g^j - 1, with g = 3
    assert_eq!(mul.analysis.tokens[..3], [0, 2, 8]);
    assert_eq!(mul.raw.as_ref().unwrap().tokens[..3], [0, 1, 2]);
    let mul0 = Operation::parse("mul0").unwrap();
    assert_eq!(mul0.order(), 113);
    assert_eq!(mul0.analysis.tokens[..3], [1, 3, 9]);
    assert_eq!(Operation::parse("ring").unwrap().order(), 100);
    assert_eq!(Operation::parse("xor").unwrap().order(), 128);
    for (name, order, abelian) in [
        ("s3", 6, false),
        ("d5", 10, false),
        ("a4", 12, false),
        ("s4", 24, false),
        ("ring:6", 6, true),
        ("ring:112", 112, true),
        ("dihedral:56", 112, false),
        ("alternating:5", 60, false),
        ("symmetric:5", 120, false),
        ("xor:7", 128, true),
    ] {
        let op = Operation::parse(name).unwrap();
        assert_eq!((op.order(), op.is_abelian()), (order, abelian), "{name}");
        assert!(op.group.is_some());
    }
}

#[test]
fn every_family_in_the_table_parses_and_builds() {
    // One example per family; a family added to FAMILIES without one here
    // fails this test.
    let examples = [
        ("add", "add:7", 7),
        ("sub", "sub:7", 7),
        ("mul", "mul:7", 6),
        ("mul0", "mul0:7", 7),
        ("ring", "ring:6", 6),
        ("dihedral", "dihedral:3", 6),
        ("dicyclic", "dicyclic:2", 8),
        ("symmetric", "symmetric:3", 6),
        ("alternating", "alternating:4", 12),
        ("xor", "xor:2", 4),
        ("semidirect", "semidirect:7,3,2", 21),
        ("heisenberg", "heisenberg:3", 27),
        ("product", "product:s3,ring:2", 12),
        ("smallgroup", "smallgroup:8,3", 8),
    ];
    for f in super::FAMILIES {
        if f.name() == "table" {
            continue; // needs a file: tests in table_file
        }
        let (_, name, order) = examples
            .iter()
            .find(|(family, _, _)| *family == f.name())
            .unwrap_or_else(|| panic!("no example for family {}", f.pattern));
        let op = Operation::parse(name).unwrap();
        assert_eq!(op.order(), *order, "{name}");
        // The arity the table gives is the one parse enforces.
        if f.arity > 0 {
            let wrong = format!("{}:{}", f.name(), vec!["3"; f.arity + 1].join(","));
            let e = Operation::parse(&wrong).unwrap_err().to_string();
            assert!(e.contains(f.pattern), "{wrong}: {e}");
        }
    }
    assert_eq!(super::FAMILIES.len(), examples.len() + 1);
}

#[test]
fn parsing_caps_the_order_the_same_on_every_machine() {
    // The cap is a constant, not this machine's free memory: ring:9000
    // fails to parse everywhere, and the message says what to change.
    let e = Operation::parse("ring:9000").unwrap_err().to_string();
    assert!(e.contains("ring:9000 has 9000 elements"), "{e}");
    assert!(e.contains(&format!("at most {}", super::MAX_ORDER)), "{e}");
    let e = Operation::parse("symmetric:30").unwrap_err().to_string();
    assert!(e.contains("more elements than a table can index"), "{e}");
    assert_eq!(Operation::parse("ring:8").unwrap().order(), 8);
}
