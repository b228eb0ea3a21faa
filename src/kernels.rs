//! Which CPU kernels libtorch runs, and pinning them so that machines with
//! different instruction sets compute the same numbers.
//!
//! libtorch picks its vectorised ATen kernels once per process, from
//! `ATEN_CPU_CAPABILITY` or else from the CPU (`avx512` on CPUs with
//! AVX-512 VL/BW/DQ and FMA, `avx2` with AVX2 and FMA, `default`
//! otherwise), and the two paths round differently: a training trajectory
//! near a threshold can differ between an AVX2 and an AVX-512 machine.
//! grokscope therefore pins ATen to `avx2` on every x86-64 CPU that has it
//! ([`pin`]), unless the user chose a path with `ATEN_CPU_CAPABILITY`; the
//! manifest records the path in use ([`KernelPath`]) and retraining compares
//! it before promising identical numbers.
//!
//! [`pin`] must run before libtorch's first operation in the process: the
//! binary calls it first thing, and [`crate::train`] calls it before it
//! builds a model (a notebook that used tch before that keeps whatever path
//! libtorch chose, and the manifest says which).

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The environment variable ATen reads.
pub const ATEN_VAR: &str = "ATEN_CPU_CAPABILITY";

/// The path grokscope pins when the user has not chosen one.
pub const PINNED: &str = "avx2";

/// The kernel path a process computes with, as recorded in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelPath {
    /// ATen's CPU capability: `avx512`, `avx2` or `default`.
    pub aten: String,
    /// Whether grokscope pinned it (`false`: the user set
    /// `ATEN_CPU_CAPABILITY`, or libtorch had started before the pin).
    pub pinned: bool,
    /// The CPU's model name, for the record.
    pub cpu: String,
}

static CHOSEN: OnceLock<KernelPath> = OnceLock::new();

/// Pins ATen's kernels to [`PINNED`] unless `ATEN_CPU_CAPABILITY` is set,
/// and returns the path the process will use. Idempotent: the first call
/// decides, later calls return the same answer.
pub fn pin() -> &'static KernelPath {
    CHOSEN.get_or_init(|| {
        keep_freed_memory();
        let user = std::env::var(ATEN_VAR).ok();
        let pinned = user.is_none() && cpu_supports("avx2");
        if pinned {
            // Before any libtorch call in the process (see the module docs);
            // grokscope starts no threads that read the environment first.
            std::env::set_var(ATEN_VAR, PINNED);
        }
        KernelPath {
            aten: aten_capability(std::env::var(ATEN_VAR).ok().as_deref()),
            pinned,
            cpu: cpu_model(),
        }
    })
}

/// Asks glibc's allocator to keep freed memory for reuse instead of
/// handing it back to the kernel: a training step allocates and frees the
/// same few megabytes hundreds of times, and returning them made every step
/// pay page faults (about 10% of a step, measured with perf). Changes
/// speed only, never a number.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        const M_TRIM_THRESHOLD: std::ffi::c_int = -1;
        const M_MMAP_THRESHOLD: std::ffi::c_int = -3;
        // SAFETY: mallopt only sets allocator tunables; called once, early.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, 1 << 30);
        }
    }
}

/// The path ATen selects for an `ATEN_CPU_CAPABILITY` value on this CPU,
/// following ATen's rules (DispatchStub.cpp): a valid value wins, an invalid
/// one is ignored; otherwise the best the CPU supports.
pub fn aten_capability(var: Option<&str>) -> String {
    match var {
        Some(v @ ("avx512" | "avx2" | "default")) => v.to_string(),
        _ if cpu_supports("avx512") => "avx512".into(),
        _ if cpu_supports("avx2") => "avx2".into(),
        _ => "default".into(),
    }
}

/// Whether the CPU has what ATen needs for `path` (`avx512`: AVX-512
/// VL, BW, DQ and FMA; `avx2`: AVX2 and FMA).
pub fn cpu_supports(path: &str) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let fma = std::arch::is_x86_feature_detected!("fma");
        match path {
            "avx512" => {
                fma && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512dq")
            }
            "avx2" => fma && std::arch::is_x86_feature_detected!("avx2"),
            _ => path == "default",
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        path == "default"
    }
}

/// The CPU's model name from /proc/cpuinfo, or `unknown CPU`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_request_wins_and_an_invalid_one_falls_back_to_the_cpu() {
        assert_eq!(aten_capability(Some("avx2")), "avx2");
        assert_eq!(aten_capability(Some("default")), "default");
        assert_eq!(aten_capability(Some("sse9")), aten_capability(None));
        let best = aten_capability(None);
        assert!(cpu_supports(&best), "{best}");
    }
}
