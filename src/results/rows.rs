//! Typed rows of the stored tables: each struct is the one place its
//! table's columns are named (see [`crate::record!`]); the layouts in
//! [`super::LAYOUTS`] take their column lists from them.

use super::record::{Cell, Keyed, Record};

crate::record! {
    /// One row of a sweep's `cka.parquet`: a comparison averaged over its
    /// pairs of runs ([`crate::analysis::across_runs::cka_rows`]).
    pub struct CkaRow {
        /// First operation.
        op_a: String,
        /// Second operation (equal to `op_a` for same-operation rows).
        op_b: String,
        /// `cross_op_hidden_units`, `same_op_elements` or `reference_first_6_rows`.
        comparison: String,
        /// `linear`, `debiased_linear` or `rbf`.
        estimator: String,
        /// `final` or `init`.
        checkpoint: String,
        /// `seed_matched`, `seed_mismatched` or `different_seeds`.
        pairing: String,
        /// Mean CKA over the pairs.
        value: f64,
        /// Pairs of runs averaged.
        pairs: u32,
        /// Mean of the pairs' null means (NaN without a null).
        null_mean: f64,
        /// Mean of the pairs' null 95th percentiles (NaN without a null).
        null_p95: f64,
        /// The largest p-value over the pairs (conservative; NaN without a null).
        p_value: f64,
    }
}

crate::record! {
    /// One row of a sweep's `analysis.parquet`: what the analysis found in
    /// one run's weights (docs/design.md defines each measure). `_init`
    /// columns are the same measure on the run's initial weights.
    pub struct AnalysisRow {
        /// The run.
        run_id: String,
        /// The operation as configured.
        op: String,
        /// The run's seed.
        seed: u64,
        /// The analysis group.
        group: String,
        /// Whether the run sustain-grokked.
        grokked: bool,
        /// Dominant non-trivial irrep of the embedding.
        dominant_irrep: String,
        /// Its share of the embedding's non-constant power.
        dominant_share: f64,
        /// The same irrep's share at initialisation.
        dominant_share_init: f64,
        /// Its share under an isotropic (random) embedding.
        dominant_expected: f64,
        /// The embedding's key irreps, space-separated.
        key_irreps: String,
        /// Dominant irrep of the unembedding.
        unembed_dominant: String,
        /// Its share.
        unembed_dominant_share: f64,
        /// Dominant irrep pair `ρ⊗σ` of the MLP neurons over G × G.
        neurons_dominant: String,
        /// Its share.
        neurons_dominant_share: f64,
        /// The neurons' share on (ρ, ρ) pairs.
        neurons_diagonal_share: f64,
        /// The same at initialisation.
        neurons_diagonal_share_init: f64,
        /// Gini of the embedding's irrep spectrum.
        gini: f64,
        /// The same at initialisation.
        gini_init: f64,
        /// Fourier power in the top frequency (cyclic analysis groups only).
        concentration_k1: Option<f64>,
        /// Fourier power in the top five frequencies.
        concentration_k5: Option<f64>,
        /// `concentration_k1` at initialisation.
        concentration_k1_init: Option<f64>,
        /// `concentration_k5` at initialisation.
        concentration_k5_init: Option<f64>,
        /// The key frequencies, as a list.
        key_frequencies: Option<String>,
        /// Accuracy of the Fourier probe.
        probe_accuracy: Option<f64>,
        /// The same at initialisation.
        probe_accuracy_init: Option<f64>,
        /// `concentration_k1` in raw label order (no discrete-log relabelling).
        raw_concentration_k1: Option<f64>,
        /// `concentration_k5` in raw label order.
        raw_concentration_k5: Option<f64>,
        /// `probe_accuracy` in raw label order.
        raw_probe_accuracy: Option<f64>,
    }
    optional {
        /// Coset test accuracy on the informative test pairs.
        coset_accuracy: f64,
        /// The same at initialisation.
        coset_accuracy_init: f64,
        /// The coset test's chance level.
        coset_chance: f64,
        /// Informative test pairs in the analysis group.
        coset_pairs: u32,
        /// Coset test accuracy on the pairs whose transpose is not in training.
        coset_accuracy_unseen: f64,
        /// The same at initialisation.
        coset_accuracy_unseen_init: f64,
        /// Those pairs.
        coset_pairs_unseen: u32,
        /// Gradient symmetricity (cyclic analysis groups only).
        gradient_symmetricity: f64,
        /// The same at initialisation.
        gradient_symmetricity_init: f64,
        /// Distance irrelevance (cyclic analysis groups only).
        distance_irrelevance: f64,
        /// The same at initialisation.
        distance_irrelevance_init: f64,
        /// Mean neuron irrep purity.
        neuron_purity: f64,
        /// The same at initialisation.
        neuron_purity_init: f64,
        /// Share of neurons whose strongest irrep pair is key on both axes.
        key_neuron_share: f64,
        /// The same at initialisation.
        key_neuron_share_init: f64,
        /// Test accuracy of the unablated model.
        ablation_none_accuracy: f64,
        /// Test accuracy with only the key irreps (and the mean) kept.
        ablation_keep_key_accuracy: f64,
        /// The lowest test accuracy with one key irrep removed.
        ablation_remove_key_min_accuracy: f64,
        /// The complex degree of the embedding's dominant irrep.
        dominant_degree: u32,
        /// Whether the dominant irrep is faithful (its kernel is the
        /// identity alone).
        dominant_faithful: bool,
    }
}

crate::record! {
    /// One row of a sweep's `complexity.parquet`: Spearman ρ of one
    /// complexity score with grok epochs over one subset of runs
    /// ([`crate::analysis::across_runs::complexity_rows`]).
    pub struct ComplexityRow {
        /// `all` or `abelian`.
        subset: String,
        /// The score's name.
        score: String,
        /// ρ (`None` if undefined).
        spearman_rho: Option<f64>,
        /// 2.5th percentile of its bootstrap distribution.
        ci_low: Option<f64>,
        /// 97.5th percentile.
        ci_high: Option<f64>,
        /// Runs used.
        runs: u32,
        /// Runs that never grokked (censored, ranked last).
        censored: u32,
    }
}

crate::record! {
    /// One row of a run's `analysis/spectra.parquet`: one irrep's (or
    /// frequency's) share of the run's embedding or unembedding power.
    pub struct RunSpectrumRow {
        /// `embed` or `unembed`.
        source: String,
        /// `final` or `init`.
        checkpoint: String,
        /// The element order: `identity`, `discrete log, g = ...`, `raw label order`.
        order: String,
        /// The irrep's (or frequency's) name.
        component: String,
        /// Its real dimension.
        real_dim: u32,
        /// Its share of the non-trivial power.
        share: f64,
        /// Its share under an isotropic (random) function.
        expected: f64,
    }
}

/// One row of a sweep's `spectra.parquet`: a run's spectrum row with the run.
pub type SpectrumRow = Keyed<RunSpectrumRow>;

crate::record! {
    /// One row of a run's `analysis/neurons.parquet`: the MLP neurons'
    /// share of power on one pair of irreps over G × G.
    pub struct NeuronRow {
        /// `final` or `init`.
        checkpoint: String,
        /// Irrep of the first input.
        irrep_a: String,
        /// Irrep of the second input.
        irrep_b: String,
        /// The pair's share of the neurons' power.
        share: f64,
    }
}

crate::record! {
    /// One row of a run's `analysis/ablations.parquet`: a model's accuracy
    /// with one real irrep's isotypic component removed from its embedding
    /// (the analysis group's rows), or unablated (`irrep` = `none`).
    pub struct AblationRow {
        /// `trained` (the final weights) or `init` (the untrained model, a null).
        model: String,
        /// The real irrep removed, or `none`.
        irrep: String,
        /// Its real dimension (0 for `none`).
        real_dim: u32,
        /// Its share of the trained embedding's non-constant power.
        share: f64,
        /// Accuracy on the training pairs, against the labels trained on
        /// (shuffled ones for a shuffled-label run).
        train_accuracy: f64,
        /// Accuracy on the test pairs (the operation's labels).
        test_accuracy: f64,
    }
}

crate::record! {
    /// One row of a run's `analysis/progress.parquet`: a progress measure
    /// at one checkpoint (docs/design.md defines them).
    pub struct ProgressRow {
        /// The checkpoint's epoch.
        epoch: u32,
        /// The measure's name.
        metric: String,
        /// Its value.
        value: f64,
    }
}

crate::record! {
    /// One row of a run's `metrics.parquet`: one metric at one evaluated
    /// epoch (long format). Training keeps its rows as
    /// `train::MetricRow`, whose names are static; this is the stored form.
    pub struct MetricPoint {
        /// Epoch (optimiser steps taken).
        epoch: u32,
        /// `train`, `test`, `informative_test` or `model`.
        split: String,
        /// `loss`, `accuracy`, `weight_norm`, ... (docs/design.md).
        metric: String,
        /// The value.
        value: f64,
    }
}

/// One row of a sweep's `curves.parquet`: a run's metric row with the
/// run's id (the column before the metric's).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CurveRow {
    /// The run.
    pub run_id: String,
    /// The metric row.
    pub row: MetricPoint,
}

impl CurveRow {
    /// The column naming the run.
    pub const KEY: &'static [&'static str] = &["run_id"];

    /// Every row of a sweep's curves table.
    ///
    /// # Errors
    /// As [`Record::read_all`].
    pub fn read_all(df: &polars::prelude::DataFrame) -> Result<Vec<Self>, String> {
        let ids = String::read(df, Self::KEY[0])?;
        Ok(MetricPoint::read_all(df)?
            .into_iter()
            .zip(ids)
            .map(|(row, run_id)| Self { run_id, row })
            .collect())
    }
}

crate::record! {
    /// One row of a sweep's `results.parquet` as the report reads it: a
    /// run, its configuration and its outcome. The table is written from
    /// the run's `RunConfig`, its [`crate::grok::Summary`] and its
    /// provenance, flattened (`train::sweep::results_frame`, the layout in
    /// [`super::LAYOUTS`]); this row names the columns read back, each one a
    /// column of that layout (tested). Fields under `optional` are columns
    /// results stored before them lack: `None` there means "not recorded".
    pub struct ResultRow {
        /// The run.
        run_id: String,
        /// The operation as configured.
        op: String,
        /// Its canonical `family:n` name.
        canonical_op: String,
        /// The run's seed.
        seed: u64,
        /// Training budget (epochs).
        epochs: u32,
        /// Share of all pairs used for training.
        train_fraction: f64,
        /// AdamW learning rate.
        lr: f64,
        /// AdamW weight decay.
        weight_decay: f64,
        /// First epoch with training accuracy ≥ 99% (`None`: never).
        memorised_epoch: Option<u32>,
        /// First epoch with test accuracy ≥ 99% (`None`: never).
        grokked_epoch: Option<u32>,
        /// Final test accuracy (`None` when not a number).
        final_test_accuracy: Option<f64>,
        /// Final accuracy on the informative test pairs (`None` without any).
        final_informative_accuracy: Option<f64>,
        /// Test pairs.
        test_pairs: u64,
        /// Informative test pairs (docs/design.md).
        informative_pairs: u64,
        /// Wall-clock seconds the run took to train.
        wall_seconds: f64,
    }
    optional {
        /// First epoch of a sustained grok (`None` also when never).
        sustained_grok_epoch: u32,
        /// Times test accuracy fell back after the first crossing.
        relapses: u32,
        /// The last epoch trained (stored with the sustained criterion, so
        /// its absence marks results that predate it).
        last_epoch: u32,
        /// Whether the training labels were shuffled (a control).
        shuffle_labels: bool,
        /// Softmax variant (`standard`, `stablemax`).
        softmax: String,
        /// Precision of the loss (`f32`, `f64`).
        loss_precision: String,
        /// Grokfast amplification λ (0: off).
        grokfast_lambda: f64,
        /// Epochs at which the training loss spiked, as a JSON list.
        loss_spikes: String,
        /// Epochs test accuracy must hold for a sustained grok (the run's
        /// `grok_window`; results stored before it was a setting were all
        /// trained with [`crate::grok::DEFAULT_WINDOW`]).
        grok_window: u32,
        /// The CPU's model name the run was trained on (from its
        /// manifest); not recorded in rows aggregated before it was a
        /// column, nor in committed rows kept without their run directory.
        cpu: String,
        /// The fused step's revision that trained the run
        /// (`train::fused::STEP_REVISION`; absent likewise).
        step_revision: u32,
        /// The embedding's dominant irrep, when the run directory had been
        /// analysed before aggregation (`results::RESULTS_ANALYSIS`).
        dominant_irrep: String,
        /// Its complex degree (likewise).
        dominant_degree: u32,
        /// Whether it is faithful (likewise).
        dominant_faithful: bool,
    }
}

crate::record! {
    /// One row of a sweep's `groups.parquet`: one operation's group as the
    /// report needs it, stored beside the results so figures and verdicts
    /// read group facts from data instead of re-deriving them from the
    /// operation's name ([`GroupRow::of`]).
    pub struct GroupRow {
        /// The operation as configured.
        op: String,
        /// Its canonical `family:n` name.
        canonical: String,
        /// Its family (`add`, `symmetric`, ...).
        family: String,
        /// The analysis group's name.
        group: String,
        /// Number of elements.
        order: u32,
        /// Whether the analysis group is abelian.
        abelian: bool,
        /// The real irreps' names, trivial first, space-separated.
        irreps: String,
        /// Their real dimensions, space-separated.
        irrep_dims: String,
        /// Their Frobenius–Schur types (`real`, `complex`, `quaternionic`).
        irrep_types: String,
        /// d(G), the least number of generators.
        rank: u32,
        /// Largest complex irrep dimension.
        max_irrep_dim: u32,
        /// Number of complex irreps.
        n_irreps: u32,
        /// Complexity score C1 (docs/design.md).
        c1: f64,
        /// Complexity score C2.
        c2: f64,
        /// Smallest faithful real representation dimension (F1).
        f1: u32,
        /// Share of non-trivial real irreps that are not faithful (F2; none
        /// for the trivial group).
        f2: Option<f64>,
    }
    optional {
            /// |G'|, the commutator subgroup's order ([`crate::groups::invariants`]).
            derived_order: u32,
            /// k(G)/|G|, the commuting probability.
            commuting_probability: f64,
            /// Nilpotency class (0: not nilpotent).
            nilpotency_class: u32,
            /// Derived length (0: not solvable).
            derived_length: u32,
            /// Exponent.
            exponent: u32,
            /// |Z(G)|.
            centre_order: u32,
    }
}

impl GroupRow {
    /// The row of operation `op`, computed from its group.
    ///
    /// # Errors
    /// An operation that does not parse.
    pub fn of(op: &str) -> Result<Self, String> {
        let o = crate::groups::Operation::parse(op).map_err(|e| e.to_string())?;
        let spec = crate::groups::OperationSpec::parse(op).map_err(|e| e.to_string())?;
        let group = &o.analysis.group;
        let reps = group.representations();
        let join = |f: &dyn Fn(&crate::groups::RealIrrep) -> String| {
            reps.real.iter().map(f).collect::<Vec<_>>().join(" ")
        };
        let s = crate::analysis::complexity::ComplexityScores::of(group);
        let inv = crate::groups::invariants::Invariants::of(group);
        Ok(Self {
            op: op.to_string(),
            canonical: o.canonical.clone(),
            family: spec.family,
            group: group.name().to_string(),
            order: o.order() as u32,
            abelian: o.is_abelian(),
            irreps: join(&|r| r.name.clone()),
            irrep_dims: join(&|r| r.real_dim().to_string()),
            irrep_types: join(&|r| r.fs_type.name().to_string()),
            rank: s.rank as u32,
            max_irrep_dim: s.max_irrep_dim as u32,
            n_irreps: s.n_irreps as u32,
            c1: s.c1,
            c2: s.c2,
            f1: s.f1 as u32,
            f2: s.f2,
            derived_order: Some(inv.derived_order as u32),
            commuting_probability: Some(inv.commuting_probability),
            nilpotency_class: Some(inv.nilpotency_class as u32),
            derived_length: Some(inv.derived_length as u32),
            exponent: Some(inv.exponent as u32),
            centre_order: Some(inv.centre_order as u32),
        })
    }

    /// One row per distinct operation, in first-appearance order.
    ///
    /// # Errors
    /// An operation that does not parse.
    pub fn of_ops<'a>(ops: impl IntoIterator<Item = &'a str>) -> Result<Vec<Self>, String> {
        let mut rows: Vec<Self> = Vec::new();
        for op in ops {
            if !rows.iter().any(|r| r.op == op) {
                rows.push(Self::of(op)?);
            }
        }
        Ok(rows)
    }

    /// The non-trivial real irreps whose complex constituents are
    /// one-dimensional (real dimension 1 of real type, or 2 of complex
    /// type): those that factor through the abelianisation G/[G, G].
    pub fn one_dim_irreps(&self) -> Vec<String> {
        let (dims, types) = (self.irrep_dims.split(' '), self.irrep_types.split(' '));
        self.irreps
            .split(' ')
            .zip(dims.zip(types))
            .skip(1) // the trivial irrep comes first
            .filter(|(_, d)| matches!(*d, ("1", "real") | ("2", "complex")))
            .map(|(name, _)| name.to_string())
            .collect()
    }

    /// The complexity scores stored in the row.
    pub fn scores(&self) -> crate::analysis::complexity::ComplexityScores {
        crate::analysis::complexity::ComplexityScores {
            c1: self.c1,
            c2: self.c2,
            f1: self.f1 as usize,
            f2: self.f2,
            rank: self.rank as usize,
            max_irrep_dim: self.max_irrep_dim as usize,
            n_irreps: self.n_irreps as usize,
            abelian: self.abelian,
        }
    }
}
