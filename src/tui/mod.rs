//! The terminal UI.

pub mod supervisor;
