//! grokscope's Fourier spectrum, Peter–Weyl shares and CKA values agree to
//! 1e-9 with an independent numpy implementation (scripts/crosscheck_numpy.py)
//! that sees only exported matrices and the character table `grokscope group
//! --json` prints.
//!
//! It runs the project's venv (numpy comes with libtorch from
//! `scripts/setup`), so it is part of the default-feature run (`make test`),
//! not of `cargo test --no-default-features`, which tests the maths without
//! any setup.
#![cfg(feature = "torch")]

use grokscope::analysis::cka::{cka, Estimator, Kernel};
use grokscope::analysis::fourier::FourierSpectrum;
use grokscope::analysis::peter_weyl::IrrepSpectrum;
use grokscope::groups::Operation;
use grokscope::rng::SplitMix64;
use nalgebra::DMatrix;
use std::path::Path;
use std::process::Command;

fn write(path: &Path, m: &DMatrix<f64>) {
    let text: String = m
        .row_iter()
        .map(|r| {
            r.iter()
                .map(|x| format!("{x:.17e}"))
                .collect::<Vec<_>>()
                .join(" ")
                + "\n"
        })
        .collect();
    std::fs::write(path, text).unwrap();
}

fn close(what: &str, a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{what}: grokscope {a} vs numpy {b}");
}

#[test]
fn numpy_recomputes_the_same_numbers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".venv/bin/python");
    // The maths-only build (`cargo test --no-default-features`) promises to
    // run without setup: there a missing venv skips this check, saying so.
    // `make test` (the torch feature) has run setup and requires it.
    if !python.exists() && !cfg!(feature = "torch") {
        println!("numpy cross-check skipped: no .venv (run `make setup` to include it)");
        return;
    }
    assert!(
        python.exists(),
        "the project venv is missing: run `make setup`"
    );
    let dir = std::env::temp_dir().join(format!("grokscope-numpy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = SplitMix64::new(42);
    let mut gaussian = |n: usize, d: usize| DMatrix::from_fn(n, d, |_, _| rng.normal());

    // Inputs: a function on Z/113 (with a planted frequency), one on S4, two CKA matrices.
    let planted = DMatrix::from_fn(113, 16, |x, j| {
        (2.0 * std::f64::consts::PI * 9.0 * x as f64 / 113.0 + j as f64).cos()
    });
    let fourier_in = planted + gaussian(113, 16);
    let op = Operation::parse("s4").unwrap();
    let pw_in = gaussian(24, 5);
    let (x, y) = (gaussian(30, 8), gaussian(30, 5));
    write(&dir.join("fourier.txt"), &fourier_in);
    write(&dir.join("pw.txt"), &pw_in);
    write(&dir.join("cka_x.txt"), &x);
    write(&dir.join("cka_y.txt"), &y);
    let json = Command::new(env!("CARGO_BIN_EXE_grokscope"))
        .args(["group", "s4", "--json"])
        .output()
        .unwrap();
    assert!(json.status.success());
    std::fs::write(dir.join("group.json"), &json.stdout).unwrap();

    let status = Command::new(&python)
        .arg(root.join("scripts/crosscheck_numpy.py"))
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success(), "crosscheck_numpy.py failed");
    let numpy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("numpy.json")).unwrap()).unwrap();

    let ours = FourierSpectrum::of_rows(&fourier_in).unwrap().shares();
    let theirs = numpy["fourier_shares"].as_array().unwrap();
    assert_eq!(ours.len(), theirs.len());
    for (k, (a, b)) in ours.iter().zip(theirs).enumerate() {
        close(
            &format!("Fourier share of f{}", k + 1),
            *a,
            b.as_f64().unwrap(),
        );
    }
    let pw = IrrepSpectrum::of_rows(&op.analysis.group, &pw_in).unwrap();
    let theirs = numpy["peter_weyl_shares"].as_object().unwrap();
    assert_eq!(theirs.len(), pw.irreps.len());
    for (name, share) in pw.irreps.iter().zip(&pw.share) {
        close(
            &format!("Peter–Weyl share of {name}"),
            *share,
            theirs[name].as_f64().unwrap(),
        );
    }
    close(
        "linear CKA",
        cka(&x, &y, Kernel::Linear, Estimator::Biased).unwrap(),
        numpy["cka_linear"].as_f64().unwrap(),
    );
    close(
        "debiased CKA",
        cka(&x, &y, Kernel::Linear, Estimator::Debiased).unwrap(),
        numpy["cka_debiased"].as_f64().unwrap(),
    );
    close(
        "RBF CKA",
        cka(&x, &y, Kernel::Rbf { factor: 1.0 }, Estimator::Biased).unwrap(),
        numpy["cka_rbf"].as_f64().unwrap(),
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
