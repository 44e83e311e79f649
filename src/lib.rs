//! ruralsan: rural sanitation field surveys — an offline survey store, CSV
//! bundles, merge of crew databases, and indicators against the 2025 targets.

pub mod cli;
pub mod config;
pub mod domain;
pub mod generate;
pub mod hanzi;
pub mod identity;
pub mod progress;
pub mod report;
pub mod store;
pub mod strings;
pub mod text;
pub mod tui;
