//! The values a notebook keeps must be owned: evcxr refuses to persist a
//! variable whose type borrows ("contains a reference with a non-static
//! lifetime"). Each binding below goes through `keep`, which accepts only
//! `'static` types, so a borrowed return type in the notebook-facing API
//! fails to compile here instead of in a user's notebook.
#![cfg(feature = "torch")]

use grokscope::analysis::complexity::ComplexityScores;
use grokscope::prelude::*;

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
