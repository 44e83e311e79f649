//! Drawing the supervisor's screens: breadcrumb, status line, pending and
//! help boxes. Only reads state.

use super::*;

impl Supervisor {
    /// Draws the views into `area` and places the cursor of the date input.
    pub(super) fn draw_into(&self, frame: &mut Frame, area: Rect) {
        frame.render_widget(self, area);
        if let Some(pos) = self.cursor(area) {
            frame.set_cursor_position(pos);
        }
    }

    /// Where the date input's cursor goes (by display width).
    pub fn cursor(&self, area: Rect) -> Option<Position> {
        let input = self.date_input.as_ref()?;
        let popup = date_popup(area);
        Some(Position::new(popup.x + 1 + 2 + width(&input.text) as u16, popup.y + 1))
    }

    pub(super) fn breadcrumb(&self) -> String {
        let mut parts = vec![s::national(self.lang).to_string()];
        parts.extend(self.pages.iter().filter_map(|p| p.parent_name.clone()));
        if let Some(v) = &self.visits {
            parts.push(v.name.clone());
        }
        let tail = match &self.visits {
            Some(v) => format!("{} {}", s::visits_title(self.lang), v.code),
            None => {
                let p = self.page();
                let count = match p.shown {
                    Some(_) => s::count_areas(p.order.len(), self.lang),
                    None => "…".to_string(),
                };
                format!("{} {count}", s::level_name(p.level, self.lang))
            }
        };
        format!("{} · {tail}", parts.join(" › "))
    }

    pub(super) fn status_line(&self) -> Line<'static> {
        let l = self.lang;
        let mut spans = vec![
            Span::styled(format!("{} {}", s::as_of(l), self.as_of), Style::default().add_modifier(Modifier::BOLD)),
            Span::raw("  "),
        ];
        if self.visits.is_none() && self.trend.is_none() {
            let arrow = if self.sort.descending { "▼" } else { "▲" };
            let mut sort = format!("{} {}{arrow}", s::sort(l), self.sort.column.label(l));
            if self.sort.below_first {
                sort.push_str(&format!(" · {}", s::below_first(l)));
            }
            spans.push(Span::raw(sort));
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(format!("✓{}", s::met(l)), Style::default().fg(Color::Green)));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(format!("✗{}", s::missed(l)), Style::default().fg(Color::Red)));
        spans.push(Span::raw(format!(" —{}", s::no_data(l))));
        if self.live.pending() {
            spans.push(Span::raw("  "));
            spans.push(Span::styled(self.pending_text(), Style::default().fg(Color::Yellow)));
        }
        Line::from(spans)
    }

    /// "⠋ computing…", the spinner turning as the event loop ticks.
    pub(super) fn pending_text(&self) -> String {
        const SPIN: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
        format!("{} {}", SPIN[self.live.spinner % SPIN.len()], s::computing(self.lang))
    }

    /// In place of figures not there yet: computing, or cancelled.
    pub(super) fn draw_waiting(&self, area: Rect, buf: &mut Buffer) {
        let (text, style) = if self.cancelled {
            (s::cancelled(self.lang).to_string(), Style::default().fg(Color::DarkGray))
        } else {
            (self.pending_text(), Style::default().fg(Color::Yellow))
        };
        if area.height > 1 {
            let line = Rect { y: area.y + 1, height: 1, ..area };
            Paragraph::new(fit(&text, line.width as usize)).style(style).render(line, buf);
        }
    }
}

pub(super) fn date_popup(area: Rect) -> Rect {
    let w = 46.min(area.width);
    let h = 5.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

pub(super) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let (w, h) = (w.min(area.width), h.min(area.height));
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

impl Widget for &Supervisor {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let l = self.lang;
        let [crumb, status, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Fill(1)]).areas(area);
        Paragraph::new(fit(&self.breadcrumb(), crumb.width as usize))
            .style(Style::default().add_modifier(Modifier::BOLD))
            .render(crumb, buf);
        Paragraph::new(self.status_line()).render(status, buf);
        if self.shown().is_none() {
            self.draw_waiting(body, buf);
        } else if let Some(t) = &self.trend {
            t.draw(&self.settings, l, body, buf);
        } else if let Some(v) = &self.visits {
            v.draw(l, body, buf);
        } else {
            let page = self.page();
            // Borders, one line per indicator, the review line.
            let detail_h =
                if body.height >= 16 { crate::domain::indicators::Indicator::ALL.len() as u16 + 3 } else { 0 };
            let [table, detail] = Layout::vertical([Constraint::Fill(1), Constraint::Length(detail_h)]).areas(body);
            let computing = self.live.pending();
            dashboard::draw_table(page, &self.sort, l, computing, table, buf);
            if detail_h > 0 {
                let (name, figures) = match page.selected_row() {
                    Some(r) => (dashboard::area_name(r, l), &r.figures),
                    None => (s::total(l).to_string(), &page.summary.total),
                };
                let flagged = dashboard::flagged_of(page, figures);
                let review = s::review_line(l, figures.approved, figures.surveyed, flagged, computing);
                dashboard::draw_detail(&name, figures, &self.settings, &review, l, detail, buf);
            }
        }
        if let Some(input) = &self.date_input {
            let popup = date_popup(area);
            Clear.render(popup, buf);
            let block = Block::default().borders(Borders::ALL).title(format!(" {} ", s::date_title(l)));
            let inner = block.inner(popup);
            block.render(popup, buf);
            let lines = vec![
                Line::from(format!("> {}", input.text)),
                match &input.error {
                    Some(e) => Line::styled(format!("✗ {e}"), Style::default().fg(Color::Red)),
                    None => Line::from(s::date_hint(l)),
                },
            ];
            Paragraph::new(lines).render(inner, buf);
        }
        if self.help {
            self.render_help(area, buf);
        }
    }
}

impl Supervisor {
    pub(super) fn help_lines(&self) -> Vec<(String, String)> {
        let l = self.lang;
        let mut lines: Vec<(String, String)> =
            Role::ALL.iter().map(|r| (r.key().to_string(), format!("{} · {}", s::help_roles(l), r.name(l)))).collect();
        lines.push((String::new(), String::new()));
        let keys: [(&str, &str); 11] = [
            ("↑↓ PgUp PgDn", s::k_move(l)),
            ("Enter →", s::k_drill(l)),
            ("Esc ←", s::k_back(l)),
            ("s / S", s::k_sort(l)),
            ("r", s::k_reverse(l)),
            ("b", s::k_below(l)),
            ("d", s::k_date(l)),
            ("t", s::k_trend(l)),
            ("← → Tab", s::k_indicator(l)),
            ("? F1", s::k_help(l)),
            ("q", s::k_quit(l)),
        ];
        lines.extend(keys.iter().map(|(k, d)| (k.to_string(), d.to_string())));
        lines.push((String::new(), String::new()));
        lines.push(("✓ ✗ —".to_string(), format!("{} / {} / {}", s::met(l), s::missed(l), s::no_data(l))));
        lines
    }

    pub(super) fn render_help(&self, area: Rect, buf: &mut Buffer) {
        let lines = self.help_lines();
        let kw = lines.iter().map(|(k, _)| width(k)).max().unwrap_or(0);
        let dw = lines.iter().map(|(_, d)| width(d)).max().unwrap_or(0);
        let popup = centered(area, (kw + dw + 5) as u16, lines.len() as u16 + 2);
        Clear.render(popup, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(format!(" {} ", s::help_title(self.lang)))
            .title_bottom(format!(" {} ", s::help_close(self.lang)));
        let inner = block.inner(popup);
        block.render(popup, buf);
        let text: Vec<Line> = lines
            .iter()
            .map(|(k, d)| {
                Line::from(vec![
                    Span::styled(
                        format!("{k}{}", " ".repeat(kw - width(k))),
                        Style::default().add_modifier(Modifier::BOLD),
                    ),
                    Span::raw("  "),
                    Span::raw(d.clone()),
                ])
            })
            .collect();
        Paragraph::new(text).render(inner, buf);
    }
}
