//! Reading a stored table's columns by name, the one set of column readers
//! the report, the analysis and notebooks share. Errors say which column
//! and what the table has instead.

use polars::prelude::*;

/// The column called `name`, found by a linear scan of the names.
///
/// polars' own lookup goes through a cached, hash-seeded schema once one
/// exists; under evcxr every cell carries its own copy of polars' statics,
/// so a schema cached in one cell misses in the next ("column not found").
/// A scan by name has no cache and works on frames from any cell.
///
/// # Errors
/// No such column (the message lists the table's columns).
pub fn column<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Column, String> {
    df.columns()
        .iter()
        .find(|c| c.name().as_str() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = df.columns().iter().map(|c| c.name().as_str()).collect();
            format!(
                "column {name} not found; the table has {}",
                names.join(", ")
            )
        })
}

/// A column as strings (nulls as "").
///
/// # Errors
/// A missing column or one that is not text.
pub fn strings(df: &DataFrame, name: &str) -> Result<Vec<String>, String> {
    let c = column(df, name)?
        .str()
        .cloned()
        .map_err(|e| format!("column {name}: {e}"))?;
    Ok(c.iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect())
}

/// A numeric column as f64 (nulls as `None`).
///
/// # Errors
/// A missing or non-numeric column.
pub fn floats(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, String> {
    let c = column(df, name)?
        .cast(&DataType::Float64)
        .map_err(|e| format!("column {name}: {e}"))?;
    let c = c.f64().map_err(|e| format!("column {name}: {e}"))?;
    Ok(c.iter().collect())
}

/// An integer column as i64 (nulls as `None`).
///
/// # Errors
/// A missing or non-numeric column.
pub fn ints(df: &DataFrame, name: &str) -> Result<Vec<Option<i64>>, String> {
    let c = column(df, name)?
        .cast(&DataType::Int64)
        .map_err(|e| format!("column {name}: {e}"))?;
    let c = c.i64().map_err(|e| format!("column {name}: {e}"))?;
    Ok(c.iter().collect())
}

/// A boolean column (nulls as false).
///
/// # Errors
/// A missing or non-boolean column.
pub fn bools(df: &DataFrame, name: &str) -> Result<Vec<bool>, String> {
    let c = column(df, name)?
        .bool()
        .cloned()
        .map_err(|e| format!("column {name}: {e}"))?;
    Ok(c.iter().map(|v| v.unwrap_or(false)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_convert_and_say_what_the_table_has() {
        let df = df!(
            "op" => ["add", "s3"],
            "seed" => [0u32, 1],
            "share" => [Some(0.5), None],
            "grokked" => [true, false],
        )
        .unwrap();
        assert_eq!(strings(&df, "op").unwrap(), ["add", "s3"]);
        assert_eq!(ints(&df, "seed").unwrap(), [Some(0), Some(1)]);
        assert_eq!(floats(&df, "seed").unwrap(), [Some(0.0), Some(1.0)]);
        assert_eq!(floats(&df, "share").unwrap(), [Some(0.5), None]);
        assert_eq!(bools(&df, "grokked").unwrap(), [true, false]);
        let e = floats(&df, "sahre").unwrap_err();
        assert_eq!(
            e,
            "column sahre not found; the table has op, seed, share, grokked"
        );
        assert!(strings(&df, "seed")
            .unwrap_err()
            .starts_with("column seed: "));
    }
}
