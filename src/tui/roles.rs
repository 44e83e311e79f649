//! The three roles in one app: F2 crew (the app's own screens), F3 county
//! ([`County`]), F4 supervisor ([`Supervisor`], made on first use). Keys go
//! to the role in front; the role bar is on top of every screen.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};

use super::app::{App, Msg};
use super::county::{self, County};
use super::supervisor::{self, Outcome, Role, RoleBar, Supervisor};
use crate::strings::tui as s;

impl App {
    /// Handles a key that belongs to the roles: a role switch, or any key
    /// while the county or supervisor screens are in front. False: a crew key.
    pub fn role_key(&mut self, key: KeyEvent) -> bool {
        if key.kind != KeyEventKind::Press {
            return self.role != Role::Crew;
        }
        // A crew question (discard changes? restore a draft?) is answered first.
        if let Some(role) = Role::from_key(key.code).filter(|_| self.overlay.is_none()) {
            self.switch_role(role);
            return true;
        }
        if self.role == Role::Crew {
            return false;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('q' | 'c')) {
            // Quitting goes through the crew screens: unsaved changes are asked about there.
            self.role = Role::Crew;
            self.update(Msg::Quit);
            return true;
        }
        let result = match self.role {
            Role::County => match &mut self.county {
                Some(c) => c.handle_key(key, &mut self.store).map(|o| o == Outcome::Quit),
                None => Ok(false),
            },
            Role::Supervisor => match &mut self.supervisor {
                Some(sup) => sup.handle_key(key, &self.store).map(|o| o == Outcome::Quit),
                None => Ok(false),
            },
            Role::Crew => Ok(false),
        };
        match result {
            Ok(true) => {
                self.role = Role::Crew;
                self.update(Msg::Quit);
            }
            Ok(false) => {}
            Err(e) => self.message = Some((format!("{}: {e:#}", s::error(self.lang)), true)),
        }
        true
    }

    /// Brings a role in front, making its screens on first use.
    pub fn switch_role(&mut self, role: Role) {
        let made = match role {
            Role::Crew => {
                // The county may have merged visits: the lists are read again.
                let _ = self.reload_lists();
                Ok(())
            }
            Role::County => match &mut self.county {
                Some(c) => c.conflicts.reload(&self.store),
                None => County::with(&self.store, self.lang, self.settings.clone(), self.today, county::home_dir())
                    .map(|c| self.county = Some(c)),
            },
            Role::Supervisor => {
                let changes = self.county.as_ref().map_or(0, |c| c.changes);
                if self.supervisor.is_some() && self.supervisor_seen == changes {
                    Ok(())
                } else {
                    self.supervisor_seen = changes;
                    Supervisor::new(&self.store, self.settings.clone(), self.lang, self.today)
                        .map(|sup| self.supervisor = Some(sup))
                }
            }
        };
        match made {
            Ok(()) => {
                self.role = role;
                self.message = None;
            }
            Err(e) => self.message = Some((format!("{}: {e:#}", s::error(self.lang)), true)),
        }
    }

    /// Whether a county merge is under way (the event loop steps it between frames).
    pub fn busy(&self) -> bool {
        self.county.as_ref().is_some_and(County::busy)
    }

    /// Merges the next file of a county merge under way.
    pub fn step(&mut self) {
        if let Some(c) = &mut self.county {
            c.step(&mut self.store);
        }
    }
}

/// The role bar on top; the rest of the screen for the role in front.
pub fn split(app: &App, frame: &mut Frame) -> Rect {
    let [bar, rest] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(frame.area());
    frame.render_widget(&RoleBar { lang: app.lang, active: app.role }, bar);
    rest
}

/// Draws the county or supervisor screens with their key bar; false for the crew.
pub fn draw_role(app: &App, frame: &mut Frame, area: Rect) -> bool {
    let [body, keys] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    let hints = match (app.role, &app.county, &app.supervisor) {
        (Role::County, Some(c), _) => {
            c.draw(frame, body);
            c.key_hints()
        }
        (Role::Supervisor, _, Some(sup)) => {
            sup.draw(frame, body);
            sup.key_hints()
        }
        _ => return false,
    };
    supervisor::key_bar(&hints, keys, frame.buffer_mut());
    if let Some((text, true)) = &app.message {
        // An error of the role switch itself.
        frame.render_widget(
            ratatui::widgets::Paragraph::new(crate::text::fit(text, body.width as usize))
                .style(ratatui::style::Style::new().fg(ratatui::style::Color::Red)),
            Rect { y: body.y + body.height.saturating_sub(1), height: 1.min(body.height), ..body },
        );
    }
    true
}
