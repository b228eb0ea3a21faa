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
