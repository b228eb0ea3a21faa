//! The few words every layer formats the same way: an I/O error's reason,
//! a digest's short hex and a byte count. This module imports nothing, so
//! the base (`groups`, `config`) can use it without reaching up.

/// An I/O error as words (`No space left on device`), without the
/// `Os { code: 28, kind: ... }` wrapping of its debug form.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The first 8 bytes of a digest as 16 hex digits: the short hashes in run
/// ids, config and dataset hashes.
pub fn short_hex(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Bytes as `12.3 GB`.
pub fn human_bytes(b: u64) -> String {
    format!("{:.1} GB", b as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_short_and_stable() {
        let e = std::io::Error::from_raw_os_error(28);
        assert_eq!(io_reason(&e), "No space left on device");
        assert_eq!(
            short_hex(&[0xab, 0x01, 2, 3, 4, 5, 6, 7, 8]),
            "ab01020304050607"
        );
        assert_eq!(human_bytes(12_345_678_901), "12.3 GB");
    }
}
