//! The three roles of the app (F2 crew, F3 county, F4 supervisor) and the
//! role bar on top of every screen.

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyCode;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::strings::Lang;
use crate::strings::supervisor as s;
use crate::text::width;
use crate::tui::theme::{ROLE_ACTIVE, ROLE_BAR};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Crew,
    County,
    Supervisor,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Crew, Role::County, Role::Supervisor];

    /// The key that switches to this role, as shown. F1 stays help, as in
    /// the crew screens.
    pub fn key(self) -> &'static str {
        match self {
            Role::Crew => "F2",
            Role::County => "F3",
            Role::Supervisor => "F4",
        }
    }

    /// The key that switches to this role, for the app's key map.
    pub fn key_code(self) -> KeyCode {
        match self {
            Role::Crew => KeyCode::F(2),
            Role::County => KeyCode::F(3),
            Role::Supervisor => KeyCode::F(4),
        }
    }

    /// The role a key switches to, if any.
    pub fn from_key(code: KeyCode) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key_code() == code)
    }

    pub fn name(self, lang: Lang) -> &'static str {
        match self {
            Role::Crew => s::role_crew(lang),
            Role::County => s::role_county(lang),
            Role::Supervisor => s::role_supervisor(lang),
        }
    }
}

/// The role tabs: the active one marked with ▶ and brackets (not only colour).
pub struct RoleBar {
    pub lang: Lang,
    pub active: Role,
}

impl Widget for &RoleBar {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let base = ROLE_BAR;
        let mut spans = Vec::new();
        for r in Role::ALL {
            let active = r == self.active;
            let text = if active {
                format!("▶[{} {}]", r.key(), r.name(self.lang))
            } else {
                format!("  {} {} ", r.key(), r.name(self.lang))
            };
            let style = if active { ROLE_ACTIVE } else { base };
            spans.push(Span::styled(text, style));
            spans.push(Span::styled(" ", base));
        }
        let used: usize = spans.iter().map(|sp| width(&sp.content)).sum();
        let name = s::app_name(self.lang);
        if used + width(name) + 1 < area.width as usize {
            spans.push(Span::styled(" ".repeat(area.width as usize - used - width(name) - 1), base));
            spans.push(Span::styled(name, base.add_modifier(Modifier::BOLD)));
        }
        Paragraph::new(Line::from(spans)).style(base).render(area, buf);
    }
}
