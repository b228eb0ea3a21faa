//! R3 at long budgets, by the rule fixed before those runs: budget
//! artefact, real boundary or inconclusive, and whether runs still missing
//! could change the verdict.

use super::Claim;
use crate::analysis::survival::{r3_long_budget, R3Verdict, Tally};
use crate::report::latex::Numbers;
use crate::report::survival::Setting;

/// The claim and the rule fixed for it.
pub const CLAIM: Claim = Claim {
    id: "R3long",
    statement: "R3 again, given ten times the epochs.",
    rule: "Budget artefact if at least 2/3 of the runs of any decisive setting (S4, A5, S5 at the suite's settings; A5, S5 at Chughtai et al.'s) sustain-grok; a real boundary if no decisive run groks while at least 2/3 of the runs of each control (Z/24, D12) do; otherwise inconclusive.",
};

/// R3 by the rule fixed before the long-budget runs, with its inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct R3Decision {
    /// s4, alternating:5 and symmetric:5 at the suite's settings, and
    /// alternating:5 and symmetric:5 at Chughtai et al.'s.
    pub decisive: Vec<Tally>,
    /// ring:24 and dihedral:12 at the suite's settings.
    pub controls: Vec<Tally>,
    /// The verdict if every missing run fails to grok, and if every one groks.
    pub bounds: (R3Verdict, R3Verdict),
    /// Inputs with runs still missing (or none at all).
    pub incomplete: Vec<String>,
}

impl R3Decision {
    /// The verdict, once no missing run can change it.
    pub fn verdict(&self) -> Option<R3Verdict> {
        (self.bounds.0 == self.bounds.1).then_some(self.bounds.0)
    }
}

/// The rule's inputs: (sweep, operation) for the decisive settings, then
/// the controls.
pub const R3_DECISIVE: &[(&str, &str)] = &[
    ("long-budget", "symmetric:4"),
    ("long-budget-a5", "alternating:5"),
    ("long-budget-s5", "symmetric:5"),
    ("chughtai", "alternating:5"),
    ("chughtai-s5", "symmetric:5"),
];

/// The rule's controls.
pub const R3_CONTROLS: &[(&str, &str)] =
    &[("long-budget", "ring:24"), ("long-budget", "dihedral:12")];

/// Decides R3 from the long-budget settings. An input without results
/// counts as one planned run, which the bounds let go either way.
pub fn decide_r3(settings: &[Setting]) -> R3Decision {
    let mut incomplete = Vec::new();
    let mut pick = |inputs: &[(&str, &str)]| -> Vec<(Tally, usize)> {
        inputs
            .iter()
            .map(|(sweep, op)| {
                match settings
                    .iter()
                    .find(|s| s.sweep == *sweep && crate::report::data::canonical(&s.op) == *op)
                {
                    Some(s) => {
                        if !s.complete() {
                            incomplete.push(s.label());
                        }
                        (s.tally(), s.planned.unwrap_or(0).max(s.runs.len()))
                    }
                    None => {
                        let setting = format!("{op} ({sweep})");
                        incomplete.push(setting.clone());
                        (
                            Tally {
                                setting,
                                runs: 0,
                                grokked: 0,
                            },
                            1,
                        )
                    }
                }
            })
            .collect()
    };
    let decisive = pick(R3_DECISIVE);
    let controls = pick(R3_CONTROLS);
    // The missing runs counted as failing (`false`) or as grokking (`true`).
    let bound = |ts: &[(Tally, usize)], grok_missing: bool| -> Vec<Tally> {
        ts.iter()
            .map(|(t, planned)| Tally {
                setting: t.setting.clone(),
                runs: *planned,
                grokked: t.grokked + if grok_missing { planned - t.runs } else { 0 },
            })
            .collect()
    };
    let bounds = (
        r3_long_budget(&bound(&decisive, false), &bound(&controls, false)),
        r3_long_budget(&bound(&decisive, true), &bound(&controls, true)),
    );
    R3Decision {
        decisive: decisive.into_iter().map(|t| t.0).collect(),
        controls: controls.into_iter().map(|t| t.0).collect(),
        bounds,
        incomplete,
    }
}

/// The verdict by this rule and its status (`R3long/verdict`,
/// `R3long/status`): decided, or which inputs are incomplete and what the
/// missing runs could make it.
pub fn numbers(settings: &[Setting], n: &mut Numbers) {
    let d = decide_r3(settings);
    let word = |v: R3Verdict| match v {
        R3Verdict::BudgetArtefact => "budget artefact",
        R3Verdict::RealBoundary => "a real boundary within 30\\,000 epochs",
        R3Verdict::Inconclusive => "inconclusive",
    };
    match d.verdict() {
        Some(v) => {
            n.set("R3long/verdict", word(v));
            n.set(
                "R3long/status",
                if d.incomplete.is_empty() {
                    "every input of the rule is complete".to_string()
                } else {
                    format!(
                        "{} of the rule's {} inputs {} incomplete, and no run still missing can change the verdict",
                        d.incomplete.len(),
                        d.decisive.len() + d.controls.len(),
                        if d.incomplete.len() == 1 { "is" } else { "are" }
                    )
                },
            );
        }
        None => {
            n.set("R3long/verdict", "not yet decided");
            n.set(
                "R3long/status",
                format!(
                    "{} of the rule's {} inputs {} incomplete; the missing runs could make it {} or {}",
                    d.incomplete.len(),
                    d.decisive.len() + d.controls.len(),
                    if d.incomplete.len() == 1 { "is" } else { "are" },
                    word(d.bounds.0),
                    word(d.bounds.1)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::survival::KaplanMeier;
    use crate::results::rows::GroupRow;

    fn setting(sweep: &str, op: &str, runs: &[(f64, bool)], planned: usize) -> Setting {
        Setting {
            sweep: sweep.into(),
            op: op.into(),
            group: GroupRow::of(op).expect("a known operation"),
            fraction: 0.6,
            epochs: 50_000.0,
            runs: runs.to_vec(),
            final_test: vec![1.0; runs.len()],
            planned: Some(planned),
            km: KaplanMeier::fit(runs),
        }
    }

    #[test]
    fn three_of_four_planned_groks_decide_before_the_fourth_run() {
        let s = [setting(
            "chughtai",
            "alternating:5",
            &[(6100.0, true), (6300.0, true), (29900.0, true)],
            4,
        )];
        let d = decide_r3(&s);
        assert_eq!(d.verdict(), Some(R3Verdict::BudgetArtefact));
        assert!(d.incomplete.iter().any(|x| x.starts_with("alternating:5")));
    }

    #[test]
    fn two_of_four_with_inputs_missing_is_not_yet_decided() {
        let s = [setting(
            "chughtai",
            "alternating:5",
            &[(6100.0, true), (50000.0, false), (6300.0, true)],
            4,
        )];
        let d = decide_r3(&s);
        assert_eq!(d.verdict(), None);
        assert_eq!(
            d.bounds,
            (R3Verdict::Inconclusive, R3Verdict::BudgetArtefact)
        );
    }

    #[test]
    fn a_complete_study_without_groks_and_grokking_controls_is_a_real_boundary() {
        let fail = [(30000.0, false); 3];
        let grok = [(900.0, true), (1200.0, true), (30000.0, false)];
        let mut s: Vec<Setting> = R3_DECISIVE
            .iter()
            .map(|(sw, op)| setting(sw, op, &fail, 3))
            .collect();
        s.extend(R3_CONTROLS.iter().map(|(sw, op)| setting(sw, op, &grok, 3)));
        let d = decide_r3(&s);
        assert!(d.incomplete.is_empty());
        assert_eq!(d.verdict(), Some(R3Verdict::RealBoundary));
    }

    #[test]
    fn a_setting_named_by_its_short_alias_is_the_same_input() {
        let grok = [(900.0, true), (1200.0, true), (30000.0, false)];
        let d = decide_r3(&[setting("long-budget", "s4", &grok, 3)]);
        assert!(
            !d.incomplete.iter().any(|x| x.starts_with("symmetric:4")),
            "{:?}",
            d.incomplete
        );
        // Two of three S4 runs grok: a budget artefact whatever is missing.
        assert_eq!(d.verdict(), Some(R3Verdict::BudgetArtefact));
    }
}
