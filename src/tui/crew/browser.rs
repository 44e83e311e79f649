//! The village browser: county → township → village, with a search box.

use anyhow::Result;

use super::{Crew, Item, Msg, PAGE};
use crate::store::Store;
use crate::strings::tui as s;
use crate::tui::widgets::edit_line;

impl Crew {
    pub(super) fn prefix(&self) -> String {
        self.browser.path.last().map(|a| a.code.clone()).unwrap_or_default()
    }

    /// Refills the browser's list from the database (first page).
    pub fn reload_browser(&mut self, store: &mut Store) -> Result<()> {
        let b = &mut self.browser;
        let prefix = b.path.last().map(|a| a.code.clone()).unwrap_or_default();
        let q = b.query.trim().to_string();
        b.complete_for = None;
        if q.is_empty() && b.path.len() < 2 {
            b.items = store.areas(&prefix)?.into_iter().map(Item::Area).collect();
            b.more = false;
        } else {
            let v = store.villages(&prefix, &q, PAGE, 0)?;
            b.more = v.len() == PAGE;
            b.items = v.into_iter().map(Item::Village).collect();
            if !b.more && !q.is_empty() && !q.bytes().all(|c| c.is_ascii_digit()) {
                b.complete_for = Some((prefix, q));
            }
        }
        b.selected = b.selected.min(b.items.len().saturating_sub(1));
        b.stale = false;
        Ok(())
    }

    /// Runs the search typed. A name search that found everything it could
    /// (less than a page) and is then typed longer is narrowed in memory:
    /// whatever contains the longer text contains the shorter. These are the
    /// searches that had to read the whole roster, so the next keystroke
    /// does not read it again.
    pub(super) fn search(&mut self, store: &mut Store) -> Result<()> {
        let b = &mut self.browser;
        let prefix = b.path.last().map(|a| a.code.clone()).unwrap_or_default();
        let q = b.query.trim().to_string();
        // Whatever matches the longer query matches the shorter one: typed
        // on at the end (pinyin is read from the start of a syllable), or
        // around it (characters).
        if let Some((p, old)) = &b.complete_for
            && *p == prefix
            && q != *old
            && (q.starts_with(old.as_str()) || (!crate::hanzi::is_pinyin_query(&q) && q.contains(old.as_str())))
        {
            b.items.retain(|i| matches!(i, Item::Village(v) if crate::hanzi::matches(&v.name, &q)));
            b.complete_for = Some((prefix, q));
            b.selected = 0;
            b.stale = false;
            return Ok(());
        }
        self.reload_browser(store)
    }

    pub(super) fn more_villages(&mut self, store: &mut Store) -> Result<()> {
        let prefix = self.prefix();
        let b = &mut self.browser;
        let v = store.villages(&prefix, &b.query, PAGE, b.items.len())?;
        b.more = v.len() == PAGE;
        b.items.extend(v.into_iter().map(Item::Village));
        Ok(())
    }

    pub(super) fn update_browser(&mut self, store: &mut Store, msg: Msg) -> Result<()> {
        if self.browser.stale && !matches!(msg, Msg::Char(_) | Msg::Edit(_)) {
            self.search(store)?;
        }
        let step = match msg {
            Msg::Down | Msg::Next => 1,
            Msg::PageDown => 10,
            _ => 0,
        };
        if step > 0 {
            let want = self.browser.selected + step;
            while want >= self.browser.items.len() && self.browser.more {
                self.more_villages(store)?;
            }
            self.browser.selected = want.min(self.browser.items.len().saturating_sub(1));
            return Ok(());
        }
        let b = &mut self.browser;
        match msg {
            Msg::Up | Msg::Prev => b.selected = b.selected.saturating_sub(1),
            Msg::PageUp => b.selected = b.selected.saturating_sub(10),
            Msg::Char(c) => {
                edit_line(&mut b.query, &mut b.cursor, tui_input::InputRequest::InsertChar(c));
                b.selected = 0;
                b.stale = true;
            }
            Msg::Edit(req) if edit_line(&mut b.query, &mut b.cursor, req) => {
                b.selected = 0;
                b.stale = true;
            }
            Msg::Back => {
                if !b.query.is_empty() {
                    b.query.clear();
                    b.cursor = 0;
                    b.selected = 0;
                } else if let Some(a) = b.path.pop() {
                    self.reload_browser(store)?;
                    let b = &mut self.browser;
                    b.selected =
                        b.items.iter().position(|i| matches!(i, Item::Area(x) if x.code == a.code)).unwrap_or(0);
                    return Ok(());
                } else {
                    // The top: nothing above it (Ctrl-Q quits).
                    return Ok(());
                }
                self.reload_browser(store)?;
            }
            Msg::Enter => match b.items.get(b.selected).cloned() {
                Some(Item::Area(a)) => {
                    b.path.push(a);
                    b.selected = 0;
                    self.reload_browser(store)?;
                }
                Some(Item::Village(v)) if !v.is_village => {
                    self.message = Some((s::community_refused(self.lang).into(), true));
                }
                Some(Item::Village(v)) => self.open_visits(store, &v.code, &v.name)?,
                None => {}
            },
            _ => {}
        }
        Ok(())
    }
}
