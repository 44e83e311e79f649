//! The trend: an area's figures at several dates, from one pass of the
//! summary over the per-visit figures (`Store::summaries`).

use anyhow::Result;

use super::Store;
use crate::domain::Level;
use crate::domain::indicators::Figures;
use crate::domain::settings::Settings;

impl Store {
    /// The figures of the villages under `within` ("" for all) as of each of
    /// `dates`, in one pass.
    pub fn trend(&self, within: &str, dates: &[String], settings: &Settings) -> Result<Vec<Figures>> {
        let within = Some(within).filter(|w| !w.is_empty());
        Ok(self.summaries(dates, Level::Province, within, settings)?.into_iter().map(|s| s.total).collect())
    }
}
