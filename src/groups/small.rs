//! GAP's small groups of order 2..64 (585 groups), from the export `scripts/export-gap`
//! writes (`data/gap/small-groups.json.gz`, embedded in the binary): each
//! group's Cayley table on GAP's `AsSSortedList(G)`, so element i here is
//! GAP's element i + 1.

use super::{FiniteGroup, GroupError};
use std::io::Read;
use std::sync::OnceLock;

/// The export, gzip-compressed JSON lines.
const EXPORT: &[u8] = include_bytes!("../../data/gap/small-groups.json.gz");

/// Largest order exported.
pub const MAX_ORDER: usize = 64;

/// One exported group (the fields `small_group` needs).
#[derive(serde::Deserialize)]
struct Exported {
    order: usize,
    id: usize,
    name: String,
    table: Vec<usize>,
}

/// The export's text, decompressed once: one JSON object per line, each
/// starting `{"order":n,"id":i,` (scripts/export-gap-groups.g writes them
/// so), so a group's line is found without parsing the others.
fn export_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let mut text = String::new();
        flate2::read::GzDecoder::new(EXPORT)
            .read_to_string(&mut text)
            .expect("the embedded GAP export is valid gzip");
        text
    })
}

/// The export's lines of groups of order n.
fn lines_of(n: usize) -> impl Iterator<Item = &'static str> {
    let prefix = format!("{{\"order\":{n},");
    export_text()
        .lines()
        .filter(move |l| l.starts_with(&prefix))
}

/// How many groups of order n GAP's library has (`NrSmallGroups(n)`), for
/// 2 <= n <= [`MAX_ORDER`].
pub fn count(n: usize) -> usize {
    lines_of(n).count()
}

/// GAP's `SmallGroup(n, i)`, named by its `StructureDescription`.
///
/// # Errors
/// n outside 2..=64 or i outside 1..=NrSmallGroups(n).
pub fn small_group(n: usize, i: usize) -> Result<FiniteGroup, GroupError> {
    if !(2..=MAX_ORDER).contains(&n) {
        return Err(GroupError::Parameter(format!(
            "smallgroup:{n},{i}: the shipped GAP export covers orders 2..{MAX_ORDER}; for larger groups use a family (dihedral:n, ...)"
        )));
    }
    let id = format!("\"id\":{i},");
    let line = lines_of(n)
        .find(|l| l[l.find(',').map_or(0, |c| c + 1)..].starts_with(&id))
        .ok_or_else(|| {
            GroupError::Parameter(format!(
                "smallgroup:{n},{i}: there are {} groups of order {n}; use i from 1 to {}",
                count(n),
                count(n)
            ))
        })?;
    let g: Exported = serde_json::from_str(line).expect("the embedded GAP export is valid JSON");
    debug_assert_eq!((g.order, g.id), (n, i));
    let labels = (0..n).map(|x| format!("g{x}")).collect();
    FiniteGroup::from_table(g.name.clone(), labels, g.table.clone())
}
