//! GAP as the oracle: every group of order 2..64 in GAP's SmallGroups
//! library (585 groups), exported with its character table and GAP's values
//! of the atlas' invariants by `scripts/export-gap` into
//! `data/gap/small-groups.json.gz`. For each, grokscope builds the group
//! from GAP's Cayley table and must find GAP's conjugacy classes (with
//! their sizes), GAP's irreducible characters and GAP's invariants
//! (|G'|, classes, nilpotency class, derived length, exponent, |Z(G)|,
//! largest degree), and its real irreps must be orthogonal homomorphisms
//! whose characters satisfy the orthogonality relations. GAP is not needed
//! to run this test.

use grokscope::groups::FiniteGroup;
use nalgebra::Complex;
use std::io::Read;

#[derive(serde::Deserialize)]
struct GapGroup {
    order: usize,
    id: usize,
    name: String,
    table: Vec<usize>,
    /// (representative element, class size) per class.
    classes: Vec<(usize, usize)>,
    /// Per character, per class: [re, im].
    characters: Vec<Vec<(f64, f64)>>,
    /// GAP's values of what `groups::invariants` computes.
    invariants: GapInvariants,
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct GapInvariants {
    derived_order: usize,
    classes: usize,
    nilpotency_class: usize,
    derived_length: usize,
    exponent: usize,
    centre_order: usize,
    max_degree: usize,
}

fn gap_groups() -> Vec<GapGroup> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/gap/small-groups.json.gz");
    let file = std::fs::File::open(path).expect("data/gap/small-groups.json.gz is committed");
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .expect("a gzip file");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("one JSON group per line"))
        .collect()
}

/// Checks one group; returns what did not match.
fn check(g: &GapGroup) -> Result<(), String> {
    let labels = (0..g.order).map(|i| format!("g{i}")).collect();
    let group = FiniteGroup::from_table(g.name.clone(), labels, g.table.clone())
        .map_err(|e| format!("GAP's table refused: {e}"))?;
    let inv = grokscope::groups::invariants::Invariants::of(&group);
    let ours = GapInvariants {
        derived_order: inv.derived_order,
        classes: inv.classes,
        nilpotency_class: inv.nilpotency_class,
        derived_length: inv.derived_length,
        exponent: inv.exponent,
        centre_order: inv.centre_order,
        max_degree: inv.max_degree,
    };
    if ours != g.invariants {
        return Err(format!("invariants {ours:?}, GAP {:?}", g.invariants));
    }
    let reps = group.representations();
    let table = &reps.complex;
    // Classes: GAP's partition is grokscope's, sizes included.
    if table.class_sizes.len() != g.classes.len() {
        return Err(format!(
            "{} classes, GAP {}",
            table.class_sizes.len(),
            g.classes.len()
        ));
    }
    let ours: Vec<usize> = g.classes.iter().map(|&(r, _)| group.class_of(r)).collect();
    let mut distinct = ours.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != ours.len() {
        return Err("two GAP classes fall in one of ours".into());
    }
    for (&(r, size), &c) in g.classes.iter().zip(&ours) {
        if table.class_sizes[c] != size {
            return Err(format!(
                "class of element {r}: size {} against GAP's {size}",
                table.class_sizes[c]
            ));
        }
    }
    // Characters: each of GAP's is one of ours, none used twice.
    if table.irreps.len() != g.characters.len() {
        return Err(format!(
            "{} irreps, GAP {}",
            table.irreps.len(),
            g.characters.len()
        ));
    }
    let mut used = vec![false; table.irreps.len()];
    for (k, chi) in g.characters.iter().enumerate() {
        let found = table.irreps.iter().enumerate().position(|(i, irr)| {
            !used[i]
                && chi
                    .iter()
                    .zip(&ours)
                    .all(|(&(re, im), &c)| (irr.character[c] - Complex::new(re, im)).norm() < 1e-9)
        });
        match found {
            Some(i) => used[i] = true,
            None => return Err(format!("GAP's character {k} {chi:?} is not among ours")),
        }
    }
    // Row orthogonality: Σ_classes |C| χ_i conj(χ_j) = |G| δ_ij.
    for (i, a) in table.irreps.iter().enumerate() {
        for (j, b) in table.irreps.iter().enumerate() {
            let s: Complex<f64> = (0..table.class_sizes.len())
                .map(|c| a.character[c] * b.character[c].conj() * table.class_sizes[c] as f64)
                .sum();
            let want = if i == j { g.order as f64 } else { 0.0 };
            if (s - Complex::new(want, 0.0)).norm() > 1e-8 {
                return Err(format!("characters {i}, {j}: inner product {s}"));
            }
        }
    }
    // Real irreps: orthogonal matrices and homomorphisms, and their isotypic
    // components fill R^G.
    let mut dims = 0;
    for r in &reps.real {
        for (x, m) in r.matrices.iter().enumerate() {
            let d = m.nrows();
            if (m * m.transpose() - nalgebra::DMatrix::<f64>::identity(d, d)).amax() > 1e-9 {
                return Err(format!("{}: ρ({x}) is not orthogonal", r.name));
            }
            for y in 0..g.order {
                let prod = &r.matrices[x] * &r.matrices[y];
                if (prod - &r.matrices[group.op(x, y)]).amax() > 1e-9 {
                    return Err(format!("{}: ρ({x})ρ({y}) ≠ ρ({x}·{y})", r.name));
                }
            }
        }
        dims += r.basis.ncols();
    }
    if dims != g.order {
        return Err(format!(
            "isotypic components span {dims} of {} dimensions",
            g.order
        ));
    }
    Ok(())
}

/// Checks `groups` and fails listing every group that differs.
fn check_all(groups: &[&GapGroup]) {
    let failures: Vec<String> = groups
        .iter()
        .filter_map(|g| {
            check(g)
                .err()
                .map(|e| format!("SmallGroup({}, {}) = {}: {e}", g.order, g.id, g.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} groups differ from GAP:\n{}",
        failures.len(),
        groups.len(),
        failures.join("\n")
    );
}

#[test]
fn the_export_holds_every_small_group_to_order_64() {
    let groups = gap_groups();
    // GAP: Sum([2..64], NrSmallGroups) = 585; NrSmallGroups(64) = 267.
    assert_eq!(groups.len(), 585);
    assert_eq!(groups.iter().filter(|g| g.order == 64).count(), 267);
    assert_eq!(grokscope::groups::small::count(64), 267);
    assert_eq!(grokscope::groups::small::count(48), 52);
}

/// All 585 groups: about 8 s on 2 cores.
#[test]
fn every_small_group_to_order_64_matches_gap() {
    let groups = gap_groups();
    check_all(&groups.iter().collect::<Vec<_>>());
}

#[test]
fn a_wrong_character_is_caught() {
    // The comparison can fail: flip one value of one of GAP's characters.
    let mut g = gap_groups()
        .into_iter()
        .find(|g| g.name == "S3")
        .expect("S3 is SmallGroup(6, 1)");
    g.characters[1][1].0 += 1.0;
    assert!(check(&g).unwrap_err().contains("not among ours"));
}
