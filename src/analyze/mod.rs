//! Analysing stored runs: loads weights with tch, converts them once
//! ([`crate::convert`]), and runs the [`crate::analysis`] maths.
//!
//! `analyze_run` writes into `<run>/analysis/`:
//! - `spectra.parquet`: source (`embed`, `unembed`), checkpoint (`final`,
//!   `init`), order (`identity`, `discrete log, g = 3`, `raw label order`),
//!   component (irrep name), real_dim, share, expected (isotropic share);
//! - `neurons.parquet`: the MLP neurons' power over pairs of irreps (G × G);
//! - `progress.parquet`: per checkpoint epoch, restricted/excluded/train/test
//!   loss, Gini of the embedding spectrum, weight norm;
//! - `summary.json`: [`RunAnalysis`].
//!
//! Every spectrum is computed for the final weights and for the untrained
//! weights of the same seed (epoch 0), the null it must be read against.

mod imported;
pub mod mechanism;

pub use imported::{analyze_imported, ImportedAnalysis};

use crate::analysis::abelianisation::{coset_accuracy, CosetAccuracy};
use crate::analysis::across_runs::{
    cka_rows, complexity_rows, CkaRow, ComplexityRow, RunEmbeddings, ScoredRun,
};
use crate::analysis::fourier::{cyclic_probe, FourierSpectrum};
use crate::analysis::peter_weyl::{select_rows, IrrepSpectrum, PairSpectrum};
use crate::analysis::progress::{gini, losses};
use crate::analysis::AnalysisError;
use crate::config::RunConfig;
use crate::convert::{to_dmatrix, to_vec};
use crate::data::Dataset;
use crate::groups::{AnalysisView, GroupKind, Operation};
use crate::model::{ModelError, Transformer, TransformerConfig};
use crate::results::record::{Record, RUN_KEY};
use crate::results::rows::{
    AblationRow, AnalysisRow, GroupRow, NeuronRow, ProgressRow, ResultRow, RunSpectrumRow,
};
use crate::store::{read_parquet, vstack_all, write_csv, write_json, write_parquet};
use crate::train::run::{read_config, read_manifest, Status};
use crate::train::TrainError;
use nalgebra::DMatrix;
use polars::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

/// Why a run could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// Reading the run failed.
    #[error(transparent)]
    Run(#[from] TrainError),
    /// A results file failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Loading weights failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The maths rejected its input.
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    /// libtorch failed.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// Not a complete run directory.
    #[error("{0}")]
    NotARun(String),
}

/// Fourier numbers of one function in one element order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FourierSummary {
    /// `identity`, `discrete log, g = 3` or `raw label order`.
    pub order: String,
    /// concentration(1).
    pub concentration_k1: f64,
    /// concentration(5).
    pub concentration_k5: f64,
    /// The same at initialisation.
    pub init_concentration_k1: f64,
    /// The same at initialisation.
    pub init_concentration_k5: f64,
    /// Key frequencies, strongest first.
    pub key_frequencies: Vec<usize>,
    /// Discrete-log probe accuracy (5-fold) on the key (or 3 strongest) frequencies.
    pub probe_accuracy: f64,
    /// The same probe on the untrained embedding.
    pub init_probe_accuracy: f64,
}

/// What `grokscope analyze` reports for one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunAnalysis {
    /// The run.
    pub run_id: String,
    /// Operation as configured.
    pub op: String,
    /// The analysis group.
    pub group: String,
    /// Whether the run sustain-grokked ([`crate::grok`]).
    pub grokked: bool,
    /// Dominant non-trivial irrep of the embedding.
    pub dominant_irrep: String,
    /// Its complex degree and whether it is faithful (the atlas reads
    /// both: which kind of irrep a grokked model builds on).
    pub dominant_kind: (usize, bool),
    /// Its share of the embedding's non-constant power.
    pub dominant_share: f64,
    /// The same irrep's share at initialisation.
    pub dominant_share_init: f64,
    /// Its isotropic share.
    pub dominant_expected: f64,
    /// Key irreps of the embedding.
    pub key_irreps: Vec<String>,
    /// Dominant irrep of the unembedding and its share.
    pub unembed_dominant: (String, f64),
    /// Dominant (ρ, σ) of the MLP neurons over G × G and its share.
    pub neurons_dominant: (String, String, f64),
    /// The neurons' share on (ρ, ρ) pairs, final and at initialisation.
    pub neurons_diagonal_share: (f64, f64),
    /// Fourier view of the embedding (cyclic analysis groups only).
    pub fourier: Vec<FourierSummary>,
    /// Gini of the embedding irrep spectrum, final and at initialisation.
    pub gini: (f64, f64),
    /// The coset test on the informative test pairs, final and at
    /// initialisation (see [`crate::analysis::abelianisation`]); `None` when
    /// no informative test pair lies in the analysis group.
    pub coset: Option<(CosetAccuracy, CosetAccuracy)>,
    /// The same on the informative test pairs whose transpose is not in
    /// training either.
    pub coset_unseen_transpose: Option<(CosetAccuracy, CosetAccuracy)>,
    /// Clock or pizza, neuron irrep purity and irrep ablation.
    pub mechanism: mechanism::Mechanism,
}

/// A run's weights at the final and initial checkpoints, as one S = 2 model.
struct Loaded {
    cfg: RunConfig,
    op: Operation,
    model: Transformer,
    _vs: tch::nn::VarStore,
}

fn load(dir: &Path, files: &[PathBuf]) -> Result<Loaded, AnalyzeError> {
    let manifest = read_manifest(dir).map_err(|e| {
        AnalyzeError::NotARun(format!("{}: not an analysable run ({e})", dir.display()))
    })?;
    if manifest.status != Status::Complete {
        return Err(AnalyzeError::NotARun(format!(
            "{}: run is not complete; finish training it first",
            dir.display()
        )));
    }
    let cfg = read_config(dir)?;
    let op = Operation::parse(&cfg.op)
        .map_err(crate::config::ConfigError::from)
        .map_err(TrainError::from)?;
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let model = Transformer::load(&TransformerConfig::of(&cfg, op.order()), &vs.root(), &refs)?;
    Ok(Loaded {
        cfg,
        op,
        model,
        _vs: vs,
    })
}

/// Element embedding rows (tokens 0..n) of model s: [n, d_model].
fn embedding(model: &Transformer, s: i64, n: i64) -> Result<DMatrix<f64>, AnalyzeError> {
    Ok(to_dmatrix(&model.w_e.f_get(s)?.f_narrow(0, 0, n)?)?)
}

/// Unembedding columns as rows (one per output token) of model s: [n, d_model].
fn unembedding(model: &Transformer, s: i64) -> Result<DMatrix<f64>, AnalyzeError> {
    Ok(to_dmatrix(&model.w_u.f_get(s)?.f_transpose(0, 1)?)?)
}

fn all_pairs(s: usize, n: usize) -> Result<(Tensor, Tensor), tch::TchError> {
    let a: Vec<i64> = (0..n * n).map(|p| (p / n) as i64).collect();
    let b: Vec<i64> = (0..n * n).map(|p| (p % n) as i64).collect();
    let t = |v: &[i64]| {
        Tensor::f_from_slice(v)?
            .f_view([1, -1])?
            .f_repeat([s as i64, 1])
    };
    Ok((t(&a)?, t(&b)?))
}

/// Logits of every pair for each model: S matrices [n², n].
fn table_logits(model: &Transformer, n: usize) -> Result<Vec<DMatrix<f64>>, AnalyzeError> {
    let (a, b) = all_pairs(model.n_models, n)?;
    let logits = tch::no_grad(|| model.forward_last(&a, &b))?;
    (0..model.n_models as i64)
        .map(|s| Ok(to_dmatrix(&logits.f_get(s)?)?))
        .collect()
}

/// The coset test of each model's predictions (argmax of `logits`, one
/// [n², n] matrix per model) on the informative test pairs that `keep`
/// accepts and whose operands and true result are all elements of the
/// analysis group.
fn coset_tests(
    view: &AnalysisView,
    ds: &Dataset,
    logits: &[DMatrix<f64>],
    keep: &dyn Fn(usize) -> bool,
) -> Option<Vec<CosetAccuracy>> {
    let mut element = vec![None; ds.n];
    for (x, &t) in view.tokens.iter().enumerate() {
        element[t] = Some(x);
    }
    let (n, g) = (ds.n, &view.group);
    let pairs: Vec<(usize, usize, usize)> = ds
        .informative_test
        .iter()
        .filter(|&&p| keep(p))
        .filter_map(|&p| {
            let (a, b) = (element[p / n]?, element[p % n]?);
            element[ds.labels[p]].map(|_| (p, a, b))
        })
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let ab: Vec<(usize, usize)> = pairs.iter().map(|&(_, a, b)| (a, b)).collect();
    Some(
        logits
            .iter()
            .map(|l| {
                // A predicted token outside the group (mul0's 0) is None:
                // the wrong coset.
                let predicted: Vec<Option<usize>> = pairs
                    .iter()
                    .map(|&(p, _, _)| element[l.row(p).transpose().argmax().0])
                    .collect();
                coset_accuracy(g, &ab, &predicted)
            })
            .collect(),
    )
}

/// MLP activations at the last position over the group's pairs, one
/// |G| × |G| matrix per neuron (group order on both axes), for model s.
fn neuron_functions(
    model: &Transformer,
    view: &AnalysisView,
    n: usize,
    s: i64,
) -> Result<Vec<DMatrix<f64>>, AnalyzeError> {
    let tokens = crate::interop::table_tokens(n)?;
    let (_, cache) = tch::no_grad(|| model.run_with_cache(&tokens))?;
    let post = cache
        .get("blocks.0.mlp.hook_post")?
        .f_get(s)?
        .f_select(1, 2)?; // [n², d_mlp]
    let post = to_dmatrix(&post)?;
    let g = view.tokens.len();
    Ok((0..post.ncols())
        .map(|j| DMatrix::from_fn(g, g, |x, y| post[(view.tokens[x] * n + view.tokens[y], j)]))
        .collect())
}

/// The MLP neurons' power over pairs of irreps as rows of `neurons.parquet`.
fn pair_rows(checkpoint: &str, p: &PairSpectrum, rows: &mut Vec<NeuronRow>) {
    for i in 0..p.irreps.len() {
        for j in 0..p.irreps.len() {
            rows.push(NeuronRow {
                checkpoint: checkpoint.to_string(),
                irrep_a: p.irreps[i].clone(),
                irrep_b: p.irreps[j].clone(),
                share: p.share[(i, j)],
            });
        }
    }
}

/// Creates `out` and writes `spectra.parquet` and `neurons.parquet` in it.
fn write_spectra(
    out: &Path,
    spectra: &[RunSpectrumRow],
    neurons: &[NeuronRow],
) -> Result<(), AnalyzeError> {
    std::fs::create_dir_all(out).map_err(|e| TrainError::Io {
        path: out.display().to_string(),
        reason: e.to_string(),
    })?;
    let io = |e: PolarsError| TrainError::Io {
        path: out.display().to_string(),
        reason: e.to_string(),
    };
    write_parquet(
        &mut RunSpectrumRow::frame(spectra).map_err(io)?,
        &out.join("spectra.parquet"),
    )?;
    write_parquet(
        &mut NeuronRow::frame(neurons).map_err(io)?,
        &out.join("neurons.parquet"),
    )?;
    Ok(())
}

fn spectrum_rows(
    source: &str,
    checkpoint: &str,
    order: &str,
    s: &IrrepSpectrum,
    rows: &mut Vec<RunSpectrumRow>,
) {
    for i in 0..s.irreps.len() {
        rows.push(RunSpectrumRow {
            source: source.into(),
            checkpoint: checkpoint.into(),
            order: order.into(),
            component: s.irreps[i].clone(),
            real_dim: s.real_dims[i] as u32,
            share: s.share[i],
            expected: s.expected[i],
        });
    }
}

/// Analyses one complete run and writes `analysis/` inside it.
///
/// # Errors
/// A directory that is not a complete run, missing or corrupt weights.
pub fn analyze_run(dir: &Path) -> Result<RunAnalysis, AnalyzeError> {
    Ok(analyze_weights(dir)?.0)
}

/// [`analyze_run`], also returning the element embeddings the sweep's
/// comparisons read, so a sweep loads each run's weights once.
fn analyze_weights(dir: &Path) -> Result<(RunAnalysis, RunEmbeddings), AnalyzeError> {
    let (final_w, init_w) = (
        dir.join("final.safetensors"),
        dir.join("checkpoints/epoch_000000.safetensors"),
    );
    let Loaded { cfg, op, model, .. } = load(dir, &[final_w, init_w])?;
    let n = op.order();
    let view = &op.analysis;
    let manifest = read_manifest(dir)?;
    let run_id = manifest.run_id;
    // The sustained criterion, as every count and verdict (a run that
    // crossed 0.99 and fell back is not grokked).
    let grokked = manifest
        .summary
        .is_some_and(|s| s.sustained_grok_epoch.is_some());

    let mut spectra = Vec::new();
    let embeds = [
        embedding(&model, 0, n as i64)?,
        embedding(&model, 1, n as i64)?,
    ];
    let unembeds = [unembedding(&model, 0)?, unembedding(&model, 1)?];
    let e_final = IrrepSpectrum::of_token_rows(view, &embeds[0])?;
    let e_init = IrrepSpectrum::of_token_rows(view, &embeds[1])?;
    let u_final = IrrepSpectrum::of_token_rows(view, &unembeds[0])?;
    let u_init = IrrepSpectrum::of_token_rows(view, &unembeds[1])?;
    spectrum_rows("embed", "final", &view.relabelling, &e_final, &mut spectra);
    spectrum_rows("embed", "init", &view.relabelling, &e_init, &mut spectra);
    spectrum_rows(
        "unembed",
        "final",
        &view.relabelling,
        &u_final,
        &mut spectra,
    );
    spectrum_rows("unembed", "init", &view.relabelling, &u_init, &mut spectra);

    // Fourier views for cyclic analysis groups: the analysis order, and raw label order for mul.
    let mut fourier = Vec::new();
    if matches!(view.group.kind(), GroupKind::Cyclic(_)) {
        for v in std::iter::once(view).chain(op.raw.as_ref()) {
            let rows = [select_rows(v, &embeds[0])?, select_rows(v, &embeds[1])?];
            let (f, f0) = (
                FourierSpectrum::of_rows(&rows[0])?,
                FourierSpectrum::of_rows(&rows[1])?,
            );
            let probe_freqs = f.probe_frequencies();
            let probe =
                |r: &DMatrix<f64>| cyclic_probe(r, &probe_freqs, 5, cfg.seed).map(|p| p.accuracy);
            if v.relabelling != view.relabelling {
                let s = IrrepSpectrum::of_rows(&v.group, &rows[0])?;
                let s0 = IrrepSpectrum::of_rows(&v.group, &rows[1])?;
                spectrum_rows("embed", "final", &v.relabelling, &s, &mut spectra);
                spectrum_rows("embed", "init", &v.relabelling, &s0, &mut spectra);
            }
            fourier.push(FourierSummary {
                order: v.relabelling.clone(),
                concentration_k1: f.concentration(1),
                concentration_k5: f.concentration(5),
                init_concentration_k1: f0.concentration(1),
                init_concentration_k5: f0.concentration(5),
                key_frequencies: f.key_frequencies(),
                probe_accuracy: probe(&rows[0])?,
                init_probe_accuracy: probe(&rows[1])?,
            });
        }
    }

    // The coset test on the informative test pairs, trained and untrained.
    let ds = Dataset::for_config(&op, &cfg)
        .map_err(crate::config::ConfigError::from)
        .map_err(TrainError::from)?;
    // A pair whose transpose (b, a) was trained on can be put in the right
    // coset by recalling b ∘ a, which lies in the same coset as a ∘ b: the
    // second test keeps only pairs whose transpose the model never saw.
    let logits = table_logits(&model, n)?;
    let coset = coset_tests(view, &ds, &logits, &|_| true).map(|c| (c[0], c[1]));
    let mut in_train = vec![false; n * n];
    for &p in &ds.train {
        in_train[p] = true;
    }
    let unseen = |p: usize| !in_train[(p % n) * n + p / n];
    let coset_unseen = coset_tests(view, &ds, &logits, &unseen).map(|c| (c[0], c[1]));

    // Neurons over G × G.
    let pairs = [
        PairSpectrum::of_functions(&view.group, &neuron_functions(&model, view, n, 0)?)?,
        PairSpectrum::of_functions(&view.group, &neuron_functions(&model, view, n, 1)?)?,
    ];
    let mut neuron_rows = Vec::new();
    for (checkpoint, p) in ["final", "init"].iter().zip(&pairs) {
        pair_rows(checkpoint, p, &mut neuron_rows);
    }

    // Progress over checkpoints, with the final model's key irreps.
    let reps = view.group.representations();
    let key_idx: Vec<usize> = e_final
        .key()
        .iter()
        .map(|&i| reps.find(&e_final.irreps[i]).expect("same group"))
        .collect();
    let progress = progress_over_checkpoints(dir, &cfg, &op, (&ds.labels, &in_train), &key_idx)?;
    // Both models' metrics on the pairs, unablated: one forward pass.
    let unablated = mechanism::pair_metrics(&model, &op, &ds)?;
    let mechanism = mechanism::probe(&model, &op, &ds, &unablated[0], &key_idx, &pairs, cfg.seed)?;
    let ablation_rows = mechanism::irrep_ablations(
        &model,
        &op,
        &ds,
        &unablated,
        [&e_final.share, &e_init.share],
    )?;

    let out = dir.join("analysis");
    write_spectra(&out, &spectra, &neuron_rows)?;
    let io = |e: PolarsError| TrainError::Io {
        path: out.display().to_string(),
        reason: e.to_string(),
    };
    write_parquet(
        &mut ProgressRow::frame(&progress).map_err(io)?,
        &out.join("progress.parquet"),
    )?;
    write_parquet(
        &mut AblationRow::frame(&ablation_rows).map_err(io)?,
        &out.join("ablations.parquet"),
    )?;

    let (dom, dom_share) = e_final.dominant();
    let di = e_final
        .irreps
        .iter()
        .position(|x| x == dom)
        .expect("dominant is listed");
    let (na, nb, ns) = pairs[0].dominant();
    let analysis = RunAnalysis {
        run_id,
        op: cfg.op.clone(),
        group: view.group.name().to_string(),
        grokked,
        dominant_irrep: dom.to_string(),
        dominant_kind: {
            let rep = &reps.real[reps.find(dom).expect("same group")];
            (rep.complex_dim(), rep.is_faithful())
        },
        dominant_share: dom_share,
        dominant_share_init: e_init.share[di],
        dominant_expected: e_final.expected[di],
        key_irreps: e_final
            .key()
            .iter()
            .map(|&i| e_final.irreps[i].clone())
            .collect(),
        unembed_dominant: (u_final.dominant().0.to_string(), u_final.dominant().1),
        neurons_dominant: (pairs[0].irreps[na].clone(), pairs[0].irreps[nb].clone(), ns),
        neurons_diagonal_share: (pairs[0].diagonal_share(), pairs[1].diagonal_share()),
        fourier,
        gini: (gini(&e_final.share), gini(&e_init.share)),
        coset,
        coset_unseen_transpose: coset_unseen,
        mechanism,
    };
    write_json(&out.join("summary.json"), &analysis)?;
    let group_rows = [
        select_rows(view, &embeds[0])?,
        select_rows(view, &embeds[1])?,
    ];
    let embeddings = RunEmbeddings {
        op: cfg.op.clone(),
        seed: cfg.seed,
        embed: embeds,
        group_rows,
    };
    Ok((analysis, embeddings))
}

/// (epoch, metric, value) for every stored checkpoint; losses use the
/// run's labels and training mask, built once by the caller.
fn progress_over_checkpoints(
    dir: &Path,
    cfg: &RunConfig,
    op: &Operation,
    (labels, is_train): (&[usize], &[bool]),
    key: &[usize],
) -> Result<Vec<ProgressRow>, AnalyzeError> {
    let mut ckpts: Vec<(u32, PathBuf)> = std::fs::read_dir(dir.join("checkpoints"))
        .map_err(|e| TrainError::Io {
            path: dir.join("checkpoints").display().to_string(),
            reason: e.to_string(),
        })?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let epoch = name
                .strip_prefix("epoch_")?
                .strip_suffix(".safetensors")?
                .parse()
                .ok()?;
            Some((epoch, e.path()))
        })
        .collect();
    ckpts.sort();
    let n = op.order();
    let mut rows = Vec::new();
    for (epoch, path) in ckpts {
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let model = Transformer::load(&TransformerConfig::of(cfg, n), &vs.root(), &[&path])?;
        let logits = table_logits(&model, n)?.remove(0);
        let l = losses(&op.analysis, &logits, labels, is_train, key)?;
        let spec = IrrepSpectrum::of_token_rows(&op.analysis, &embedding(&model, 0, n as i64)?)?;
        let norm = to_vec(&model.weight_norms()?.f_to_kind(Kind::Double)?)?[0];
        for (metric, value) in [
            ("train_loss", l.train_loss),
            ("test_loss", l.test_loss),
            ("restricted_loss", l.restricted_loss),
            ("excluded_loss", l.excluded_loss),
            ("gini_embed", gini(&spec.share)),
            ("weight_norm", norm),
        ] {
            rows.push(ProgressRow {
                epoch,
                metric: metric.into(),
                value,
            });
        }
    }
    Ok(rows)
}

pub use crate::analysis::across_runs::{CKA_NULL_DRAWS, CKA_VARIANTS};

/// One run of a sweep as the sweep analysis needs it.
struct SweepRun {
    grok_epoch: Option<u32>,
    embeddings: RunEmbeddings,
}

/// Reads a sweep's `results.parquet`.
///
/// # Errors
/// A missing or unreadable file.
pub fn read_results(results_dir: &Path) -> Result<DataFrame, AnalyzeError> {
    let path = results_dir.join("results.parquet");
    read_parquet(&path).map_err(|e| {
        AnalyzeError::NotARun(format!("{e}; run `grokscope sweep` on its .toml first"))
    })
}

/// Analyses every run of a sweep and writes, into `results_dir`:
/// `analysis.parquet`/`.csv` (one row per run), `cka.parquet`/`.csv` and
/// `complexity.parquet`/`.csv`, and each run's dominant irrep into its
/// results row ([`crate::train::sweep::record_analysis`]). `progress` receives one line per step.
///
/// # Errors
/// A missing results table or run, or an analysis error.
pub fn analyze_sweep(
    results_dir: &Path,
    runs_dir: &Path,
    progress: &dyn Fn(&str),
) -> Result<Vec<PathBuf>, AnalyzeError> {
    let results = ResultRow::read_all(&read_results(results_dir)?)
        .map_err(|e| AnalyzeError::NotARun(format!("results table: {e}")))?;
    let mut summaries = Vec::new();
    let mut runs = Vec::new();
    for (i, r) in results.iter().enumerate() {
        let dir = runs_dir.join(&r.run_id);
        progress(&format!(
            "analysing {} ({}/{})",
            dir.display(),
            i + 1,
            results.len()
        ));
        let (summary, mut embeddings) = analyze_weights(&dir)?;
        summaries.push(summary);
        // The sweep's table names the run; its config agrees by construction.
        embeddings.op = r.op.clone();
        embeddings.seed = r.seed;
        runs.push(SweepRun {
            grok_epoch: r.grokked_epoch,
            embeddings,
        });
    }
    let mut written = Vec::new();
    // Per-run spectra and progress measures, concatenated with run ids, so
    // figures can be drawn from experiments/ without runs/.
    for name in ["spectra", "progress", "ablations"] {
        let mut frames = Vec::new();
        for (id, r) in results.iter().map(|r| &r.run_id).zip(&runs) {
            let mut df = read_parquet(
                &runs_dir
                    .join(id)
                    .join("analysis")
                    .join(format!("{name}.parquet")),
            )?;
            let h = df.height();
            let add = |df: &mut DataFrame, i: usize, c: Column| {
                df.insert_column(i, c)
                    .map(|_| ())
                    .map_err(|e| AnalyzeError::NotARun(e.to_string()))
            };
            add(
                &mut df,
                0,
                Column::new(RUN_KEY[0].into(), vec![id.as_str(); h]),
            )?;
            let r = &r.embeddings;
            add(
                &mut df,
                1,
                Column::new(RUN_KEY[1].into(), vec![r.op.as_str(); h]),
            )?;
            add(&mut df, 2, Column::new(RUN_KEY[2].into(), vec![r.seed; h]))?;
            frames.push(df);
        }
        let mut all = vstack_all(&frames)?;
        let path = results_dir.join(format!("{name}.parquet"));
        write_parquet(&mut all, &path)?;
        written.push(path);
    }
    let mut per_run = per_run_frame(&summaries, &runs)?;
    written.extend(write_table(&mut per_run, results_dir, "analysis")?);
    progress("CKA across seeds and operations, with nulls");
    let mut cka = cka_frame(&runs)?;
    written.extend(write_table(&mut cka, results_dir, "cka")?);
    let mut complexity = complexity_frame(&runs)?;
    written.extend(write_table(&mut complexity, results_dir, "complexity")?);
    // The results rows carry each run's dominant irrep too, as an
    // aggregate after this analysis would give them.
    written.push(crate::train::sweep::record_analysis(results_dir, runs_dir)?);
    Ok(written)
}

fn write_table(df: &mut DataFrame, dir: &Path, name: &str) -> Result<Vec<PathBuf>, AnalyzeError> {
    let parquet = dir.join(format!("{name}.parquet"));
    write_parquet(df, &parquet)?;
    let csv_path = dir.join(format!("{name}.csv"));
    write_csv(df, &csv_path)?;
    Ok(vec![parquet, csv_path])
}

fn per_run_frame(summaries: &[RunAnalysis], runs: &[SweepRun]) -> Result<DataFrame, AnalyzeError> {
    let fourier =
        |a: &RunAnalysis, i: usize, f: &dyn Fn(&FourierSummary) -> f64| a.fourier.get(i).map(f);
    // The lowest test accuracy among the ablations `pick` selects.
    let ablation = |a: &RunAnalysis, pick: fn(&str) -> bool| {
        a.mechanism
            .ablations
            .iter()
            .filter(|x| pick(&x.ablation))
            .map(|x| x.test_accuracy)
            .reduce(f64::min)
    };
    let rows: Vec<AnalysisRow> = summaries
        .iter()
        .zip(runs)
        .map(|(a, r)| {
            let f = |i: usize, pick: &dyn Fn(&FourierSummary) -> f64| fourier(a, i, pick);
            let m = &a.mechanism;
            AnalysisRow {
                run_id: a.run_id.clone(),
                op: r.embeddings.op.clone(),
                seed: r.embeddings.seed,
                group: a.group.clone(),
                grokked: a.grokked,
                dominant_irrep: a.dominant_irrep.clone(),
                dominant_degree: Some(a.dominant_kind.0 as u32),
                dominant_faithful: Some(a.dominant_kind.1),
                dominant_share: a.dominant_share,
                dominant_share_init: a.dominant_share_init,
                dominant_expected: a.dominant_expected,
                key_irreps: a.key_irreps.join(" "),
                unembed_dominant: a.unembed_dominant.0.clone(),
                unembed_dominant_share: a.unembed_dominant.1,
                neurons_dominant: format!("{}⊗{}", a.neurons_dominant.0, a.neurons_dominant.1),
                neurons_dominant_share: a.neurons_dominant.2,
                neurons_diagonal_share: a.neurons_diagonal_share.0,
                neurons_diagonal_share_init: a.neurons_diagonal_share.1,
                gini: a.gini.0,
                gini_init: a.gini.1,
                concentration_k1: f(0, &|f| f.concentration_k1),
                concentration_k5: f(0, &|f| f.concentration_k5),
                concentration_k1_init: f(0, &|f| f.init_concentration_k1),
                concentration_k5_init: f(0, &|f| f.init_concentration_k5),
                key_frequencies: a
                    .fourier
                    .first()
                    .map(|f| format!("{:?}", f.key_frequencies)),
                probe_accuracy: f(0, &|f| f.probe_accuracy),
                probe_accuracy_init: f(0, &|f| f.init_probe_accuracy),
                raw_concentration_k1: f(1, &|f| f.concentration_k1),
                raw_concentration_k5: f(1, &|f| f.concentration_k5),
                raw_probe_accuracy: f(1, &|f| f.probe_accuracy),
                coset_accuracy: a.coset.map(|c| c.0.accuracy),
                coset_accuracy_init: a.coset.map(|c| c.1.accuracy),
                coset_chance: a.coset.map(|c| c.0.chance),
                coset_pairs: a.coset.map(|c| c.0.pairs as u32),
                coset_accuracy_unseen: a.coset_unseen_transpose.map(|c| c.0.accuracy),
                coset_accuracy_unseen_init: a.coset_unseen_transpose.map(|c| c.1.accuracy),
                coset_pairs_unseen: a.coset_unseen_transpose.map(|c| c.0.pairs as u32),
                gradient_symmetricity: m.gradient_symmetricity.map(|x| x.0),
                gradient_symmetricity_init: m.gradient_symmetricity.map(|x| x.1),
                distance_irrelevance: m.distance_irrelevance.map(|x| x.0),
                distance_irrelevance_init: m.distance_irrelevance.map(|x| x.1),
                neuron_purity: Some(m.neuron_purity.0),
                neuron_purity_init: Some(m.neuron_purity.1),
                key_neuron_share: Some(m.key_neuron_share.0),
                key_neuron_share_init: Some(m.key_neuron_share.1),
                ablation_none_accuracy: ablation(a, |x| x == "none"),
                ablation_keep_key_accuracy: ablation(a, |x| x == "keep key"),
                ablation_remove_key_min_accuracy: ablation(a, |x| x.starts_with("remove ")),
            }
        })
        .collect();
    AnalysisRow::frame(&rows).map_err(|e| AnalyzeError::NotARun(format!("analysis table: {e}")))
}

/// The CKA table ([`crate::analysis::across_runs`] decides what is
/// compared).
fn cka_frame(runs: &[SweepRun]) -> Result<DataFrame, AnalyzeError> {
    let embeddings: Vec<RunEmbeddings> = runs.iter().map(|r| r.embeddings.clone()).collect();
    CkaRow::frame(&cka_rows(&embeddings)?)
        .map_err(|e| AnalyzeError::NotARun(format!("CKA table: {e}")))
}

/// Spearman ρ of each complexity score with grok epochs, with intervals
/// ([`crate::analysis::across_runs::complexity_rows`]).
fn complexity_frame(runs: &[SweepRun]) -> Result<DataFrame, AnalyzeError> {
    // The same rows the sweep's groups table stores: one per operation.
    let groups = GroupRow::of_ops(runs.iter().map(|r| r.embeddings.op.as_str()))
        .map_err(|e| AnalyzeError::NotARun(format!("complexity table: {e}")))?;
    let scored: Vec<ScoredRun> = runs
        .iter()
        .map(|r| {
            let g = groups.iter().find(|g| g.op == r.embeddings.op);
            ScoredRun {
                op: r.embeddings.op.clone(),
                scores: g.expect("of_ops lists every operation").scores(),
                grok_epoch: r.grok_epoch,
            }
        })
        .collect();
    ComplexityRow::frame(&complexity_rows(&scored))
        .map_err(|e| AnalyzeError::NotARun(format!("complexity table: {e}")))
}
