//! One run outcome ([`RunOutcome`]): when a run grokked by each
//! criterion (docs/design.md: the first crossing of 0.99 test accuracy, and
//! the sustained grok that holds for the run's `grok_window`), with an
//! explicit third state for "not recorded", and where the sustained answer
//! came from. Every table, figure and claim of the report reads grok epochs
//! through [`SweepData::outcomes`]: the results' `grokked_epoch` and
//! `sustained_grok_epoch` columns are read here and nowhere else in it.

use super::data::SweepData;
use super::{ReportError, Result};
use crate::results::rows::ResultRow;
use std::collections::BTreeMap;

/// When a run grokked, by one criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grok {
    /// It grokked at this epoch.
    At(u32),
    /// It had not grokked by its last epoch (the value).
    NotBy(u32),
    /// The stored results cannot say: they predate the criterion and hold
    /// no curves to recompute it from.
    NotRecorded,
}

impl Grok {
    /// The grok epoch, `None` when it did not grok or it is not recorded.
    pub fn epoch(self) -> Option<u32> {
        match self {
            Grok::At(e) => Some(e),
            Grok::NotBy(_) | Grok::NotRecorded => None,
        }
    }

    /// The grok epoch as a float, for statistics (`None` as [`Grok::epoch`]).
    pub fn epoch_f64(self) -> Option<f64> {
        self.epoch().map(f64::from)
    }

    /// Whether the results say either way.
    pub fn is_recorded(self) -> bool {
        self != Grok::NotRecorded
    }
}

/// `1234`, `not by 20000` or `not recorded`, as tables show it.
impl std::fmt::Display for Grok {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Grok::At(e) => write!(f, "{e}"),
            Grok::NotBy(last) => write!(f, "not by {last}"),
            Grok::NotRecorded => f.write_str("not recorded"),
        }
    }
}

/// Which definition of "grokked" a count uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criterion {
    /// The first evaluated epoch at test accuracy >= 0.99.
    FirstCrossing,
    /// The first epoch from which test accuracy stays >= 0.99 for the
    /// run's `grok_window` epochs and to the end of training: the paper's
    /// criterion.
    Sustained,
}

/// Where a run's sustained grok epoch came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Stored at training time, from every evaluation, with the run's own
    /// window.
    Stored,
    /// Recomputed from the stored curves with the run's own window
    /// (results that predate the stored record).
    Recomputed,
    /// Neither is possible: only the first crossing is known.
    FirstCrossingOnly,
}

/// One run's outcome, resolved once.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// The run.
    pub run_id: String,
    /// Its operation as configured.
    pub op: String,
    /// Its seed.
    pub seed: u64,
    /// First epoch at training accuracy >= 0.99.
    pub memorised: Option<u32>,
    /// By the first crossing (always recorded).
    pub first_crossing: Grok,
    /// By the sustained criterion.
    pub sustained: Grok,
    /// Where [`RunOutcome::sustained`] came from.
    pub source: Source,
    /// The window the sustained criterion used (the run's `grok_window`;
    /// results stored before it was a setting were all trained with
    /// [`crate::grok::DEFAULT_WINDOW`]).
    pub window: u32,
}

impl RunOutcome {
    /// The run's grok by `criterion`.
    pub fn grok(&self, criterion: Criterion) -> Grok {
        match criterion {
            Criterion::FirstCrossing => self.first_crossing,
            Criterion::Sustained => self.sustained,
        }
    }

    /// Resolves one results row: the sustained epoch stored with it when
    /// the row has the sustained record (`last_epoch`), else recomputed
    /// from `test_accuracy` (its stored curve, epochs ascending) when
    /// there is one, else not recorded.
    pub fn of(row: &ResultRow, test_accuracy: Option<&[(u32, f64)]>) -> Self {
        let window = row
            .grok_window
            .unwrap_or(crate::grok::DEFAULT_WINDOW as u32);
        let last = row.last_epoch.unwrap_or(row.epochs);
        let grok = |e: Option<u32>| e.map_or(Grok::NotBy(last), Grok::At);
        let (sustained, source) = match (row.last_epoch, test_accuracy) {
            (Some(_), _) => (grok(row.sustained_grok_epoch), Source::Stored),
            (None, Some(curve)) => (
                grok(crate::grok::sustained(curve, window)),
                Source::Recomputed,
            ),
            (None, None) => (Grok::NotRecorded, Source::FirstCrossingOnly),
        };
        Self {
            run_id: row.run_id.clone(),
            op: row.op.clone(),
            seed: row.seed,
            memorised: row.memorised_epoch,
            first_crossing: grok(row.grokked_epoch),
            sustained,
            source,
            window,
        }
    }
}

impl SweepData {
    /// Every run's outcome, in results order. The curves are read only
    /// when some run lacks the stored sustained record.
    ///
    /// # Errors
    /// Unreadable results or curves.
    pub fn outcomes(&self) -> Result<Vec<RunOutcome>> {
        let runs = self.runs()?;
        let mut series: BTreeMap<String, Vec<(u32, f64)>> = BTreeMap::new();
        if self.curves.is_some() && runs.iter().any(|r| r.last_epoch.is_none()) {
            for c in self.curve_rows()? {
                if c.row.split == "test" && c.row.metric == "accuracy" {
                    series
                        .entry(c.run_id)
                        .or_default()
                        .push((c.row.epoch, c.row.value));
                }
            }
            for s in series.values_mut() {
                s.sort_by_key(|p| p.0);
            }
        }
        let curves = self.curves.is_some();
        Ok(runs
            .iter()
            .map(|r| {
                let curve = series.get(&r.run_id).map(Vec::as_slice);
                // A run the curves table lacks has an empty curve: it never
                // reached 0.99, as before the stored record.
                RunOutcome::of(r, curve.or(curves.then_some(&[][..])))
            })
            .collect())
    }

    /// [`SweepData::outcomes`] for counting sustained groks: refuses a sweep
    /// where some run's sustained epoch is not recorded, which a count must
    /// not read as "not grokked".
    ///
    /// # Errors
    /// As [`SweepData::outcomes`], or a run without the sustained record
    /// (the message says how to get it).
    pub fn sustained_outcomes(&self) -> Result<Vec<RunOutcome>> {
        let outcomes = self.outcomes()?;
        if let Some(o) = outcomes.iter().find(|o| !o.sustained.is_recorded()) {
            let curves = self
                .need(&self.curves, "curves")
                .err()
                .map_or_else(String::new, |e| format!(" ({e})"));
            return Err(ReportError::Data(format!(
                "{}: run {} has no sustained-grok record (these results predate the sustained criterion of grokscope 0.2) and no curves to recompute it from{curves}, so it cannot be counted as grokked or not; retrain the sweep with this grokscope",
                self.location().display(),
                o.run_id
            )));
        }
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::data::Swept;
    use crate::report::tables::ablation::ablation_table;
    use crate::results::rows::GroupRow;

    #[test]
    fn sustained_epochs_are_recomputed_from_the_curves_with_the_runs_own_window() {
        use crate::results::record::Record;
        use polars::prelude::*;
        // Run a crosses at 100, falls back at 200, holds from 300 to 900;
        // run b crosses at 100 and falls back for good.
        let mut run = Vec::new();
        let mut epoch = Vec::new();
        let mut value = Vec::new();
        for e in (0..=900).step_by(100) {
            run.push("a");
            epoch.push(e as u32);
            value.push(if e == 100 || e >= 300 { 1.0 } else { 0.5 });
            run.push("b");
            epoch.push(e as u32);
            value.push(if e == 100 { 1.0 } else { 0.5 });
        }
        let n = run.len();
        let curves = df!(
            "run_id" => run,
            "epoch" => epoch,
            "split" => vec!["test"; n],
            "metric" => vec!["accuracy"; n],
            "value" => value,
        )
        .unwrap();
        let runs: Vec<ResultRow> = ["a", "b"]
            .into_iter()
            .map(|id| ResultRow {
                run_id: id.into(),
                grokked_epoch: Some(100),
                ..Default::default()
            })
            .collect();
        let sweep = SweepData {
            name: "t".into(),
            results: ResultRow::frame(&runs).unwrap(),
            curves: Some(curves),
            ..Default::default()
        };
        // These rows predate the stored record: recomputed from the curves
        // with the default window, the first crossing kept beside it.
        let o = sweep.outcomes().unwrap();
        assert_eq!(
            o.iter().map(|o| o.sustained).collect::<Vec<_>>(),
            [Grok::At(300), Grok::NotBy(0)]
        );
        assert!(o
            .iter()
            .all(|o| o.source == Source::Recomputed && o.window == 500));
        assert!(o.iter().all(|o| o.first_crossing == Grok::At(100)));
        assert_eq!(o[1].grok(Criterion::FirstCrossing), Grok::At(100));
        assert_eq!(o[1].grok(Criterion::Sustained).epoch(), None);
        // The ablation tables count the same way: both runs crossed at 100,
        // one sustained from 300, the other fell back.
        let mut ablation = sweep.clone();
        let runs: Vec<ResultRow> = ["a", "b"]
            .into_iter()
            .map(|id| ResultRow {
                run_id: id.into(),
                op: "s3".into(),
                weight_decay: 1.0,
                grokked_epoch: Some(100),
                final_test_accuracy: Some(0.5),
                ..Default::default()
            })
            .collect();
        ablation.results = ResultRow::frame(&runs).unwrap();
        ablation.groups = Some(GroupRow::frame(&[GroupRow::of("s3").unwrap()]).unwrap());
        let t = ablation_table(&ablation, Swept::WeightDecay, "weight decay").unwrap();
        assert!(t.contains("1 & 300 (1/2)"), "{t}");
        // A sweep trained with grok_window = 300 is counted with 300: run
        // c holds from 100 to 400 and falls back at 500 (long enough for
        // its own window, not for the default 500).
        let (mut epoch, mut value) = (Vec::new(), Vec::new());
        for e in (0..=900).step_by(100) {
            epoch.push(e as u32);
            value.push(if (100..=400).contains(&e) { 1.0 } else { 0.5 });
        }
        let curves = df!(
            "run_id" => vec!["c"; epoch.len()],
            "epoch" => epoch.clone(),
            "split" => vec!["test"; epoch.len()],
            "metric" => vec!["accuracy"; epoch.len()],
            "value" => value,
        )
        .unwrap();
        let counted = |window: Option<u32>| {
            let row = ResultRow {
                run_id: "c".into(),
                grokked_epoch: Some(100),
                grok_window: window,
                ..Default::default()
            };
            let sweep = SweepData {
                name: "t".into(),
                results: ResultRow::frame(&[row]).unwrap(),
                curves: Some(curves.clone()),
                ..Default::default()
            };
            sweep
                .outcomes()
                .unwrap()
                .into_iter()
                .map(|o| o.sustained.epoch())
                .collect::<Vec<_>>()
        };
        assert_eq!(counted(Some(300)), vec![Some(100)]);
        assert_eq!(counted(Some(500)), vec![None]);
        // Results stored before grok_window was a setting: the default.
        assert_eq!(counted(None), vec![None]);
    }

    #[test]
    fn a_stored_record_wins_and_its_absence_is_not_recorded_never_not_grokked() {
        use crate::results::record::Record;
        let row = |last: Option<u32>, sustained: Option<u32>| ResultRow {
            run_id: "r".into(),
            op: "s3".into(),
            epochs: 3000,
            grokked_epoch: Some(700),
            sustained_grok_epoch: sustained,
            last_epoch: last,
            grok_window: Some(300),
            ..Default::default()
        };
        // Stored: the record wins, even over curves that would say otherwise.
        let o = RunOutcome::of(&row(Some(2000), Some(900)), Some(&[(0, 0.1), (100, 1.0)]));
        assert_eq!(
            (o.sustained, o.source, o.window),
            (Grok::At(900), Source::Stored, 300)
        );
        // Stored and never sustained: not grokked by its last epoch (a run
        // stopped early stops before its budget).
        let o = RunOutcome::of(&row(Some(2000), None), None);
        assert_eq!(o.sustained, Grok::NotBy(2000));
        // Neither record nor curves: not recorded, and counts refuse it.
        let o = RunOutcome::of(&row(None, None), None);
        assert_eq!(
            (o.sustained, o.source),
            (Grok::NotRecorded, Source::FirstCrossingOnly)
        );
        assert_eq!(o.first_crossing, Grok::At(700));
        let sweep = SweepData {
            name: "old".into(),
            results: ResultRow::frame(&[row(None, None)]).unwrap(),
            ..Default::default()
        };
        let e = sweep.sustained_outcomes().unwrap_err().to_string();
        assert!(
            e.contains("run r has no sustained-grok record")
                && e.contains("curves.parquet is missing")
                && e.contains("retrain"),
            "{e}"
        );
        assert_eq!(sweep.outcomes().unwrap()[0].sustained, Grok::NotRecorded);
    }
}
