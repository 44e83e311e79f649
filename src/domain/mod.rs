//! The domain: what a visit is, the rules it must keep, and the indicator
//! arithmetic. Nothing here touches a database or a terminal.

pub mod checks;
pub mod indicators;
pub mod input;
pub mod merge;
pub mod model;
pub mod review;
pub mod settings;
pub mod validate;

pub use model::*;
pub use settings::Settings;
