//! The crate's layering, read from its source (docs/design.md, "Module
//! map"): the report's units import each other without a circle, and the
//! base (`groups`, `config`, `limits`, `grok`) imports nothing above it.
//!
//! A reference is a `crate::...`, `super::...` or `self::...` path in code
//! (comments are skipped, and so is everything from a file's `#[cfg(test)]`
//! on: a unit's tests may use what they like). Paths are resolved against
//! the module the file defines, so `super::data` in `report/figures/mod.rs`
//! is `report::data`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The module path a file under `src/` defines: `report/claims/r2.rs` is
/// `[report, claims, r2]`, `report/figures/mod.rs` is `[report, figures]`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The code lines of a file, up to its tests, without comments.
fn code_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        out.push(match line.find(" //") {
            Some(i) => line[..i].to_string(),
            None => line.to_string(),
        });
    }
    out
}

fn ident(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    s.split_at(end)
}

/// The absolute module paths (from the crate root) `line` refers to, as
/// written in a file defining `module`. A grouped import
/// (`super::{data, latex::tex}`) gives one path per member.
fn references(line: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = ["crate::", "super::", "self::"]
        .iter()
        .filter_map(|k| rest.find(k).map(|i| (i, *k)))
        .min()
        .map(|(i, _)| i)
    {
        // Only at the start of a path: not `foo_crate::`.
        let before = rest[..i].chars().last();
        let mut s = &rest[i..];
        rest = &rest[i + 1..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut base: Vec<String> = module.to_vec();
        loop {
            if let Some(r) = s.strip_prefix("crate::") {
                base.clear();
                s = r;
            } else if let Some(r) = s.strip_prefix("super::") {
                base.pop();
                s = r;
            } else if let Some(r) = s.strip_prefix("self::") {
                s = r;
            } else {
                break;
            }
        }
        let mut path = base;
        loop {
            if let Some(group) = s.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for member in group.split(',') {
                    let (name, _) = ident(member.trim());
                    if !name.is_empty() {
                        let mut p = path.clone();
                        p.push(name.to_string());
                        out.push(p);
                    }
                }
                break;
            }
            let (name, after) = ident(s);
            if name.is_empty() {
                out.push(path);
                break;
            }
            path.push(name.to_string());
            match after.strip_prefix("::") {
                Some(r) => s = r,
                None => {
                    out.push(path);
                    break;
                }
            }
        }
    }
    out
}

/// Every file with its module path and the paths its code refers to.
fn crate_references() -> Vec<(PathBuf, Vec<String>, Vec<Vec<String>>)> {
    rust_files(&src())
        .into_iter()
        .filter(|f| !f.starts_with(src().join("bin")))
        .map(|f| {
            let module = module_of(&f);
            let text = std::fs::read_to_string(&f).unwrap();
            let refs = code_lines(&text)
                .iter()
                .flat_map(|l| references(l, &module))
                .collect();
            (f, module, refs)
        })
        .collect()
}

#[test]
fn reference_paths_resolve_against_their_module() {
    let m = |s: &str| s.split("::").map(String::from).collect::<Vec<_>>();
    assert_eq!(
        references("use super::{data, latex::tex};", &m("report::figures")),
        vec![m("report::data"), m("report::latex")]
    );
    assert_eq!(
        references(
            "let x = crate::report::claims::r2::decide(y);",
            &m("report::tables::grok")
        ),
        vec![m("report::claims::r2::decide")]
    );
    assert_eq!(
        references(
            "use super::super::outcome::RunOutcome;",
            &m("report::claims::r3")
        ),
        vec![m("report::outcome::RunOutcome")]
    );
    assert!(references("use tch::Tensor; let s = my_crate::x;", &m("train")).is_empty());
    assert!(code_lines(
        "use a::b; // crate::report::x\n// crate::y\n#[cfg(test)]\nuse crate::z;\n"
    )
    .iter()
    .all(|l| !l.contains("crate")));
}

/// A circle in `graph`, if there is one, as the units along it.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        u: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == u) {
            let mut circle = stack[i..].to_vec();
            circle.push(u.to_string());
            return Some(circle);
        }
        if done.contains(u) {
            return None;
        }
        stack.push(u.to_string());
        for v in graph.get(u).into_iter().flatten() {
            if let Some(c) = visit(v, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(u.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|u| visit(u, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_circle_finder_finds_circles() {
    let g = |edges: &[(&str, &str)]| {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            m.entry(a.to_string()).or_default().insert(b.to_string());
        }
        m
    };
    assert_eq!(find_circle(&g(&[("a", "b"), ("b", "c")])), None);
    let c = find_circle(&g(&[("a", "b"), ("b", "c"), ("c", "a")])).unwrap();
    assert_eq!(c.first(), c.last());
    assert_eq!(c.len(), 4);
}

/// The report's layers, top first (docs/design.md): a unit imports only
/// from its own layer and the layers above it.
const REPORT_LAYERS: &[&[&str]] = &[
    &["mod", "data"],
    &["outcome"],
    &["spectra", "survival", "atlas"],
    &["experiments"],
    &["latex"],
    &["claims"],
    &[
        "tables",
        "nulls",
        "numerics",
        "twins",
        "order_controls",
        "irrep_ablation",
    ],
    &["figures"],
    &["paper", "browser"],
];

#[test]
fn the_report_imports_only_upward_and_without_a_circle() {
    let report = src().join("report");
    // The report's units: its files and folders (a folder is one unit).
    let units: BTreeSet<String> = std::fs::read_dir(&report)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            p.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .filter(|u| u != "mod")
        .collect();
    assert!(units.len() >= 10, "report units: {units:?}");
    let unit_of = |path: &[String]| -> Option<String> {
        if path.first().map(String::as_str) != Some("report") {
            return None;
        }
        Some(match path.get(1) {
            Some(u) if units.contains(u) => u.clone(),
            _ => "mod".to_string(), // the root: errors, fonts, re-exports
        })
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, module, _) in crate_references() {
        let Some(from) = unit_of(&module) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for line in code_lines(&text) {
            let t = line.trim_start();
            // The root declares and re-exports its units; that is not a use.
            if from == "mod" && (t.starts_with("pub mod ") || t.starts_with("pub use ")) {
                continue;
            }
            for r in references(&line, &module) {
                if let Some(to) = unit_of(&r) {
                    if to != from {
                        graph.entry(from.clone()).or_default().insert(to);
                    }
                }
            }
        }
    }
    assert!(
        graph.values().map(BTreeSet::len).sum::<usize>() > 10,
        "the scan found too few imports to mean anything: {graph:?}"
    );
    if let Some(circle) = find_circle(&graph) {
        panic!(
            "report units import each other in a circle: {}",
            circle.join(" -> ")
        );
    }
    let layer = |u: &str| {
        REPORT_LAYERS
            .iter()
            .position(|l| l.contains(&u))
            .unwrap_or_else(|| {
                panic!("report unit {u} is in no layer of REPORT_LAYERS and docs/design.md")
            })
    };
    for unit in &units {
        layer(unit);
    }
    for (from, tos) in &graph {
        for to in tos {
            assert!(
                layer(to) <= layer(from),
                "report::{from} imports report::{to}, a layer below it (docs/design.md, the report's layers)"
            );
        }
    }
}

#[test]
fn the_base_imports_nothing_above_it() {
    // Module -> the crate modules it may use (itself always).
    let allowed: [(&str, &[&str]); 4] = [
        ("groups", &["rng", "suggest", "text"]),
        (
            "config",
            &["groups", "rng", "suggest", "text", "limits", "grok"],
        ),
        ("limits", &["groups", "text"]),
        ("grok", &[]),
    ];
    let mut checked = 0;
    for (file, module, refs) in crate_references() {
        let Some((base, ok)) = allowed
            .iter()
            .find(|(m, _)| module.first().is_some_and(|f| f == m))
        else {
            continue;
        };
        checked += 1;
        for r in refs {
            let Some(top) = r.first() else { continue };
            assert!(
                top == base || ok.contains(&top.as_str()),
                "{} (in {base}) uses crate::{}, above its layer",
                file.display(),
                r.join("::")
            );
        }
    }
    assert!(checked >= 10, "only {checked} base files found");
}
