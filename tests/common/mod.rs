//! Set-up the training tests share: a fresh scratch directory and the
//! configuration with every numerics and optimiser control on.
#![allow(dead_code)] // each test binary uses what it needs

use grokscope::config::RunConfig;
use std::path::PathBuf;

/// A new, empty directory `grokscope-<name>-<pid>` under the system's
/// temporary directory.
pub fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("grokscope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `cfg` with the float64 loss, StableMax, ⊥AdamW and Grokfast on.
pub fn with_controls(mut cfg: RunConfig) -> RunConfig {
    for set in [
        "loss_precision=\"f64\"",
        "softmax=\"stablemax\"",
        "optimizer=\"orthogonal_adamw\"",
        "grokfast_lambda=2.0",
    ] {
        cfg.set(set).unwrap();
    }
    cfg
}
