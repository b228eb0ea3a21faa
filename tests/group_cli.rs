//! `grokscope group` prints a character table a reader can parse by eye:
//! one whitespace-separated cell per class, also where characters are
//! complex numbers wider than the default column.
#![cfg(feature = "torch")]

use std::process::Command;

#[test]
fn complex_characters_stay_in_their_columns() {
    let o = Command::new(env!("CARGO_BIN_EXE_grokscope"))
        .args(["group", "a4"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    // A4 has 4 classes; omega's characters are 1, 1, ω, ω² with ω = e^{2πi/3}
    // (James & Liebeck, Representations and Characters of Groups, 18.2).
    let cells = |name: &str| -> Vec<String> {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row {name}:\n{text}"));
        line.split_whitespace()
            .skip(2)
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        cells("omega"),
        ["1", "-0.500+0.866i", "-0.500-0.866i", "1"],
        "{text}"
    );
    assert_eq!(cells("3"), ["3", "0", "0", "-1"], "{text}");
    // The header: "class" and the four representatives.
    let header = text.lines().find(|l| l.starts_with("class")).unwrap();
    assert_eq!(header.split_whitespace().count(), 5, "{text}");
}

#[test]
fn the_operations_table_keeps_its_columns_aligned() {
    let o = Command::new(env!("CARGO_BIN_EXE_grokscope"))
        .arg("ops")
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    let mut lines = text.lines().take_while(|l| !l.is_empty());
    let header = lines.next().unwrap();
    let (abelian, table) = (
        header.find("abelian").unwrap(),
        header.find("table").unwrap(),
    );
    let mut rows = 0;
    for l in lines {
        // Group names such as F_113^x and (Z/2)^7 once pushed these columns right.
        let at = l.find(" true ").or_else(|| l.find(" false ")).unwrap() + 1;
        assert_eq!(at, abelian, "{l}\n{text}");
        assert_eq!(&l[table - 2..table], "  ", "{l}");
        rows += 1;
    }
    assert!(rows >= 10, "{text}");
    // The family patterns, the longest included, leave two spaces before the
    // description.
    let families: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("families"))
        .skip(1)
        .collect();
    let start = families[0].find("(a + b)").unwrap();
    for l in &families {
        assert_eq!(&l[start - 2..start], "  ", "{l}");
        assert_ne!(&l[start..start + 1], " ", "{l}");
    }
}
