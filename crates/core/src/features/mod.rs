//! (in progress)

pub mod names;
