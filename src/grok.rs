//! Grokking criteria read off an evaluation series (no tch): memorised,
//! first crossing, and the sustained criterion every count and verdict uses.
//!
//! - **memorised**: first evaluated epoch with train accuracy ≥ 0.99;
//! - **first crossing** (`grokked_epoch`): first evaluated epoch with test
//!   accuracy ≥ 0.99;
//! - **sustained grok**: the first evaluated epoch e at which accuracy is
//!   ≥ 0.99 at every evaluation in [e, e + window], confirmed only once the
//!   run has reached e + window. It depends on the evaluations up to
//!   e + window alone, so a run stopped there and the same run trained to a
//!   longer budget record the same epoch;
//! - **relapses**: dips after the sustained epoch, a dip being a maximal
//!   stretch of consecutive evaluations below 0.99 (a drop that lasts three
//!   evaluations is one relapse). Results stored before 2026-12-05 hold
//!   the number of evaluations below 0.99 instead; the report recounts
//!   dips from the curves wherever it cites relapses.
//!
//! ```
//! use grokscope::grok::sustained;
//! // Crosses at 20, dips at 40, then holds from 50 on.
//! let series = [(0, 0.1), (10, 0.5), (20, 0.995), (30, 1.0), (40, 0.9), (50, 1.0), (60, 1.0), (70, 1.0)];
//! assert_eq!(sustained(&series, 20), Some(50));
//! assert_eq!(sustained(&series[..7], 20), None); // 50 + 20 not reached yet
//! ```

use serde::{Deserialize, Serialize};

/// Accuracy threshold for "memorised" and "grokked".
pub const THRESHOLD: f64 = 0.99;

/// Default length of the window a sustained grok must hold, in epochs.
pub const DEFAULT_WINDOW: usize = 500;

/// Fewest informative test pairs for an informative-accuracy criterion.
pub const MIN_INFORMATIVE_PAIRS: usize = 30;

/// The first evaluated epoch whose accuracy is ≥ [`THRESHOLD`].
///
/// `series` is (epoch, accuracy) in increasing epoch order.
pub fn first_crossing(series: &[(u32, f64)]) -> Option<u32> {
    series
        .iter()
        .find(|(_, a)| *a >= THRESHOLD)
        .map(|(e, _)| *e)
}

/// The sustained-grok epoch of a series (see the module docs), or `None`
/// when no window of `window` epochs has been held and confirmed.
///
/// `series` is (epoch, accuracy) in increasing epoch order.
pub fn sustained(series: &[(u32, f64)], window: u32) -> Option<u32> {
    let mut start: Option<u32> = None;
    for &(epoch, acc) in series {
        if let Some(s) = start {
            // Every evaluation in [s, s + window] held and the run went past it.
            if u64::from(epoch) > u64::from(s) + u64::from(window) {
                return Some(s);
            }
        }
        if acc >= THRESHOLD {
            let s = *start.get_or_insert(epoch);
            if u64::from(epoch) >= u64::from(s) + u64::from(window) {
                return Some(s);
            }
        } else {
            start = None;
        }
    }
    None
}

/// Dips after `from` (maximal stretches of consecutive evaluations below
/// [`THRESHOLD`]): how many, and the first one's epoch.
pub fn relapses(series: &[(u32, f64)], from: u32) -> (u32, Option<u32>) {
    let (mut dips, mut first, mut below) = (0, None, false);
    for &(e, a) in series.iter().filter(|(e, _)| *e > from) {
        if a < THRESHOLD && !below {
            dips += 1;
            first.get_or_insert(e);
        }
        below = a < THRESHOLD;
    }
    (dips, first)
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It trained its whole budget.
    #[default]
    Budget,
    /// `stop_after_grok`: it ended at sustained grok + window.
    SustainedGrok,
    /// Its training loss stopped being a finite number (a learning rate or
    /// Grokfast amplification too large): it ended at that evaluation.
    /// A diverged run is a result, stored and aggregated like any other.
    Diverged,
}

/// Reads a stored number that is `null` when it was not finite (JSON has
/// no NaN or infinity: serde_json writes them as `null`) as NaN.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The outcome of one run, as stored in its manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// First evaluated epoch with train accuracy >= 0.99 (`null` if never).
    pub memorised_epoch: Option<u32>,
    /// First evaluated epoch with test accuracy >= 0.99: the first crossing
    /// (`null` = never crossed).
    pub grokked_epoch: Option<u32>,
    /// grokked − memorised, when both happened.
    pub grok_delay: Option<u32>,
    /// The sustained criterion on test accuracy ([`crate::grok`]); what
    /// every count and verdict uses.
    pub sustained_grok_epoch: Option<u32>,
    /// The sustained criterion on informative test accuracy, for runs with
    /// at least 30 informative pairs.
    pub sustained_informative_grok_epoch: Option<u32>,
    /// Test evaluations below 0.99 after the sustained epoch.
    pub relapses: Option<u32>,
    /// The first of them.
    pub first_relapse_epoch: Option<u32>,
    /// The last epoch trained.
    pub last_epoch: u32,
    /// Why the run ended.
    pub stop_reason: StopReason,
    /// Train accuracy at the last epoch.
    #[serde(deserialize_with = "nan_if_null")]
    pub final_train_accuracy: f64,
    /// Test accuracy at the last epoch.
    #[serde(deserialize_with = "nan_if_null")]
    pub final_test_accuracy: f64,
    /// Accuracy on the informative test pairs at the last epoch.
    #[serde(deserialize_with = "nan_if_null")]
    pub final_informative_accuracy: f64,
    /// Train loss at the last epoch.
    #[serde(deserialize_with = "nan_if_null")]
    pub final_train_loss: f64,
    /// Test loss at the last epoch.
    #[serde(deserialize_with = "nan_if_null")]
    pub final_test_loss: f64,
    /// Number of informative test pairs.
    pub informative_pairs: usize,
    /// Number of test pairs.
    pub test_pairs: usize,
    /// Wall time of the (possibly batched) training, seconds, summed over
    /// the processes that trained it when it was resumed or extended.
    #[serde(deserialize_with = "nan_if_null")]
    pub wall_seconds: f64,
    /// Evaluated epochs where train loss jumped more than tenfold after
    /// memorisation ([`crate::grok::loss_spikes`]); empty in manifests
    /// written before grokscope recorded them.
    #[serde(default)]
    pub loss_spikes: Vec<u32>,
}

/// Every grokking criterion of one run's evaluation series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrokReport {
    /// First evaluated epoch with train accuracy ≥ 0.99.
    pub memorised_epoch: Option<u32>,
    /// First evaluated epoch with test accuracy ≥ 0.99 (the first crossing).
    pub grokked_epoch: Option<u32>,
    /// The sustained criterion on test accuracy.
    pub sustained_grok_epoch: Option<u32>,
    /// The sustained criterion on informative test accuracy, where the run
    /// has at least [`MIN_INFORMATIVE_PAIRS`] informative pairs.
    pub sustained_informative_grok_epoch: Option<u32>,
    /// Test evaluations below 0.99 after the sustained epoch (`None` if
    /// never sustained).
    pub relapses: Option<u32>,
    /// The first of them.
    pub first_relapse_epoch: Option<u32>,
}

impl GrokReport {
    /// Reads the criteria off the train, test and informative-test accuracy
    /// series (each (epoch, accuracy), increasing epochs).
    pub fn of(
        train: &[(u32, f64)],
        test: &[(u32, f64)],
        informative: &[(u32, f64)],
        informative_pairs: usize,
        window: u32,
    ) -> Self {
        let sustained_grok_epoch = sustained(test, window);
        let (relapses, first_relapse_epoch) = match sustained_grok_epoch {
            Some(e) => {
                let (n, first) = self::relapses(test, e);
                (Some(n), first)
            }
            None => (None, None),
        };
        Self {
            memorised_epoch: first_crossing(train),
            grokked_epoch: first_crossing(test),
            sustained_grok_epoch,
            sustained_informative_grok_epoch: (informative_pairs >= MIN_INFORMATIVE_PAIRS)
                .then(|| sustained(informative, window))
                .flatten(),
            relapses,
            first_relapse_epoch,
        }
    }

    /// One word for tables and the CLI: `grokked`, `crossed` (crossed 0.99
    /// but never held a window) or `not grokked`.
    pub fn verdict(&self) -> &'static str {
        match (self.sustained_grok_epoch, self.grokked_epoch) {
            (Some(_), _) => "grokked",
            (None, Some(_)) => "crossed, not grokked",
            (None, None) => "not grokked",
        }
    }
}

/// A train loss that rises more than this factor between two successive
/// evaluations after memorisation is a loss spike.
pub const SPIKE_FACTOR: f64 = 10.0;

/// The evaluated epochs at which train loss jumped more than
/// [`SPIKE_FACTOR`]× over the evaluation before, counting only jumps whose
/// earlier evaluation is at or after `memorised` (none before memorisation).
pub fn loss_spikes(train_loss: &[(u32, f64)], memorised: Option<u32>) -> Vec<u32> {
    let Some(from) = memorised else {
        return Vec::new();
    };
    train_loss
        .windows(2)
        .filter(|w| w[0].0 >= from && w[1].1 > SPIKE_FACTOR * w[0].1)
        .map(|w| w[1].0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[f64], every: u32) -> Vec<(u32, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as u32 * every, v))
            .collect()
    }

    #[test]
    fn a_window_must_hold_at_every_evaluation_and_be_reached() {
        let s = series(&[0.0, 1.0, 1.0, 0.98, 1.0, 1.0, 1.0, 1.0], 10);
        // 10..30 breaks at 30; 40 holds through 60.
        assert_eq!(sustained(&s, 20), Some(40));
        // Window of 30 from 40 needs epoch 70: reached, all >= 0.99.
        assert_eq!(sustained(&s, 30), Some(40));
        // Window of 40 from 40 needs epoch 80: the run ends at 70.
        assert_eq!(sustained(&s, 40), None);
        // A zero window is the first crossing.
        assert_eq!(sustained(&s, 0), first_crossing(&s));
    }

    #[test]
    fn the_threshold_is_inclusive_and_a_dip_at_the_window_end_breaks_it() {
        let s = series(&[0.99, 0.99, 0.989_999], 10);
        assert_eq!(sustained(&s, 10), Some(0));
        assert_eq!(sustained(&s, 20), None);
    }

    #[test]
    fn the_epoch_does_not_depend_on_where_the_run_ends() {
        let full = series(&[0.2, 0.995, 0.5, 1.0, 1.0, 1.0, 0.7, 1.0, 1.0], 10);
        let e = sustained(&full, 20).unwrap();
        assert_eq!(e, 30);
        // Stopped at e + window: the same epoch.
        let stopped: Vec<_> = full.iter().copied().filter(|(x, _)| *x <= e + 20).collect();
        assert_eq!(sustained(&stopped, 20), Some(e));
        // The later dip is a relapse of the full run.
        assert_eq!(relapses(&full, e), (1, Some(60)));
    }

    #[test]
    fn a_relapse_is_a_dip_however_many_evaluations_it_lasts() {
        // Two dips after epoch 10: 30-50 (three evaluations) and 80.
        let s = series(&[0.5, 1.0, 1.0, 0.9, 0.5, 0.98, 1.0, 1.0, 0.7, 1.0], 10);
        assert_eq!(relapses(&s, 10), (2, Some(30)));
        // A dip already under way at `from` counts from its next evaluation.
        assert_eq!(relapses(&s, 30), (2, Some(40)));
        assert_eq!(relapses(&s, 90), (0, None));
    }

    #[test]
    fn evaluations_off_the_window_grid_confirm_once_passed() {
        // Evaluations every 30, window 20: the window [30, 50] holds 30 only,
        // confirmed when the run reaches 60.
        let s = vec![(0, 0.1), (30, 1.0), (60, 0.2)];
        assert_eq!(sustained(&s, 20), Some(30));
        assert_eq!(sustained(&s[..2], 20), None);
    }

    #[test]
    fn report_separates_crossed_from_grokked_and_needs_30_informative_pairs() {
        let train = series(&[0.5, 1.0, 1.0, 1.0, 1.0], 10);
        let test = series(&[0.1, 0.995, 0.7, 0.8, 0.9], 10);
        let r = GrokReport::of(&train, &test, &test, 29, 20);
        assert_eq!(r.memorised_epoch, Some(10));
        assert_eq!(r.grokked_epoch, Some(10));
        assert_eq!(r.sustained_grok_epoch, None);
        assert_eq!(r.relapses, None);
        assert_eq!(r.verdict(), "crossed, not grokked");
        let held = series(&[0.1, 1.0, 1.0, 1.0, 0.5], 10);
        let r = GrokReport::of(&train, &held, &held, 30, 20);
        assert_eq!(r.sustained_grok_epoch, Some(10));
        assert_eq!(r.sustained_informative_grok_epoch, Some(10));
        assert_eq!((r.relapses, r.first_relapse_epoch), (Some(1), Some(40)));
        assert_eq!(r.verdict(), "grokked");
        let r = GrokReport::of(&train, &held, &held, 29, 20);
        assert_eq!(r.sustained_informative_grok_epoch, None);
    }

    #[test]
    fn loss_spikes_count_tenfold_jumps_after_memorisation() {
        let loss = [
            (0, 4.0),
            (10, 50.0), // a jump before memorisation: not counted
            (20, 0.5),
            (30, 5.0), // exactly 10x: not (more than 10x)
            (40, 2e-6),
            (50, 4e-5), // 20x: a spike
            (60, 3e-4), // 7.5x: not
            (70, 3e-2), // 100x: a spike
        ];
        assert_eq!(loss_spikes(&loss, Some(20)), vec![50, 70]);
        assert_eq!(loss_spikes(&loss, Some(0)), vec![10, 50, 70]);
        assert!(loss_spikes(&loss, None).is_empty());
    }
}
