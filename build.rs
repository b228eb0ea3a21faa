//! Embeds an rpath to libtorch in every binary, test and bench of this crate,
//! so they find `libtorch_cpu.so` without `LD_LIBRARY_PATH`.
fn main() {
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
