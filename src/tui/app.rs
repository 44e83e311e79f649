//! The app: the three roles in one, one of them in front. Events go to the
//! screen in front through [`Component::handle`]; F2/F3/F4 switch roles; the
//! role bar is on top and the key bar, built from the screen's own hints, at
//! the bottom. The county and supervisor screens are made on first use.

use anyhow::Result;
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Paragraph;

use super::component::{Action, Component, Ctx, key_bar};
use super::county::{self, County};
use super::crew::{Crew, Msg};
use super::roles::{Role, RoleBar};
use super::supervisor::Supervisor;
use super::theme::ERR;
use crate::domain::settings::Settings;
use crate::store::Store;
use crate::strings::Lang;

pub struct App {
    pub store: Store,
    pub lang: Lang,
    pub settings: Settings,
    pub today: NaiveDate,
    /// The role in front.
    pub role: Role,
    pub crew: Crew,
    pub county: Option<County>,
    pub supervisor: Option<Supervisor>,
    /// Whether the supervisor's figures are computed off the UI thread (the
    /// terminal UI); otherwise at once (tests that want figures right away).
    pub background: bool,
    /// The database's change mark the crew and county screens were read at.
    seen_version: Option<crate::store::live::DataStamp>,
    /// An error of the county or supervisor screens, or of a switch to them.
    pub message: Option<String>,
    pub quit: bool,
}

impl App {
    /// Opens the app on a store, the crew in front; drafts left from a crash
    /// are offered back.
    pub fn new(mut store: Store, lang: Lang, settings: Settings, today: NaiveDate) -> Result<App> {
        let mut crew = Crew::new(&mut store, lang, settings.clone(), today)?;
        // A wrong clock stamps every save wrongly: say so at once (README "The clock rule").
        if let Some(w) = store.clock_warning()? {
            crew.message = Some((crate::strings::trust::clock_warning(lang, &w), true));
        }
        Ok(App {
            store,
            lang,
            settings,
            today,
            role: Role::Crew,
            crew,
            county: None,
            supervisor: None,
            background: false,
            seen_version: None,
            message: None,
            quit: false,
        })
    }

    /// Handles a key and runs the queries it made due.
    pub fn key(&mut self, key: KeyEvent) {
        self.handle(&Event::Key(key));
        self.settle();
    }

    /// Handles one event without running the queries it makes due; the event
    /// loop calls [`App::settle`] once the keys waiting have been handled.
    pub fn handle(&mut self, ev: &Event) {
        let Event::Key(key) = ev else { return };
        if key.kind != KeyEventKind::Press {
            return;
        }
        // A crew question (discard changes? restore a draft?) is answered first.
        if let Some(role) = Role::from_key(key.code).filter(|_| self.crew.overlay.is_none()) {
            self.switch_role(role);
            return;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if self.role != Role::Crew && ctrl && matches!(key.code, KeyCode::Char('q' | 'c')) {
            self.quit_through_crew();
            return;
        }
        let mut ctx = Ctx { store: &mut self.store };
        let result = match self.role {
            Role::Crew => self.crew.handle(ev, &mut ctx),
            Role::County => self.county.as_mut().map_or(Ok(Action::Ignored), |c| c.handle(ev, &mut ctx)),
            Role::Supervisor => self.supervisor.as_mut().map_or(Ok(Action::Ignored), |c| c.handle(ev, &mut ctx)),
        };
        match result {
            Ok(Action::Quit) if self.role == Role::Crew => self.quit = true,
            Ok(Action::Quit) => self.quit_through_crew(),
            Ok(_) => {}
            Err(e) => self.report(e),
        }
    }

    /// Quitting goes through the crew screens: unsaved changes are asked about there.
    fn quit_through_crew(&mut self) {
        self.role = Role::Crew;
        self.crew.update(&mut self.store, Msg::Quit);
        self.quit = self.crew.quit;
    }

    /// Shows an error on the screen in front.
    fn report(&mut self, e: anyhow::Error) {
        let text = crate::strings::errors::error_line(&e, self.lang);
        match self.role {
            Role::Crew => self.crew.message = Some((text, true)),
            _ => self.message = Some(text),
        }
    }

    /// Runs the queries that keys have made due (the crew's village search).
    pub fn settle(&mut self) {
        self.crew.settle(&mut self.store);
    }

    /// Brings a role in front, making its screens on first use.
    pub fn switch_role(&mut self, role: Role) {
        let made = match role {
            // The county may have merged visits: the lists are read again.
            Role::Crew => self.crew.reload_lists(&mut self.store),
            Role::County => match &mut self.county {
                Some(c) => c.conflicts.reload(&self.store),
                None => County::with(&self.store, self.lang, self.settings.clone(), self.today, county::home_dir())
                    .map(|c| self.county = Some(c)),
            },
            // Kept between visits: the figures follow the data by its stamp
            // (crew saves and county merges included), kept ones reused.
            Role::Supervisor => match &mut self.supervisor {
                Some(sup) => sup.sync(&self.store),
                None => {
                    let (settings, lang, today) = (self.settings.clone(), self.lang, self.today);
                    let made = if self.background {
                        Supervisor::background(&self.store, settings, lang, today, None)
                    } else {
                        Supervisor::new(&self.store, settings, lang, today)
                    };
                    made.map(|sup| self.supervisor = Some(sup))
                }
            },
        };
        match made {
            Ok(()) => {
                self.role = role;
                self.message = None;
            }
            Err(e) => {
                // The role in front stays, and says what went wrong.
                self.report(e);
            }
        }
    }

    /// Takes the supervisor's figures (or the county's review queue) that
    /// have come back, and notices data changed by others (the event loop
    /// calls it every turn).
    pub fn tick(&mut self) {
        let done = match self.role {
            Role::Supervisor => self.supervisor.as_mut().map_or(Ok(()), |s| s.tick(&self.store)),
            // The review queue read on another thread.
            Role::County => self.county.as_mut().map_or(Ok(()), |c| c.queue.poll(&self.store).map(drop)),
            _ => Ok(()),
        };
        if let Err(e) = done {
            self.report(e);
        }
    }

    /// Reads the crew and county screens again when the database changed
    /// since they were drawn: another process merged (seen within a poll of
    /// the event loop) or this app wrote. A form being typed is never
    /// reloaded under the person's hands (its save names its base instead).
    pub fn poll_changes(&mut self) {
        let now = match self.store.data_stamp() {
            Ok(v) => v,
            Err(e) => return self.report(e),
        };
        if self.seen_version == Some(now) {
            return;
        }
        let first = self.seen_version.is_none();
        self.seen_version = Some(now);
        if first || self.busy() {
            return;
        }
        let done = match self.role {
            Role::Crew if self.crew.form.is_none() && self.crew.overlay.is_none() => {
                self.crew.reload_lists(&mut self.store)
            }
            Role::County => self.county.as_mut().map_or(Ok(()), |c| c.conflicts.reload(&self.store)),
            _ => Ok(()),
        };
        if let Err(e) = done {
            self.report(e);
        }
    }

    /// Whether figures are being computed (the event loop then turns faster,
    /// so they are drawn as they come and the spinner moves).
    pub fn computing(&self) -> bool {
        match self.role {
            Role::Supervisor => self.supervisor.as_ref().is_some_and(|s| s.live.pending()),
            Role::County => self.county.as_ref().is_some_and(|c| c.queue.loading()),
            _ => false,
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

    /// Whether a draft write is due.
    pub fn draft_pending(&self) -> bool {
        self.crew.draft_pending()
    }

    /// Writes the form being typed as a draft.
    pub fn flush_draft(&mut self) -> Result<()> {
        self.crew.flush_draft(&mut self.store)
    }

    /// The screen in front.
    fn front(&self) -> &dyn Component {
        match (self.role, &self.county, &self.supervisor) {
            (Role::County, Some(c), _) => c,
            (Role::Supervisor, _, Some(sup)) => sup,
            _ => &self.crew,
        }
    }

    /// Draws the whole screen.
    pub fn draw(&self, frame: &mut Frame) {
        let body = draw_screen(self.front(), self.role, self.lang, frame);
        if let Some(text) = self.message.as_ref().filter(|_| self.role != Role::Crew) {
            frame.render_widget(
                Paragraph::new(crate::text::fit(text, body.width as usize)).style(ERR),
                Rect { y: body.y + body.height.saturating_sub(1), height: 1.min(body.height), ..body },
            );
        }
    }
}

/// The frame of every screen: the role bar on top, the screen, and the key
/// bar from the screen's hints at the bottom. Returns the screen's area.
pub fn draw_screen(screen: &dyn Component, role: Role, lang: Lang, frame: &mut Frame) -> Rect {
    let [bar, body, keys] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1)]).areas(frame.area());
    frame.render_widget(&RoleBar { lang, active: role }, bar);
    screen.draw(frame, body);
    key_bar(&screen.hints(), keys, frame.buffer_mut());
    body
}
