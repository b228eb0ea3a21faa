//! The atlas' claims A1–A4 from stored results: only complete orders are
//! read, and every verdict says which orders it holds until all are.

use grokscope::report::atlas::Atlas;
use grokscope::results::record::Record;
use grokscope::results::rows::ResultRow;
use std::path::Path;
use std::process::Command;

/// An experiments directory whose atlas plans every group of orders 8 and
/// 9 with two seeds, and holds all of order 8's runs (the groups with more
/// abelian structure grokking sooner) and one of order 9's.
fn experiments(dir: &Path) {
    let atlas = dir.join("atlas");
    std::fs::create_dir_all(&atlas).unwrap();
    std::fs::write(
        dir.join("atlas.toml"),
        "ops = [\"smallgroup:8,*\", \"smallgroup:9,*\"]\nseeds = [0, 1]\n[set]\nepochs = 20000\ntrain_fraction = 0.7\nstop_after_grok = true\n",
    )
    .unwrap();
    // Order 8: Z8, Z4xZ2, D4, Q8, (Z2)^3 (SmallGroup ids 1..5).
    let times = [Some(900), Some(1200), None, None, Some(300)];
    let mut rows = Vec::new();
    for (i, t) in times.iter().enumerate() {
        for seed in 0..2u64 {
            rows.push(ResultRow {
                run_id: format!("g8-{}-{seed}", i + 1),
                op: format!("smallgroup:8,{}", i + 1),
                canonical_op: format!("smallgroup:8,{}", i + 1),
                seed,
                epochs: 20_000,
                train_fraction: 0.7,
                sustained_grok_epoch: *t,
                last_epoch: Some(t.map_or(20_000, |e| e + 500)),
                // Seed 0 of Z8 was analysed: a faithful character.
                dominant_degree: (i == 0 && seed == 0).then_some(1),
                dominant_faithful: (i == 0 && seed == 0).then_some(true),
                ..Default::default()
            });
        }
    }
    rows.push(ResultRow {
        run_id: "g9-1-0".into(),
        op: "smallgroup:9,1".into(),
        canonical_op: "smallgroup:9,1".into(),
        epochs: 20_000,
        train_fraction: 0.7,
        sustained_grok_epoch: Some(400),
        last_epoch: Some(900),
        ..Default::default()
    });
    let mut df = ResultRow::frame(&rows).unwrap();
    grokscope::store::write_parquet(&mut df, &atlas.join("results.parquet")).unwrap();
}

#[test]
fn only_complete_orders_are_read_and_the_verdict_says_it_is_interim() {
    let dir = std::env::temp_dir().join(format!("grokscope-atlas-claims-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    experiments(&dir);
    let atlas = Atlas::load(&dir).unwrap().unwrap();
    assert_eq!(atlas.planned, vec![8, 9]);
    assert_eq!(atlas.complete, vec![8]);
    assert_eq!(atlas.groups.len(), 5);
    assert!(!atlas.is_final());
    // GAP's invariants of the five groups of order 8, in id order:
    // |G/G'| = 8, 8, 4, 4, 8; b(G) = 1, 1, 2, 2, 1; k/|G| = 1, 1, 5/8, 5/8, 1.
    let col = |h: usize| -> Vec<f64> { atlas.groups.iter().map(|g| g.invariants[h]).collect() };
    assert_eq!(col(0), [8.0, 8.0, 4.0, 4.0, 8.0]);
    assert_eq!(col(1), [1.0, 1.0, 2.0, 2.0, 1.0]);
    assert_eq!(col(3), [1.0, 1.0, 0.625, 0.625, 1.0]);
    // Two seeds that never grok count the budget.
    assert_eq!(atlas.groups[2].time(), 20_000.0);
    // Every grokked run, complete order or not (order 8: 3 groups x 2
    // seeds; order 9: 1), and the one analysed, read as abelian from Z8's
    // table.
    assert_eq!(atlas.grokked_irreps.len(), 7);
    let analysed: Vec<_> = atlas
        .grokked_irreps
        .iter()
        .filter(|g| g.kind.is_some())
        .collect();
    assert_eq!(analysed.len(), 1);
    assert_eq!(analysed[0].order, 8);
    let kind = analysed[0].kind.unwrap();
    assert_eq!((kind.degree, kind.faithful), (1, true));
    assert!(kind.abelian && kind.group_has_faithful, "Z8: {kind:?}");
    let o = Command::new(env!("CARGO_BIN_EXE_grokscope"))
        .args(["claims", "--experiments"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    for claim in ["A1", "A2", "A3", "A4"] {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{claim}: ")))
            .unwrap_or_else(|| panic!("no {claim} in:\n{out}"));
        assert!(
            line.ends_with("(interim: orders 8 complete of 8-9)"),
            "{line}"
        );
        let block: Vec<&str> = out
            .lines()
            .skip_while(|l| *l != line)
            .skip(1)
            .take_while(|l| l.starts_with(' '))
            .collect();
        assert!(
            block
                .iter()
                .any(|l| l.starts_with("  by the rule's first crossing version: ")),
            "{claim} has no first-crossing verdict:\n{out}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
