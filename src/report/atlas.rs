//! The atlas' stored results (`experiments/atlas/`) as groups: per group
//! its class, its invariants computed from its Cayley table and its seeds'
//! sustained grok epochs, by order; which orders are complete. The claims
//! A1–A4 are decided in [`crate::report::claims::atlas`], the tables are
//! [`crate::report::tables::atlas`], the figures
//! [`crate::report::figures::atlas`], and [`super::browser`] browses it.

use super::data::SweepData;
use super::{ReportError, Result};
use crate::analysis::atlas::{restricted_mean_time, Stratum, MIN_GROUPS};
use crate::analysis::complexity::smallest_faithful_dim;
use crate::groups::invariants::Invariants;
use crate::groups::FiniteGroup;
use std::collections::BTreeMap;
use std::path::Path;

/// One group of the atlas: its order, its invariants and its runs'
/// sustained grok epochs.
#[derive(Debug, Clone, PartialEq)]
pub struct AtlasGroup {
    /// `smallgroup:n,i`.
    pub op: String,
    /// n.
    pub order: usize,
    /// The invariants of A1–A4, in their order: |G/G'|, b(G), F1, k(G)/|G|.
    pub invariants: [f64; 4],
    /// Each seed's sustained grok epoch (`None`: not by its last epoch).
    pub epochs: Vec<Option<u32>>,
    /// Each seed's first crossing of 0.99 test accuracy, likewise (the
    /// exploratory variant of the test reads these).
    pub first_crossings: Vec<Option<u32>>,
    /// The budget the runs had.
    pub budget: u32,
    /// Where it sits in abelian ⊂ nilpotent ⊂ solvable.
    pub class: GroupClass,
    /// Whether it is cyclic (an element generates it).
    pub cyclic: bool,
    /// Its nilpotency class (0: not nilpotent).
    pub nilpotency_class: usize,
}

/// The smallest of abelian ⊂ nilpotent ⊂ solvable a group belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum GroupClass {
    /// Abelian.
    #[default]
    Abelian,
    /// Nilpotent, not abelian.
    Nilpotent,
    /// Solvable, not nilpotent.
    Solvable,
    /// Not solvable (A5 is the only one up to order 64).
    NotSolvable,
}

impl GroupClass {
    /// The class of a group with these invariants.
    pub fn of(inv: &Invariants) -> Self {
        if inv.derived_order == 1 {
            Self::Abelian
        } else if inv.nilpotency_class > 0 {
            Self::Nilpotent
        } else if inv.derived_length > 0 {
            Self::Solvable
        } else {
            Self::NotSolvable
        }
    }

    /// Its name in figures and tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::Abelian => "abelian",
            Self::Nilpotent => "nilpotent, non-abelian",
            Self::Solvable => "solvable, not nilpotent",
            Self::NotSolvable => "not solvable",
        }
    }

    /// Every class, in order.
    pub const ALL: [Self; 4] = [
        Self::Abelian,
        Self::Nilpotent,
        Self::Solvable,
        Self::NotSolvable,
    ];
}

impl AtlasGroup {
    /// The restricted mean time to a sustained grok.
    pub fn time(&self) -> f64 {
        restricted_mean_time(&self.epochs, self.budget)
    }

    /// The restricted mean time to the first crossing.
    pub fn time_to_first_crossing(&self) -> f64 {
        restricted_mean_time(&self.first_crossings, self.budget)
    }
}

/// The atlas as its claims read it: every group of the complete orders.
#[derive(Debug, Clone, PartialEq)]
pub struct Atlas {
    /// Orders whose every planned run is in the results.
    pub complete: Vec<usize>,
    /// Orders the sweep file plans.
    pub planned: Vec<usize>,
    /// The groups of the complete orders.
    pub groups: Vec<AtlasGroup>,
    /// Every stored run (complete orders or not) by the CPU model its
    /// row records; `None`: not recorded (see `ResultRow::cpu`).
    pub cpus: BTreeMap<Option<String>, usize>,
    /// Every stored run's wall-clock training time, summed, in hours.
    pub wall_hours: f64,
    /// The grokked stored runs, complete order or not, with the kind of
    /// their embedding's dominant irrep where it was recorded.
    pub grokked_irreps: Vec<GrokkedIrrep>,
}

/// One grokked atlas run and its embedding's dominant irrep (exploratory).
#[derive(Debug, Clone, PartialEq)]
pub struct GrokkedIrrep {
    /// The group's order.
    pub order: usize,
    /// The dominant irrep's kind; `None` when the run was not analysed
    /// before aggregation.
    pub kind: Option<IrrepKind>,
}

/// What kind of irrep a run's embedding builds on, and what its group
/// allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IrrepKind {
    /// The irrep's complex degree.
    pub degree: u32,
    /// Whether it is faithful.
    pub faithful: bool,
    /// Whether the group is abelian.
    pub abelian: bool,
    /// Whether the group has a faithful irrep at all.
    pub group_has_faithful: bool,
}

/// SmallGroup (n, i), loaded from the shipped export the first time it is
/// asked for.
fn cached(
    tables: &mut BTreeMap<(usize, usize), FiniteGroup>,
    n: usize,
    i: usize,
) -> std::result::Result<&FiniteGroup, crate::groups::GroupError> {
    match tables.entry((n, i)) {
        std::collections::btree_map::Entry::Occupied(e) => Ok(e.into_mut()),
        std::collections::btree_map::Entry::Vacant(e) => {
            Ok(e.insert(crate::groups::small::small_group(n, i)?))
        }
    }
}

/// `smallgroup:n,i` as (n, i).
pub(crate) fn small_id(op: &str) -> Option<(usize, usize)> {
    let (n, i) = op.strip_prefix("smallgroup:")?.split_once(',')?;
    Some((n.trim().parse().ok()?, i.trim().parse().ok()?))
}

impl Atlas {
    /// Reads `experiments/atlas/` and the plan of `experiments/atlas.toml`;
    /// `None` when there are no atlas results.
    ///
    /// # Errors
    /// Unreadable tables or sweep file, results without the sustained
    /// record, or a run that is not a SmallGroups group.
    pub fn load(experiments: &Path) -> Result<Option<Self>> {
        let Some(sweep) = SweepData::load(experiments, "atlas")? else {
            return Ok(None);
        };
        let data = |e: String| ReportError::Data(format!("experiments/atlas: {e}"));
        let spec = crate::sweep::SweepSpec::from_file(&experiments.join("atlas.toml"))
            .map_err(|e| data(e.to_string()))?;
        // Runs planned per order, and per group the runs present.
        let mut planned: BTreeMap<usize, usize> = BTreeMap::new();
        for group in spec.expand().map_err(|e| data(e.to_string()))? {
            for cfg in group {
                let (n, _) = small_id(&cfg.op)
                    .ok_or_else(|| data(format!("{} is not smallgroup:n,i", cfg.op)))?;
                *planned.entry(n).or_default() += 1;
            }
        }
        // Each group's runs; its invariants are filled in once its order
        // is known to be complete.
        let mut runs: BTreeMap<(usize, usize), AtlasGroup> = BTreeMap::new();
        let mut cpus: BTreeMap<Option<String>, usize> = BTreeMap::new();
        let mut wall_hours = 0.0;
        let mut grokked_irreps = Vec::new();
        // Each group's table, loaded once for the two passes below (the
        // analysed runs' groups, then the complete orders' invariants).
        let mut tables: BTreeMap<(usize, usize), FiniteGroup> = BTreeMap::new();
        for (r, o) in sweep.runs()?.iter().zip(sweep.sustained_outcomes()?) {
            *cpus.entry(r.cpu.clone()).or_default() += 1;
            wall_hours += r.wall_seconds / 3600.0;
            let (n, i) =
                small_id(&r.op).ok_or_else(|| data(format!("{} is not smallgroup:n,i", r.op)))?;
            if o.sustained.epoch().is_some() {
                let kind = match r.dominant_degree.zip(r.dominant_faithful) {
                    None => None,
                    Some((degree, faithful)) => {
                        let g = cached(&mut tables, n, i).map_err(|e| data(e.to_string()))?;
                        Some(IrrepKind {
                            degree,
                            faithful,
                            abelian: g.is_abelian(),
                            group_has_faithful: g
                                .representations()
                                .real
                                .iter()
                                .any(|r| r.is_faithful()),
                        })
                    }
                };
                grokked_irreps.push(GrokkedIrrep { order: n, kind });
            }
            let g = runs.entry((n, i)).or_insert_with(|| AtlasGroup {
                op: r.op.clone(),
                order: n,
                invariants: [0.0; 4],
                epochs: Vec::new(),
                first_crossings: Vec::new(),
                budget: r.epochs,
                class: GroupClass::Abelian,
                cyclic: false,
                nilpotency_class: 0,
            });
            g.epochs.push(o.sustained.epoch());
            g.first_crossings.push(o.first_crossing.epoch());
            g.budget = g.budget.max(r.epochs);
        }
        let mut present: BTreeMap<usize, usize> = BTreeMap::new();
        for g in runs.values() {
            *present.entry(g.order).or_default() += g.epochs.len();
        }
        let complete: Vec<usize> = planned
            .iter()
            .filter(|(n, want)| present.get(n) == Some(want))
            .map(|(&n, _)| n)
            .collect();
        let mut groups = Vec::new();
        for ((n, i), mut group) in runs {
            if !complete.contains(&n) {
                continue;
            }
            let g = cached(&mut tables, n, i).map_err(|e| data(e.to_string()))?;
            let inv = Invariants::of(g);
            group.invariants = [
                inv.abelianisation_order() as f64,
                inv.max_degree as f64,
                smallest_faithful_dim(g) as f64,
                inv.commuting_probability,
            ];
            group.class = GroupClass::of(&inv);
            group.nilpotency_class = inv.nilpotency_class;
            group.cyclic = g.element_orders().into_iter().max() == Some(n);
            groups.push(group);
        }
        Ok(Some(Self {
            complete,
            planned: planned.into_keys().collect(),
            groups,
            cpus,
            wall_hours,
            grokked_irreps,
        }))
    }

    /// Each hypothesis' strata: the complete orders with at least
    /// [`MIN_GROUPS`] groups, in increasing order.
    pub fn strata(&self) -> Vec<Vec<Stratum>> {
        self.strata_by(AtlasGroup::time)
    }

    /// The same strata with the time to the first crossing in place of
    /// the sustained grok (the pre-registered exploratory variant).
    pub fn strata_first_crossing(&self) -> Vec<Vec<Stratum>> {
        self.strata_by(AtlasGroup::time_to_first_crossing)
    }

    fn strata_by(&self, time: fn(&AtlasGroup) -> f64) -> Vec<Vec<Stratum>> {
        let mut by_order: BTreeMap<usize, Vec<&AtlasGroup>> = BTreeMap::new();
        for g in &self.groups {
            by_order.entry(g.order).or_default().push(g);
        }
        (0..4)
            .map(|h| {
                by_order
                    .iter()
                    .filter(|(_, gs)| gs.len() >= MIN_GROUPS)
                    .map(|(&order, gs)| Stratum {
                        order,
                        invariant: gs.iter().map(|g| g.invariants[h]).collect(),
                        time: gs.iter().map(|g| time(g)).collect(),
                    })
                    .collect()
            })
            .collect()
    }

    /// The longest budget any run had, in epochs (20 000 when there are
    /// no groups): where a group with no seed grokked sits.
    pub fn budget(&self) -> f64 {
        f64::from(self.groups.iter().map(|g| g.budget).max().unwrap_or(20_000))
    }

    /// Whether every planned order is complete.
    pub fn is_final(&self) -> bool {
        self.complete == self.planned
    }

    /// The planned orders not complete yet.
    pub fn pending_orders(&self) -> Vec<usize> {
        self.planned
            .iter()
            .copied()
            .filter(|o| !self.complete.contains(o))
            .collect()
    }

    /// The complete orders as ranges, e.g. `2-29, 31`.
    pub fn complete_orders(&self) -> String {
        ranges(&self.complete)
    }
}

/// Sorted integers as comma-separated runs: `2-29, 31`.
pub(crate) fn ranges(xs: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < xs.len() {
        let mut j = i;
        while j + 1 < xs.len() && xs[j + 1] == xs[j] + 1 {
            j += 1;
        }
        out.push(if j > i {
            format!("{}-{}", xs[i], xs[j])
        } else {
            xs[i].to_string()
        });
        i = j + 1;
    }
    out.join(", ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn ranges_join_runs_of_consecutive_orders() {
        assert_eq!(ranges(&[2, 3, 4, 5, 7, 9, 10]), "2-5, 7, 9-10");
        assert_eq!(ranges(&[]), "");
    }

    pub(crate) fn group(order: usize, inv: f64, epochs: &[Option<u32>]) -> AtlasGroup {
        AtlasGroup {
            op: format!("smallgroup:{order},1"),
            order,
            invariants: [inv; 4],
            epochs: epochs.to_vec(),
            first_crossings: epochs.to_vec(),
            budget: 20_000,
            class: GroupClass::Abelian,
            cyclic: false,
            nilpotency_class: 1,
        }
    }

    #[test]
    fn the_first_crossing_strata_read_the_first_crossings() {
        let mut groups: Vec<AtlasGroup> = (0..5)
            .map(|k| group(8, k as f64, &[Some(1000 * (5 - k)), None]))
            .collect();
        // Every run first crosses at epoch 100, whether it sustains or not.
        for g in &mut groups {
            g.first_crossings = vec![Some(100), Some(100)];
        }
        let atlas = Atlas {
            complete: vec![8],
            planned: vec![8],
            groups,
            cpus: Default::default(),
            wall_hours: 0.0,
            grokked_irreps: Vec::new(),
        };
        assert_eq!(atlas.strata()[0][0].time[0], 12_500.0);
        assert_eq!(atlas.strata_first_crossing()[0][0].time, vec![100.0; 5]);
    }

    #[test]
    fn classes_and_cyclicity_come_from_the_table() {
        use crate::groups::Operation;
        let class = |op: &str| {
            let g = Operation::parse(op).unwrap().group.unwrap();
            (
                GroupClass::of(&Invariants::of(&g)),
                g.element_orders().into_iter().max() == Some(g.order()),
            )
        };
        assert_eq!(class("ring:4"), (GroupClass::Abelian, true));
        assert_eq!(class("xor:2"), (GroupClass::Abelian, false));
        assert_eq!(class("smallgroup:8,4"), (GroupClass::Nilpotent, false)); // Q8
                                                                             // S3's exponent is its order, 6, yet it is not cyclic.
        assert_eq!(class("s3"), (GroupClass::Solvable, false));
        assert_eq!(class("alternating:5"), (GroupClass::NotSolvable, false));
    }
}
