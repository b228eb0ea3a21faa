//! The values a notebook keeps must be owned: evcxr refuses to persist a
//! variable whose type borrows ("contains a reference with a non-static
//! lifetime"). Each binding below goes through `keep`, which accepts only
//! `'static` types, so a borrowed return type in the notebook-facing API
//! fails to compile here instead of in a user's notebook.
#![cfg(feature = "torch")]

use grokscope::analysis::complexity::ComplexityScores;
use grokscope::prelude::*;
use grokscope::study::StudyError;

fn keep<T: 'static>(value: T) -> T {
    value
}

#[test]
fn the_quoted_cells_keep_owned_values() {
    // The two cells, as written.
    let op = keep(grokscope::groups::Operation::parse("s4").unwrap());
    let reps = keep(op.analysis.group.representations());
    assert_eq!(reps.real.len(), 5);
    let group = keep(op.analysis.group.clone());
    let scores = keep(ComplexityScores::of(&group));
    assert_eq!(scores.max_irrep_dim, 3);
    let html = keep(group.character_table_html());
    assert!(html.contains("S4"));
}

#[test]
fn stored_results_tables_and_figures_are_owned() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let suite = keep(SweepData::load(&dir, "suite").unwrap().unwrap());
    let ops = keep(suite.ops().unwrap());
    assert!(ops.iter().any(|o| o == "s4"));
    let table = keep(Table::new(&suite.results).max_rows(3));
    assert!(table.html().contains("3 of"));
    let exp = keep(Experiments::load(&dir).unwrap());
    let svg =
        keep(grokscope::report::svg_string((600, 400), |a| figures::grok_cdf(&a, &exp)).unwrap());
    assert!(svg.starts_with("<svg"));
    let mut shown = keep(Figures::new());
    shown.push(
        "ablation by order",
        Figure::draw((600, 400), |a| {
            figures::ablation(&a, exp.size.as_ref().unwrap(), Swept::Order, "|G|")
        })
        .unwrap(),
    );
    assert_eq!(shown.html().matches("<svg").count(), 1);
    let spec = keep(SweepSpec::from_file(&dir.join("quick.toml")).unwrap());
    assert!(!spec.ops.is_empty());
}

/// A study launched in the background: the call returns at once, the
/// progress moves, `stop` ends it at the next evaluation with the
/// run's resume point kept for the next training of the study.
#[test]
fn a_launched_study_reports_progress_and_stops_when_asked_keeping_its_resume_point() {
    let dir = std::env::temp_dir().join(format!("grokscope-launch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let study = || {
        Study::new(["add:11"])
            .set("epochs", 60_000)
            .set("d_model", 16)
            .set("d_mlp", 32)
            .set("n_heads", 2)
            .set("eval_every", 50)
            .set("checkpoint_every", 500)
            .set("stop_after_grok", false)
            .dir(&dir)
    };
    let training = keep(study().launch().unwrap());
    let start = std::time::Instant::now();
    // Progress appears while the cell that launched it is long gone.
    let moved = loop {
        let status = training.status();
        assert!(
            !status.ended,
            "60 000 epochs ended within the test: {status}"
        );
        if status.line.contains("0/1 jobs done") && !status.line.contains(", 0/") {
            break status;
        }
        assert!(start.elapsed().as_secs() < 300, "no progress: {status}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(
        moved.line.starts_with("training: 0/1 jobs done, "),
        "{moved}"
    );
    // Waiting in slices returns while it trains (60 000 epochs take
    // minutes); nonsense durations do not wait and do not panic.
    let sliced = std::time::Instant::now();
    let slice = training.wait_for(0.3);
    let took = sliced.elapsed().as_secs_f64();
    assert!(
        !slice.ended && (0.3..60.0).contains(&took),
        "{slice} after {took} s"
    );
    for nonsense in [f64::NAN, -1.0, 0.0] {
        assert!(!training.wait_for(nonsense).ended);
    }
    // Past a resume point, then stop.
    let resume_points = || {
        std::fs::read_dir(dir.join("runs"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_dir(e.path().join("resume")).ok())
            .flatten()
            .count()
    };
    while resume_points() == 0 {
        assert!(start.elapsed().as_secs() < 300, "no resume point written");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    training.stop();
    assert!(training.status().stopping);
    let e = training.wait().unwrap_err();
    assert!(matches!(e, StudyError::Stopped), "{e}");
    assert!(e.to_string().contains("resume"), "{e}");
    assert!(training.status().ended);
    // A second wait says the same, without a panic.
    assert!(training.wait().unwrap_err().to_string().contains("resume"));
    assert!(resume_points() > 0, "the stopped run lost its resume point");
    let _ = std::fs::remove_dir_all(&dir);
}
