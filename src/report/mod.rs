//! What people and programs read: the summary as JSON, CSV and a table, and
//! the spreadsheet report.

pub mod checks;
pub mod conflicts;
pub mod summary;
pub mod xlsx;
