//! Notebook set-up. Call [`init`] in a notebook's first code cell.

/// Makes a panic end the kernel with exit status 101. In a headless run
/// (`jupyter nbconvert --execute`, as `scripts/run-notebooks` does) a
/// panicking cell is otherwise reported as success, so a broken notebook
/// would pass; interactively, the kernel restarts and prints the panic.
pub fn init() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("{info}");
        std::process::exit(101);
    }));
}
