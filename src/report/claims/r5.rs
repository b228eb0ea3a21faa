//! R5: each non-grokked non-abelian model concentrates on the irrep the
//! reference study names.

use super::ops::{abelianisation_shares, analysis_of};
use super::Claim;
use crate::analysis::stats::mean_sd;
use crate::report::data::{canonical, SweepData};
use crate::report::latex::{tex, Numbers};
use crate::report::spectra::{seed_spectra, spectrum_rows, SpectrumRow};
use crate::report::Result;
use crate::results::rows::AnalysisRow;

/// The claim and the rule fixed for it.
pub const CLAIM: Claim = Claim {
    id: "R5",
    statement: "Each non-grokked non-abelian model concentrates on a named irrep.",
    rule: "Per group, the claimed irrep must be the dominant irrep in every seed and hold more than its untrained share in every seed. Confirmed if all four groups pass, refuted if none does, else partly confirmed.",
};

/// Whether an irrep name is the one a claim names.
pub type IrrepTest = fn(&str) -> bool;

/// The reference study's dominant irrep per group, as a predicate on our
/// names (D5's "rho_2a" does not say which 2-dimensional irrep). Groups
/// are matched by canonical name, so `s3` and `symmetric:3` both count.
pub fn claimed_irrep(op: &str) -> Option<(&'static str, IrrepTest)> {
    match canonical(op).as_str() {
        "symmetric:3" => Some(("standard, d = 2", |x| x == "[2,1]")),
        "dihedral:5" => Some(("rho\\_2a, d = 2", |x| x.starts_with("rho_"))),
        "alternating:4" => Some(("rho\\_3, d = 3", |x| x == "3")),
        "symmetric:4" => Some(("standard, d = 3", |x| x == "[3,1]")),
        _ => None,
    }
}

/// R5: per group, the claimed irrep must be our dominant irrep in every
/// seed and hold more than its untrained share in every seed. Confirmed
/// if all four groups pass, refuted if none does, else partly confirmed.
pub fn r5(suite: &SweepData, n: &mut Numbers) -> Result<&'static str> {
    let mut pass = 0;
    let mut total = 0;
    // Read once, at the first group the claim names.
    let mut spectra: Option<Vec<SpectrumRow>> = None;
    let mut analysis: Option<Vec<AnalysisRow>> = None;
    for op in suite.ops()? {
        let Some((claim, is_claimed)) = claimed_irrep(&op) else {
            continue;
        };
        total += 1;
        let runs = match &analysis {
            Some(rows) => rows,
            None => analysis.insert(suite.analysis_rows()?),
        };
        let dom = analysis_of(runs, &op, |r| Some(r.dominant_irrep.clone()));
        let (share, init, exp) = (
            analysis_of(runs, &op, |r| Some(r.dominant_share)),
            analysis_of(runs, &op, |r| Some(r.dominant_share_init)),
            analysis_of(runs, &op, |r| Some(r.dominant_expected)),
        );
        let matches = dom.iter().filter(|d| is_claimed(d)).count();
        let above = share.iter().zip(&init).filter(|(s, i)| s > i).count();
        let mut names: Vec<String> = dom.clone();
        names.sort();
        names.dedup();
        n.set(format!("R5/{op}/claim"), claim);
        n.set(format!("R5/{op}/dominant"), tex(&names.join(", ")));
        n.num(format!("R5/{op}/share"), mean_sd(&share).0, 2);
        n.num(format!("R5/{op}/share_init"), mean_sd(&init).0, 2);
        n.num(format!("R5/{op}/expected"), mean_sd(&exp).0, 2);
        if spectra.is_none() {
            spectra = Some(spectrum_rows(suite.need(&suite.spectra, "spectra")?)?);
        }
        let rows = spectra.as_deref().unwrap_or_default();
        let (ab, ab_init) = abelianisation_shares(suite, rows, &op)?;
        let (ab, ab_init) = (mean_sd(&ab).0, mean_sd(&ab_init).0);
        n.num(format!("R5/{op}/abelian_share"), ab, 2);
        n.num(format!("R5/{op}/abelian_share_init"), ab_init, 2);
        n.num(format!("R5/{op}/abelian_ratio"), ab / ab_init, 1);
        n.set(
            format!("R5/{op}/matches"),
            format!("{matches}/{}", dom.len()),
        );
        if matches == dom.len() && above == dom.len() && !dom.is_empty() {
            pass += 1;
        }
    }
    n.set("R5/groups_passing", pass.to_string());
    n.set("R5/groups", total.to_string());
    Ok(r5_decide(pass, total))
}

/// R5's thresholds: `pass` of the `total` named groups passed.
pub fn r5_decide(pass: usize, total: usize) -> &'static str {
    if total > 0 && pass == total {
        "confirmed"
    } else if pass == 0 {
        "refuted"
    } else {
        "partly confirmed"
    }
}

/// One seed of a group the claim names, as the Peter–Weyl table shows it:
/// the claimed irrep's share of the embedding's non-trivial power trained
/// and untrained (the same irrep: for D5, whose claim names a
/// 2-dimensional irrep, the stronger of the two in the trained model), our
/// dominant irrep likewise, and the one-dimensional irreps' share.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedRow {
    /// The operation.
    pub op: String,
    /// The run's seed.
    pub seed: u64,
    /// The claimed irrep (our name).
    pub claimed: String,
    /// Its share trained.
    pub claimed_share: f64,
    /// Its share at initialisation.
    pub claimed_init: f64,
    /// Our dominant irrep.
    pub dominant: String,
    /// Its share trained.
    pub dominant_share: f64,
    /// Its share at initialisation.
    pub dominant_init: f64,
    /// The one-dimensional irreps' share trained.
    pub abelian_share: f64,
    /// The one-dimensional irreps' share at initialisation.
    pub abelian_init: f64,
}

/// Per seed of every group the claim names, in sweep order, from the
/// suite's spectra table.
///
/// # Errors
/// No spectra table, or an operation the groups table does not list.
pub fn claimed_rows(suite: &SweepData) -> Result<Vec<ClaimedRow>> {
    let rows = spectrum_rows(suite.need(&suite.spectra, "spectra")?)?;
    let mut out = Vec::new();
    for op in suite.ops()? {
        let Some((_, is_claimed)) = claimed_irrep(&op) else {
            continue;
        };
        let trained = seed_spectra(&rows, &op, "embed", "final", "identity");
        let untrained = seed_spectra(&rows, &op, "embed", "init", "identity");
        let (ab, ab_init) = abelianisation_shares(suite, &rows, &op)?;
        for (i, (seed, spec)) in trained.iter().enumerate() {
            let init_of = |name: &str| {
                untrained
                    .get(seed)
                    .and_then(|u| u.iter().find(|c| c.0 == name))
                    .map_or(f64::NAN, |c| c.1)
            };
            let strongest = |keep: &dyn Fn(&str) -> bool| {
                spec.iter()
                    .filter(|c| keep(&c.0))
                    .max_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|c| (c.0.clone(), c.1))
            };
            let (claimed, claimed_share) = strongest(&|x| is_claimed(x)).unwrap_or_default();
            let (dominant, dominant_share) = strongest(&|_| true).unwrap_or_default();
            out.push(ClaimedRow {
                op: op.clone(),
                seed: *seed,
                claimed_init: init_of(&claimed),
                claimed,
                claimed_share,
                dominant_init: init_of(&dominant),
                dominant,
                dominant_share,
                abelian_share: ab.get(i).copied().unwrap_or(f64::NAN),
                abelian_init: ab_init.get(i).copied().unwrap_or(f64::NAN),
            });
        }
    }
    Ok(out)
}

/// `R5/claimed_runs` and `R5/claimed_above_init`: the runs of the named
/// groups, and those where the claimed irrep gained power in training.
pub fn claimed_numbers(rows: &[ClaimedRow], n: &mut Numbers) {
    let above = rows
        .iter()
        .filter(|r| r.claimed_share > r.claimed_init)
        .count();
    n.set("R5/claimed_runs", rows.len().to_string());
    n.set("R5/claimed_above_init", above.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::claims::fixtures::sweep_with;

    #[test]
    fn r5_reads_a_group_by_its_canonical_name_and_needs_every_seed() {
        use polars::prelude::*;
        let analysis = |op: &str, dominant: [&str; 2], share: [f64; 2]| {
            dominant
                .into_iter()
                .zip(share)
                .map(|(d, s)| AnalysisRow {
                    op: op.into(),
                    dominant_irrep: d.into(),
                    dominant_share: s,
                    dominant_share_init: 0.4,
                    dominant_expected: 0.5,
                    ..Default::default()
                })
                .collect::<Vec<_>>()
        };
        // S3's real irreps: trivial, sign (1-dimensional) and [2,1].
        let spectra = |op: &str| {
            let (mut ops, mut seed, mut ck, mut comp, mut share) =
                (vec![], vec![], vec![], vec![], vec![]);
            for s in 0..2u64 {
                for (c, f, i) in [("[1,1,1]", 0.1, 0.3), ("[2,1]", 0.9, 0.7)] {
                    for (checkpoint, v) in [("final", f), ("init", i)] {
                        ops.push(op.to_string());
                        seed.push(s);
                        ck.push(checkpoint);
                        comp.push(c);
                        share.push(v);
                    }
                }
            }
            let k = ops.len();
            let dims: Vec<u32> = comp
                .iter()
                .map(|c| if *c == "[2,1]" { 2 } else { 1 })
                .collect();
            df!(
                "run_id" => seed.iter().map(|s| format!("{op}-{s}")).collect::<Vec<_>>(),
                "op" => ops,
                "seed" => seed,
                "source" => vec!["embed"; k],
                "checkpoint" => ck,
                "order" => vec!["identity"; k],
                "component" => comp,
                "real_dim" => dims,
                "share" => share,
                "expected" => vec![0.5; k],
            )
            .unwrap()
        };
        let mut n = Numbers::default();
        for op in ["s3", "symmetric:3"] {
            let s = sweep_with(
                &[op],
                analysis(op, ["[2,1]", "[2,1]"], [0.9, 0.8]),
                Some(spectra(op)),
            );
            assert_eq!(r5(&s, &mut n).unwrap(), "confirmed", "{op}");
            assert_eq!(n.get("R5/groups"), Some("1"), "{op} counts as S3");
            assert_eq!(n.get(&format!("R5/{op}/abelian_share")), Some("0.10"));
        }
        // One seed on another irrep, or one seed below its untrained share.
        let s = sweep_with(
            &["s3"],
            analysis("s3", ["[2,1]", "[1,1,1]"], [0.9, 0.8]),
            Some(spectra("s3")),
        );
        assert_eq!(r5(&s, &mut n).unwrap(), "refuted");
        assert_eq!(n.get("R5/s3/matches"), Some("1/2"));
        let s = sweep_with(
            &["s3"],
            analysis("s3", ["[2,1]", "[2,1]"], [0.9, 0.4]),
            Some(spectra("s3")),
        );
        assert_eq!(r5(&s, &mut n).unwrap(), "refuted");
        // A group the claim does not name is not counted.
        assert!(claimed_irrep("symmetric:5").is_none());
        assert!(claimed_irrep("dihedral:5").is_some());
        assert_eq!(r5_decide(4, 4), "confirmed");
        assert_eq!(r5_decide(3, 4), "partly confirmed");
        assert_eq!(r5_decide(1, 4), "partly confirmed");
        assert_eq!(r5_decide(0, 4), "refuted");
        assert_eq!(r5_decide(0, 0), "refuted");
    }
}
