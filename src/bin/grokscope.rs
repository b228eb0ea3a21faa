//! The `grokscope` command line. Errors print one line and exit with code 2.

use anyhow::Result;
use clap::{Parser, Subcommand};
use grokscope::analysis::complexity::ComplexityScores;
use grokscope::groups::{
    catalogue_families, clean_float, format_character, Operation, SHORT_NAMES,
};
use serde_json::json;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "grokscope",
    version,
    about = "Which finite group operations does a small transformer grok, and what circuit does it learn?"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every operation: short names and parameterised families.
    Ops,
    /// Show a group: conjugacy classes, character table, real irreps, complexity scores.
    Group {
        /// Operation name, e.g. s4, dihedral:5, add:7.
        op: String,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Train one model and write runs/<run-id>/.
    #[cfg(feature = "torch")]
    Train {
        /// Operation (shorthand for --set op=...).
        #[arg(long)]
        op: Option<String>,
        /// TOML file of config keys, applied before --set.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Override one config key, e.g. --set epochs=500 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Directory for run directories (default: $GROKSCOPE_RUNS, else runs).
        #[arg(long, env = "GROKSCOPE_RUNS", default_value = "runs")]
        out: PathBuf,
        /// Continue this finished run (a run directory) to a longer budget:
        /// give the new budget with --set epochs=N.
        #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["op", "config"])]
        extend: Option<PathBuf>,
    },
    /// Run a sweep file: train what is missing, aggregate results.
    #[cfg(feature = "torch")]
    Sweep {
        /// experiments/<name>.toml
        spec: PathBuf,
        /// Training jobs run at a time, each with cores/jobs libtorch threads
        /// (0 = one job per core: on 2 cores, two 1-thread jobs train faster
        /// than one 2-thread job).
        #[arg(long, default_value_t = 0)]
        jobs: usize,
        /// Directory for run directories (default: $GROKSCOPE_RUNS, else runs);
        /// keep long campaigns outside the work tree.
        #[arg(long, env = "GROKSCOPE_RUNS", default_value = "runs")]
        runs: PathBuf,
        #[command(flatten)]
        campaign: Campaign,
    },
    /// The main job: train the quick suite (or --full: the paper's experiments), analyse it, draw the figures.
    #[cfg(feature = "torch")]
    Run {
        /// Train the paper's experiments at full size (hours on 2 cores), from experiments/*.toml
        /// (run from the repository root), analyse each and redraw figures/ and paper/generated/.
        #[arg(long)]
        full: bool,
        /// As --full, for the long-budget campaign (days on 2 cores; resumable): keep its runs
        /// outside the work tree with --runs or GROKSCOPE_RUNS.
        #[arg(long, conflicts_with = "full")]
        campaign: bool,
        /// Only these experiments (comma-separated names from experiments/, e.g. suite,controls),
        /// with --full or --campaign.
        #[arg(long, value_delimiter = ',')]
        sweeps: Vec<String>,
        /// Directory for the experiments' run directories (with --full or --campaign).
        #[arg(long, env = "GROKSCOPE_RUNS", default_value = "runs")]
        runs: PathBuf,
        /// Where the quick suite's runs, tables and figures go.
        #[arg(long, default_value = "scratch")]
        out: PathBuf,
    },
    /// Time to grok per group (Kaplan–Meier, sustained criterion) and R3's pre-registered verdict,
    /// from stored sweep results (experiments/<name>/).
    Survival {
        /// Sweep results directories, e.g. experiments/long-budget experiments/chughtai.
        #[arg(required = true)]
        sweeps: Vec<std::path::PathBuf>,
    },
    /// Redraw every figure and regenerate the paper's tables from experiments/ (no training).
    Figures {
        /// The stored results.
        #[arg(long, default_value = "experiments")]
        experiments: PathBuf,
        /// Where the figures go.
        #[arg(long, default_value = "figures")]
        out: PathBuf,
        /// Where the LaTeX tables and number macros go.
        #[arg(long, default_value = "paper/generated")]
        generated: PathBuf,
        /// Write what the results present allow when some of the paper's experiments have none
        /// (otherwise that is an error: a partial paper has different numbers).
        #[arg(long)]
        partial: bool,
    },
    /// The verdict on each claim of the reference study: the rule, its verdict and the numbers that decided it.
    Claims {
        /// The stored results.
        #[arg(long, default_value = "experiments")]
        experiments: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Also print every number each rule read.
        #[arg(long)]
        numbers: bool,
    },
    /// Bring stored tables written by an older grokscope to the current format: checks each
    /// Parquet table's columns against its layout and stamps its format version (atomic writes).
    Migrate {
        /// Directories searched recursively: experiments/, a runs directory, a sweep's results.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
    /// Measure training throughput against PyTorch eager and project the suite's wall time.
    #[cfg(feature = "torch")]
    Bench {
        /// Scale every measurement's length (0.25 for a quick look).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Measure the atlas' tables instead: orders 8 to 64, alone and
        /// batched with other groups of the same order, and its projected
        /// core-hours.
        #[arg(long)]
        atlas: bool,
    },
    /// Analyse a run (writes <run>/analysis/), with --sweep every run of a sweep, or with
    /// --import a TransformerLens model trained elsewhere.
    #[cfg(feature = "torch")]
    Analyze {
        /// A run directory.
        #[arg(required_unless_present_any = ["sweep", "import"])]
        run: Option<PathBuf>,
        /// experiments/<name> (the sweep's results directory) or its .toml.
        #[arg(long, conflicts_with_all = ["run", "import"])]
        sweep: Option<PathBuf>,
        /// Directory for run directories (with --sweep).
        #[arg(long, default_value = "runs")]
        runs: PathBuf,
        /// A TransformerLens checkpoint: a directory with config.json (HookedTransformerConfig's
        /// fields) and model.safetensors (its state dict); writes <DIR>/analysis/.
        #[arg(long, value_name = "DIR", conflicts_with = "run", requires = "op")]
        import: Option<PathBuf>,
        /// The operation the imported model computes, e.g. add:113 (with --import).
        #[arg(long, requires = "import")]
        op: Option<String>,
    },
    /// Export a run for another tool: --to transformer-lens writes a HookedTransformer
    /// checkpoint (config, state dict, grokscope's reference logits, a loader).
    #[cfg(feature = "torch")]
    Export {
        /// A run directory.
        run: PathBuf,
        /// The target format.
        #[arg(long, value_enum)]
        to: ExportFormat,
        /// The directory to create (default: <run>/transformer-lens, or
        /// <run>/transformer-lens-epoch<N> with --epoch).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Export the checkpoint of this epoch instead of the final weights.
        #[arg(long)]
        epoch: Option<u32>,
        /// Export a run trained with StableMax (its logits are exact; TransformerLens'
        /// probabilities and loss use softmax).
        #[arg(long)]
        allow_stablemax: bool,
    },
}

/// What `grokscope export` writes.
#[cfg(feature = "torch")]
#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    /// TransformerLens' HookedTransformer (TransformerLens 2 and 3).
    TransformerLens,
}

/// Sharding, Slurm and status options of `grokscope sweep`.
#[cfg(feature = "torch")]
#[derive(clap::Args, Default)]
struct Campaign {
    /// Train only shard i of N (i from 0), balanced by expected cost; do not aggregate.
    #[arg(long, value_name = "i/N", conflicts_with_all = ["slurm", "status", "aggregate"])]
    shard: Option<grokscope::train::sweep::Shard>,
    /// Train one run per job instead of batching runs of one order (the
    /// results are the same, byte for byte).
    #[arg(long, conflicts_with_all = ["slurm", "status", "aggregate", "shard"])]
    no_batching: bool,
    /// Train every run missing from --runs, also those whose rows the
    /// sweep's committed results hold (by default those count as complete).
    #[arg(long, conflicts_with_all = ["slurm", "status", "aggregate"])]
    retrain_committed: bool,
    /// Aggregate the complete runs into the results directory and list the missing ones.
    #[arg(long, conflicts_with_all = ["slurm", "status"])]
    aggregate: bool,
    /// Show every run's state (pending, running, complete, failed, stale) and any Slurm jobs.
    #[arg(long, conflicts_with = "slurm")]
    status: bool,
    /// Submit the sweep to Slurm as a job array of shards plus an aggregating job.
    #[arg(long)]
    slurm: bool,
    /// Slurm partition.
    #[arg(long, requires = "slurm")]
    partition: Option<String>,
    /// Slurm time limit per task, e.g. 2:00:00.
    #[arg(long, requires = "slurm")]
    time: Option<String>,
    /// CPUs per array task (each runs that many 1-thread training jobs).
    #[arg(long, default_value_t = 1, requires = "slurm")]
    cpus_per_task: usize,
    /// At most this many array tasks at once.
    #[arg(long, requires = "slurm")]
    max_parallel: Option<usize>,
    /// Number of shards (array tasks); default one per batch, at most 64.
    #[arg(long, requires = "slurm")]
    shards: Option<usize>,
    /// Do not analyse the sweep after aggregating.
    #[arg(long, requires = "slurm")]
    no_analyze: bool,
    /// Print the batch scripts instead of submitting them.
    #[arg(long, requires = "slurm")]
    dry_run: bool,
}

fn main() {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`| head`) would
    // panic; restore the default, under which the process ends quietly as
    // other Unix tools do.
    #[cfg(unix)]
    // SAFETY: called first in main, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Before libtorch's first operation: one kernel path on every x86-64 CPU.
    grokscope::kernels::pin();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            eprintln!("{}", usage_line(&e.render().to_string()));
            std::process::exit(2);
        }
    };
    if let Err(e) = run(cli) {
        eprintln!("error: {}", one_line(&e));
        std::process::exit(2);
    }
}

/// A clap usage error on one line: the error with the lines that detail it
/// and clap's tip, then where the usage is (clap prints the usage block).
fn usage_line(rendered: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut command = String::from("grokscope");
    for line in rendered.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(usage) = line.strip_prefix("Usage:") {
            command = usage
                .split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect::<Vec<_>>()
                .join(" ");
        } else if !line.starts_with("For more information") {
            parts.push(line.to_string());
        }
    }
    format!("{}; see `{command} --help`", parts.join(" "))
}

/// The chain of causes on one line, each said once: a cause whose text the
/// message so far already contains (thiserror's `{0}` with `#[from]`
/// repeats its source) is not repeated.
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Ops => ops(),
        Command::Group { op, json } => group(&op, json),
        Command::Figures {
            experiments,
            out,
            generated,
            partial,
        } => figures(&experiments, &out, &generated, partial),
        Command::Survival { sweeps } => survival(&sweeps),
        Command::Claims {
            experiments,
            json,
            numbers,
        } => claims(&experiments, json, numbers),
        Command::Migrate { dirs } => {
            for d in dirs {
                anyhow::ensure!(
                    d.is_dir(),
                    "{} is not a directory; give experiments/ or a runs directory",
                    d.display()
                );
                let done = grokscope::results::migrate(&d)?;
                println!("{}: {done}", d.display());
            }
            Ok(())
        }
        #[cfg(feature = "torch")]
        Command::Train {
            op,
            config,
            sets,
            out,
            extend,
        } => torch_cmds::train(op, config, sets, out, extend),
        #[cfg(feature = "torch")]
        Command::Sweep {
            spec,
            jobs,
            runs,
            campaign,
        } => torch_cmds::sweep(spec, jobs, runs, campaign),
        #[cfg(feature = "torch")]
        Command::Run {
            full,
            campaign,
            sweeps,
            runs,
            out,
        } => {
            use grokscope::report::experiments::Stage;
            match (full, campaign) {
                (false, false) if sweeps.is_empty() => torch_cmds::run_main(&out),
                (false, false) => anyhow::bail!(
                    "--sweeps selects experiments of --full or --campaign; add one of them"
                ),
                _ => {
                    let stage = if campaign {
                        Stage::Campaign
                    } else {
                        Stage::Full
                    };
                    torch_cmds::run_experiments(stage, &sweeps, &runs)
                }
            }
        }
        #[cfg(feature = "torch")]
        Command::Bench { scale, atlas } => {
            if !(scale > 0.0 && scale <= 100.0) {
                anyhow::bail!(
                    "--scale {scale}: give a factor above 0 and at most 100, e.g. --scale 0.25"
                );
            }
            if atlas {
                torch_cmds::bench_atlas(scale)
            } else {
                torch_cmds::bench(scale)
            }
        }
        #[cfg(feature = "torch")]
        Command::Analyze {
            run,
            sweep,
            runs,
            import,
            op,
        } => match (run, sweep, import) {
            (Some(run), _, _) => torch_cmds::analyze(&run),
            (None, Some(sweep), _) => torch_cmds::analyze_sweep(&sweep, &runs),
            (None, None, Some(dir)) => {
                torch_cmds::analyze_import(&dir, op.as_deref().unwrap_or(""))
            }
            (None, None, None) => unreachable!("clap requires one"),
        },
        #[cfg(feature = "torch")]
        Command::Export {
            run,
            to: ExportFormat::TransformerLens,
            out,
            epoch,
            allow_stablemax,
        } => torch_cmds::export(&run, out, epoch, allow_stablemax),
    }
}

fn ops() -> Result<()> {
    // Columns as wide as their widest cell (group names like F_113^x and
    // (Z/2)^7 are wider than the titles).
    let titles = ["name", "order", "group", "abelian", "table"];
    let mut rows: Vec<[String; 5]> = Vec::new();
    for (short, full) in SHORT_NAMES {
        let op = Operation::parse(short)?;
        let group = op
            .group
            .as_ref()
            .map_or("-".to_string(), |g| g.name().to_string());
        rows.push([
            short.to_string(),
            op.order().to_string(),
            group,
            op.is_abelian().to_string(),
            format!(
                "{} (= {full}; analysed as {}, {})",
                op.description,
                op.analysis.group.name(),
                op.analysis.relabelling
            ),
        ]);
    }
    let w: Vec<usize> = (0..titles.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .fold(titles[c].len(), usize::max)
        })
        .collect();
    for r in std::iter::once(titles.map(String::from)).chain(rows) {
        println!(
            "{:<w0$}  {:>w1$}  {:<w2$}  {:<w3$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        );
    }
    println!("\nfamilies (write family:n):");
    let families: Vec<(&str, &str)> = catalogue_families().collect();
    let wf = families
        .iter()
        .map(|(f, _)| f.chars().count())
        .max()
        .unwrap_or(0);
    for (family, what) in families {
        println!("  {family:<wf$}  {what}");
    }
    Ok(())
}

fn group(name: &str, as_json: bool) -> Result<()> {
    let op = grokscope::budget::build_operation(name)?;
    let g = &op.analysis.group;
    let reps = g.representations();
    let scores = ComplexityScores::of(g);
    let classes = g.conjugacy_classes();
    let inv = grokscope::groups::invariants::Invariants::of(g);
    if as_json {
        let v = json!({
            "operation": op.canonical,
            "group": g.name(),
            "relabelling": op.analysis.relabelling,
            "order": g.order(),
            "abelian": g.is_abelian(),
            "classes": classes.iter().map(|c| json!({"size": c.size(), "representative": g.label(c.representative)})).collect::<Vec<_>>(),
            "irreps": reps.complex.irreps.iter().map(|i| json!({
                "name": i.name, "dim": i.dim,
                "character": i.character.iter().map(|z| [clean_float(z.re), clean_float(z.im)]).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "real_irreps": reps.real.iter().map(|r| json!({
                "name": r.name, "real_dim": r.real_dim(), "type": r.fs_type,
                "faithful": r.is_faithful(), "kernel_size": r.kernel.len(),
                "character": r.character.iter().map(|&x| clean_float(x)).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "scores": scores,
            "invariants": inv,
            "elements": g.labels(),
            "class_of": (0..g.order()).map(|x| g.class_of(x)).collect::<Vec<_>>(),
            "table": (0..g.order()).map(|a| &g.table()[a * g.order()..(a + 1) * g.order()]).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "{} = {} ({}), order {}, {}",
        op.canonical,
        g.name(),
        op.analysis.relabelling,
        g.order(),
        if g.is_abelian() {
            "abelian"
        } else {
            "non-abelian"
        }
    );
    let or_not = |v: usize, not: &str| {
        if v == 0 {
            not.to_string()
        } else {
            v.to_string()
        }
    };
    println!(
        "|G'| {} (|G/G'| {}), {} classes (commuting probability {:.4}), nilpotency class {}, derived length {}, exponent {}, |Z(G)| {}, largest irrep degree {}, F1 {}",
        inv.derived_order,
        inv.abelianisation_order(),
        inv.classes,
        inv.commuting_probability,
        or_not(inv.nilpotency_class, "— (not nilpotent)"),
        or_not(inv.derived_length, "— (not solvable)"),
        inv.exponent,
        inv.centre_order,
        inv.max_degree,
        scores.f1
    );
    // Complex characters (-0.500+0.866i) are wider than the default
    // column: every column is as wide as the widest cell, plus a space.
    let labels: Vec<String> = classes
        .iter()
        .map(|c| g.label(c.representative).to_string())
        .collect();
    let sizes: Vec<String> = classes.iter().map(|c| c.size().to_string()).collect();
    let rows: Vec<Vec<String>> = reps
        .complex
        .irreps
        .iter()
        .map(|i| {
            i.character
                .iter()
                .map(|z| format_character(z.re, z.im))
                .collect()
        })
        .collect();
    let width = labels
        .iter()
        .chain(&sizes)
        .chain(rows.iter().flatten())
        .map(|s| s.chars().count() + 1)
        .fold(9, usize::max);
    let line =
        |cells: &[String]| -> String { cells.iter().map(|s| format!("{s:>width$}")).collect() };
    println!("\ncharacter table (complex irreps; columns are classes, by representative)");
    println!("{:<14}{:>4}{}", "class", "", line(&labels));
    println!("{:<14}{:>4}{}", "size", "", line(&sizes));
    for (i, row) in reps.complex.irreps.iter().zip(&rows) {
        println!("{:<14}{:>4}{}", i.name, i.dim, line(row));
    }
    println!("\nreal irreps (the components Peter–Weyl analyses use)");
    println!(
        "{:<14}{:>8}  {:<13} {:>9}",
        "name", "real dim", "type", "faithful"
    );
    for r in &reps.real {
        let t = r.fs_type.name();
        println!(
            "{:<14}{:>8}  {:<13} {:>9}",
            r.name,
            r.real_dim(),
            t,
            r.is_faithful()
        );
    }
    let f2 = scores.f2.map_or("-".to_string(), |x| format!("{x:.3}"));
    println!(
        "\nscores: C1 = {:.3} (rank = d(G) = {}), C2 = {:.3}, F1 = {}, F2 = {f2}",
        scores.c1, scores.rank, scores.c2, scores.f1
    );
    Ok(())
}

fn figures(
    experiments: &std::path::Path,
    out: &std::path::Path,
    generated: &std::path::Path,
    partial: bool,
) -> Result<()> {
    anyhow::ensure!(
        experiments.is_dir(),
        "{} is not a directory; give --experiments the directory of stored sweep results (experiments/ in the repository)",
        experiments.display()
    );
    let exp = grokscope::report::Experiments::load(experiments)?;
    if !exp.missing.is_empty() {
        anyhow::ensure!(
            partial,
            "{} has no results for {}: the figures and tables would be drawn from part of the paper's data; restore them, or pass --partial to write only what the results present allow",
            experiments.display(),
            exp.missing.join(", ")
        );
        eprintln!(
            "--partial: {} has no results for {}; the figures, tables and numbers that need them are not written",
            experiments.display(),
            exp.missing.join(", ")
        );
    }
    let (written, skipped) = grokscope::report::render_figures(&exp, out)?;
    let tables = grokscope::report::paper::write_all(&exp, generated)?;
    for s in &skipped {
        eprintln!(
            "skipped figure {s}: its sweep has no results in {}",
            experiments.display()
        );
    }
    eprintln!(
        "{} figure files in {}, {} tables in {}",
        written.len(),
        out.display(),
        tables.len(),
        generated.display()
    );
    Ok(())
}

fn claims(experiments: &std::path::Path, json: bool, numbers: bool) -> Result<()> {
    if !experiments.is_dir() {
        anyhow::bail!(
            "{} is not a directory; give --experiments the directory of stored sweep results (experiments/ in the repository)",
            experiments.display()
        );
    }
    let exp = grokscope::report::Experiments::load(experiments)?;
    let verdicts = grokscope::report::claims::verdicts(&exp)?;
    if verdicts.is_empty() {
        anyhow::bail!(
            "no claim can be decided from {}: it holds no sweep results; run `grokscope sweep experiments/suite.toml` or point --experiments at stored results",
            experiments.display()
        );
    }
    if !exp.missing.is_empty() {
        eprintln!(
            "not read: {} has no results for {}; the claims they decide are not shown",
            experiments.display(),
            exp.missing.join(", ")
        );
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&verdicts)?);
        return Ok(());
    }
    for v in &verdicts {
        println!("{}: {}", v.claim, v.verdict.replace("\\,", " "));
        println!("  claim: {}", v.statement);
        println!("  rule:  {}", v.rule);
        for (version, verdict) in &v.other_versions {
            println!(
                "  by the rule's {} version: {verdict}",
                version.replace('_', " ")
            );
        }
        if numbers {
            for (k, value) in &v.numbers {
                println!("    {k} = {value}");
            }
        }
    }
    Ok(())
}

fn survival(sweeps: &[std::path::PathBuf]) -> Result<()> {
    use grokscope::report::claims::r3_long::decide_r3;
    use grokscope::report::survival::load_dirs;
    let settings = load_dirs(sweeps)?;
    println!(
        "{:<16} {:<16} {:>5} {:>6} {:>8}  {:<22} at risk (epoch: runs)",
        "sweep", "group", "frac", "runs", "grokked", "median [95% CI]"
    );
    for s in &settings {
        let fmt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.0}"));
        let (lo, hi) = s.km.median_interval();
        let median = match s.km.median() {
            Some(m) => format!("{m:.0} [{}, {}]", fmt(lo), fmt(hi)),
            None => "not reached".into(),
        };
        let risk: Vec<String> =
            s.km.steps
                .iter()
                .filter(|x| x.events > 0)
                .map(|x| format!("{:.0}: {}", x.time, x.at_risk))
                .collect();
        let of = s.planned.map_or(String::new(), |p| format!("/{p}"));
        println!(
            "{:<16} {:<16} {:>5.2} {:>6} {:>8}  {median:<22} {}",
            s.sweep,
            s.op,
            s.fraction,
            format!("{}{of}", s.runs.len()),
            s.km.events(),
            if risk.is_empty() {
                "-".into()
            } else {
                risk.join(", ")
            }
        );
    }
    // The rule fixed before the long-budget runs (README: R3).
    let d = decide_r3(&settings);
    println!("\nR3 by the rule fixed before the long-budget runs:");
    for t in d.decisive.iter().chain(&d.controls) {
        if t.runs == 0 {
            println!("  {}: no runs yet", t.setting);
        } else {
            println!(
                "  {}: {} of {} runs sustain-grokked",
                t.setting, t.grokked, t.runs
            );
        }
    }
    match d.verdict() {
        Some(v) if d.incomplete.is_empty() => println!("  verdict: {v}"),
        Some(v) => println!(
            "  verdict: {v} (final: no missing run of the {} incomplete settings can change it)",
            d.incomplete.len()
        ),
        None => println!(
            "  verdict: not yet decided ({} settings incomplete; the missing runs could make it {} or {})",
            d.incomplete.len(),
            d.bounds.0,
            d.bounds.1
        ),
    }
    Ok(())
}

#[cfg(feature = "torch")]
mod torch_cmds {
    use super::*;
    use anyhow::Context;
    use grokscope::config::RunConfig;
    use grokscope::train::run::train_runs;
    use grokscope::train::sweep::{results_dir_for, run_sweep, SweepObserver, SweepSpec};
    use grokscope::train::{resolve_threads, Observer, Progress};
    use indicatif::{ProgressBar, ProgressStyle};
    use std::io::IsTerminal;

    /// A progress bar on a terminal, plain lines every 10% otherwise.
    struct TerminalProgress {
        bar: Option<ProgressBar>,
        last_line: usize,
    }

    impl Observer for TerminalProgress {
        fn progress(&mut self, p: &Progress) -> bool {
            let msg = format!(
                "train acc {:.3}  test acc {:.3}",
                p.train_accuracy[0], p.test_accuracy[0]
            );
            match &self.bar {
                Some(bar) => {
                    bar.set_position(p.epoch as u64);
                    bar.set_message(msg);
                }
                None => {
                    let step = (p.epochs / 10).max(1);
                    if p.epoch >= self.last_line + step || p.epoch == 0 || p.epoch == p.epochs {
                        eprintln!("epoch {:>6}/{}  {msg}", p.epoch, p.epochs);
                        self.last_line = p.epoch;
                    }
                }
            }
            true
        }
    }

    pub fn train(
        op: Option<String>,
        config: Option<PathBuf>,
        sets: Vec<String>,
        out: PathBuf,
        extend: Option<PathBuf>,
    ) -> Result<()> {
        let mut cfg = match (&config, &extend) {
            (_, Some(run)) => grokscope::train::run::read_config(run)?,
            (Some(path), None) => RunConfig::from_toml_file(path)?,
            (None, None) => RunConfig::default(),
        };
        if let Some(op) = op {
            cfg.op = op;
        }
        for s in &sets {
            cfg.set(s)?;
        }
        grokscope::budget::admit(&cfg)?;
        let threads = resolve_threads(cfg.threads, 1);
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(cfg.epochs as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] epoch {pos}/{len} {msg} ETA {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(cfg.op.clone());
            bar
        });
        let mut obs = TerminalProgress { bar, last_line: 0 };
        let argv: Vec<String> = std::env::args().collect();
        let dirs = match &extend {
            Some(run) => grokscope::train::run::extend_runs(
                std::slice::from_ref(run),
                &sets,
                &out,
                threads,
                &argv,
                &mut obs,
            )?,
            None => train_runs(std::slice::from_ref(&cfg), &out, threads, &argv, &mut obs)?,
        };
        if let Some(bar) = &obs.bar {
            bar.finish();
        }
        let m = grokscope::train::run::read_manifest(&dirs[0])?;
        let s = m.summary.context("run finished without a summary")?;
        let ep = |e: Option<u32>, what: &str| {
            e.map_or(format!("not {what}"), |e| format!("{what} at epoch {e}"))
        };
        let grok = match (s.sustained_grok_epoch, s.grokked_epoch) {
            (Some(e), _) => format!("grokked at epoch {e} (held {} epochs)", cfg.grok_window),
            (None, Some(c)) => format!(
                "crossed 0.99 at epoch {c}, not grokked (never held {} epochs)",
                cfg.grok_window
            ),
            (None, None) => "not grokked".into(),
        };
        let stop = match s.stop_reason {
            grokscope::grok::StopReason::SustainedGrok => {
                format!("stopped after grokking at epoch {}", s.last_epoch)
            }
            grokscope::grok::StopReason::Budget => format!("trained to epoch {}", s.last_epoch),
            grokscope::grok::StopReason::Diverged => format!(
                "diverged: its training loss was no longer a number at epoch {} (a smaller lr may train)",
                s.last_epoch
            ),
        };
        eprintln!(
            "{}; {grok}; {stop}; final train/test/informative accuracy {:.4}/{:.4}/{:.4} ({} informative pairs); {:.1} s",
            ep(s.memorised_epoch, "memorised"),
            s.final_train_accuracy,
            s.final_test_accuracy,
            s.final_informative_accuracy,
            s.informative_pairs,
            s.wall_seconds
        );
        println!("{}", dirs[0].display());
        Ok(())
    }

    pub fn analyze(run: &std::path::Path) -> Result<()> {
        let a = grokscope::analyze::analyze_run(run)?;
        print_analysis(&a);
        println!("{}", run.join("analysis").display());
        Ok(())
    }

    pub fn analyze_import(dir: &std::path::Path, op: &str) -> Result<()> {
        let op = grokscope::budget::build_operation(op)?;
        let imported = grokscope::interop::import(dir, &op)?;
        let out = dir.join("analysis");
        let a = grokscope::analyze::analyze_imported(dir, &imported, &op, &out)?;
        println!(
            "{} as {} ({}): table accuracy {:.4}",
            a.source, a.op, a.group, a.table_accuracy
        );
        for note in &a.import_notes {
            println!("  import: {note}");
        }
        println!(
            "  embedding: dominant irrep {} holds {:.3} of the non-constant power (isotropic {:.3}); key irreps: {}",
            a.dominant_irrep,
            a.dominant_share,
            a.dominant_expected,
            if a.key_irreps.is_empty() { "none".to_string() } else { a.key_irreps.join(", ") }
        );
        println!(
            "  unembedding: dominant {} ({:.3})",
            a.unembed_dominant.0, a.unembed_dominant.1
        );
        println!(
            "  MLP neurons over G×G: dominant ({}, {}) {:.3}; share on (ρ, ρ) pairs {:.3}",
            a.neurons_dominant.0,
            a.neurons_dominant.1,
            a.neurons_dominant.2,
            a.neurons_diagonal_share
        );
        if let Some((k1, k5, keys)) = &a.fourier {
            println!("  Fourier: concentration k=1 {k1:.3}, k=5 {k5:.3}; key frequencies {keys:?}");
        }
        println!("  Gini of the embedding spectrum: {:.3}", a.gini);
        println!("  (no untrained null, split or checkpoints come with an import: compare with a grokscope run of the same group)");
        println!("{}", out.display());
        Ok(())
    }

    pub fn export(
        run: &std::path::Path,
        out: Option<std::path::PathBuf>,
        epoch: Option<u32>,
        allow_stablemax: bool,
    ) -> Result<()> {
        let out = out.unwrap_or_else(|| match epoch {
            Some(e) => run.join(format!("transformer-lens-epoch{e}")),
            None => run.join("transformer-lens"),
        });
        let options = grokscope::interop::ExportOptions {
            epoch,
            allow_stablemax,
        };
        let e = grokscope::interop::export(run, &out, &options)?;
        println!(
            "exported {} (epoch {}) for TransformerLens to {} (largest |logit| {:.3}); load it with load.py there",
            e.run_id,
            e.epoch,
            e.dir.display(),
            e.max_abs_logit
        );
        Ok(())
    }

    pub fn print_analysis(a: &grokscope::analyze::RunAnalysis) {
        println!(
            "{} ({}, {}): {}",
            a.run_id,
            a.op,
            a.group,
            if a.grokked { "grokked" } else { "not grokked" }
        );
        println!(
            "  embedding: dominant irrep {} (degree {}, {}) holds {:.3} of the non-constant power (at initialisation {:.3}; isotropic {:.3})",
            a.dominant_irrep,
            a.dominant_kind.0,
            if a.dominant_kind.1 { "faithful" } else { "not faithful" },
            a.dominant_share,
            a.dominant_share_init,
            a.dominant_expected
        );
        println!(
            "  key irreps: {}",
            if a.key_irreps.is_empty() {
                "none".to_string()
            } else {
                a.key_irreps.join(", ")
            }
        );
        println!(
            "  unembedding: dominant {} ({:.3})",
            a.unembed_dominant.0, a.unembed_dominant.1
        );
        println!(
            "  MLP neurons over G×G: dominant ({}, {}) {:.3}; share on (ρ, ρ) pairs {:.3} (at initialisation {:.3})",
            a.neurons_dominant.0, a.neurons_dominant.1, a.neurons_dominant.2, a.neurons_diagonal_share.0, a.neurons_diagonal_share.1
        );
        for f in &a.fourier {
            println!(
                "  Fourier ({}): concentration k=1 {:.3}, k=5 {:.3} (init {:.3}, {:.3}); key frequencies {:?}; probe accuracy {:.3} (init {:.3})",
                f.order, f.concentration_k1, f.concentration_k5, f.init_concentration_k1, f.init_concentration_k5, f.key_frequencies,
                f.probe_accuracy, f.init_probe_accuracy
            );
        }
        println!(
            "  Gini of the embedding spectrum: {:.3} (init {:.3})",
            a.gini.0, a.gini.1
        );
    }

    pub fn analyze_sweep(sweep: &std::path::Path, runs: &std::path::Path) -> Result<()> {
        let dir = if sweep.extension().is_some_and(|e| e == "toml") {
            results_dir_for(sweep)
        } else {
            sweep.to_path_buf()
        };
        let written = grokscope::analyze::analyze_sweep(&dir, runs, &|m| eprintln!("{m}"))?;
        for w in written {
            println!("{}", w.display());
        }
        Ok(())
    }

    /// `grokscope run --full` / `--campaign`: trains the paper's
    /// experiments of `stage` (or those named), each from
    /// `experiments/<name>.toml` into `experiments/<name>/`, analyses each
    /// and redraws the figures. Resumable: complete runs are skipped.
    pub fn run_experiments(
        stage: grokscope::report::experiments::Stage,
        only: &[String],
        runs: &std::path::Path,
    ) -> Result<()> {
        use grokscope::report::experiments::{at_stage, find, Stage};
        let names: Vec<&str> = if only.is_empty() {
            at_stage(stage)
        } else {
            only.iter()
                .map(|n| find(n).map(|e| e.name))
                .collect::<std::result::Result<_, _>>()
                .map_err(anyhow::Error::msg)?
        };
        let campaign = names
            .iter()
            .any(|n| find(n).is_ok_and(|e| e.stage == Stage::Campaign));
        if campaign && runs == std::path::Path::new("runs") {
            anyhow::bail!(
                "the long-budget campaign takes days and its runs must survive a new checkout: \
                 give a runs directory outside the work tree with --runs or GROKSCOPE_RUNS"
            );
        }
        let specs: Vec<(PathBuf, SweepSpec)> = names
            .iter()
            .map(|n| {
                let path = PathBuf::from(format!("experiments/{n}.toml"));
                if !path.exists() {
                    anyhow::bail!(
                        "{} not found; run `grokscope run` from the repository root",
                        path.display()
                    );
                }
                Ok((path.clone(), SweepSpec::from_file(&path)?))
            })
            .collect::<Result<_>>()?;
        let argv: Vec<String> = std::env::args().collect();
        for (i, (path, spec)) in specs.iter().enumerate() {
            let results = results_dir_for(path);
            eprintln!(
                "=== {} ({}/{}): sweep into {}",
                path.display(),
                i + 1,
                specs.len(),
                results.display()
            );
            let start = std::time::Instant::now();
            let swept = run_sweep(spec, runs, &results, 0, &argv, &Lines)?;
            anyhow::ensure!(
                swept.missing.is_empty(),
                "{}: runs missing: {}; run it again to resume",
                path.display(),
                swept.missing.join(", ")
            );
            eprintln!(
                "trained {} runs ({} already complete) in {:.0} s; analysing",
                swept.trained,
                swept.skipped,
                start.elapsed().as_secs_f64()
            );
            grokscope::analyze::analyze_sweep(&results, runs, &|m| eprintln!("{m}"))?;
        }
        super::figures(
            std::path::Path::new("experiments"),
            std::path::Path::new("figures"),
            std::path::Path::new("paper/generated"),
            false,
        )
    }

    /// `grokscope run`: the quick suite end to end.
    pub fn run_main(out: &std::path::Path) -> Result<()> {
        // The quick suite stands in for the suite, so every suite figure is drawn.
        let spec = SweepSpec::parse(
            include_str!("../../experiments/quick.toml"),
            "experiments/quick.toml",
        )?;
        let experiments = out.join("experiments");
        let results = experiments.join("suite");
        let argv: Vec<String> = std::env::args().collect();
        let start = std::time::Instant::now();
        let swept = run_sweep(&spec, &out.join("runs"), &results, 0, &argv, &Lines)?;
        anyhow::ensure!(
            swept.missing.is_empty(),
            "runs missing: {:?}",
            swept.missing
        );
        eprintln!(
            "trained {} runs ({} already complete) in {:.0} s",
            swept.trained,
            swept.skipped,
            start.elapsed().as_secs_f64()
        );
        grokscope::analyze::analyze_sweep(&results, &out.join("runs"), &|m| eprintln!("{m}"))?;
        // The quick suite alone: the other experiments' figures are skipped.
        super::figures(
            &experiments,
            &out.join("figures"),
            &out.join("generated"),
            true,
        )?;
        let table = grokscope::report::tables::grok_summary(
            &grokscope::report::Experiments::load(&experiments)?,
        )?;
        println!("{table}");
        println!("figures: {}", out.join("figures").display());
        Ok(())
    }

    pub fn bench_atlas(scale: f64) -> Result<()> {
        use grokscope::bench::*;
        let cpu = cpu_name();
        println!("grokscope bench --atlas: model-epochs per second on one core (one job, one libtorch thread, evaluation every 10 epochs), one model alone and S models of different groups of one order batched; the atlas' settings otherwise (docs/design.md defaults, training fraction 0.7)");
        println!(
            "machine: {cpu}, {} cores; libtorch {}\n",
            grokscope::limits::cores(),
            grokscope::train::run::LIBTORCH_VERSION
        );
        print!("order  pairs   alone");
        for s in ATLAS_BATCHES {
            print!("   S = {s:<2} (ratio)");
        }
        println!("   sweep's batch (stop early / not)   floor   ceiling");
        let cfg = grokscope::config::RunConfig::default();
        let mut alone = Vec::new();
        let mut best = Vec::new();
        let mut floors = Vec::new();
        let mut rates = Vec::new();
        for n in ATLAS_ORDERS {
            let pairs = grokscope::data::train_size(n, 0.7);
            let e = epochs_for(pairs, scale);
            let one = measure_batch(&atlas_ops(n, 1)?, e)?;
            print!("{n:>5}  {pairs:>5}  {one:6.1}");
            let mut top = one;
            for s in ATLAS_BATCHES {
                // As many epochs per model as alone, so a run's fixed costs
                // (its start, the evaluations at its first and last epoch,
                // writing it) weigh the same per model-epoch in both.
                let r = measure_batch(&atlas_ops(n, s)?, e)?;
                top = top.max(r);
                print!("   {r:6.1} ({:4.2})", r / one);
            }
            // The epoch's FLOPs at the GEMM rate of this order's shapes: no
            // step, batched or not, can be faster, so alone / floor bounds
            // what any batching could gain.
            let rate = gemm_rate(pairs as i64, cfg.d_mlp as i64, cfg.d_model as i64);
            let floor = step_flops(&cfg, n) / rate;
            println!(
                "   {:>2} / {:<2}                        {:6.1}   {:4.2}",
                grokscope::train::sweep::batch_size(pairs, true),
                grokscope::train::sweep::batch_size(pairs, false),
                1.0 / floor,
                (1.0 / one) / floor
            );
            alone.push((pairs, 1.0 / one));
            best.push((pairs, 1.0 / top));
            floors.push((pairs, floor));
            rates.push(rate);
        }
        println!("(floor: model-epochs per second if every FLOP of the step ran at the single-thread float32 GEMM rate of the order's shapes; ceiling: floor / alone, the most any batching could gain)");
        // The last order measured is 64: its floor and GEMM rate from the loop.
        let pairs = grokscope::data::train_size(64, 0.7);
        let rate = rates.last().copied().unwrap_or(f64::NAN);
        let floor = floors.last().map_or(f64::NAN, |p| p.1);
        let step = alone.last().map_or(f64::NAN, |p| p.1);
        println!(
            "\norder 64: {:.0} MFLOP an epoch; float32 GEMM [{pairs}, {}] x [{}, {}] at {:.0} GFLOP/s on one thread: floor {:.2} ms, step {:.2} ms ({:.2} of the floor)",
            step_flops(&cfg, 64) / 1e6,
            cfg.d_mlp,
            cfg.d_mlp,
            cfg.d_model,
            rate / 1e9,
            floor * 1e3,
            step * 1e3,
            floor / step
        );
        let hours =
            |points: &[(usize, f64)]| atlas_core_hours(3, 20_000, &|p| interpolate(points, p));
        println!(
            "projected atlas (585 groups x 3 seeds x 20 000 epochs, no early stop, upper bound): {:.1} core-hours one model per job, {:.1} at the best measured batch of each order",
            hours(&alone),
            hours(&best)
        );
        println!(
            "the same atlas at the FLOP floor of every order: {:.1} core-hours",
            hours(&floors)
        );
        Ok(())
    }

    fn cpu_name() -> String {
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into())
    }

    pub fn bench(scale: f64) -> Result<()> {
        use grokscope::bench::*;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let cpu = cpu_name();
        let e = epochs_for(8939, scale);
        println!("grokscope bench: add (p = 113, 8939 training pairs, docs/design.md defaults), {e} epochs per measurement, evaluation every 10");
        println!(
            "machine: {cpu}, {cores} cores; libtorch {}",
            grokscope::train::run::LIBTORCH_VERSION
        );
        println!();
        let a = measure_pytorch(root, 113, cores, e)?;
        println!("(a) PyTorch eager, 1 model, {cores} threads          {a:8.2} epochs/s");
        let b0 = measure_step("add", 1, cores, e, grokscope::config::Step::Autograd)?;
        println!(
            "(b0) grokscope autograd step (0.1), 1 model        {:8.2} epochs/s   b0/a = {:.2}",
            b0.per_model,
            b0.per_model / a
        );
        let b = measure("add", 1, cores, e)?;
        println!(
            "(b) grokscope fused step, 1 model, {cores} threads   {:8.2} epochs/s   b/a = {:.2}   b/b0 = {:.2}",
            b.per_model,
            b.per_model / a,
            b.per_model / b0.per_model
        );
        let exe = std::env::current_exe()?;
        let pe = (300.0 * scale).round().max(20.0) as usize;
        println!("\nwhole `grokscope train --op add` processes ({pe} epochs, start-up and files included), per ATen kernel path:");
        let mut paths = vec![];
        for path in ["avx512", "avx2", "default"] {
            if grokscope::kernels::cpu_supports(path) {
                let r = measure_process(&exe, path, cores, pe)?;
                paths.push((path, r));
                println!(
                    "    ATEN_CPU_CAPABILITY={path:<8} {r:8.2} epochs/s   /a = {:.2}{}",
                    r / a,
                    if path == grokscope::kernels::PINNED {
                        "   (grokscope's pinned default)"
                    } else {
                        ""
                    }
                );
            }
        }
        if let (Some(best), Some(pinned)) = (
            paths.first(),
            paths.iter().find(|(p, _)| *p == grokscope::kernels::PINNED),
        ) {
            println!(
                "    pinning to {} costs {:.1}% against {} here",
                grokscope::kernels::PINNED,
                100.0 * (1.0 - pinned.1 / best.1),
                best.0
            );
        }
        for s in [3, 8] {
            let c = measure("add", s, cores, e)?;
            println!(
                "(c) grokscope, S = {s} batched seeds, {cores} threads   {:8.2} epochs/s per seed   (c per seed)/b = {:.2}",
                c.per_model,
                c.per_model / b.per_model
            );
        }
        let d = measure_parallel("add", 1, cores, e)?;
        println!(
            "(d) grokscope, {cores} jobs x 1 model x 1 thread       {:8.2} epochs/s per model, {:.2} in all   (d all)/b = {:.2}",
            d.per_model,
            d.total,
            d.total / b.per_model
        );
        let es = epochs_for(403, scale);
        println!("\nsmall table: s4 (403 training pairs), {es} epochs per measurement");
        let bs = measure("s4", 1, cores, es)?;
        println!(
            "    grokscope, 1 model, {cores} threads              {:8.2} epochs/s",
            bs.per_model
        );
        for s in [3, 8] {
            let c = measure("s4", s, cores, es)?;
            println!("    grokscope, S = {s} batched seeds            {:8.2} epochs/s per seed   ratio {:.2}", c.per_model, c.per_model / bs.per_model);
        }
        let bd = breakdown(113, cores, 5)?;
        let total = bd.total();
        println!(
            "\nwhere an epoch of add goes (fused step, 1 model, {cores} threads): {total:.1} ms"
        );
        for (part, ms) in [
            ("tables", bd.tables),
            ("forward", bd.forward),
            ("backward", bd.backward),
            ("AdamW", bd.optimizer),
            ("evaluation / 10", bd.eval_share),
        ] {
            println!("    {part:<20} {ms:7.2} ms  {:5.1}%", 100.0 * ms / total);
        }
        // Projection: every suite operation measured under the sweep schedule.
        let suite = ["add", "sub", "mul", "ring", "s3", "d5", "a4", "s4"];
        let mut rates = std::collections::HashMap::new();
        let mut ops = Vec::new();
        println!("\nsweep schedule ({cores} one-thread jobs) per operation:");
        for op in suite {
            let o = Operation::parse(op)?;
            let pairs = grokscope::data::train_size(o.order(), 0.7);
            let s = grokscope::train::sweep::batch_size(pairs, false).min(3);
            let r = measure_parallel(op, s, cores, epochs_for(pairs * s, scale))?;
            println!(
                "    {op:<5} {pairs:>5} pairs, S = {s}: {:8.2} epochs/s per seed",
                r.per_model
            );
            rates.insert(op, r.per_model);
            ops.push((op, pairs));
        }
        let t = project_sweep(&ops, 3, 3000, cores, &|op, _| rates[op]);
        println!(
            "\nprojected suite (8 operations x 3 seeds x 3000 epochs): {:.1} min",
            t / 60.0
        );
        Ok(())
    }

    struct Lines;
    impl SweepObserver for Lines {
        fn line(&self, message: &str) {
            eprintln!("{message}");
        }
    }

    pub fn sweep(spec_path: PathBuf, jobs: usize, runs: PathBuf, c: super::Campaign) -> Result<()> {
        use grokscope::train::{slurm, sweep};
        let spec = SweepSpec::from_file(&spec_path)?;
        let results = results_dir_for(&spec_path);
        let argv: Vec<String> = std::env::args().collect();
        let resubmit = format!(
            "grokscope sweep {} --runs {}",
            spec_path.display(),
            runs.display()
        );
        if c.status {
            let states = sweep::status(&spec, &runs, &results)?;
            let mut counts = std::collections::BTreeMap::new();
            for (id, state, detail) in &states {
                *counts.entry(state.word()).or_insert(0) += 1;
                println!(
                    "{:<9} {id}{}",
                    state.word(),
                    detail
                        .as_ref()
                        .filter(|_| !matches!(state.word(), "complete" | "committed"))
                        .map_or(String::new(), |d| format!("  ({d})"))
                );
            }
            let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
            println!("{} runs: {}", states.len(), summary.join(", "));
            if let Some(sub) = slurm::submitted(&results) {
                match slurm::queue(&sub) {
                    Ok(lines) if lines.is_empty() => println!(
                        "slurm: array {} and aggregate {} have left the queue",
                        sub.array, sub.aggregate
                    ),
                    Ok(lines) => {
                        println!("slurm (squeue): job name state time reason");
                        for l in lines {
                            println!("  {l}");
                        }
                    }
                    Err(e) => anyhow::bail!(
                        "the queue of array {} could not be read: {e} (the run states above come from the runs directory)",
                        sub.array
                    ),
                }
            }
            return Ok(());
        }
        if c.slurm {
            let opts = slurm::SlurmOptions {
                partition: c.partition,
                time: c.time,
                cpus_per_task: c.cpus_per_task,
                max_parallel: c.max_parallel,
                shards: c.shards,
                analyze: !c.no_analyze,
            };
            let exe = std::env::current_exe()?;
            let scripts = slurm::scripts(&spec_path, &spec, &runs, &results, &exe, &opts)?;
            if c.dry_run {
                println!(
                    "# array.sh\n{}\n# aggregate.sh\n{}",
                    scripts.array, scripts.aggregate
                );
                return Ok(());
            }
            std::fs::create_dir_all(&runs)?;
            let sub = slurm::submit(&results, &scripts)?;
            eprintln!(
                "submitted array {} ({} shards) and aggregating job {} (after the array); follow with: grokscope sweep {} --status --runs {}",
                sub.array,
                sub.shards,
                sub.aggregate,
                spec_path.display(),
                runs.display()
            );
            println!("{}", sub.array);
            return Ok(());
        }
        if c.aggregate {
            let (file, missing) = sweep::aggregate_sweep(&spec, &runs, &results)?;
            report_missing(&missing, &resubmit);
            println!("{}", file.display());
            anyhow::ensure!(
                missing.is_empty(),
                "{} runs missing; resubmit with: {resubmit}",
                missing.len()
            );
            return Ok(());
        }
        let opts = sweep::SweepOptions {
            jobs,
            shard: c.shard,
            no_batching: c.no_batching,
            retrain_committed: c.retrain_committed,
        };
        let out = sweep::run_sweep_with(&spec, &runs, &results, opts, &argv, &Lines)?;
        eprintln!(
            "{} done: trained {} runs, skipped {} complete",
            if c.shard.is_some() { "shard" } else { "sweep" },
            out.trained,
            out.skipped
        );
        report_missing(&out.missing, &resubmit);
        if let Some(r) = out.results {
            println!("{}", r.display());
        }
        Ok(())
    }

    /// At most this many missing run ids are named (an atlas misses
    /// hundreds while it trains; `--status` lists every run).
    const MISSING_NAMED: usize = 10;

    fn report_missing(missing: &[String], resubmit: &str) {
        if !missing.is_empty() {
            let more = missing.len().saturating_sub(MISSING_NAMED);
            eprintln!(
                "missing {} runs: {}{}; resubmit with: {resubmit}",
                missing.len(),
                missing[..missing.len().min(MISSING_NAMED)].join(", "),
                if more > 0 {
                    format!(" and {more} more (--status lists them)")
                } else {
                    String::new()
                }
            );
        }
    }
}
