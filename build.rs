//! Embeds an rpath to libtorch in every binary, test and bench of this crate,
//! so they find `libtorch_cpu.so` without `LD_LIBRARY_PATH`.
fn main() {
    // Provenance of the binary: the commit it was built from, and whether the
    // tree differed from it. Re-run when commits, the index or sources change.
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
    println!("cargo:rerun-if-changed=src");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    println!("cargo:rustc-env=GROKSCOPE_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=GROKSCOPE_GIT_DIRTY={dirty}");

    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if std::env::var_os("CARGO_FEATURE_TORCH").is_none() {
        return;
    }
    let Some(libtorch) = std::env::var_os("LIBTORCH") else {
        println!("cargo:warning=LIBTORCH is not set; run `make setup` first");
        return;
    };
    // The path goes through the .venv/libtorch symlink on purpose: a venv
    // rebuilt with another Python keeps the binaries working.
    let lib = std::path::Path::new(&libtorch).join("lib");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    // Run manifests record the libtorch version; the wheel states it in version.py.
    let version_py = std::path::Path::new(&libtorch).join("version.py");
    println!("cargo:rerun-if-changed={}", version_py.display());
    let version = std::fs::read_to_string(&version_py)
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("__version__ = ")
                    .map(|v| v.trim_matches(|c| c == '\'' || c == '"').to_string())
            })
        })
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=GROKSCOPE_LIBTORCH_VERSION={version}");
}
