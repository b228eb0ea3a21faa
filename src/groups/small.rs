//! GAP's small groups of order 2..32, from the export `scripts/export-gap`
//! writes (`data/gap/small-groups.json.gz`, embedded in the binary): each
//! group's Cayley table on GAP's `AsSSortedList(G)`, so element i here is
//! GAP's element i + 1.

use super::{FiniteGroup, GroupError};
use std::io::Read;
use std::sync::OnceLock;

/// The export, gzip-compressed JSON lines.
const EXPORT: &[u8] = include_bytes!("../../data/gap/small-groups.json.gz");

/// Largest order exported.
pub const MAX_ORDER: usize = 32;

/// One exported group (the fields `small_group` needs).
#[derive(serde::Deserialize)]
struct Exported {
    order: usize,
    id: usize,
    name: String,
    table: Vec<usize>,
}

fn exported() -> &'static [Exported] {
    static GROUPS: OnceLock<Vec<Exported>> = OnceLock::new();
    GROUPS.get_or_init(|| {
        let mut text = String::new();
        flate2::read::GzDecoder::new(EXPORT)
            .read_to_string(&mut text)
            .expect("the embedded GAP export is valid gzip");
        text.lines()
            .map(|l| serde_json::from_str(l).expect("the embedded GAP export is valid JSON"))
            .collect()
    })
}

/// How many groups of order n GAP's library has (`NrSmallGroups(n)`), for
/// 2 <= n <= [`MAX_ORDER`].
pub fn count(n: usize) -> usize {
    exported().iter().filter(|g| g.order == n).count()
}

/// GAP's `SmallGroup(n, i)`, named by its `StructureDescription`.
///
/// # Errors
/// n outside 2..=32 or i outside 1..=NrSmallGroups(n).
pub fn small_group(n: usize, i: usize) -> Result<FiniteGroup, GroupError> {
    if !(2..=MAX_ORDER).contains(&n) {
        return Err(GroupError::Parameter(format!(
            "smallgroup:{n},{i}: the shipped GAP export covers orders 2..{MAX_ORDER}; for larger groups use a family (dihedral:n, ...)"
        )));
    }
    let g = exported()
        .iter()
        .find(|g| g.order == n && g.id == i)
        .ok_or_else(|| {
            GroupError::Parameter(format!(
                "smallgroup:{n},{i}: there are {} groups of order {n}; use i from 1 to {}",
                count(n),
                count(n)
            ))
        })?;
    let labels = (0..n).map(|x| format!("g{x}")).collect();
    FiniteGroup::from_table(g.name.clone(), labels, g.table.clone())
}
