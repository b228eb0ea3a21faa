//! Analyses that read a model through representation theory. They take
//! `nalgebra` matrices and plain slices, never tch tensors, so they build and
//! test without libtorch and work on weights from anywhere.

pub mod complexity;
