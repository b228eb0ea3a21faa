//! The repository stands alone: no tracked file points to a path outside
//! it (a researcher who clones grokscope has nothing beside it).

use std::path::Path;
use std::process::Command;

#[test]
fn no_tracked_file_points_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Ok(out) = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
    else {
        println!("self-contained check skipped: git is not available");
        return;
    };
    let files: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    assert!(!files.is_empty(), "git ls-files listed nothing");
    // The needles are split so this file does not match itself: the
    // directory beside the repository, and a design document by the name it
    // has there (the repository's own is docs/design.md).
    for needle in [format!("../{}", "shared"), format!("{}.md", "DESIGN")] {
        let offenders: Vec<&String> = files
            .iter()
            .filter(|f| {
                std::fs::read(root.join(f))
                    .map(|b| String::from_utf8_lossy(&b).contains(&needle))
                    .unwrap_or(false)
            })
            .collect();
        assert!(
            offenders.is_empty(),
            "files pointing outside the repository ({needle}): {offenders:?}"
        );
    }
    // The design document exists and the front doors point to it.
    assert!(root.join("docs/design.md").is_file());
    for f in files
        .iter()
        .filter(|f| *f == "README.md" || *f == "src/lib.rs" || f.ends_with(".ipynb"))
    {
        let text = std::fs::read_to_string(root.join(f)).unwrap();
        assert!(
            text.contains("docs/design.md"),
            "{f} does not point to docs/design.md"
        );
    }
}
