//! Stored rows declared once: [`record!`](crate::record) turns a struct
//! into its table's column list, its writer and its reader, so a column is
//! added by adding a field.
//!
//! A field's Rust type decides its stored type through [`Cell`] (`String`
//! as text, `f64` as Float64, `u32`/`u64` as unsigned integers, `bool`,
//! and `Option` of each as a nullable column). Fields under `optional`
//! are columns added after the first results were stored: a file without
//! them reads as `None` ("not measured").

use super::columns::column;
use polars::prelude::*;

/// A stored row type: its columns, its writer and its reader, all from one
/// struct declared with [`record!`](crate::record).
pub trait Record: Sized {
    /// Columns every stored table of these rows has, in order.
    const REQUIRED: &'static [&'static str];
    /// Columns added later (absent from older files), in order.
    const OPTIONAL: &'static [&'static str];

    /// The rows as a table, one column per field in field order.
    ///
    /// # Errors
    /// Polars errors.
    fn frame(rows: &[Self]) -> PolarsResult<DataFrame>;

    /// Every row of a stored table.
    ///
    /// # Errors
    /// A required column missing, a column of the wrong type, or a null in
    /// a column that cannot hold one.
    fn read_all(df: &DataFrame) -> Result<Vec<Self>, String>;
}

/// The columns that say which run a row of a sweep table came from: sweep
/// tables of run-level rows (spectra, progress) are those rows with these
/// columns first.
pub const RUN_KEY: &[&str] = &["run_id", "op", "seed"];

/// A run-level row read from a sweep table, with the run it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyed<R> {
    /// The run.
    pub run_id: String,
    /// The operation as configured.
    pub op: String,
    /// The run's seed.
    pub seed: u64,
    /// The run-level row.
    pub row: R,
}

impl<R: Record> Keyed<R> {
    /// Every row of a sweep table of `R` rows ([`RUN_KEY`] columns first).
    ///
    /// # Errors
    /// As [`Record::read_all`].
    pub fn read_all(df: &DataFrame) -> Result<Vec<Self>, String> {
        let (run_id, op, seed) = (
            String::read(df, RUN_KEY[0])?,
            String::read(df, RUN_KEY[1])?,
            u64::read(df, RUN_KEY[2])?,
        );
        Ok(R::read_all(df)?
            .into_iter()
            .zip(run_id.into_iter().zip(op).zip(seed))
            .map(|(row, ((run_id, op), seed))| Keyed {
                run_id,
                op,
                seed,
                row,
            })
            .collect())
    }
}

/// A value one stored column holds.
pub trait Cell: Sized {
    /// A column named `name` of these values.
    fn column(name: &str, values: Vec<Self>) -> Column;
    /// Column `name` of `df`, converted.
    ///
    /// # Errors
    /// A missing column, one of another type, or (for a non-`Option` type)
    /// a null.
    fn read(df: &DataFrame, name: &str) -> Result<Vec<Self>, String>;
}

/// Column `name` as `to`: numbers of any width read as `f64`, integers as
/// unsigned integers when every value fits, otherwise only the same type (or
/// an all-null column). Text never reads as a number, nor a fraction as a
/// count.
fn cast(df: &DataFrame, name: &str, to: &DataType) -> Result<Column, String> {
    let c = column(df, name)?;
    let from = c.dtype();
    let fits = match to {
        DataType::Float64 => from.is_primitive_numeric(),
        DataType::UInt32 | DataType::UInt64 => from.is_integer(),
        _ => from == to,
    };
    if !fits && *from != DataType::Null {
        return Err(format!("column {name} holds {from} values, not {to}"));
    }
    c.strict_cast(to).map_err(|e| format!("column {name}: {e}"))
}

fn no_nulls<T>(name: &str, values: Vec<Option<T>>) -> Result<Vec<T>, String> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| format!("column {name} is null in row {i}")))
        .collect()
}

macro_rules! cells {
    ($($ty:ty => $dtype:expr, $get:ident, $own:expr;)*) => {$(
        impl Cell for Option<$ty> {
            fn column(name: &str, values: Vec<Self>) -> Column {
                Column::new(name.into(), values)
            }
            fn read(df: &DataFrame, name: &str) -> Result<Vec<Self>, String> {
                let c = cast(df, name, &$dtype)?;
                let c = c.$get().map_err(|e| format!("column {name}: {e}"))?;
                Ok(c.iter().map(|v| v.map($own)).collect())
            }
        }
        impl Cell for $ty {
            fn column(name: &str, values: Vec<Self>) -> Column {
                Column::new(name.into(), values)
            }
            fn read(df: &DataFrame, name: &str) -> Result<Vec<Self>, String> {
                no_nulls(name, <Option<$ty>>::read(df, name)?)
            }
        }
    )*};
}

cells! {
    f64 => DataType::Float64, f64, |v| v;
    u32 => DataType::UInt32, u32, |v| v;
    u64 => DataType::UInt64, u64, |v| v;
    bool => DataType::Boolean, bool, |v| v;
    String => DataType::String, str, |v: &str| v.to_string();
}

/// An optional column: `None` in every row of a file written before it
/// existed.
///
/// # Errors
/// A column of another type.
pub fn read_optional<T>(df: &DataFrame, name: &str) -> Result<Vec<Option<T>>, String>
where
    Option<T>: Cell,
{
    if column(df, name).is_err() {
        return Ok((0..df.height()).map(|_| None).collect());
    }
    <Option<T>>::read(df, name)
}

/// Declares a stored row: the struct (every field `pub`) and its
/// [`Record`](crate::results::record::Record) implementation, whose column
/// lists are the field names in order. Fields in the `optional { }` block
/// are stored as `Option<T>` and read as `None` from files without them.
#[macro_export]
macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$fmeta:meta])* $field:ident : $ty:ty,)*
        }
        $(optional {
            $($(#[$ometa:meta])* $ofield:ident : $oty:ty,)*
        })?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            $($($(#[$ometa])* pub $ofield: Option<$oty>,)*)?
        }

        impl $crate::results::record::Record for $name {
            const REQUIRED: &'static [&'static str] = &[$(stringify!($field)),*];
            const OPTIONAL: &'static [&'static str] = &[$($(stringify!($ofield)),*)?];

            fn frame(rows: &[Self]) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
                use $crate::results::record::Cell;
                let columns = vec![
                    $(<$ty as Cell>::column(stringify!($field), rows.iter().map(|r| r.$field.clone()).collect()),)*
                    $($(<Option<$oty> as Cell>::column(stringify!($ofield), rows.iter().map(|r| r.$ofield.clone()).collect()),)*)?
                ];
                polars::prelude::DataFrame::new(rows.len(), columns)
            }

            fn read_all(df: &polars::prelude::DataFrame) -> Result<Vec<Self>, String> {
                use $crate::results::record::Cell;
                $(let mut $field = <$ty as Cell>::read(df, stringify!($field))?.into_iter();)*
                $($(let mut $ofield = $crate::results::record::read_optional::<$oty>(df, stringify!($ofield))?.into_iter();)*)?
                Ok((0..df.height())
                    .map(|_| Self {
                        $($field: $field.next().expect("a column is as long as its table"),)*
                        $($($ofield: $ofield.next().expect("a column is as long as its table"),)*)?
                    })
                    .collect())
            }
        }
    };
}

/// The column name of a record's field, checked by the compiler: a field
/// renamed or removed fails to compile here instead of naming a column no
/// table has.
///
/// ```
/// use grokscope::results::rows::ResultRow;
/// assert_eq!(grokscope::column!(ResultRow, grokked_epoch), "grokked_epoch");
/// ```
///
/// A name that is not a field does not compile:
///
/// ```compile_fail
/// use grokscope::results::rows::ResultRow;
/// let _ = grokscope::column!(ResultRow, grok_epoch);
/// ```
#[macro_export]
macro_rules! column {
    ($row:ty, $field:ident) => {{
        let _ = |r: $row| r.$field;
        stringify!($field)
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::record! {
        /// A test row.
        pub struct Probe {
            /// Text.
            name: String,
            /// Count.
            runs: u32,
            /// Maybe a number.
            value: Option<f64>,
            /// Flag.
            grokked: bool,
        }
        optional {
            /// Added later.
            added: u64,
        }
    }

    #[test]
    fn keyed_rows_carry_their_run() {
        let mut df = Probe::frame(&rows()).unwrap();
        df.insert_column(0, Column::new("run_id".into(), ["a", "b"]))
            .unwrap();
        df.insert_column(1, Column::new("op".into(), ["add", "s4"]))
            .unwrap();
        df.insert_column(2, Column::new("seed".into(), [0u64, 1]))
            .unwrap();
        let keyed = Keyed::<Probe>::read_all(&df).unwrap();
        assert_eq!(
            keyed
                .iter()
                .map(|k| (k.run_id.as_str(), k.seed, k.row.runs))
                .collect::<Vec<_>>(),
            [("a", 0, 3), ("b", 1, 0)]
        );
        assert!(Keyed::<Probe>::read_all(&Probe::frame(&rows()).unwrap())
            .unwrap_err()
            .starts_with("column run_id not found"));
    }

    fn rows() -> Vec<Probe> {
        vec![
            Probe {
                name: "add".into(),
                runs: 3,
                value: Some(0.5),
                grokked: true,
                added: Some(7),
            },
            Probe {
                name: "s4".into(),
                runs: 0,
                value: None,
                grokked: false,
                added: None,
            },
        ]
    }

    #[test]
    fn columns_follow_the_fields() {
        assert_eq!(Probe::REQUIRED, ["name", "runs", "value", "grokked"]);
        assert_eq!(Probe::OPTIONAL, ["added"]);
        let df = Probe::frame(&rows()).unwrap();
        let types: Vec<(String, DataType)> = df
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), c.dtype().clone()))
            .collect();
        assert_eq!(
            types,
            [
                ("name".into(), DataType::String),
                ("runs".into(), DataType::UInt32),
                ("value".into(), DataType::Float64),
                ("grokked".into(), DataType::Boolean),
                ("added".into(), DataType::UInt64),
            ]
        );
        // The same frame df! builds, so tables written before keep their bytes.
        let by_hand = df!(
            "name" => ["add", "s4"],
            "runs" => [3u32, 0],
            "value" => [Some(0.5), None],
            "grokked" => [true, false],
            "added" => [Some(7u64), None],
        )
        .unwrap();
        assert!(df.equals_missing(&by_hand));
    }

    #[test]
    fn rows_survive_a_round_trip_and_old_files_read_as_not_measured() {
        let df = Probe::frame(&rows()).unwrap();
        assert_eq!(Probe::read_all(&df).unwrap(), rows());
        let old = df.drop("added").unwrap();
        let read = Probe::read_all(&old).unwrap();
        assert!(read.iter().all(|r| r.added.is_none()));
        assert_eq!(read[0].runs, 3);
    }

    #[test]
    fn a_wrong_table_is_an_error_naming_the_column() {
        let df = Probe::frame(&rows()).unwrap();
        let e = Probe::read_all(&df.drop("runs").unwrap()).unwrap_err();
        assert!(e.starts_with("column runs not found"), "{e}");
        let nulls = df!(
            "name" => ["a"],
            "runs" => [None::<u32>],
            "value" => [1.0],
            "grokked" => [true],
        )
        .unwrap();
        assert_eq!(
            Probe::read_all(&nulls).unwrap_err(),
            "column runs is null in row 0"
        );
        let text = df!(
            "name" => ["a"],
            "runs" => [1u32],
            "value" => [1.0],
            "grokked" => ["yes"],
        )
        .unwrap();
        assert_eq!(
            Probe::read_all(&text).unwrap_err(),
            "column grokked holds str values, not bool"
        );
        // Text of numbers is still text; a fraction is not a count; a
        // negative count does not fit. Integers of any width read as f64,
        // and fitting ones as u32.
        let with = |runs: Column, value: Column| {
            DataFrame::new(
                1,
                vec![
                    Column::new("name".into(), ["a"]),
                    runs.with_name("runs".into()),
                    value.with_name("value".into()),
                    Column::new("grokked".into(), [true]),
                ],
            )
            .unwrap()
        };
        let ok = |runs: Column, value: Column| Probe::read_all(&with(runs, value));
        let one = Column::new("".into(), [1.0]);
        let runs_as = |e: Result<Vec<Probe>, String>| e.unwrap_err();
        assert_eq!(
            runs_as(ok(Column::new("".into(), ["1"]), one.clone())),
            "column runs holds str values, not u32"
        );
        assert_eq!(
            runs_as(ok(Column::new("".into(), [1.5]), one.clone())),
            "column runs holds f64 values, not u32"
        );
        assert!(runs_as(ok(Column::new("".into(), [-1i64]), one)).starts_with("column runs: "));
        let read = ok(
            Column::new("".into(), [3i64]),
            Column::new("".into(), [2i32]),
        )
        .unwrap();
        assert_eq!((read[0].runs, read[0].value), (3, Some(2.0)));
    }
}
