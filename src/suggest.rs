//! "Did you mean": the closest of some names to a misspelt one.
//!
//! ```
//! use grokscope::suggest::closest;
//! assert_eq!(closest("epoch", ["lr", "epochs", "seed"]), Some("epochs"));
//! assert_eq!(closest("dihedal", ["dihedral", "dicyclic"]), Some("dihedral"));
//! assert_eq!(closest("banana", ["lr", "epochs"]), None);
//! ```

/// The candidate nearest `word` by edit distance (insertions, deletions,
/// substitutions and swaps of neighbours), if it is within a third of the
/// word's length (at least 1, at most 3); ties go to the first listed.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (distance(word, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance between `a` and `b`.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// A serde "unknown field `x`, expected one of `a`, `b`, ..." message with
/// the list replaced by the closest name when one is close; other messages
/// as they are.
pub fn unknown_field(message: &str) -> String {
    let Some(rest) = message.split("unknown field `").nth(1) else {
        return message.to_string();
    };
    let Some((field, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let names = expected.split('`').skip(1).step_by(2);
    match closest(field, names) {
        Some(near) => {
            let start = message.find("unknown field `").unwrap_or(0);
            format!(
                "{}unknown field `{field}`; did you mean `{near}`?",
                &message[..start]
            )
        }
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_count_edits_and_swaps() {
        assert_eq!(distance("epoch", "epochs"), 1);
        assert_eq!(distance("lr", "rl"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
    }

    #[test]
    fn an_unknown_field_names_its_nearest_key() {
        let m = "unknown field `epoch`, expected one of `op`, `seed`, `epochs`, `lr`";
        assert_eq!(
            unknown_field(m),
            "unknown field `epoch`; did you mean `epochs`?"
        );
        let far = "unknown field `zzz`, expected one of `op`, `seed`";
        assert_eq!(unknown_field(far), far);
        assert_eq!(unknown_field("invalid type"), "invalid type");
    }
}
