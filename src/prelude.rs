//! What a notebook (or a short script) needs in one line:
//!
//! ```
//! grokscope::notebook::init();
//! use grokscope::prelude::*;
//! let op = Operation::parse("s4").unwrap();
//! let spec = SweepSpec::from_file(Path::new("experiments/quick.toml")).unwrap();
//! assert_eq!(op.order(), 24);
//! assert!(!spec.ops.is_empty());
//! let _ = (Silent, RGBColor(0, 0, 0), figures::ALL.len());
//! ```
//!
//! It re-exports plotters' prelude (for drawing figures inline), the
//! figure and sweep-table types, sweeps and their analysis, operations and
//! groups, the run configuration, and `std::path::Path`.

pub use crate::activations::{Cache, StoredRun};
pub use crate::analyze::{analyze_run, analyze_sweep};
pub use crate::config::RunConfig;
pub use crate::groups::{FiniteGroup, Operation};
pub use crate::notebook::{Figure, Figures, Table};
pub use crate::report::browser::AtlasBrowser;
pub use crate::report::plotters::prelude::*;
pub use crate::report::{figures, Experiments, SweepData, Swept};
pub use crate::study::{Study, TrainedStudy, Training};
pub use crate::train::sweep::{run_sweep, Silent, SweepSpec};
pub use std::path::Path;
