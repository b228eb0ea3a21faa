//! The paper's tables, one file per family, each a LaTeX `tabular` with
//! the numbers beside it: the grok tables of the suite and the controls
//! ([`grok`]), the ablations, Peter–Weyl and complexity tables
//! ([`ablation`]), the long-budget study's ([`long_budget`]) and the
//! atlas' ([`atlas`]). The shuffled-label nulls, the numerics study and the
//! twins have their own modules ([`super::nulls`], [`super::numerics`],
//! [`super::twins`]).

pub mod ablation;
pub mod atlas;
pub mod grok;
pub mod long_budget;

pub use grok::{grok_summary, grok_summary_rows, SUMMARY_COLUMNS};
