//! The twins experiment: the dihedral group of order 4m against the
//! dicyclic group of the same order for even m (and D4 against Q8), pairs
//! with equal complex character tables. Every score computed from the
//! character table (C1, C2, and here F2 too) gives twins the same value;
//! F1, the smallest faithful real representation, does not (2 for the
//! dihedral group, 4 for the dicyclic one, whose faithful irreps are
//! quaternionic). If twins grok at different times, no score read off the
//! character table can predict when a group groks.
//!
//! Per pair: sustained groks and the Kaplan–Meier view of [`super::survival`],
//! Gehan's test of time to grok (never-grokked runs censored at their last
//! epoch) and the Mann–Whitney test of final test accuracy (capped at the
//! grok threshold, so grokked runs tie); over all pairs,
//! the same tests stratified by order.

use super::latex::{p_value, tex, Numbers};
use super::survival::Setting;
use crate::analysis::complexity::ComplexityScores;
use crate::analysis::stats::mean_sd;
use crate::analysis::survival::{gehan_stratified, mann_whitney_stratified, GehanTest, Stratum};
use std::fmt::Write as _;

/// One pair of twins at one training fraction.
#[derive(Debug, Clone)]
pub struct Twins {
    /// The group order 4m.
    pub order: usize,
    /// `dihedral:2m`.
    pub dihedral: Setting,
    /// `dicyclic:m`.
    pub dicyclic: Setting,
    /// The dihedral and the dicyclic group's names (`D12`, `Dic6`).
    pub names: (String, String),
    /// The dihedral and the dicyclic group's scores.
    pub scores: (ComplexityScores, ComplexityScores),
}

impl Twins {
    /// Gehan's test of time to grok, dihedral against dicyclic (W > 0: the
    /// dihedral runs grok later).
    pub fn time_test(&self) -> Option<GehanTest> {
        gehan_stratified(&[self.time_stratum()])
    }
    /// The Mann–Whitney test of final test accuracy capped at the grok
    /// threshold (W > 0: the dihedral runs end more accurate).
    pub fn accuracy_test(&self) -> Option<GehanTest> {
        mann_whitney_stratified(&[self.accuracy_stratum()])
    }
    fn time_stratum(&self) -> Stratum {
        (self.dihedral.runs.clone(), self.dicyclic.runs.clone())
    }
    /// Final test accuracies capped at the grok threshold: a run stopped
    /// after its sustained grok ends at 0.99 or above, and which of two
    /// such runs ends higher is a test pair or two, so they tie.
    fn accuracy_stratum(&self) -> (Vec<f64>, Vec<f64>) {
        let capped = |v: &[f64]| v.iter().map(|a| a.min(crate::grok::THRESHOLD)).collect();
        (
            capped(&self.dihedral.final_test),
            capped(&self.dicyclic.final_test),
        )
    }
}

/// Pairs `dicyclic:m` with `dihedral:2m` at the same training fraction,
/// in ascending order; settings without their twin are left out.
pub fn pairs(settings: &[Setting]) -> Vec<Twins> {
    let mut out: Vec<Twins> = settings
        .iter()
        .filter_map(|dic| {
            let m: usize = dic.op.strip_prefix("dicyclic:")?.parse().ok()?;
            let twin = format!("dihedral:{}", 2 * m);
            let dih = settings
                .iter()
                .find(|s| s.op == twin && (s.fraction - dic.fraction).abs() < 1e-9)?;
            Some(Twins {
                order: 4 * m,
                dihedral: dih.clone(),
                dicyclic: dic.clone(),
                names: (dih.group.group.clone(), dic.group.group.clone()),
                scores: (dih.group.scores(), dic.group.scores()),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.order
            .cmp(&b.order)
            .then(a.dihedral.fraction.total_cmp(&b.dihedral.fraction))
    });
    out
}

/// Both tests stratified over `pairs` (each order compared within itself).
pub fn pooled_tests(pairs: &[Twins]) -> (Option<GehanTest>, Option<GehanTest>) {
    let time: Vec<_> = pairs.iter().map(Twins::time_stratum).collect();
    let acc: Vec<_> = pairs.iter().map(Twins::accuracy_stratum).collect();
    (gehan_stratified(&time), mann_whitney_stratified(&acc))
}

fn groks(s: &Setting) -> String {
    format!("{}/{}", s.km.events(), s.runs.len())
}

fn accuracy_cell(v: &[f64]) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{:.2} [{lo:.2}, {hi:.2}]", mean_sd(v).0)
}

fn p_cell(t: Option<GehanTest>) -> String {
    t.map_or("--".into(), |t| format!("${}$", p_value(t.p)))
}

/// The twins table (LaTeX) and its numbers (`twins/<order>/...`,
/// `twins/all/...`).
pub fn table(pairs: &[Twins], n: &mut Numbers) -> String {
    let mut s = String::from(
        "% Generated; do not edit.\n\\begin{tabular}{rlcccccc}\n\\toprule\n& & \\multicolumn{2}{c}{scores} & \\multicolumn{2}{c}{dihedral / dicyclic} & \\multicolumn{2}{c}{$p$, exact} \\\\\n\\cmidrule(lr){3-4}\\cmidrule(lr){5-6}\\cmidrule(lr){7-8}\n$|G|$ & twins & $C_1$, $C_2$, $F_2$ & $F_1$ & sustained groks & final test accuracy, mean [min, max] & time to grok & final accuracy \\\\\n\\midrule\n",
    );
    for t in pairs {
        let k = |x: &str| format!("twins/{}/{x}", t.order);
        let (d, q) = (&t.scores.0, &t.scores.1);
        let equal = d.c1 == q.c1 && d.c2 == q.c2 && d.f2 == q.f2;
        n.set(k("dihedral_grokked"), t.dihedral.km.events().to_string());
        n.set(k("dicyclic_grokked"), t.dicyclic.km.events().to_string());
        n.set(k("runs"), t.dihedral.runs.len().to_string());
        n.num(k("dihedral_final"), mean_sd(&t.dihedral.final_test).0, 2);
        n.num(k("dicyclic_final"), mean_sd(&t.dicyclic.final_test).0, 2);
        n.num(k("epochs"), t.dihedral.epochs.max(t.dicyclic.epochs), 0);
        n.set(k("scores_equal"), if equal { "equal" } else { "unequal" });
        let (time, accuracy) = (t.time_test(), t.accuracy_test());
        if let Some(g) = time {
            n.set(k("time_p"), p_value(g.p));
        }
        if let Some(g) = accuracy {
            n.set(k("accuracy_p"), p_value(g.p));
        }
        let _ = writeln!(
            s,
            "{} & {} / {} & {} & {} / {} & {} / {} & {} / {} & {} & {} \\\\",
            t.order,
            tex(&t.names.0),
            tex(&t.names.1),
            if equal {
                format!(
                    "{:.2}, {:.2}, {:.2} (both)",
                    d.c1,
                    d.c2,
                    d.f2.unwrap_or(0.0)
                )
            } else {
                "differ".into()
            },
            d.f1,
            q.f1,
            groks(&t.dihedral),
            groks(&t.dicyclic),
            accuracy_cell(&t.dihedral.final_test),
            accuracy_cell(&t.dicyclic.final_test),
            p_cell(time),
            p_cell(accuracy),
        );
    }
    let (time, acc) = pooled_tests(pairs);
    n.set("twins/pairs", pairs.len().to_string());
    n.set(
        "twins/orders",
        pairs
            .iter()
            .map(|t| t.order.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    );
    let all = |f: fn(&Twins) -> &Setting| -> (usize, usize) {
        pairs.iter().fold((0, 0), |(g, r), t| {
            (g + f(t).km.events(), r + f(t).runs.len())
        })
    };
    let (dg, dr) = all(|t| &t.dihedral);
    let (qg, qr) = all(|t| &t.dicyclic);
    n.set("twins/all/dihedral_grokked", dg.to_string());
    n.set("twins/all/dihedral_runs", dr.to_string());
    n.set("twins/all/dicyclic_grokked", qg.to_string());
    n.set("twins/all/dicyclic_runs", qr.to_string());
    if let Some(g) = time {
        n.set("twins/all/time_p", p_value(g.p));
        n.set("twins/all/time_w", g.statistic.to_string());
    }
    if let Some(g) = acc {
        n.set("twins/all/accuracy_p", p_value(g.p));
        n.set("twins/all/accuracy_w", g.statistic.to_string());
    }
    let _ = writeln!(
        s,
        "\\midrule\nall & stratified by order & & & {dg}/{dr} / {qg}/{qr} & & {} & {} \\\\",
        p_cell(time),
        p_cell(acc)
    );
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::survival::KaplanMeier;

    fn setting(op: &str, runs: &[(f64, bool)], acc: &[f64]) -> Setting {
        Setting {
            sweep: "twins".into(),
            op: op.into(),
            group: crate::results::rows::GroupRow::of(op).expect("a known operation"),
            fraction: 0.7,
            epochs: 1000.0,
            runs: runs.to_vec(),
            final_test: acc.to_vec(),
            planned: None,
            km: KaplanMeier::fit(runs),
        }
    }

    #[test]
    fn dicyclic_m_is_paired_with_dihedral_2m_and_scored_alike_but_for_f1() {
        let settings = [
            setting(
                "dihedral:12",
                &[(1000.0, false), (400.0, true)],
                &[0.5, 1.0],
            ),
            setting(
                "dicyclic:6",
                &[(1000.0, false), (1000.0, false)],
                &[0.4, 0.6],
            ),
            setting("dihedral:4", &[(1000.0, false)], &[0.3]),
            setting("dicyclic:2", &[(1000.0, false)], &[0.2]),
            setting("dicyclic:8", &[(1000.0, false)], &[0.2]),
        ];
        let p = pairs(&settings);
        assert_eq!(p.iter().map(|t| t.order).collect::<Vec<_>>(), [8, 24]);
        let t = &p[1];
        assert_eq!(
            (t.dihedral.op.as_str(), t.dicyclic.op.as_str()),
            ("dihedral:12", "dicyclic:6")
        );
        assert_eq!((t.scores.0.f1, t.scores.1.f1), (2, 4));
        assert_eq!(
            (t.scores.0.c1, t.scores.0.c2),
            (t.scores.1.c1, t.scores.1.c2)
        );
        // The dihedral run that grokked at 400 is certainly earlier than
        // both censored dicyclic runs: W = -2.
        assert_eq!(t.time_test().unwrap().statistic, -2);
        let mut n = Numbers::default();
        let tex = table(&p, &mut n);
        assert_eq!(n.get("twins/24/dihedral_grokked"), Some("1"));
        assert_eq!(n.get("twins/all/dicyclic_grokked"), Some("0"));
        assert_eq!(n.get("twins/24/scores_equal"), Some("equal"));
        assert!(tex.contains("1/2 / 0/2"), "{tex}");
    }
}
