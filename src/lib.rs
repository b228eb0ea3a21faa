//! grokscope: which finite group operations does a small transformer grok,
//! and what circuit does it learn?
//!
//! The library defines finite groups and their real irreducible
//! representations ([`groups`]), the dataset of all pairs `a ∘ b`
//! ([`data`]), the analyses that read a trained model through
//! representation theory ([`analysis`]), and, with the `torch` feature, the
//! 1-layer transformer and its trainer. Definitions follow `docs/design.md`.
//!
//! ```
//! use grokscope::groups::Operation;
//! let op = Operation::parse("s4").unwrap();
//! assert_eq!(op.order(), 24);
//! ```
#![deny(missing_docs)]

/// The matrix library of the analyses, re-exported for notebooks and callers.
pub use nalgebra;
/// libtorch's bindings, re-exported so a notebook can slice activations
/// ([`activations::Cache`]) without a `:dep` of its own.
#[cfg(feature = "torch")]
pub use tch;

pub mod analysis;
pub mod budget;
pub mod config;
pub mod data;
pub mod grok;
pub mod groups;
pub mod kernels;
pub mod limits;
pub mod notebook;
pub mod report;
pub mod results;
pub mod rng;
pub mod store;
pub mod suggest;
pub mod sweep;
pub mod text;

#[cfg(feature = "torch")]
pub mod activations;
#[cfg(feature = "torch")]
pub mod analyze;
#[cfg(feature = "torch")]
pub mod bench;
#[cfg(feature = "torch")]
pub mod convert;
#[cfg(feature = "torch")]
pub mod interop;
#[cfg(feature = "torch")]
pub mod model;
#[cfg(feature = "torch")]
pub mod prelude;
#[cfg(feature = "torch")]
pub mod study;
#[cfg(feature = "torch")]
pub mod train;
