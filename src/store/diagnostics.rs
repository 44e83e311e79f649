//! Tools for measuring the store (the examples use them): query plans and
//! pragma settings to try. Nothing here writes data.

use anyhow::{Result, bail};
use rusqlite::ToSql;

use super::Store;

impl Store {
    /// SQLite's plan for a query: (id, parent, detail) per step.
    pub fn query_plan(&self, sql: &str, params: &[&dyn ToSql]) -> Result<Vec<(i64, i64, String)>> {
        let mut st = self.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let rows = st.query_map(params, |r| Ok((r.get(0)?, r.get(1)?, r.get(3)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Applies settings to try, `PRAGMA name = value; …` only.
    pub fn try_pragmas(&self, pragmas: &str) -> Result<()> {
        for p in pragmas.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            if !p.get(..7).is_some_and(|w| w.eq_ignore_ascii_case("pragma ")) {
                bail!("{p}: not a PRAGMA");
            }
            self.conn.execute_batch(p)?;
        }
        Ok(())
    }
}
