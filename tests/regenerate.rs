//! Every figure and table is regenerated from the committed experiments/
//! alone: twice in a row gives identical bytes, and the result equals what
//! is committed in figures/ and paper/generated/ (so committed figures are
//! never stale or edited by hand).

use grokscope::report::{paper, render_figures, Experiments};
use std::path::{Path, PathBuf};

fn read_all(files: &[PathBuf]) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn figures_and_tables_regenerate_byte_for_byte_and_match_the_committed_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exp = Experiments::load(&root.join("experiments")).unwrap();
    assert!(
        exp.suite.is_some(),
        "experiments/suite has no committed results"
    );
    let tmp = std::env::temp_dir().join(format!("grokscope-regen-{}", std::process::id()));
    let mut outputs = Vec::new();
    for round in ["a", "b"] {
        let (figs, skipped) = render_figures(&exp, &tmp.join(round).join("figures")).unwrap();
        assert!(skipped.is_empty(), "figures without data: {skipped:?}");
        let tabs = paper::write_all(&exp, &tmp.join(round).join("generated")).unwrap();
        outputs.push((read_all(&figs), read_all(&tabs)));
    }
    assert_eq!(outputs[0], outputs[1], "two regenerations differ");
    let (figs, tabs) = &outputs[0];
    for (dir, files) in [("figures", figs), ("paper/generated", tabs)] {
        for (name, bytes) in files.iter() {
            let committed = std::fs::read(root.join(dir).join(name)).unwrap_or_else(|_| {
                panic!("{dir}/{name} is not committed; run `grokscope figures`")
            });
            assert!(
                committed == *bytes,
                "{dir}/{name} differs from its regeneration; run `grokscope figures` and commit"
            );
        }
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}
